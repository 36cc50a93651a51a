"""The lane of instruction segments: each a box in its emotion's colour with a strip on its left
edge, its label (emotion and state, or a short form, or only the colour; studio.timeline.labels
chooses) and the start of its instruction; hatched when stale, a progress bar while busy, a
white outline when selected and edge grips on the one the inspector shows. Also the drag's
preview over the whole view (the span being added, the snap guide).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF, QPainter, QPainterPath, QPen

from studio.timeline import theme
from studio.timeline.items import font
from studio.timeline.labels import instruction_line, segment_label

LANE_H = 46
LABEL_FONT_PX, TEXT_FONT_PX = 10, 12


@dataclass
class Box:
    """A segment as the lane draws it: view x of its edges, and whether it is selected and
    whether it is the one the inspector shows (current)."""

    emotion: str
    text: str
    state: str
    progress: float
    x0: float
    x1: float
    selected: bool = False
    current: bool = False


def box_rect(box: Box, lane: QRectF) -> QRectF:
    return QRectF(box.x0 + 1, lane.top() + 4, max(2.0, box.x1 - box.x0 - 2), lane.height() - 8)


def box_texts(box: Box, lane: QRectF, label_metrics: QFontMetricsF, text_metrics: QFontMetricsF
              ) -> tuple[QRectF, str, str]:
    """(text area, label line, instruction line) of a box: what fits in it."""
    inner = box_rect(box, lane).adjusted(9, 3, -6, -3)
    inner.setLeft(max(inner.left(), 9.0))     # a segment scrolled half out keeps its text
    inner.setRight(min(inner.right(), lane.right() - 6))
    width = inner.width()
    if width <= 0:
        return inner, "", ""
    label = segment_label(box.emotion, box.state, box.progress, width, label_metrics.horizontalAdvance)
    text = instruction_line(box.text, width, text_metrics.horizontalAdvance)
    return inner, label, text


def paint_lane(painter: QPainter, rect: QRectF, boxes: Sequence[Box]) -> None:
    painter.fillRect(rect, QColor(theme.LANE_BG))
    painter.setPen(QPen(QColor(theme.GRID), 1))
    painter.drawLine(QPointF(rect.left(), rect.top() + 0.5), QPointF(rect.right(), rect.top() + 0.5))
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    label_font, text_font = font(LABEL_FONT_PX, bold=True), font(TEXT_FONT_PX)
    label_metrics, text_metrics = QFontMetricsF(label_font), QFontMetricsF(text_font)
    label_h, text_h = label_metrics.height(), text_metrics.height()
    hatch = QBrush(QColor(255, 255, 255, 38), Qt.BrushStyle.BDiagPattern)
    for box in boxes:
        r = box_rect(box, rect)
        base = theme.emotion_colour(box.emotion)
        stale, busy = box.state == "stale", box.state == "busy"
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.blend(base, theme.LANE_BG, 0.28 if stale else 0.5)))
        painter.drawRoundedRect(r, 4, 4)
        painter.save()
        clip = QPainterPath()
        clip.addRoundedRect(r, 4, 4)
        painter.setClipPath(clip)
        if stale:
            painter.setBrush(hatch)
            painter.drawRect(r)
        if busy:
            done = max(0.0, min(1.0, float(box.progress)))
            painter.setBrush(QColor(255, 255, 255, 40))
            painter.drawRect(QRectF(r.left(), r.top(), r.width() * done, r.height()))
            painter.setBrush(QColor(0, 0, 0, 110))
            painter.drawRect(QRectF(r.left(), r.bottom() - 4, r.width(), 4))
            painter.setBrush(QColor(theme.WHITE))
            painter.drawRect(QRectF(r.left(), r.bottom() - 4, r.width() * done, 4))
        painter.setBrush(QColor(theme.blend(base, theme.LANE_BG, 0.45) if stale else base))
        painter.drawRect(QRectF(r.left(), r.top(), min(4.0, r.width()), r.height()))
        # text: emotion and state on the first line, the instruction's start on the second
        inner, label, text = box_texts(box, rect, label_metrics, text_metrics)
        if label:
            painter.setFont(label_font)
            painter.setPen(QColor(theme.STALE if stale else theme.blend(base, theme.WHITE, 0.45)))
            painter.drawText(QRectF(inner.left(), inner.top(), inner.width(), label_h),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
        if text:
            painter.setFont(text_font)
            painter.setPen(QColor(theme.TEXT_DIM if stale else theme.TEXT))
            painter.drawText(QRectF(inner.left(), inner.top() + label_h + 1, inner.width(), text_h),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
        painter.restore()
        if box.selected:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(theme.WHITE), 2))
            painter.drawRoundedRect(r.adjusted(1, 1, -1, -1), 4, 4)
        if box.current:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(theme.WHITE))
            for x in (r.left() + 1, r.right() - 4):      # edge grips
                painter.drawRoundedRect(QRectF(x, r.center().y() - 8, 3, 16), 1.5, 1.5)


def paint_drag(painter: QPainter, rect: QRectF, adding: tuple[float, float, float] | None,
               snapped: float | None) -> None:
    """Over the whole view: the span being added (view x0, x1 and its length in seconds) and the
    snap guide at view x `snapped`."""
    if adding is not None:
        x0, x1, seconds = adding
        painter.fillRect(QRectF(x0, rect.top(), x1 - x0, rect.height()), QColor(120, 170, 255, 60))
        painter.setPen(QPen(QColor(150, 190, 255), 1))
        for x in (x0, x1):
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        painter.setFont(font(11))
        painter.drawText(QRectF(x0 + 4, rect.top() + 2, max(0.0, x1 - x0 - 8), 16),
                         Qt.AlignmentFlag.AlignLeft, f"+ {seconds:.2f} s")
    if snapped is not None:
        x = round(snapped) + 0.5
        painter.setPen(QPen(QColor(theme.SNAP), 1, Qt.PenStyle.DashLine))
        painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
