"""The studio's timeline: a pure view of the take that asks for edits through signals.

It never touches a project or a model. The main window feeds it (`set_audio`, `set_words`,
`set_segments`, `set_playhead`, `select`) and connects its signals to the document, which
turns each request into one undo step and then calls `set_segments` again.

From top to bottom: a time ruler (seconds, m:ss for takes of a minute or more), the waveform
(drawn from a min/max pyramid, so any zoom of hours of audio stays smooth), the transcript's
words under it, and the lane of instruction segments (emotion colour, emotion name, the start
of the instruction; hatched and marked "stale" when its animation is out of date, a progress
bar and percentage while it is being regenerated). A red playhead crosses them all.

Gestures:
- wheel: zoom around the mouse; Shift+wheel or a horizontal wheel: pan;
  middle-drag anywhere or left-drag on the ruler: pan; + / - zoom around the playhead,
  0 shows the whole take;
- click on the ruler, the waveform or the words: seek; drag on the waveform or the words:
  scrub (seek as you go);
- click a segment: select it (click the empty lane or Escape: select none);
- drag a segment's edge: retime it, drag its body: move it. Edges snap to word starts and ends
  (and to the neighbours' edges) within 8 px; hold Alt (when pressing or while dragging) to
  place them freely. A segment never overlaps its neighbours and never gets shorter than 0.2 s.
  `segmentRetimed` is emitted once, when the mouse is released (Escape during the drag
  cancels it);
- drag across an empty stretch of the lane, or Shift+drag over the waveform: add a segment
  there (snapped to words, kept inside the gap between its neighbours);
- S: split the selected segment (or the one under the playhead) at the playhead;
  M: merge the selected segment with the next; Delete or Backspace: delete it;
- right-click a segment or the lane: the same commands in a menu, plus "Add segment here"
  (fills the gap under the mouse).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QMenu, QVBoxLayout, QWidget

from core.project import EMOTIONS
from studio.waveform import WaveformPyramid

__all__ = ["EMOTION_COLOURS", "SegmentView", "Timeline", "WaveformPyramid", "format_time"]


# Okabe & Ito's palette (distinguishable with the common colour-vision deficiencies); neutral
# is a plain grey. The lane also writes each emotion's name, so colour is never the only cue.
EMOTION_COLOURS: dict[str, str] = {
    "neutral": "#9da3ab",
    "happy": "#f0e442",
    "sad": "#0072b2",
    "angry": "#d55e00",
    "surprised": "#e69f00",
    "fearful": "#cc79a7",
    "disgusted": "#009e73",
    "contempt": "#56b4e9",
}
assert set(EMOTION_COLOURS) == set(EMOTIONS)

MIN_SEGMENT = 0.2      # seconds: the shortest segment an edit may leave
SNAP_PX = 8            # edges snap to a word boundary this close, in pixels
EDGE_PX = 6            # how close to a segment's edge a press grabs the edge
MIN_SPAN = 0.02        # the narrowest view, seconds
RULER_H, WORDS_H, LANE_H, MIN_WAVE_H = 24, 22, 46, 50

BG = QColor("#1b1d21")
WAVE_BG = QColor("#15171a")
WORDS_BG = QColor("#1f2227")
LANE_BG = QColor("#191b1f")
GRID = QColor("#2a2e35")
WAVE_FILL = QColor("#3f8fc6")
WAVE_EDGE = QColor("#66aee0")
TEXT = QColor("#e8eaed")
TEXT_DIM = QColor("#9aa0a6")
PLAYHEAD = QColor("#ff4d4d")
STALE = QColor("#ffb000")
SELECTION = QColor(120, 170, 255, 60)


@dataclass
class SegmentView:
    start: float
    end: float
    emotion: str
    text: str
    state: str = "ready"            # "ready" | "stale" | "busy"
    progress: float = 0.0           # 0..1 while busy


def format_time(t: float, spacing: float = 1.0, long: bool = False) -> str:
    """A ruler label: "2.5s" for short takes, "1:05" / "1:05.5" / "1:02:05" for long ones."""
    decimals = 0 if spacing >= 1 else min(3, int(math.ceil(-math.log10(spacing) - 1e-9)))
    if not long:
        return f"{t:.{decimals}f}s"
    sign, t = ("-" if t < 0 else ""), abs(t)
    whole = int(math.floor(t + 1e-9))
    frac = f"{t - whole:.{decimals}f}"[1:] if decimals else ""
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}{frac}" if h else f"{sign}{m}:{s:02d}{frac}"


def _blend(a: QColor, b: QColor, f: float) -> QColor:
    """f of a over (1 - f) of b."""
    return QColor(round(a.red() * f + b.red() * (1 - f)), round(a.green() * f + b.green() * (1 - f)),
                  round(a.blue() * f + b.blue() * (1 - f)))


def _font(px: int, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(px)
    f.setBold(bold)
    return f


# --- pyqtgraph pieces ---------------------------------------------------------------------

class _View(pg.ViewBox):
    """The view box: its x range is the visible time; every mouse gesture goes to the timeline."""

    def __init__(self, timeline: "Timeline"):
        super().__init__(enableMenu=False, defaultPadding=0.0)
        self._tl = timeline
        self.setMouseEnabled(x=False, y=False)
        self.setFlag(self.GraphicsItemFlag.ItemIsFocusable, False)

    def mouseClickEvent(self, ev):
        self._tl._on_click(ev, ruler=False)

    def mouseDragEvent(self, ev, axis=None):
        self._tl._on_drag(ev, ruler=axis is not None)

    def wheelEvent(self, ev, axis=None):
        self._tl._on_wheel(ev)

    def hoverEvent(self, ev):
        self._tl._on_hover(ev)


class _Ruler(pg.AxisItem):
    """The time ruler: nice time steps, m:ss labels for long takes; click seeks, drag pans."""

    def __init__(self, timeline: "Timeline"):
        super().__init__("top")
        self._tl = timeline
        self.setStyle(tickLength=6, tickTextOffset=3, maxTickLevel=1, maxTextLevel=0,
                      tickFont=_font(11), autoExpandTextSpace=False)
        self.setPen(pg.mkPen(GRID))
        self.setTextPen(pg.mkPen(TEXT_DIM))
        self.setHeight(RULER_H)

    def _long(self) -> bool:
        return self._tl._extent() >= 60

    def tickSpacing(self, minVal, maxVal, size):
        span = maxVal - minVal
        if span <= 0 or size <= 0:
            return []
        want = span * 90 / size                      # a labelled tick every ~90 px or more
        if self._long():
            steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
                     60, 120, 300, 600, 900, 1800, 3600, 7200]
        else:
            steps = [m * 10.0 ** e for e in range(-3, 5) for m in (1, 2, 5)]
        major = next((s for s in steps if s >= want), steps[-1])
        i = steps.index(major)
        minor = major / 5 if major in (1, 10, 0.1, 0.01, 0.001) else steps[max(0, i - 1)]
        if major == 60:
            minor = 10
        elif major in (15, 30):
            minor = 5
        return [(major, 0), (minor, 0)]

    def tickStrings(self, values, scale, spacing):
        long = self._long()
        return [format_time(v, spacing, long) for v in values]

    def mouseClickEvent(self, ev):
        self._tl._on_click(ev, ruler=True)

    def mouseDragEvent(self, ev):
        self._tl._on_drag(ev, ruler=True)

    def wheelEvent(self, ev):
        self._tl._on_wheel(ev)


class _Layer(QGraphicsItem):
    """A child of the view box that paints in the box's own pixels (cached between changes)."""

    def __init__(self, timeline: "Timeline", paint, z: float, cache: bool = True):
        super().__init__(timeline.view)
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


