"""The overview strip over the timeline: the whole take small (its waveform and its segments
in their emotion colours), the visible range as a bright rectangle with the rest dimmed, and
the playhead. Dragging the rectangle moves the view; a click elsewhere centres the view there
(and the drag goes on from there). It asks by signal: `viewMoved(start)`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from studio.timeline import theme
from studio.waveform import WaveformPyramid

OVERVIEW_H = 30
SEGMENT_BAR_H = 5
MIN_RECT_PX = 6          # the visible range never looks narrower than this, so it can be grabbed


class Overview(QWidget):
    viewMoved = Signal(float)        # the user moved the visible range to start at this time

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pyramid: WaveformPyramid | None = None
        self._extent = 10.0
        self._segments: list[tuple[float, float, str]] = []
        self._view = (0.0, 10.0)
        self._playhead = 0.0
        self._grab: float | None = None          # while dragging: the press's offset into the range, s
        self._wave: QPixmap | None = None        # the whole take's waveform, drawn once per size
        self.setFixedHeight(OVERVIEW_H)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(True)
        self.setToolTip("The whole take: drag the bright range, or click, to move the view")

    def sizeHint(self) -> QSize:
        return QSize(1000, OVERVIEW_H)

    # --- feeding ---------------------------------------------------------------------------
    def set_take(self, pyramid: WaveformPyramid | None, extent: float) -> None:
        """The take's waveform (None: no audio) and its length in seconds."""
        extent = max(float(extent), 1e-6)
        if pyramid is not self._pyramid or extent != self._extent:
            self._pyramid, self._extent = pyramid, extent
            self._wave = None
            self.update()

    def set_segments(self, segments: Sequence[tuple[float, float, str]]) -> None:
        """(start, end, emotion) of every segment."""
        segments = list(segments)
        if segments != self._segments:
            self._segments = segments
            self.update()

    def set_view(self, t0: float, t1: float) -> None:
        self._view = (float(t0), float(t1))
        self.update()

    def set_playhead(self, t: float) -> None:
        old, self._playhead = self._x(self._playhead), float(t)
        new = self._x(self._playhead)
        if round(old) != round(new):
            self.update(QRect(round(old) - 2, 0, 5, self.height()))
            self.update(QRect(round(new) - 2, 0, 5, self.height()))

    # --- geometry --------------------------------------------------------------------------
    def _x(self, t: float) -> float:
        return t / self._extent * self.width()

    def _t(self, x: float) -> float:
        return x / max(1, self.width()) * self._extent

    def range_rect(self) -> QRectF:
        """The visible range's rectangle, in the strip's pixels."""
        x0, x1 = self._x(self._view[0]), self._x(self._view[1])
        if x1 - x0 < MIN_RECT_PX:
            mid = (x0 + x1) / 2
            x0, x1 = mid - MIN_RECT_PX / 2, mid + MIN_RECT_PX / 2
        return QRectF(x0, 0.5, x1 - x0, self.height() - 1)

    # --- painting --------------------------------------------------------------------------
    def resizeEvent(self, ev) -> None:
        self._wave = None
        super().resizeEvent(ev)

    def _draw_wave(self) -> QPixmap:
        w, h = max(1, self.width()), self.height()
        pix = QPixmap(w, h)
        pix.fill(QColor(theme.OVERVIEW_BG))
        p = self._pyramid
        if p is not None:
            _, mins, maxs = p.envelope(0.0, self._extent, w)
            if maxs.size:
                wave_h = h - SEGMENT_BAR_H - 2
                mid, scale = wave_h / 2 + 1, (wave_h / 2 - 1) / max(p.peak, 1e-6)
                xs = np.repeat(np.linspace(0, w, maxs.size, endpoint=False) + 0.5, 2)
                ys = np.empty(xs.size)
                ys[0::2], ys[1::2] = mid - maxs * scale, mid - mins * scale + 1
                painter = QPainter(pix)
                painter.setPen(QPen(QColor(theme.WAVE_FILL), 1))
                painter.drawPath(pg.arrayToQPath(xs, ys, connect="pairs"))
                painter.end()
        return pix

    def paintEvent(self, ev) -> None:
        w, h = self.width(), self.height()
        if self._wave is None or self._wave.width() != max(1, w):
            self._wave = self._draw_wave()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._wave)
        for s, e, emotion in self._segments:
            x0, x1 = self._x(s), self._x(e)
            painter.fillRect(QRectF(x0, h - SEGMENT_BAR_H - 1, max(1.0, x1 - x0 - 1), SEGMENT_BAR_H),
                             QColor(theme.emotion_colour(emotion)))
        r = self.range_rect()
        shade = QColor(0, 0, 0, 120)
        painter.fillRect(QRectF(0, 0, max(0.0, r.left()), h), shade)
        painter.fillRect(QRectF(r.right(), 0, max(0.0, w - r.right()), h), shade)
        painter.setPen(QPen(QColor(theme.GRID), 1))
        painter.drawLine(QPointF(0, h - 0.5), QPointF(w, h - 0.5))
        painter.setPen(QPen(QColor(255, 255, 255, 200), 1))
        painter.drawRect(r.adjusted(0.5, 0, -0.5, 0))
        x = round(self._x(self._playhead)) + 0.5
        painter.setPen(QPen(QColor(theme.PLAYHEAD), 1))
        painter.drawLine(QPointF(x, 0), QPointF(x, h))
        painter.end()

    # --- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton:
            return super().mousePressEvent(ev)
        x = ev.position().x()
        t0, t1 = self._view
        if self.range_rect().left() <= x <= self.range_rect().right():
            self._grab = self._t(x) - t0
        else:                                   # centre the view on the click, then drag on
            self._grab = (t1 - t0) / 2
            self.viewMoved.emit(self._t(x) - self._grab)
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        ev.accept()

    def mouseMoveEvent(self, ev) -> None:
        x = ev.position().x()
        if self._grab is not None:
            self.viewMoved.emit(self._t(x) - self._grab)
        elif self.range_rect().left() <= x <= self.range_rect().right():
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()
        ev.accept()

    def mouseReleaseEvent(self, ev) -> None:
        if ev.button() == Qt.MouseButton.LeftButton and self._grab is not None:
            self._grab = None
            self.setCursor(Qt.CursorShape.OpenHandCursor)
            ev.accept()
        else:
            super().mouseReleaseEvent(ev)
