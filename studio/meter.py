"""A progress bar for the status bar that never repaints synchronously.

QProgressBar.setValue() calls repaint(): with a QOpenGLWidget in the window every repaint
composites the whole window at once, 15-60 ms on Mesa llvmpipe, and a worker reporting eight
sampler steps a second turned that into UI stalls. Meter.set_fraction() only schedules a
paint, which Qt merges with the next frame the playback clock draws anyway.
"""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QSizePolicy, QStyle, QStyleOptionProgressBar, QWidget


class Meter(QWidget):
    """0..1 progress drawn in the style's progress-bar look."""

    def __init__(self, parent=None, width: int = 160):
        super().__init__(parent)
        self._fraction = 0.0
        self._width = width
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Fixed)

    def fraction(self) -> float:
        return self._fraction

    def set_fraction(self, fraction: float) -> None:
        fraction = min(1.0, max(0.0, float(fraction)))
        if fraction != self._fraction:
            self._fraction = fraction
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(self._width, max(12, self.fontMetrics().height() - 2))

    def paintEvent(self, event) -> None:
        option = QStyleOptionProgressBar()
        option.initFrom(self)
        option.minimum, option.maximum = 0, 1000
        option.progress = round(1000 * self._fraction)
        option.textVisible = False
        option.state |= QStyle.StateFlag.State_Horizontal     # Qt 6 reads the orientation from here
        painter = QPainter(self)
        self.style().drawControl(QStyle.CE_ProgressBar, option, painter, self)
        painter.end()