class _Playhead(QGraphicsItem):
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
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(PLAYHEAD, 1.5))
        painter.drawLine(QPointF(0, 0), QPointF(0, self._h))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(PLAYHEAD)
        painter.drawPolygon(QPolygonF([QPointF(-6, 0), QPointF(6, 0), QPointF(0, 8)]))


# --- the widget ---------------------------------------------------------------------------

class Timeline(QWidget):
    seekRequested = Signal(float)
    segmentSelected = Signal(int)
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
        self._words: list[tuple[str, float, float]] = []
        self._word_starts = np.zeros(0)
        self._word_ends = np.zeros(0)
        self._boundaries = np.zeros(0)
        self._segments: list[SegmentView] = []
        self._order: list[int] = []
        self._selected = -1
        self._playhead = 0.0
        self._drag: dict | None = None
        self._wave_path = QPainterPath()
        self._wave_dense = False
        self.context_menu: QMenu | None = None

        self.view = _View(self)
        self.ruler = _Ruler(self)
        self.plot = pg.PlotWidget(viewBox=self.view, axisItems={"top": self.ruler}, background=BG)
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

        self._wave = _Layer(self, self._paint_wave, 1)
        self._wordlayer = _Layer(self, self._paint_words, 1)
        self._lane = _Layer(self, self._paint_lane, 1)
        self._overlay = _Layer(self, self._paint_overlay, 5, cache=False)
        self._playhead_item = _Playhead(self.view)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMinimumHeight(RULER_H + MIN_WAVE_H + WORDS_H + LANE_H + 4)

        self.view.sigXRangeChanged.connect(self._on_range)
        self.view.sigResized.connect(self._on_resize)
        self.set_view(0.0, 10.0)
        self._on_resize()

    def sizeHint(self) -> QSize:
        return QSize(1000, 240)

    # --- feeding the view ----------------------------------------------------------------

    def set_audio(self, samples_mono: np.ndarray | None, rate: int, duration: float) -> None:
        """The take's sound (None: a take without audio) and its length; shows the whole take."""
        if samples_mono is not None and np.asarray(samples_mono).size:
            self._pyramid = WaveformPyramid(samples_mono, rate)
        else:
            self._pyramid = None
        self._duration = float(duration) if duration and duration > 0 else (
            self._pyramid.duration if self._pyramid else 0.0)
        self.set_view(0.0, self._extent())

    def set_words(self, words) -> None:
        """The transcript: (word, start, end) triples in seconds."""
        self._words = sorted(((str(w), float(s), float(e)) for w, s, e in words), key=lambda x: x[1])
        self._word_starts = np.array([w[1] for w in self._words], float)
        self._word_ends = np.array([w[2] for w in self._words], float)
        self._boundaries = np.unique(np.concatenate([self._word_starts, self._word_ends]))
        self._wordlayer.update()

    def set_segments(self, segments) -> None:
        """The instruction segments, in the document's order (indices in signals refer to it)."""
        old = len(self._segments)
        self._segments = [SegmentView(**vars(s)) if isinstance(s, SegmentView) else SegmentView(*s)
                          for s in segments]
        self._order = sorted(range(len(self._segments)), key=lambda i: self._segments[i].start)
        if self._selected >= len(self._segments):
            self._selected = -1
        if self._drag and self._drag.get("index") is not None and len(self._segments) != old:
            self._drag = None                # the segment being dragged may be gone
        self._refresh_lane()

    def set_playhead(self, t: float) -> None:
        """Where playback is; cheap (only the playhead's strip is redrawn)."""
        t = float(t)
        moved, self._playhead = t != self._playhead, t
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
        """Select a segment (-1: none) without emitting segmentSelected."""
        index = int(index)
        self._selected = index if 0 <= index < len(self._segments) else -1
        self._refresh_lane()

    @property
    def selected(self) -> int:
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
        self.viewChanged.emit(*self.view_range())

    def _place_playhead(self) -> None:
        x = self._x(self._playhead)
        if -8 <= x <= self._w() + 8:
            self._playhead_item.setPos(x, 0)
            self._playhead_item.show()
        else:
            self._playhead_item.hide()

    def _refresh_lane(self) -> None:
        self._lane.update()
        self._wave.update()          # the selected segment is shaded on the waveform
        self._overlay.update()

    def _rebuild_wave(self) -> None:
        """Re-query the pyramid for the visible span: a vertical line from min to max for each
        bucket (half a pixel to a pixel wide) or, close up, a curve through the samples."""
        path = QPainterPath()
        p = self._pyramid
        a, b = self._bands()["waveform"]
        w = self._w()
        t0, t1 = self.view_range()
        self._wave_dense = p is not None and (t1 - t0) * p.rate / w > 2
        if p is not None and b - a > 4:
            times, mins, maxs = p.envelope(t0, t1, int(math.ceil(w)))
            if times.size:
                mid, half = (a + b) / 2, (b - a) / 2 - 3
                scale = half / max(p.peak, 1e-6)
                x = (times - t0) / (t1 - t0) * w
                top = mid - maxs.astype(np.float64) * scale
                if self._wave_dense:
                    bottom = np.maximum(mid - mins.astype(np.float64) * scale, top + 1)   # 1 px at least
                    ys = np.empty(2 * x.size)
                    ys[0::2], ys[1::2] = top, bottom
                    path = pg.arrayToQPath(np.repeat(x, 2), ys, connect="pairs")
                else:
                    path = pg.arrayToQPath(x, top)
        self._wave_path = path
        self._wave.update()

    # --- painting ------------------------------------------------------------------------

    def _paint_wave(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, WAVE_BG)
        mid = rect.center().y()
        sel = self._selected
        if 0 <= sel < len(self._segments):
            s, e = self._span(sel)
            x0, x1 = self._x(s), self._x(e)
            colour = QColor(EMOTION_COLOURS.get(self._segments[sel].emotion, "#9da3ab"))
            colour.setAlpha(22)
            painter.fillRect(QRectF(x0, rect.top(), x1 - x0, rect.height()), colour)
        painter.setPen(QPen(GRID, 1))
        t0, t1 = self.view_range()
        levels = self.ruler.tickValues(t0, t1, rect.width())
        ticks = self._x(np.asarray(levels[0][1], float)).round().tolist() if levels else []
        for x in ticks:                                   # the ruler's major ticks, as Python floats
            painter.drawLine(QPointF(x + 0.5, rect.top()), QPointF(x + 0.5, rect.bottom()))
        painter.drawLine(QPointF(rect.left(), mid), QPointF(rect.right(), mid))
        # faint lines where segments start and end
        pen = QPen(QColor(255, 255, 255, 28), 1)
        painter.setPen(pen)
        for i in self._visible_segments():
            s, e = self._span(i)
            for t in (s, e):
                x = round(self._x(t)) + 0.5
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
        if not self._wave_path.isEmpty():
            # bucket lines are pixel columns: crisp and fast without antialiasing (filling the
            # envelope as a polygon costs 100x more on noisy audio); a curve through samples is smoothed
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, not self._wave_dense)
            painter.setPen(QPen(WAVE_FILL if self._wave_dense else WAVE_EDGE, 1 if self._wave_dense else 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(self._wave_path)
        elif self._pyramid is None:
            painter.setPen(TEXT_DIM)
            painter.setFont(_font(12))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no audio")

    def _paint_words(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, WORDS_BG)
        painter.setPen(QPen(GRID, 1))
        painter.drawLine(QPointF(rect.left(), rect.top() + 0.5), QPointF(rect.right(), rect.top() + 0.5))
        n = len(self._words)
        if not n:
            return
        t0, t1 = self.view_range()
        i0 = max(0, int(np.searchsorted(self._word_starts, t0)) - 1)
        i1 = int(np.searchsorted(self._word_starts, t1))
        w = rect.width()
        if i1 - i0 > w / 3:                       # too dense for text: ticks only
            xs = self._x(self._word_starts[i0:i1])
            painter.setPen(QPen(QColor(255, 255, 255, 50), 1))
            path = QPainterPath()
            for x in np.unique(np.round(xs)).tolist():     # Python floats: PySide6 mishandles numpy scalars
                path.moveTo(x + 0.5, rect.top() + 6)
                path.lineTo(x + 0.5, rect.bottom() - 6)
            painter.drawPath(path)
            return
        font = _font(12)
        fm = QFontMetricsF(font)
        painter.setFont(font)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        box_top, box_h = rect.top() + 3, rect.height() - 6
        text_right = -1e9
        for i in range(i0, i1):
            word, s, e = self._words[i]
            x0, x1 = self._x(s), self._x(e)
            if x1 < 0 or x0 > w:
                continue
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(255, 255, 255, 13))
            painter.drawRoundedRect(QRectF(x0, box_top, max(1.0, x1 - x0 - 1), box_h), 2, 2)
            painter.setBrush(QColor(255, 255, 255, 60))
            painter.drawRect(QRectF(x0, box_top, 1, box_h))
            # a word's text may run on into the silence before the next word, never over it
            nxt = self._x(self._words[i + 1][1]) if i + 1 < n else w + 1e6
            left = max(x0, 0.0)                  # a word scrolled half out keeps its label
            room = min(max(x1, nxt) if nxt > x1 else nxt, w) - left - 6
            if left + 3 < text_right or room <= 0:
                continue
            text = word
            if fm.horizontalAdvance(word) > room:
                text = fm.elidedText(word, Qt.TextElideMode.ElideRight, room)
                if len(text) < 4:                 # at least three letters and the ellipsis
                    continue
            painter.setPen(TEXT)
            painter.drawText(QRectF(left + 4, rect.top(), room, rect.height()),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
            text_right = left + 4 + fm.horizontalAdvance(text) + 4

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
        if d and d.get("index") == i and "preview" in d:
            return d["preview"]
        seg = self._segments[i]
        return seg.start, seg.end

    def _paint_lane(self, painter: QPainter, rect: QRectF) -> None:
        painter.fillRect(rect, LANE_BG)
        painter.setPen(QPen(GRID, 1))
        painter.drawLine(QPointF(rect.left(), rect.top() + 0.5), QPointF(rect.right(), rect.top() + 0.5))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        label_font, text_font = _font(10, bold=True), _font(12)
        lfm, tfm = QFontMetricsF(label_font), QFontMetricsF(text_font)
        hatch = QBrush(QColor(255, 255, 255, 38), Qt.BrushStyle.BDiagPattern)
        for i in self._visible_segments():
            seg = self._segments[i]
            s, e = self._span(i)
            x0, x1 = self._x(s), self._x(e)
            r = QRectF(x0 + 1, rect.top() + 4, max(2.0, x1 - x0 - 2), rect.height() - 8)
            base = QColor(EMOTION_COLOURS.get(seg.emotion, "#9da3ab"))
            stale, busy = seg.state == "stale", seg.state == "busy"
            fill = _blend(base, LANE_BG, 0.28 if stale else 0.5)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(fill)
            painter.drawRoundedRect(r, 4, 4)
            painter.save()
            clip = QPainterPath()
            clip.addRoundedRect(r, 4, 4)
            painter.setClipPath(clip)
            if stale:
                painter.setBrush(hatch)
                painter.drawRect(r)
            if busy:
                done = max(0.0, min(1.0, float(seg.progress)))
                painter.setBrush(QColor(255, 255, 255, 40))
                painter.drawRect(QRectF(r.left(), r.top(), r.width() * done, r.height()))
                painter.setBrush(QColor(0, 0, 0, 110))
                painter.drawRect(QRectF(r.left(), r.bottom() - 4, r.width(), 4))
                painter.setBrush(QColor("#ffffff"))
                painter.drawRect(QRectF(r.left(), r.bottom() - 4, r.width() * done, 4))
            painter.setBrush(_blend(base, LANE_BG, 0.45) if stale else base)
            painter.drawRect(QRectF(r.left(), r.top(), min(4.0, r.width()), r.height()))
            # text: emotion and state on the first line, the instruction's start on the second
            inner = r.adjusted(9, 3, -6, -3)
            inner.setLeft(max(inner.left(), 9.0))     # a segment scrolled half out keeps its text
            inner.setRight(min(inner.right(), rect.right() - 6))
            if inner.width() > 12:
                label = seg.emotion.capitalize()
                if stale:
                    label += "  ·  stale"
                elif busy:
                    label += f"  ·  {round(100 * max(0.0, min(1.0, seg.progress)))} %"
                painter.setFont(label_font)
                painter.setPen(STALE if stale else _blend(base, QColor("#ffffff"), 0.45))
                line1 = QRectF(inner.left(), inner.top(), inner.width(), lfm.height())
                painter.drawText(line1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 lfm.elidedText(label, Qt.TextElideMode.ElideRight, inner.width()))
                painter.setFont(text_font)
                painter.setPen(TEXT_DIM if stale else TEXT)
                line2 = QRectF(inner.left(), line1.bottom() + 1, inner.width(), tfm.height())
                painter.drawText(line2, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 tfm.elidedText(seg.text, Qt.TextElideMode.ElideRight, inner.width()))
            painter.restore()
            if i == self._selected:
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(QColor("#ffffff"), 2))
                painter.drawRoundedRect(r.adjusted(1, 1, -1, -1), 4, 4)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(QColor("#ffffff"))
                for x in (r.left() + 1, r.right() - 4):      # edge grips
                    painter.drawRoundedRect(QRectF(x, r.center().y() - 8, 3, 16), 1.5, 1.5)

    def _paint_overlay(self, painter: QPainter, rect: QRectF) -> None:
        d = self._drag
        if not d:
            return
        if d["kind"] == "add" and "preview" in d:
            s, e = d["preview"]
            x0, x1 = self._x(s), self._x(e)
            painter.fillRect(QRectF(x0, rect.top(), x1 - x0, rect.height()), SELECTION)
            painter.setPen(QPen(QColor(150, 190, 255), 1))
            for x in (x0, x1):
                painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            painter.setFont(_font(11))
            painter.drawText(QRectF(x0 + 4, rect.top() + 2, max(0.0, x1 - x0 - 8), 16),
                             Qt.AlignmentFlag.AlignLeft, f"+ {e - s:.2f} s")
        snapped = d.get("snapped")
        if snapped is not None:
            x = round(self._x(snapped)) + 0.5
            painter.setPen(QPen(QColor("#ffd24d"), 1, Qt.PenStyle.DashLine))
            painter.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))

    # --- hit testing, snapping, clamping ------------------------------------------------

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

    def _neighbours(self, index: int | None, t: float | None = None) -> tuple[float, float]:
        """The free stretch segment `index` may use (or the gap around time t when index is
        None; empty when t is inside a segment)."""
        lo, hi = 0.0, self._extent()
        if index is not None:
            p = self._order.index(index)
            seg = self._segments[index]
            if p > 0:
                lo = min(self._segments[self._order[p - 1]].end, seg.start)
            if p + 1 < len(self._order):
                hi = max(self._segments[self._order[p + 1]].start, seg.end)
            return lo, hi
        for seg in self._segments:
            if seg.start <= t < seg.end:
                return t, t
            if seg.end <= t:
                lo = max(lo, seg.end)
            elif seg.start > t:
                hi = min(hi, seg.start)
        return lo, hi

    def _snap(self, t: float, exclude: int | None = None) -> tuple[float, bool]:
        """t moved to the nearest word boundary (or another segment's edge) within SNAP_PX."""
        limit = SNAP_PX * self._spp()
        best, best_d = t, limit
        b = self._boundaries
        if b.size:
            k = int(np.searchsorted(b, t))
            for j in (k - 1, k):
                if 0 <= j < b.size and abs(b[j] - t) <= best_d:
                    best, best_d = float(b[j]), abs(b[j] - t)
        for j, seg in enumerate(self._segments):
            if j != exclude:
                for edge in (seg.start, seg.end):
                    if abs(edge - t) < best_d:
                        best, best_d = edge, abs(edge - t)
        return best, best != t

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
                self._user_select(hit[0] if hit else -1)
            else:
                self._seek(t)
        elif ev.button() == Qt.MouseButton.RightButton and not ruler:
            ev.accept()
            index = -1
            if band == "lane":
                hit = self._hit(pos.x())
                index = hit[0] if hit else -1
                if index >= 0:
                    self._user_select(index)
            self.context_menu = self._make_menu(t, index if index >= 0 else self._selected)
            self.context_menu.popup(ev.screenPos().toPoint())
        else:
            ev.ignore()

    def _user_select(self, index: int) -> None:
        if index != self._selected:
            self.select(index)
        self.segmentSelected.emit(self._selected)

    def _seek(self, t: float) -> None:
        t = min(max(t, 0.0), self._extent())
        self._playhead = t
        self._place_playhead()
        self.seekRequested.emit(t)

    def _press_modifiers(self, button) -> Qt.KeyboardModifier:
        """The modifier keys held when the dragging button went down."""
        for press in getattr(self.view.scene(), "clickEvents", []):
            if press.button() == button:
                return press.modifiers()
        return Qt.KeyboardModifier.NoModifier

    def _on_drag(self, ev, ruler: bool) -> None:
        pos = self._local(ev.scenePos())
        if ev.isStart():
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            down = self._local(ev.buttonDownScenePos())
            band = "ruler" if ruler else self._band_at(down.y())
            t_down = self._t(down.x())
            button = ev.button()
            mods = ev.modifiers() | self._press_modifiers(button)
            shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
            d: dict = {"x_down": down.x(), "t_down": t_down, "view": self.view_range(), "mods": mods}
            if button == Qt.MouseButton.MiddleButton or (button == Qt.MouseButton.LeftButton and band == "ruler"):
                d["kind"] = "pan"
            elif button != Qt.MouseButton.LeftButton:
                ev.ignore()
                return
            elif band == "lane":
                hit = self._hit(down.x())
                if hit is None:
                    d.update(kind="add")
                else:
                    index, part = hit
                    if index != self._selected:
                        self._user_select(index)
                    seg = self._segments[index]
                    d.update(kind=part, index=index, orig=(seg.start, seg.end),
                             room=self._neighbours(index))
            elif shift:
                d.update(kind="add")
            else:
                d.update(kind="scrub")
            if d["kind"] == "add":
                d["room"] = self._neighbours(None, t_down)
            self._drag = d
        d = self._drag
        if d is None:
            ev.ignore()
            return
        ev.accept()
        if d.get("cancelled"):
            if ev.isFinish():
                self._drag = None
            return
        free = bool((ev.modifiers() | d["mods"]) & Qt.KeyboardModifier.AltModifier)
        kind = d["kind"]
        if kind == "pan":
            t0, t1 = d["view"]
            dt = (pos.x() - d["x_down"]) * (t1 - t0) / self._w()
            self.set_view(t0 - dt, t1 - dt)
        elif kind == "scrub":
            self._seek(self._t(pos.x()))
        else:
            self._drag_edit(d, self._t(pos.x()), free)
            self._lane.update()
            self._wave.update()
            self._overlay.update()
        if ev.isFinish():
            self._drag = None
            if kind in ("left", "right", "body"):
                s, e = d["preview"]
                if (s, e) != d["orig"]:
                    self.segmentRetimed.emit(d["index"], s, e)
            elif kind == "add":
                s, e = d.get("preview", (0.0, 0.0))
                if e - s >= MIN_SEGMENT - 1e-9:
                    self.addRequested.emit(s, e)
            self._refresh_lane()

    def _drag_edit(self, d: dict, t: float, free: bool) -> None:
        kind, dt = d["kind"], t - d["t_down"]
        lo, hi = d["room"]
        snapped = None
        if kind == "add":
            a, b = d["t_down"], t
            if not free:
                a, _ = self._snap(a)
                b, hit = self._snap(b)
                snapped = b if hit else None
            s, e = min(a, b), max(a, b)
            s, e = max(s, lo), min(e, hi)
            d["preview"] = (s, max(s, e))
        else:
            s0, e0 = d["orig"]
            exclude = d["index"]
            if kind == "left":
                s = s0 + dt
                if not free:
                    s, hit = self._snap(s, exclude)
                    snapped = s if hit else None
                d["preview"] = (min(max(s, lo), e0 - MIN_SEGMENT), e0) if lo <= e0 - MIN_SEGMENT else (s0, e0)
            elif kind == "right":
                e = e0 + dt
                if not free:
                    e, hit = self._snap(e, exclude)
                    snapped = e if hit else None
                d["preview"] = (s0, max(min(e, hi), s0 + MIN_SEGMENT)) if hi >= s0 + MIN_SEGMENT else (s0, e0)
            else:   # body: move, snapping whichever edge is nearer a boundary
                length = e0 - s0
                s = s0 + dt
                if not free:
                    ss, hs = self._snap(s, exclude)
                    se, he = self._snap(s + length, exclude)
                    if hs and (not he or abs(ss - s) <= abs(se - s - length)):
                        s, snapped = ss, ss
                    elif he:
                        s, snapped = se - length, se
                s = min(max(s, lo), hi - length) if hi - lo >= length else s0
                d["preview"] = (s, s + length)
            if snapped is not None and snapped not in d["preview"]:
                snapped = None        # clamping won over the snap
        d["snapped"] = snapped

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

    def zoom(self, factor: float, around: float) -> None:
        """Scale the visible span by factor (< 1 zooms in), keeping time `around` in place."""
        t0, t1 = self.view_range()
        self.set_view(around - (around - t0) * factor, around + (t1 - around) * factor)

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
        """The segment S splits: the selected one if the playhead is inside it, else the one
        under the playhead; -1 when the split would leave a piece shorter than MIN_SEGMENT."""
        t = self._playhead
        candidates = ([self._selected] if self._selected >= 0 else []) + list(range(len(self._segments)))
        for i in candidates:
            seg = self._segments[i]
            if seg.start + MIN_SEGMENT <= t <= seg.end - MIN_SEGMENT:
                return i
        return -1

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
        lo, hi = self._neighbours(None, t)
        add = menu.addAction("Add segment here", lambda: self.addRequested.emit(lo, hi))
        add.setEnabled(hi - lo >= MIN_SEGMENT)
        menu.addSeparator()
        menu.addAction("Show whole take\t0", lambda: self.set_view(0, self._extent()))
        return menu

    def keyPressEvent(self, ev) -> None:
        key = ev.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.delete_selected()
        elif key == Qt.Key.Key_S:
            self.split_at_playhead()
        elif key == Qt.Key.Key_M:
            self.merge_selected()
        elif key == Qt.Key.Key_Escape:
            if self._drag is not None:
                self._drag.update(cancelled=True, snapped=None)
                self._drag.pop("preview", None)
                self._refresh_lane()
            elif self._selected >= 0:
                self._user_select(-1)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(0.5, self._playhead)
        elif key == Qt.Key.Key_Minus:
            self.zoom(2.0, self._playhead)
        elif key == Qt.Key.Key_0:
            self.set_view(0, self._extent())
        else:
            super().keyPressEvent(ev)
            return
        ev.accept()
