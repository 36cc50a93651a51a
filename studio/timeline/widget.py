"""The timeline widget: a pure view of the take that asks for edits through signals.

It never touches a project or a model. The main window feeds it (`set_audio`, `set_words`,
`set_segments`, `set_frame_rate`, `set_playhead`, `select`, `set_selection`) and connects its
signals to the document, which turns each request into one undo step and then calls
`set_segments` again.

From top to bottom: the overview (the whole take small, the visible range as a rectangle to
drag), the ruler (seconds; timecode HH:MM:SS:FF once frames can be told apart), the waveform,
the transcript's words, the lane of instruction segments, and a scrollbar while zoomed in. A
red playhead crosses them all.

Gestures:
- wheel: zoom around the mouse; Shift+wheel or a horizontal wheel: pan; middle-drag anywhere,
  left-drag on the ruler, dragging the overview's range or the scrollbar: pan; a click on the
  overview centres the view there; + / - zoom around the playhead, 0 shows the whole take,
  Z zooms to the selected segments;
- click on the ruler, the waveform or the words: seek; drag on the waveform or the words:
  scrub (seek as you go);
- click a segment: select just it; Ctrl+click: add it to the selection or take it out;
  Shift+click: select every segment from the last one clicked to it (click the empty lane or
  Escape: select none). The selected segments are outlined; the one the inspector shows (the
  current one) has edge grips;
- drag a segment's edge: retime it, drag its body: move it. Edges snap within 8 px to word
  starts and ends, to the middle of pauses (gaps between words of 0.15 s or more) and to the
  other segments' edges; hold Alt (when pressing or while dragging) to place them freely. A
  segment never overlaps its neighbours and never gets shorter than MIN_SEGMENT.
  `segmentRetimed` is emitted once, when the mouse is released (Escape during the drag
  cancels it);
- drag across an empty stretch of the lane, or Shift+drag over the waveform: add a segment
  there (snapped likewise, kept inside the gap between its neighbours);
- S: split the current segment (or the one under the playhead) at the playhead;
  M: merge the current segment with the next; Delete or Backspace: delete it;
- right-click a segment or the lane: the same commands in a menu, plus "Add segment here"
  (fills the gap under the mouse), "Zoom to selection" and "Show whole take".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QMenu, QScrollBar, QVBoxLayout, QWidget

from core.editing import can_split
from core.track import DEFAULT_FPS
from studio.timeline import theme
from studio.timeline.drag import (MIN_SEGMENT, SNAP_PX, Drag, gap_at, room_for, with_edges,
                                  word_targets)
from studio.timeline.items import Layer, Playhead, View
from studio.timeline.lane import LANE_H, Box, paint_drag, paint_lane
from studio.timeline.overview import Overview
from studio.timeline.ruler import RULER_H, Ruler
from studio.timeline.selection import extended, toggled
from studio.timeline.wave import paint_wave, wave_path
from studio.timeline.words import WORDS_H, paint_words
from studio.waveform import WaveformPyramid

EDGE_PX = 6            # how close to a segment's edge a press grabs the edge
MIN_SPAN = 0.02        # the narrowest view, seconds
MIN_WAVE_H = 50
SCROLL_UNIT = 0.001    # seconds a scrollbar step
ZOOM_MARGIN = 0.05     # zoom to selection leaves this fraction of the span free on each side
SCROLLBAR_STYLE = f"""
QScrollBar:horizontal {{ background: {theme.WAVE_BG}; height: 12px; margin: 0; border: none; }}
QScrollBar::handle:horizontal {{ background: {theme.SCROLL_HANDLE}; min-width: 24px; margin: 2px 0;
                                 border-radius: 4px; }}
