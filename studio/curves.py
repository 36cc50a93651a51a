"""The curves panel: chosen ARKit channels and head rotation over time, following the playhead.

    panel.set_track(track)            # the performance (FaceTrack) or None
    panel.set_previous(track)         # the performance before the last edit, or None
    panel.set_playhead(t)             # cheap; call it every frame
    panel.set_view(t0, t1)            # follow the timeline's zoom
    panel.set_channels([...]) / panel.channels()     channelsChanged(list) when the user picks

A pure view. The list on the left holds the 52 blendshapes and head pitch, yaw and roll; a
click anywhere on a row (or Space) ticks or unticks it, the box above filters by name, and a
ticked row shows its curve's colour. Blendshape weights (0..1) are drawn in the upper plot;
head rotation has its own plot below, in degrees (it shows only while a head channel is
ticked); both share the time axis, the zoom and the red playhead line. While the playhead
moves (playing, seeking), the view pages along when it leaves the view; a paused playhead
lets the user pan away (drag the plot sideways; the wheel zooms time). With a previous track of the same length, the
frames where the last edit changed anything are shaded, and each ticked channel's old values
there are drawn dashed and faint, so a user sees what an instruction changed. Curves are
clipped to the view and peak-downsampled by pyqtgraph, so hour-long takes stay fluid.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QLineEdit, QListWidget, QListWidgetItem, QPushButton,
                               QVBoxLayout, QWidget)

from core.arkit import CHANNELS, HEAD, INDEX
from core.track import FaceTrack

DEFAULT_CHANNELS = ("jawOpen", "mouthSmileLeft", "browInnerUp", "eyeBlinkLeft", "headPitch")
# Bright, distinguishable on the dark plot (Okabe & Ito, with the dark blue lightened).
COLOURS = ("#56B4E9", "#E69F00", "#009E73", "#F0E442", "#CC79A7", "#D55E00", "#5DA5FF", "#B9B9B9",
           "#9BE37A", "#FF8FA3")
BG = "#15171a"
AXIS = "#9aa0a6"
PLAYHEAD = "#ff4d4d"
CHANGED = (200, 210, 230, 24)          # the shading of frames the last edit changed
MAX_CHANGED_SPANS = 32
MIN_HEAD_RANGE_DEG = 5.0
DEGREES = " (\u00b0)"


def channel_values(track: FaceTrack, name: str) -> np.ndarray:
    """A channel of `track` as plotted: a weight (0..1), or a head angle in degrees."""
    values = track.data[:, INDEX[name]]
    if name in HEAD:
        return np.degrees(values.astype(np.float64))
    return values


def changed_frames(track: FaceTrack, previous: FaceTrack | None) -> np.ndarray:
    """Per frame: whether any channel differs between the two tracks (all False if they can't be compared)."""
    if previous is None or previous.frames != track.frames or previous.fps != track.fps:
        return np.zeros(track.frames, bool)
    return np.any(previous.data != track.data, axis=1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.view(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _swatch(colour: str) -> QIcon:
    pix = QPixmap(10, 10)
    pix.fill(QColor(colour))
    return QIcon(pix)


def _blank() -> QIcon:
    pix = QPixmap(10, 10)
    pix.fill(Qt.transparent)
    return QIcon(pix)


class _Plot(pg.PlotWidget):
    def __init__(self, label: str):
        super().__init__(background=BG)
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.12)
        item.setMenuEnabled(False)
        item.setClipToView(True)                         # draw only the visible frames,
        item.setDownsampling(auto=True, mode="peak")     # at most a few per pixel (min/max kept)
        item.hideButtons()
        for side in ("left", "bottom"):
            axis = item.getAxis(side)
            axis.setPen(pg.mkPen(AXIS))
            axis.setTextPen(pg.mkPen(AXIS))
        item.getAxis("left").setWidth(52)
        item.setLabel("left", label, color=AXIS)
        self.setMouseEnabled(x=True, y=False)
        self.playhead = pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen(PLAYHEAD, width=1.5))
        self.playhead.setZValue(100)
        self.addItem(self.playhead, ignoreBounds=True)
        self.regions: list[pg.LinearRegionItem] = []

    def show_time_axis(self, on: bool) -> None:
        item = self.getPlotItem()
        item.getAxis("bottom").setStyle(showValues=on)
        item.setLabel("bottom", "time" if on else "", units="s" if on else None, color=AXIS)


class CurvesPanel(QWidget):
    channelsChanged = Signal(list)          # the ticked channels, after the user changed them

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.track: FaceTrack | None = None
        self.previous: FaceTrack | None = None
        self._t = 0.0
        self._duration = 0.0
        self._view_given = False
        self._dirty = False
        self._order: list[str] = []                       # ticked channels, in the order ticked
        self._colours: dict[str, str] = {}
        self._curves: dict[str, tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}   # name -> (curve, ghost)
        self._times: np.ndarray = np.zeros(0)

        self.filter = QLineEdit(placeholderText="Filter channels")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setUniformItemSizes(True)
        self.list.installEventFilter(self)
        self.items: dict[str, QListWidgetItem] = {}
        for name in CHANNELS:
            item = QListWidgetItem(f"{name} (\u00b0)" if name in HEAD else name)
            item.setData(Qt.UserRole, name)
            item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable)       # ticked by our click handler
            item.setCheckState(Qt.Unchecked)
            item.setToolTip("head rotation in degrees" if name in HEAD else "ARKit blendshape weight 0..1")
            self.list.addItem(item)
            self.items[name] = item
        self.clear_button = QPushButton("Clear")
        self.count = QLabel()
        self.count.setStyleSheet("color: palette(mid);")
        foot = QHBoxLayout()
        foot.setContentsMargins(0, 0, 0, 0)
        foot.addWidget(self.count, 1)
        foot.addWidget(self.clear_button)

        # the legend: a strip above the plots, so it never hides a curve
        self.legend = QLabel()
        self.legend.setTextFormat(Qt.RichText)
        self.legend.setWordWrap(True)
        self.legend.setContentsMargins(58, 3, 6, 3)
        self.legend.setStyleSheet(f"background: {BG}; color: #e8eaed; font-size: 8pt;")
        self.weights_plot = _Plot("weight")
        self.weights_plot.setYRange(-0.05, 1.05, padding=0)
        self.head_plot = _Plot("head (\u00b0)")
        self.head_plot.setXLink(self.weights_plot)
        self.head_plot.setYRange(-MIN_HEAD_RANGE_DEG, MIN_HEAD_RANGE_DEG, padding=0)
        # the upper plot (weights) is the one a caller zooms; the view limits follow the take
        self.plot = self.weights_plot

        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.filter)
        side.addWidget(self.list, 1)
        side.addLayout(foot)
        box = QWidget()
        box.setLayout(side)
        box.setFixedWidth(190)
        plots = QVBoxLayout()
        plots.setContentsMargins(0, 0, 0, 0)
        plots.setSpacing(0)
        plots.addWidget(self.legend)
        plots.addWidget(self.weights_plot, 3)
        plots.addWidget(self.head_plot, 2)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(box)
        layout.addLayout(plots, 1)

        self.filter.textChanged.connect(self._filter)
        self.list.itemClicked.connect(self._toggle)
        self.clear_button.clicked.connect(lambda: self._user_set([]))
        self.set_channels(list(DEFAULT_CHANNELS))

    # --- API ---------------------------------------------------------------------------------
    def channels(self) -> list[str]:
        """The ticked channels, in the order they were ticked."""
        return list(self._order)

    def set_channels(self, names: list[str]) -> None:
        """Tick exactly these channels (unknown names are ignored). Does not emit channelsChanged."""
        order = []
        for n in names:
            if n in INDEX and n not in order:
                order.append(n)
        self._order = order
        self._colours = {n: c for n, c in self._colours.items() if n in order}
        for n in order:
            if n not in self._colours:
                used = set(self._colours.values())
                free = [c for c in COLOURS if c not in used]
                self._colours[n] = free[0] if free else COLOURS[len(self._colours) % len(COLOURS)]
        for name, item in self.items.items():
            on = name in self._colours
            item.setCheckState(Qt.Checked if on else Qt.Unchecked)
            item.setIcon(_swatch(self._colours[name]) if on else _blank())
        self.count.setText(f"{len(order)} shown")
        self._redraw()

    def set_track(self, track: FaceTrack | None) -> None:
        self.track = track if track is not None and track.frames > 0 else None
        duration = self.track.duration if self.track is not None else 0.0
        if duration != self._duration:
            self._duration = duration
            if duration > 0:
                for p in (self.weights_plot, self.head_plot):
                    p.setLimits(xMin=-0.05 * duration, xMax=1.05 * duration, minXRange=min(0.2, duration))
                if not self._view_given:
                    self.weights_plot.setXRange(0.0, duration, padding=0.01)
        self._redraw()

    def set_previous(self, track: FaceTrack | None) -> None:
        """The performance before the last edit: its changed frames are shaded and drawn dashed."""
        self.previous = track
        self._redraw()

    def set_playhead(self, t: float) -> None:
        """Move the playhead (cheap; a hidden panel only remembers it). Pages the view along."""
        moved, self._t = float(t) != self._t, float(t)
        if not self.isVisible():
            return
        for p in (self.weights_plot, self.head_plot):
            p.playhead.setValue(self._t)
        (x0, x1), _ = self.weights_plot.viewRange()
        width = x1 - x0
        # only a moving playhead pages the view: a user may pan away from a paused one
        if moved and (self._t > x1 or self._t < x0) and width < self._duration:
            start = self._t - 0.05 * width
            self.weights_plot.setXRange(start, start + width, padding=0)

    def playhead(self) -> float:
        return self._t

    def set_view(self, t0: float, t1: float) -> None:
        """Show times t0..t1 (the timeline's zoom)."""
        if t1 > t0:
            self._view_given = True
            self.weights_plot.setXRange(float(t0), float(t1), padding=0)

    def view(self) -> tuple[float, float]:
        (x0, x1), _ = self.weights_plot.viewRange()
        return float(x0), float(x1)

    def curve(self, name: str) -> pg.PlotDataItem:
        return self._curves[name][0]

    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """What a channel's curve holds (times in s, values as plotted), before clipping and downsampling."""
        x, y = self._curves[name][0].getOriginalDataset()
        return np.asarray(x), np.asarray(y)

    def ghost_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The dashed 'before the edit' values of a channel (NaN where nothing changed)."""
        x, y = self._curves[name][1].getOriginalDataset()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

    # --- the list ----------------------------------------------------------------------------------
    def _toggle(self, item: QListWidgetItem) -> None:
        name = item.data(Qt.UserRole)
        order = [n for n in self._order if n != name]
        if name not in self._order:
            order.append(name)
        self._user_set(order)

    def _user_set(self, names: list[str]) -> None:
        self.set_channels(names)
        self.channelsChanged.emit(self.channels())

    def eventFilter(self, obj, event) -> bool:
        if obj is self.list and event.type() == QEvent.KeyPress and event.key() == Qt.Key_Space:
            item = self.list.currentItem()
            if item is not None and not item.isHidden():
                self._toggle(item)
            return True
        return super().eventFilter(obj, event)

    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for name, item in self.items.items():
            item.setHidden(bool(text) and text not in name.lower())

    # --- drawing -------------------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._redraw()
        for p in (self.weights_plot, self.head_plot):
            p.playhead.setValue(self._t)

    def _redraw(self) -> None:
        if not self.isVisible():          # a hidden panel (another tab) draws when it is shown
            self._dirty = True
            return
        self._dirty = False
        wanted = self._order if self.track is not None else []
        for name in list(self._curves):
            if name not in wanted:
                plot = self._plot_of(name)
                for item in self._curves.pop(name):
                    plot.removeItem(item)
        has_head = any(n in HEAD for n in self._order)
        self.head_plot.setVisible(has_head)
        self.weights_plot.show_time_axis(not has_head)
        self.head_plot.show_time_axis(True)
        self._draw_changed_spans()
        if self.track is None:
            self._write_legend(False)
            return
        track = self.track
        if len(self._times) != track.frames or (len(self._times) > 1 and self._times[1] != 1.0 / track.fps):
            self._times = track.times()
        changed = changed_frames(track, self.previous)
        near = changed.copy()                       # the dashed run joins the solid curve at both ends
        near[:-1] |= changed[1:]
        near[1:] |= changed[:-1]
        head_peak = MIN_HEAD_RANGE_DEG
        for name in self._order:
            plot = self._plot_of(name)
            colour = self._colours[name]
            values = channel_values(track, name)
            if name not in self._curves:
                ghost = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.2, style=Qt.DashLine), connect="finite")
                ghost.setOpacity(0.55)
                curve = pg.PlotDataItem(pen=pg.mkPen(colour, width=1.6), skipFiniteCheck=True)
                for item in (ghost, curve):
                    plot.addItem(item)             # takes the plot's clipping and downsampling
                self._curves[name] = (curve, ghost)
            curve, ghost = self._curves[name]
            curve.setPen(pg.mkPen(colour, width=1.6))
            ghost.setPen(pg.mkPen(colour, width=1.2, style=Qt.DashLine))
            curve.setData(self._times, values)
            if near.any():
                old = channel_values(self.previous, name).astype(np.float64)
                old[~near] = np.nan
                ghost.setData(self._times, old)
                ghost.show()
            else:
                ghost.setData([], [])
                ghost.hide()
            if name in HEAD:
                head_peak = max(head_peak, float(np.abs(values).max()))
                if near.any():
                    head_peak = max(head_peak, float(np.nanmax(np.abs(old))))
        self._write_legend(near.any())
        top = float(np.ceil(head_peak * 1.15))
        self.head_plot.setYRange(-top, top, padding=0)

    def _write_legend(self, changed: bool) -> None:
        entries = [f'<span style="color:{self._colours[n]}">\u25ac</span>&nbsp;{n}{DEGREES if n in HEAD else ""}'
                   for n in self._order]
        if changed and entries:
            entries.append('<span style="color:#c8ccd2">\u2504\u2504</span>&nbsp;before the last edit'
                           '&nbsp;<span style="background-color:#33373e">&nbsp;&nbsp;&nbsp;</span>'
                           '&nbsp;changed')
        if not entries:
            entries = ['<span style="color:#9aa0a6">tick channels in the list to plot them</span>']
        self.legend.setText("&nbsp;&nbsp;&nbsp; ".join(entries))

    def _plot_of(self, name: str) -> _Plot:
        return self.head_plot if name in HEAD else self.weights_plot

    def _draw_changed_spans(self) -> None:
        for plot in (self.weights_plot, self.head_plot):
            for region in plot.regions:
                plot.removeItem(region)
            plot.regions = []
        if self.track is None:
            return
        spans = _runs(changed_frames(self.track, self.previous))[:MAX_CHANGED_SPANS]
        fps = self.track.fps
        for plot in (self.weights_plot, self.head_plot):
            for a, b in spans:
                region = pg.LinearRegionItem((a / fps, b / fps), movable=False, brush=pg.mkBrush(*CHANGED),
                                             pen=pg.mkPen(None))
                region.setZValue(-10)
                plot.addItem(region, ignoreBounds=True)
                plot.regions.append(region)
