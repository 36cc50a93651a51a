"""A drag on the timeline as data, and the rules an edited span follows, as pure functions:
where an edge snaps (word starts and ends, the middles of pauses, other segments' edges) and
how far it may go (never over a neighbour, never shorter than MIN_SEGMENT). Qt-free: the
widget feeds times in seconds and draws `Drag.preview`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from core.editing import MIN_SEGMENT_S as MIN_SEGMENT

SNAP_PX = 8            # an edge snaps to a target this close, in pixels
PAUSE_S = 0.15         # a gap between words at least this long is a pause (its middle is a target)

Span = tuple[float, float]


@dataclass
class Drag:
    """One drag, from the button going down to its release.

    kind: "pan" (moves the view), "scrub" (seeks), "add" (draws a new segment), or "left",
    "right", "body" (retimes or moves segment `index`)."""

    kind: str
    t_down: float                      # the time under the press
    x_down: float = 0.0                # the view x of the press (a pan follows it)
    view: Span = (0.0, 0.0)            # the view range at the press
    free: bool = False                 # Alt held at the press: no snapping
    index: int | None = None           # the segment retimed or moved
    orig: Span = (0.0, 0.0)            # its span at the press
    room: Span = (0.0, 0.0)            # where the span may go: between the neighbours
    targets: np.ndarray = field(default_factory=lambda: np.zeros(0))   # snap targets, sorted
    preview: Span | None = None        # the span as it would be released now
    snapped: float | None = None       # the target an edge sits on now (drawn as a guide)
    cancelled: bool = False            # Escape: the release does nothing

    def move_to(self, t: float, limit: float, free: bool) -> None:
        """The mouse is at time t; `limit`: the snapping distance in seconds; `free`: no snapping."""
        targets = np.zeros(0) if free or self.free else self.targets
        self.preview, self.snapped = dragged_span(self.kind, self.t_down, t, self.orig, self.room, targets, limit)

    def cancel(self) -> None:
        self.cancelled, self.preview, self.snapped = True, None, None


def pauses(starts: Sequence[float], ends: Sequence[float], min_gap: float = PAUSE_S) -> list[Span]:
    """The gaps of at least min_gap seconds between one word's end and the next one's start
    (words sorted by start)."""
    out = []
    latest = -math.inf
    for s, e in zip(starts, ends):
        if latest > -math.inf and s - latest >= min_gap - 1e-9:
            out.append((latest, float(s)))
        latest = max(latest, float(e))
    return out


def word_targets(starts: Sequence[float], ends: Sequence[float], min_gap: float = PAUSE_S) -> np.ndarray:
    """Where edges snap in the transcript: every word's start and end and every pause's middle."""
    middles = [(a + b) / 2 for a, b in pauses(starts, ends, min_gap)]
    return np.unique(np.concatenate([np.asarray(starts, float), np.asarray(ends, float), np.asarray(middles, float)]))


def with_edges(targets: np.ndarray, spans: Sequence[Span], exclude: int | None = None) -> np.ndarray:
    """The targets and the edges of the segments' spans (but segment `exclude`'s own)."""
    edges = [t for i, span in enumerate(spans) if i != exclude for t in span]
    return np.unique(np.concatenate([targets, np.asarray(edges, float)]))


def snap(t: float, targets: np.ndarray, limit: float) -> float | None:
    """The target nearest t if it is at most `limit` away, else None."""
    if targets.size == 0:
        return None
    k = int(np.searchsorted(targets, t))
    near = [float(targets[j]) for j in (k - 1, k) if 0 <= j < targets.size]
    best = min(near, key=lambda x: abs(x - t))
    return best if abs(best - t) <= limit else None


def room_for(spans: Sequence[Span], index: int, extent: float) -> Span:
    """The stretch segment `index` may use: from the end of the one before it (in time) to the
    start of the one after, or the take's ends."""
    s, e = spans[index]
    lo, hi = 0.0, extent
    for j, (a, b) in enumerate(spans):
        if j == index:
            continue
        if (a, j) < (s, index):
            lo = max(lo, min(b, s))
        else:
            hi = min(hi, max(a, e))
    return lo, hi


def gap_at(spans: Sequence[Span], t: float, extent: float) -> Span:
    """The free stretch around time t between segments (empty, (t, t), when t is in one)."""
    lo, hi = 0.0, extent
    for s, e in spans:
        if s <= t < e:
            return t, t
        if e <= t:
            lo = max(lo, e)
        elif s > t:
            hi = min(hi, s)
    return lo, hi


def clamp_start(s: float, orig: Span, room: Span) -> Span:
    """A left edge moved to s: no further than the room, no closer than MIN_SEGMENT to the end."""
    s0, e0 = orig
    if room[0] > e0 - MIN_SEGMENT:
        return orig
    return min(max(s, room[0]), e0 - MIN_SEGMENT), e0


def clamp_end(e: float, orig: Span, room: Span) -> Span:
    """A right edge moved to e: no further than the room, no closer than MIN_SEGMENT to the start."""
    s0, e0 = orig
    if room[1] < s0 + MIN_SEGMENT:
        return orig
    return s0, max(min(e, room[1]), s0 + MIN_SEGMENT)


def clamp_move(s: float, orig: Span, room: Span) -> Span:
    """The whole span moved to start at s, its length kept, inside the room."""
    s0, e0 = orig
    length = e0 - s0
    if room[1] - room[0] < length:
        return orig
    s = min(max(s, room[0]), room[1] - length)
    return s, s + length


def clamp_new(a: float, b: float, room: Span) -> Span:
    """A new span drawn from a to b (either way round), inside the room."""
    s, e = max(min(a, b), room[0]), min(max(a, b), room[1])
    return s, max(s, e)


def dragged_span(kind: str, t_down: float, t: float, orig: Span, room: Span, targets: np.ndarray,
                 limit: float) -> tuple[Span, float | None]:
    """The span a drag of `kind` from t_down to t makes, and the target an edge snapped to
    (None when none did, or clamping moved the edge off it)."""
    dt = t - t_down
    snapped = None
    if kind == "add":
        a = snap(t_down, targets, limit)
        b = snap(t, targets, limit)
        span = clamp_new(t_down if a is None else a, t if b is None else b, room)
        snapped = b
    elif kind == "left":
        s = orig[0] + dt
        snapped = snap(s, targets, limit)
        span = clamp_start(s if snapped is None else snapped, orig, room)
    elif kind == "right":
        e = orig[1] + dt
        snapped = snap(e, targets, limit)
        span = clamp_end(e if snapped is None else snapped, orig, room)
    elif kind == "body":            # moved: whichever edge is nearer a target snaps
        s, length = orig[0] + dt, orig[1] - orig[0]
        ss, se = snap(s, targets, limit), snap(s + length, targets, limit)
        if ss is not None and (se is None or abs(ss - s) <= abs(se - s - length)):
            s, snapped = ss, ss
        elif se is not None:
            s, snapped = se - length, se
        span = clamp_move(s, orig, room)
    else:
        raise ValueError(f"not a span drag: {kind!r}")
    if snapped is not None and snapped not in span:
        snapped = None              # clamping won over the snap
    return span, snapped
