"""The words band under the waveform: each word of the transcript as a faint box with its text
(running on into the silence after it, never over the next word), or only a tick at each
word's start when they are too dense to read.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen

from studio.timeline import theme
from studio.timeline.items import font

WORDS_H = 22


def paint_words(painter: QPainter, rect: QRectF, words: Sequence[tuple[str, float, float]], starts: np.ndarray,
                t0: float, t1: float, x_of: Callable) -> None:
    """The band for the view t0..t1; `starts`: the words' start times (sorted), `x_of`: time to x."""
    painter.fillRect(rect, QColor(theme.WORDS_BG))
    painter.setPen(QPen(QColor(theme.GRID), 1))
    painter.drawLine(QPointF(rect.left(), rect.top() + 0.5), QPointF(rect.right(), rect.top() + 0.5))
    n = len(words)
    if not n:
        return
    i0 = max(0, int(np.searchsorted(starts, t0)) - 1)
    i1 = int(np.searchsorted(starts, t1))
    w = rect.width()
    if i1 - i0 > w / 3:                       # too dense for text: ticks only
        xs = x_of(starts[i0:i1])
        painter.setPen(QPen(QColor(255, 255, 255, 50), 1))
        path = QPainterPath()
        for x in np.unique(np.round(xs)).tolist():     # Python floats: PySide6 mishandles numpy scalars
            path.moveTo(x + 0.5, rect.top() + 6)
            path.lineTo(x + 0.5, rect.bottom() - 6)
        painter.drawPath(path)
        return
    text_font = font(12)
    fm = QFontMetricsF(text_font)
    painter.setFont(text_font)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    box_top, box_h = rect.top() + 3, rect.height() - 6
    text_right = -1e9
    for i in range(i0, i1):
        word, s, e = words[i]
        x0, x1 = x_of(s), x_of(e)
        if x1 < 0 or x0 > w:
            continue
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(255, 255, 255, 13))
        painter.drawRoundedRect(QRectF(x0, box_top, max(1.0, x1 - x0 - 1), box_h), 2, 2)
        painter.setBrush(QColor(255, 255, 255, 60))
        painter.drawRect(QRectF(x0, box_top, 1, box_h))
        # a word's text may run on into the silence before the next word, never over it
        nxt = x_of(words[i + 1][1]) if i + 1 < n else w + 1e6
        left = max(x0, 0.0)                  # a word scrolled half out keeps its label
        room = min(max(x1, nxt) if nxt > x1 else nxt, w) - left - 6
        if left + 3 < text_right or room <= 0:
            continue
        text = word
        if fm.horizontalAdvance(word) > room:
            text = fm.elidedText(word, Qt.TextElideMode.ElideRight, room)
            if len(text) < 4:                 # at least three letters and the ellipsis
                continue
        painter.setPen(QColor(theme.TEXT))
        painter.drawText(QRectF(left + 4, rect.top(), room, rect.height()),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
        text_right = left + 4 + fm.horizontalAdvance(text) + 4
