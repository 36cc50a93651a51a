"""The timeline's pyqtgraph pieces: the view box (its x range is the visible time; it hands
every mouse gesture to the timeline), a layer that paints in the box's own pixels, the
playhead; and the font helper its painters share.
"""

from __future__ import annotations

from typing import Callable

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem

from studio.timeline import theme


def font(px: int, bold: bool = False) -> QFont:
    """The UI font at a pixel size."""
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


class View(pg.ViewBox):
    """The view box; pyqtgraph's own mouse handling is off, the callbacks get the events."""

    def __init__(self, on_click: Callable, on_drag: Callable, on_wheel: Callable, on_hover: Callable):
        super().__init__(enableMenu=False, defaultPadding=0.0)
        self._on_click, self._on_drag, self._on_wheel, self._on_hover = on_click, on_drag, on_wheel, on_hover
        self.setMouseEnabled(x=False, y=False)
        self.setFlag(self.GraphicsItemFlag.ItemIsFocusable, False)

    def mouseClickEvent(self, ev):
        self._on_click(ev, ruler=False)

    def mouseDragEvent(self, ev, axis=None):
        self._on_drag(ev, ruler=axis is not None)

    def wheelEvent(self, ev, axis=None):
        self._on_wheel(ev)

    def hoverEvent(self, ev):
        self._on_hover(ev)


class Layer(QGraphicsItem):
    """A child of the view box painting `paint(painter, rect)` in the box's pixels, cached
    between changes unless `cache` is False."""

    def __init__(self, view: pg.ViewBox, paint: Callable[[QPainter, QRectF], None], z: float, cache: bool = True):
        super().__init__(view)
        self._paint = paint
        self._rect = QRectF()
        self.setZValue(z)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        if cache:
            self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_rect(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        if self._rect.width() > 0 and self._rect.height() > 0:
            self._paint(painter, self._rect)


class Playhead(QGraphicsItem):
    """A red line with a triangle on top, across the view box."""

    def __init__(self, view: pg.ViewBox):
        super().__init__(view)
        self._h = 0.0
        self.setZValue(50)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_height(self, h: float) -> None:
        self.prepareGeometryChange()
        self._h = h

    def boundingRect(self) -> QRectF:
        return QRectF(-7, 0, 14, self._h)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        colour = QColor(theme.PLAYHEAD)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(colour, 1.5))
        painter.drawLine(QPointF(0, 0), QPointF(0, self._h))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPolygon(QPolygonF([QPointF(-6, 0), QPointF(6, 0), QPointF(0, 8)]))
