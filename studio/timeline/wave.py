"""The waveform band: the visible span of the take's min/max pyramid as a path, and its
painting (the ruler's grid, the selected segments shaded, faint lines at segment edges).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

from studio.timeline import theme
from studio.timeline.items import font
from studio.waveform import WaveformPyramid


def wave_path(pyramid: WaveformPyramid | None, t0: float, t1: float, width: float, top: float,
              bottom: float) -> tuple[QPainterPath, bool]:
    """(path, dense) of the span t0..t1 drawn `width` px wide between y top and bottom: a
    vertical line from min to max for each bucket (half a pixel to a pixel wide) when dense,
    or, close up, a curve through the samples."""
    p = pyramid
    dense = p is not None and (t1 - t0) * p.rate / width > 2
    if p is None or bottom - top <= 4:
        return QPainterPath(), dense
    times, mins, maxs = p.envelope(t0, t1, int(math.ceil(width)))
    if not times.size:
        return QPainterPath(), dense
    mid, half = (top + bottom) / 2, (bottom - top) / 2 - 3
    scale = half / max(p.peak, 1e-6)
    x = (times - t0) / (t1 - t0) * width
    upper = mid - maxs.astype(np.float64) * scale
    if not dense:
        return pg.arrayToQPath(x, upper), dense
    lower = np.maximum(mid - mins.astype(np.float64) * scale, upper + 1)       # 1 px at least
    ys = np.empty(2 * x.size)
    ys[0::2], ys[1::2] = upper, lower
    return pg.arrayToQPath(np.repeat(x, 2), ys, connect="pairs"), dense


def paint_wave(painter: QPainter, rect: QRectF, path: QPainterPath, dense: bool, has_audio: bool,
               shaded: Sequence[tuple[float, float, str]], grid: Sequence[float], edges: Sequence[float]) -> None:
    """The band: `shaded` (x0, x1, colour) spans tinted, grid lines at x in `grid`, faint lines at
    the segment edges `edges`, then the waveform."""
    painter.fillRect(rect, QColor(theme.WAVE_BG))
    for x0, x1, colour in shaded:
        tint = QColor(colour)
        tint.setAlpha(22)
        painter.fillRect(QRectF(x0, rect.top(), x1 - x0, rect.height()), tint)
    painter.setPen(QPen(QColor(theme.GRID), 1))
    for x in grid:
        painter.drawLine(QPointF(x + 0.5, rect.top()), QPointF(x + 0.5, rect.bottom()))
    mid = rect.center().y()
    painter.drawLine(QPointF(rect.left(), mid), QPointF(rect.right(), mid))
    painter.setPen(QPen(QColor(255, 255, 255, 28), 1))
    for x in edges:
        x = round(x) + 0.5
        painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
    if not path.isEmpty():
        # bucket lines are pixel columns: crisp and fast without antialiasing (filling the
        # envelope as a polygon costs 100x more on noisy audio); a curve through samples is smoothed
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not dense)
        painter.setPen(QPen(QColor(theme.WAVE_FILL if dense else theme.WAVE_EDGE), 1 if dense else 1.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(path)
    elif not has_audio:
        painter.setPen(QColor(theme.TEXT_DIM))
        painter.setFont(font(12))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no audio")