QScrollBar::handle:horizontal:hover {{ background: {theme.SCROLL_HANDLE_HOVER}; }}
QScrollBar::add-line:horizontal, QScrollBar::sub-line:horizontal {{ width: 0; }}
QScrollBar::add-page:horizontal, QScrollBar::sub-page:horizontal {{ background: none; }}
"""


@dataclass
class SegmentView:
    start: float
    end: float
    emotion: str
    text: str
    state: str = "ready"            # "ready" | "stale" | "busy"
    progress: float = 0.0           # 0..1 while busy


class Timeline(QWidget):
    seekRequested = Signal(float)
    segmentSelected = Signal(int)             # a click made this segment current (-1: none)
    selectionListChanged = Signal(list)       # the selected segments after a click, sorted (after segmentSelected)
    segmentRetimed = Signal(int, float, float)
    splitRequested = Signal(int, float)
    mergeRequested = Signal(int)
    deleteRequested = Signal(int)
    addRequested = Signal(float, float)
    viewChanged = Signal(float, float)        # the shown time range changed (zoom, pan, paging)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.follow_playhead = True          # scroll to keep a moving playhead in view
        self._pyramid: WaveformPyramid | None = None
        self._duration = 0.0
        self._fps = float(DEFAULT_FPS)
        self._words: list[tuple[str, float, float]] = []
        self._word_starts = np.zeros(0)
        self._word_targets = np.zeros(0)
        self._segments: list[SegmentView] = []
        self._order: list[int] = []
        self._selection: list[int] = []
        self._selected = -1                  # the current segment: in the selection, or -1 when it is empty
        self._anchor = -1                    # where a Shift+click range starts
        self._playhead = 0.0
        self._drag: Drag | None = None
        self._wave_path, self._wave_dense = wave_path(None, 0, 1, 1, 0, 0)
        self.context_menu: QMenu | None = None

        self.view = View(self._on_click, self._on_drag, self._on_wheel, self._on_hover)
        self.ruler = Ruler(lambda: self._extent() >= 60, lambda: self._fps, self._on_click, self._on_drag,
                           self._on_wheel)
        self.plot = pg.PlotWidget(viewBox=self.view, axisItems={"top": self.ruler}, background=theme.BG)
        item = self.plot.getPlotItem()
        for side in ("left", "bottom", "right"):
            item.hideAxis(side)
        item.showAxis("top")
        item.hideButtons()
        item.setMenuEnabled(False)
        item.layout.setContentsMargins(0, 0, 0, 0)
        item.layout.setSpacing(0)
        self.plot.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.plot.scene().setMoveDistance(4)   # a drag starts after 4 px: small edge nudges work
        self.plot.setMouseTracking(True)
        self.view.setYRange(0, 1, padding=0)
        self.view.disableAutoRange()

        self._wave = Layer(self.view, self._paint_wave, 1)
        self._wordlayer = Layer(self.view, self._paint_words, 1)
        self._lane = Layer(self.view, self._paint_lane, 1)
        self._overlay = Layer(self.view, self._paint_overlay, 5, cache=False)
        self._playhead_item = Playhead(self.view)

        self.overview = Overview()
        self.overview.viewMoved.connect(self._overview_moved)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal)
        self.scrollbar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.scrollbar.setStyleSheet(SCROLLBAR_STYLE)
        policy = self.scrollbar.sizePolicy()
        policy.setRetainSizeWhenHidden(True)          # appearing when zoomed in moves nothing
        self.scrollbar.setSizePolicy(policy)
        self.scrollbar.valueChanged.connect(self._scrolled)

        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor(theme.WAVE_BG))   # under a hidden scrollbar
        self.setPalette(palette)
        self.setAutoFillBackground(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.overview)
        layout.addWidget(self.plot)
        layout.addWidget(self.scrollbar)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(self.overview.height() + RULER_H + MIN_WAVE_H + WORDS_H + LANE_H + 4
                              + self.scrollbar.sizeHint().height())

        self.view.sigXRangeChanged.connect(self._on_range)
        self.view.sigResized.connect(self._on_resize)
        self.set_view(0.0, 10.0)
        self._on_resize()

    def sizeHint(self) -> QSize:
        return QSize(1000, 290)

    # --- feeding the view ----------------------------------------------------------------

    def set_audio(self, samples_mono: np.ndarray | None, rate: int, duration: float) -> None:
        """The take's sound (None: a take without audio) and its length; shows the whole take."""
        if samples_mono is not None and np.asarray(samples_mono).size:
            self._pyramid = WaveformPyramid(samples_mono, rate)
        else:
            self._pyramid = None
        self._duration = float(duration) if duration and duration > 0 else (
            self._pyramid.duration if self._pyramid else 0.0)
        self._extent_changed()
        self.set_view(0.0, self._extent())

    def set_frame_rate(self, fps: float) -> None:
        """The take's frame rate, for the ruler's timecode."""
        self._fps = float(fps)
        self.ruler.picture = None            # pyqtgraph's cached drawing of the ticks
        self.ruler.update()

    @property
    def frame_rate(self) -> float:
        return self._fps

    def set_words(self, words) -> None:
        """The transcript: (word, start, end) triples in seconds."""
        self._words = sorted(((str(w), float(s), float(e)) for w, s, e in words), key=lambda x: x[1])
        self._word_starts = np.array([w[1] for w in self._words], float)
        self._word_targets = word_targets(self._word_starts, [w[2] for w in self._words])
        self._extent_changed()
        self._wordlayer.update()

    def set_segments(self, segments) -> None:
        """The instruction segments, in the document's order (indices in signals refer to it).
        When their number changes the selection keeps only the current segment."""
        old = len(self._segments)
        self._segments = [SegmentView(**vars(s)) if isinstance(s, SegmentView) else SegmentView(*s)
                          for s in segments]
        self._order = sorted(range(len(self._segments)), key=lambda i: self._segments[i].start)
        if len(self._segments) != old:
            current = self._selected if self._selected < len(self._segments) else -1
            self._selection, self._selected, self._anchor = ([current] if current >= 0 else []), current, current
            if self._drag and self._drag.index is not None:
                self._drag = None            # the segment being dragged may be gone
        self.overview.set_segments([(s.start, s.end, s.emotion) for s in self._segments])
        self._extent_changed()
        self._refresh_lane()

    def set_playhead(self, t: float) -> None:
        """Where playback is; cheap (only the playhead's strip is redrawn)."""
        t = float(t)
        moved, self._playhead = t != self._playhead, t
        self.overview.set_playhead(t)
        if moved and self.follow_playhead and self._drag is None:
            t0, t1 = self.view_range()
            span = t1 - t0
            if not t0 <= t <= t1:
                self.set_view(t - 0.05 * span, t + 0.95 * span)
                return                       # set_view placed the playhead
        self._place_playhead()

    @property
    def playhead(self) -> float:
        return self._playhead

    def select(self, index: int) -> None:
        """Make segment `index` the current one (-1: select none) without emitting signals: when
        it is already selected the rest of the selection stays, else it is selected alone."""
        index = int(index)
        if 0 <= index < len(self._segments):
            if index not in self._selection:
                self._selection, self._anchor = [index], index
            self._selected = index
        else:
            self._selection, self._selected, self._anchor = [], -1, -1
        self._refresh_lane()

    def set_selection(self, indices, current: int | None = None) -> None:
        """Select these segments (`current`: the one the inspector shows, by default the last)
        without emitting signals."""
        chosen = sorted({int(i) for i in indices if 0 <= int(i) < len(self._segments)})
        if current is None or current not in chosen:
            current = chosen[-1] if chosen else -1
        self._selection, self._selected, self._anchor = chosen, int(current), int(current)
        self._refresh_lane()

    def selection(self) -> list[int]:
        """The selected segments' indices, sorted."""
        return list(self._selection)

    @property
    def selected(self) -> int:
        """The current segment (the one the inspector shows), or -1."""
        return self._selected

    @property
    def segments(self) -> list[SegmentView]:
        return list(self._segments)

    def set_view(self, t0: float, t1: float) -> None:
        """Show [t0, t1] seconds (kept within the take, at least MIN_SPAN wide)."""
        extent = self._extent()
        span = min(max(float(t1) - float(t0), MIN_SPAN), extent)
        t0 = min(max(float(t0), 0.0), extent - span)
        before = self.view_range()
        self.view.setXRange(t0, t0 + span, padding=0)
        if self.view_range() == before:      # no sigXRangeChanged: redraw for new content anyway
            self._on_range()

    def view_range(self) -> tuple[float, float]:
        t0, t1 = self.view.viewRange()[0]
        return float(t0), float(t1)

    def zoom(self, factor: float, around: float) -> None:
        """Scale the visible span by factor (< 1 zooms in), keeping time `around` in place."""
        t0, t1 = self.view_range()
        self.set_view(around - (around - t0) * factor, around + (t1 - around) * factor)

    def zoom_to_selection(self) -> None:
        """Show the selected segments, filling the width (nothing happens when none is selected)."""
        if not self._selection:
            return
        s = min(self._segments[i].start for i in self._selection)
        e = max(self._segments[i].end for i in self._selection)
        margin = ZOOM_MARGIN * (e - s)
        self.set_view(s - margin, e + margin)

    def show_whole_take(self) -> None:
        self.set_view(0.0, self._extent())

    # --- geometry helpers (also for tests and the main window) -----------------------------

    def _extent(self) -> float:
        if self._duration > 0:
            return self._duration
        ends = [s.end for s in self._segments] + [w[2] for w in self._words[-1:]]
        return max(ends + [10.0])

    def _w(self) -> float:
        return max(1.0, self.view.width())

    def _x(self, t):
        t0, t1 = self.view_range()
        return (t - t0) / (t1 - t0) * self._w()

    def _t(self, x: float) -> float:
        t0, t1 = self.view_range()
        return t0 + x / self._w() * (t1 - t0)

    def _spp(self) -> float:
        """Seconds a pixel."""
        t0, t1 = self.view_range()
        return (t1 - t0) / self._w()

    def _bands(self) -> dict[str, tuple[float, float]]:
        h = self.view.height()
        lane = (h - LANE_H, h)
        words = (lane[0] - WORDS_H, lane[0])
        return {"waveform": (0.0, words[0]), "words": words, "lane": lane}

    def _band_at(self, y: float) -> str:
        for name, (a, b) in self._bands().items():
            if a <= y < b:
                return name
        return "lane" if y >= 0 else "ruler"

    def point_at(self, t: float, band: str = "waveform") -> QPoint:
        """The point of `plot.viewport()` (where mouse events go) showing time t in a band:
        "ruler", "waveform", "words" or "lane"."""
        if band == "ruler":
            r = self.ruler.sceneBoundingRect()
            y_scene = r.center().y()
            scene = self.view.mapToScene(QPointF(self._x(t), 0))
            scene.setY(y_scene)
        else:
            a, b = self._bands()[band]
            scene = self.view.mapToScene(QPointF(self._x(t), (a + b) / 2))
        return self.plot.mapFromScene(scene)

    def time_at(self, x: float) -> float:
        """The time under viewport x."""
        local = self.view.mapFromScene(self.plot.mapToScene(QPoint(int(round(x)), 0)))
        return self._t(local.x())

    # --- reacting to the view ------------------------------------------------------------

    def _on_resize(self, *_):
        w, h = self.view.width(), self.view.height()
        bands = self._bands()
        for layer, name in ((self._wave, "waveform"), (self._wordlayer, "words"), (self._lane, "lane")):
            a, b = bands[name]
            layer.set_rect(QRectF(0, a, w, max(0.0, b - a)))
        self._overlay.set_rect(QRectF(0, 0, w, h))
        self._playhead_item.set_height(h)
        self._on_range()

    def _on_range(self, *_):
        self._rebuild_wave()
        self._wordlayer.update()
        self._lane.update()
        self._overlay.update()
        self._place_playhead()
        t0, t1 = self.view_range()
        self.overview.set_view(t0, t1)
        self._sync_scrollbar(t0, t1)
        self.viewChanged.emit(t0, t1)

    def _sync_scrollbar(self, t0: float, t1: float) -> None:
        span, extent = t1 - t0, self._extent()
        bar = self.scrollbar
        bar.blockSignals(True)
        bar.setRange(0, max(0, round((extent - span) / SCROLL_UNIT)))
        bar.setPageStep(max(1, round(span / SCROLL_UNIT)))
        bar.setSingleStep(max(1, round(0.1 * span / SCROLL_UNIT)))
        bar.setValue(round(t0 / SCROLL_UNIT))
        bar.blockSignals(False)
        bar.setVisible(span < extent * 0.999)

    def _scrolled(self, value: int) -> None:
        t0, t1 = self.view_range()
        start = value * SCROLL_UNIT
        self.set_view(start, start + t1 - t0)

    def _overview_moved(self, start: float) -> None:
        t0, t1 = self.view_range()
        self.set_view(start, start + t1 - t0)

    def _extent_changed(self) -> None:
        self.overview.set_take(self._pyramid, self._extent())

    def _place_playhead(self) -> None:
        x = self._x(self._playhead)
        if -8 <= x <= self._w() + 8:
            self._playhead_item.setPos(x, 0)
            self._playhead_item.show()
        else:
            self._playhead_item.hide()

    def _refresh_lane(self) -> None:
        self._lane.update()
        self._wave.update()          # the selected segments are shaded on the waveform
        self._overlay.update()

    def _rebuild_wave(self) -> None:
        """Re-query the pyramid for the visible span."""
        a, b = self._bands()["waveform"]
        t0, t1 = self.view_range()
        self._wave_path, self._wave_dense = wave_path(self._pyramid, t0, t1, self._w(), a, b)
        self._wave.update()

    # --- painting ------------------------------------------------------------------------

    def _visible_segments(self) -> list[int]:
        t0, t1 = self.view_range()
        out = []
        for i in self._order:
            s, e = self._span(i)
            if e >= t0 and s <= t1:
                out.append(i)
        return out

    def _span(self, i: int) -> tuple[float, float]:
        """A segment's span, as being dragged if it is."""
        d = self._drag
        if d and d.index == i and d.preview is not None:
            return d.preview
        seg = self._segments[i]
        return seg.start, seg.end

    def _paint_wave(self, painter, rect: QRectF) -> None:
        visible = self._visible_segments()
        shaded = []
        for i in visible:
            if i in self._selection:
                s, e = self._span(i)
                shaded.append((self._x(s), self._x(e), theme.emotion_colour(self._segments[i].emotion)))
        t0, t1 = self.view_range()
        levels = self.ruler.tickValues(t0, t1, rect.width())
        grid = self._x(np.asarray(levels[0][1], float)).round().tolist() if levels else []   # Python floats
        edges = [self._x(t) for i in visible for t in self._span(i)]
        paint_wave(painter, rect, self._wave_path, self._wave_dense, self._pyramid is not None, shaded, grid, edges)

    def _paint_words(self, painter, rect: QRectF) -> None:
        t0, t1 = self.view_range()
        paint_words(painter, rect, self._words, self._word_starts, t0, t1, self._x)

    def _paint_lane(self, painter, rect: QRectF) -> None:
        boxes = []
        for i in self._visible_segments():
            seg = self._segments[i]
            s, e = self._span(i)
            boxes.append(Box(seg.emotion, seg.text, seg.state, seg.progress, self._x(s), self._x(e),
                             i in self._selection, i == self._selected))
        paint_lane(painter, rect, boxes)

    def _paint_overlay(self, painter, rect: QRectF) -> None:
        d = self._drag
        if d is None:
            return
        adding = None
        if d.kind == "add" and d.preview is not None:
            s, e = d.preview
            adding = (self._x(s), self._x(e), e - s)
        paint_drag(painter, rect, adding, None if d.snapped is None else self._x(d.snapped))

    # --- hit testing ---------------------------------------------------------------------

    def _hit(self, x: float) -> tuple[int, str] | None:
        """(index, "left" | "right" | "body") of the segment part at lane x, or None."""
        best = None
        for i in self._visible_segments():
            s, e = self._span(i)
            x0, x1 = self._x(s), self._x(e)
            if x < x0 - EDGE_PX or x > x1 + EDGE_PX:
                continue
            grab = min(EDGE_PX, max(2.0, (x1 - x0) / 3))
            inside = x0 <= x <= x1
            for part, ex in (("left", x0), ("right", x1)):
                if abs(x - ex) <= grab:
                    key = (0, 0 if inside else 1, abs(x - ex))
                    if best is None or key < best[0]:
                        best = (key, i, part)
            if inside:
                key = (1, 0, 0.0)
                if best is None or key < best[0]:
                    best = (key, i, "body")
        return None if best is None else (best[1], best[2])

    def _spans(self) -> list[tuple[float, float]]:
        return [(s.start, s.end) for s in self._segments]

    # --- mouse ---------------------------------------------------------------------------

    def _local(self, scene_pos) -> QPointF:
        return self.view.mapFromScene(scene_pos)

    def _on_click(self, ev, ruler: bool) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = self._local(ev.scenePos())
        band = "ruler" if ruler else self._band_at(pos.y())
        t = self._t(pos.x())
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            if band == "lane":
                hit = self._hit(pos.x())
                self._user_select(hit[0] if hit else -1, ev.modifiers())
            else:
                self._seek(t)
        elif ev.button() == Qt.MouseButton.RightButton and not ruler:
            ev.accept()
            index = -1
            if band == "lane":
                hit = self._hit(pos.x())
                index = hit[0] if hit else -1
                if index >= 0:
                    self._make_current(index)
            self.context_menu = self._make_menu(t, index if index >= 0 else self._selected)
            self.context_menu.popup(ev.screenPos().toPoint())
        else:
            ev.ignore()

    def _user_select(self, index: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        """A click on segment `index` (-1: the empty lane): a plain click selects just it (or
        none), Ctrl toggles it, Shift selects the range from the anchor; with a modifier the
        empty lane changes nothing. Emits segmentSelected, then selectionListChanged."""
        ctrl = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        shift = bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        if index < 0 and (ctrl or shift):
            return                                         # a slip off a segment keeps the selection
        if ctrl:
            self._selection = toggled(self._selection, index)
            if index in self._selection:
                self._selected = index
            elif self._selected not in self._selection:
                self._selected = self._selection[-1] if self._selection else -1
            self._anchor = index
        elif shift:
            self._selection = extended(self._order, self._anchor, index)
            self._selected = index
            self._anchor = self._anchor if self._anchor in self._order else index
        else:
            self._selection = [index] if index >= 0 else []
            self._selected = self._anchor = index
        self._refresh_lane()
        self.segmentSelected.emit(self._selected)
        self.selectionListChanged.emit(list(self._selection))

    def _make_current(self, index: int) -> None:
        """Segment `index` pressed for a drag or a menu: it becomes current, keeping the rest of
        the selection when it is in it, else selected alone."""
        if index not in self._selection:
            self._user_select(index)
        elif index != self._selected:
            self._selected = self._anchor = index
            self._refresh_lane()
            self.segmentSelected.emit(index)
            self.selectionListChanged.emit(list(self._selection))

    def _seek(self, t: float) -> None:
        t = min(max(t, 0.0), self._extent())
        self._playhead = t
        self._place_playhead()
        self.overview.set_playhead(t)
        self.seekRequested.emit(t)

    def _press_modifiers(self, button) -> Qt.KeyboardModifier:
        """The modifier keys held when the dragging button went down."""
        for press in getattr(self.view.scene(), "clickEvents", []):
            if press.button() == button:
                return press.modifiers()
        return Qt.KeyboardModifier.NoModifier

    def _start_drag(self, ev, ruler: bool) -> Drag | None:
        """The drag a press starts, by where it went down and with which button and keys."""
        down = self._local(ev.buttonDownScenePos())
        band = "ruler" if ruler else self._band_at(down.y())
        t_down = self._t(down.x())
        button = ev.button()
        mods = ev.modifiers() | self._press_modifiers(button)
        free = bool(mods & Qt.KeyboardModifier.AltModifier)
        d = Drag("pan", t_down, down.x(), self.view_range(), free)
        if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and band == "ruler"):
            return d
        if button != Qt.MouseButton.LeftButton:
            return None
        hit = self._hit(down.x()) if band == "lane" else None
        if hit is not None:
            index, part = hit
            self._make_current(index)
            seg = self._segments[index]
            d.kind, d.index, d.orig = part, index, (seg.start, seg.end)
            d.room = room_for(self._spans(), index, self._extent())
            d.targets = with_edges(self._word_targets, self._spans(), exclude=index)
        elif band == "lane" or mods & Qt.KeyboardModifier.ShiftModifier:
            d.kind = "add"
            d.room = gap_at(self._spans(), t_down, self._extent())
            d.targets = with_edges(self._word_targets, self._spans())
        else:
            d.kind = "scrub"
        return d

    def _on_drag(self, ev, ruler: bool) -> None:
        pos = self._local(ev.scenePos())
        if ev.isStart():
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self._drag = self._start_drag(ev, ruler)
        d = self._drag
        if d is None:
            ev.ignore()
            return
        ev.accept()
        if d.cancelled:
            if ev.isFinish():
                self._drag = None
            return
        if d.kind == "pan":
            t0, t1 = d.view
            dt = (pos.x() - d.x_down) * (t1 - t0) / self._w()
            self.set_view(t0 - dt, t1 - dt)
        elif d.kind == "scrub":
            self._seek(self._t(pos.x()))
        else:
            d.move_to(self._t(pos.x()), SNAP_PX * self._spp(), bool(ev.modifiers() & Qt.KeyboardModifier.AltModifier))
            self._refresh_lane()
        if ev.isFinish():
            self._drag = None
            if d.kind in ("left", "right", "body") and d.preview is not None and d.preview != d.orig:
                self.segmentRetimed.emit(d.index, *d.preview)
            elif d.kind == "add" and d.preview is not None and d.preview[1] - d.preview[0] >= MIN_SEGMENT - 1e-9:
                self.addRequested.emit(*d.preview)
            self._refresh_lane()

    def _on_wheel(self, ev) -> None:
        pos = self._local(ev.scenePos())
        delta = ev.delta()
        t0, t1 = self.view_range()
        span = t1 - t0
        horizontal = ev.orientation() == Qt.Orientation.Horizontal
        if horizontal or ev.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            dt = -delta / 120 * 0.1 * span
            self.set_view(t0 + dt, t1 + dt)
        else:
            self.zoom(0.8 ** (delta / 120), self._t(pos.x()))
        ev.accept()

    def _on_hover(self, ev) -> None:
        if ev.isExit() or self._drag is not None:
            if ev.isExit():
                self.view.unsetCursor()
                self.view.setToolTip("")
            return
        pos = ev.pos()
        tip, cursor = "", None
        if self._band_at(pos.y()) == "lane":
            hit = self._hit(pos.x())
            if hit:
                i, part = hit
                seg = self._segments[i]
                cursor = Qt.CursorShape.SizeHorCursor if part != "body" else Qt.CursorShape.OpenHandCursor
                state = {"stale": " (stale: regenerate to update)", "busy": f" (regenerating, {seg.progress:.0%})"}
                tip = f"{seg.emotion}{state.get(seg.state, '')}, {seg.start:.2f}-{seg.end:.2f} s\n{seg.text}"
        if cursor is None:
            self.view.unsetCursor()
        else:
            self.view.setCursor(cursor)
        if tip != self.view.toolTip():
            self.view.setToolTip(tip)

    # --- commands (keys and the context menu) ------------------------------------------

    def _split_target(self) -> int:
        """The segment S splits: the current one if the playhead is inside it, else the one
        under the playhead; -1 when the split would leave a piece shorter than MIN_SEGMENT."""
        t = self._playhead
        candidates = ([self._selected] if self._selected >= 0 else []) + list(range(len(self._segments)))
        return next((i for i in candidates if can_split(self._segments[i], t)), -1)

    def split_at_playhead(self) -> None:
        i = self._split_target()
        if i >= 0:
            self.splitRequested.emit(i, self._playhead)

    def merge_selected(self) -> None:
        if 0 <= self._selected < len(self._segments) - 1:
            self.mergeRequested.emit(self._selected)

    def delete_selected(self) -> None:
        if self._selected >= 0:
            self.deleteRequested.emit(self._selected)

    def _make_menu(self, t: float, index: int) -> QMenu:
        menu = QMenu(self)
        split = menu.addAction("Split at playhead\tS", self.split_at_playhead)
        split.setEnabled(self._split_target() >= 0)
        merge = menu.addAction("Merge with next\tM", self.merge_selected)
        merge.setEnabled(0 <= index < len(self._segments) - 1 and index == self._selected)
        delete = menu.addAction("Delete\tDel", self.delete_selected)
        delete.setEnabled(index >= 0 and index == self._selected)
        menu.addSeparator()
        lo, hi = gap_at(self._spans(), t, self._extent())
        add = menu.addAction("Add segment here", lambda: self.addRequested.emit(lo, hi))
        add.setEnabled(hi - lo >= MIN_SEGMENT)
        menu.addSeparator()
        zoom = menu.addAction("Zoom to selection\tZ", self.zoom_to_selection)
        zoom.setEnabled(bool(self._selection))
        menu.addAction("Show whole take\t0", self.show_whole_take)
        return menu

    def keyPressEvent(self, ev) -> None:
        key = ev.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
        elif key == Qt.Key.Key_S:
            self.split_at_playhead()
        elif key == Qt.Key.Key_M:
            self.merge_selected()
        elif key == Qt.Key.Key_Z and not ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom_to_selection()
        elif key == Qt.Key.Key_Escape:
            if self._drag is not None:
                self._drag.cancel()
                self._refresh_lane()
            elif self._selected >= 0:
                self._user_select(-1)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(0.5, self._playhead)
        elif key == Qt.Key.Key_Minus:
            self.zoom(2.0, self._playhead)
        elif key == Qt.Key.Key_0:
            self.show_whole_take()
        else:
            super().keyPressEvent(ev)
            return
        ev.accept()
