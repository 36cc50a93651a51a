"""The curves panel: chosen ARKit channels and head rotation over time, following the playhead.

A pure view: `set_track` gives it the performance, `set_previous` the performance before the
last edit (drawn faint and dashed, so a user sees what an instruction changed),
`set_playhead` moves the red line, `set_view` follows the timeline's zoom. Tick channels in
the list (type in the filter box to find one). Blendshape weights use the left axis (0..1);
head pitch, yaw and roll are drawn in degrees / 30, so 30 degrees reads as 1.0 (the legend
says so). pyqtgraph clips to the view and downsamples, so hour-long takes stay fluid.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from core.arkit import CHANNELS, HEAD
from core.track import FaceTrack

DEFAULT_CHANNELS = ("jawOpen", "mouthSmileLeft", "browInnerUp", "eyeBlinkLeft", "headPitch")
HEAD_SCALE_DEG = 30.0
COLOURS = ("#56B4E9", "#E69F00", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999")


def channel_values(track: FaceTrack, name: str) -> np.ndarray:
    """A channel of `track` as plotted: a weight, or a head angle in degrees / HEAD_SCALE_DEG."""
    column = CHANNELS.index(name)
    values = track.data[:, column]
    if name in HEAD:
        return np.degrees(values) / HEAD_SCALE_DEG
    return values


class CurvesPanel(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.track: FaceTrack | None = None
        self.previous: FaceTrack | None = None
        self.filter = QLineEdit(placeholderText="Filter channels")
        self.list = QListWidget()
        for name in CHANNELS:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in DEFAULT_CHANNELS else Qt.Unchecked)
            self.list.addItem(item)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("#15171c")
        self.plot.showGrid(x=True, y=True, alpha=0.15)
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.setYRange(-0.5, 1.05)
        self.plot.setMouseEnabled(x=True, y=False)
        self.legend = self.plot.addLegend(offset=(8, 8), labelTextSize="8pt")
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen("#ff5555", width=1.5))
        self.plot.addItem(self.playhead, ignoreBounds=True)
        self._curves: dict[str, tuple] = {}
        self._dirty = False
        side = QVBoxLayout()
        side.addWidget(self.filter)
        side.addWidget(self.list, 1)
        box = QWidget()
        box.setLayout(side)
        box.setMaximumWidth(200)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(box)
        layout.addWidget(self.plot, 1)
        self.filter.textChanged.connect(self._filter)
        self.list.itemChanged.connect(lambda item: self._redraw())

    # --- API ---------------------------------------------------------------------------------
    def channels(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.Checked]

    def set_channels(self, names: list[str]) -> None:
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.Checked if item.text() in names else Qt.Unchecked)
        self.list.blockSignals(False)
        self._redraw()

    def set_track(self, track: FaceTrack | None) -> None:
        self.track = track
        self._redraw()

    def set_previous(self, track: FaceTrack | None) -> None:
        self.previous = track
        self._redraw()

    def set_playhead(self, t: float) -> None:
        if self.isVisible():
            self.playhead.setValue(t)

    def set_view(self, t0: float, t1: float) -> None:
        self.plot.setXRange(t0, t1, padding=0)

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What the plot shows for a channel (times, values)."""
        x, y = self._curves[name][0].getData()
        return np.asarray(x), np.asarray(y)

    # --- drawing -------------------------------------------------------------------------------
    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(text) and text not in item.text().lower())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._redraw()

    def _redraw(self) -> None:
        if not self.isVisible():          # a hidden panel (another tab) draws when it is shown
            self._dirty = True
            return
        self._dirty = False
        for curve, ghost in self._curves.values():
            self.plot.removeItem(curve)
            if ghost is not None:
                self.plot.removeItem(ghost)
        self._curves.clear()
        self.legend.clear()
        if self.track is None or self.track.frames == 0:
            return
        t = np.arange(self.track.frames) / self.track.fps
        for k, name in enumerate(self.channels()):
            colour = COLOURS[k % len(COLOURS)]
            ghost = None
            if self.previous is not None and self.previous.frames == self.track.frames:
                ghost = self.plot.plot(t, channel_values(self.previous, name),
                                       pen=pg.mkPen(colour, width=1, style=Qt.DashLine))
                ghost.setOpacity(0.45)
                self.legend.removeItem(ghost)
            label = f"{name} (deg/{HEAD_SCALE_DEG:g})" if name.startswith("head") else name
            curve = self.plot.plot(t, channel_values(self.track, name), pen=pg.mkPen(colour, width=1.6), name=label)
            for item in (curve, ghost):
                if item is not None:
                    item.setClipToView(True)
                    item.setDownsampling(auto=True, method="peak")
            self._curves[name] = (curve, ghost)

