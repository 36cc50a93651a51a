"""The editing session of one take, without Qt: segments, selection, the motion that waits for
regeneration, the cache of regenerated motion, and the rules of every edit.

    session = EditSession(project)
    session.segments_changed.connect(redraw)            # plain callbacks (Event)
    change = session.set_instruction([2, 3], instruction)   # a Change (or None: nothing to do)
    saved = session.apply(change)                       # the project holds the edit; spans go stale
    session.revert(change, saved)                       # exactly as before: segments, motion, stale marks

An edit is planned first (a `Change`: its name, the segments before and after, and the spans of
motion it makes stale) and applied second, so an undo stack (studio.document) is a thin layer
that applies and reverts Changes, and every rule lives here, tested without Qt:

- **Segments** never overlap and stay in time order; none is shorter than MIN_SEGMENT_S. A retime
  is clamped between the neighbours; a split needs MIN_SEGMENT_S on both sides; an added segment
  cuts itself out of the segments it overlaps.
- **Gaps** (frames no segment covers) belong to the nearest segment: the motion model reads the
  nearest segment's instruction there (core.motion.conditioning), so a segment's *territory*
  reaches to the middle of the gaps beside it (to the ends of the take for the first and last),
  and an edit regenerates whole territories, the gaps with their segment. Nothing of an old
  instruction stays behind in a gap.
- **Stale spans**: frames [start, end) waiting for new motion, one per territory piece, each with
  its segment's seed. A new span takes its frames out of older stale spans (the rest of those
  stays stale); none is ever dropped unregenerated.
- **Cache**: regenerated motion is kept under a key of everything that determines it (frames, seed,
  sampling settings, the instructions and timing of the segments around), so redo, and an edit
  back to an earlier state, reuse motion already computed: an unchanged segment is never
  recomputed. The motion as loaded seeds the cache.

Segments are values: an edit builds a new list in which the changed ones are replaced
(dataclasses.replace), so undo steps share every unchanged segment and its evidence.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from core.project import MAIN_TRACK, Instruction, Project, Segment
from core.segments import merge_evidence, split_evidence
from core.track import FaceTrack

MIN_SEGMENT_S = 0.2
CACHE_ENTRIES = 2048     # regenerated spans remembered, least recently used dropped first
CONTEXT_S = 0.5          # instructions cross-fade over 0.35 s: segments this close to a span shape it


class Event:
    """A plain callback list: `connect(fn)`, `emit(*args)` calls each in order."""

    def __init__(self) -> None:
        self._callbacks: list[Callable] = []

    def connect(self, fn: Callable) -> None:
        self._callbacks.append(fn)

    def disconnect(self, fn: Callable) -> None:
        self._callbacks.remove(fn)

    def emit(self, *args) -> None:
        for fn in list(self._callbacks):
            fn(*args)


@dataclass(frozen=True)
class Span:
    """Frames [start, end) of the performance to regenerate with `seed`; `key` says from what."""

    start: int
    end: int
    seed: int
    key: tuple

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass
class Change:
    """One planned edit: its name (for Undo/Redo), the segments before and after, the time
    ranges (start s, end s, seed) whose motion it changes, and for an added segment its times."""

    text: str
    before: list[Segment]
    after: list[Segment]
    spans: list[tuple[float, float, int]]
    added: tuple[float, float] | None = None


@dataclass
class Saved:
    """What reverting a Change puts back: the motion it replaced and the stale marks of before."""

    frames: list[tuple[int, int, np.ndarray]] = field(default_factory=list)
    stale: list[Span] = field(default_factory=list)
    selection: tuple[int, ...] = ()
    primary: int = -1


def territories(segments: Sequence[Segment], duration: float) -> list[tuple[float, float]]:
    """Each segment's range widened to the middle of the gaps beside it, and to 0 and `duration`
    for the first and last: the frames whose motion follows its instruction."""
    out = []
    for i, s in enumerate(segments):
        lo = 0.0 if i == 0 else (segments[i - 1].end + s.start) / 2
        hi = duration if i == len(segments) - 1 else (s.end + segments[i + 1].start) / 2
        out.append((min(lo, s.start), max(hi, s.end)))
    return out


def owned_spans(segments: Sequence[Segment], duration: float, ranges: Sequence[tuple[float, float]]
                ) -> list[tuple[float, float, int]]:
    """`ranges` (seconds) cut into pieces by the territories of `segments`, each piece with its
    owner's seed: (start, end, seed), in time order, one per segment touched."""
    out = []
    for (lo, hi), s in zip(territories(segments, duration), segments):
        pieces = [(max(a, lo), min(b, hi)) for a, b in ranges if max(a, lo) < min(b, hi)]
        if pieces:
            out.append((min(a for a, _ in pieces), max(b for _, b in pieces), s.seed))
    return out


def retime_limits(segments: Sequence[Segment], index: int, duration: float) -> tuple[float, float]:
    """How far segment `index` may reach: from its left neighbour's end to its right one's start."""
    lo = segments[index - 1].end if index > 0 else 0.0
    hi = segments[index + 1].start if index + 1 < len(segments) else duration
    return lo, hi


def _timing_and_words(s: Segment) -> tuple:
    """What a segment's motion is made from."""
    return (s.start, s.end, s.instruction.text, s.seed)


def can_split(segment: Segment, t: float) -> bool:
    return segment.start + MIN_SEGMENT_S <= t <= segment.end - MIN_SEGMENT_S


def _names(indices: Sequence[int]) -> str:
    if len(indices) == 1:
        return f"segment {indices[0] + 1}"
    return f"{len(indices)} segments"


def _edit_name(segments: Sequence, changed: Sequence[int], new) -> str:
    """"Change emotion", "Change intensity" or "Change emotion and intensity" when the new
    instruction changes those of a changed segment, else "Edit instruction" (its words only)."""
    old = [segments[i].instruction for i in changed]
    emotion = any(o.emotion != new.emotion for o in old)
    level = any(abs(o.intensity - new.intensity) > 1e-6 for o in old)
    if not (emotion or level):
        return "Edit instruction"
    return "Change " + ("emotion and intensity" if emotion and level else "emotion" if emotion else "intensity")


class EditSession:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.selection: tuple[int, ...] = ()
        self.primary = -1                  # the selected segment the inspector shows
        self.stale: list[Span] = []
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()     # least recently used first
        self.segments_changed = Event()    # ()
        self.track_changed = Event()       # (start frame, end frame): new motion there
        self.stale_changed = Event()       # ()
        self.selection_changed = Event()   # (primary index, selection tuple)
        self._seed_cache()

    # --- reading ---------------------------------------------------------------------------
    @property
    def segments(self) -> list[Segment]:
        return self.project.segments

    @property
    def fps(self) -> float:
        return self.project.settings.fps

    @property
    def track(self) -> FaceTrack | None:
        return self.project.tracks.get(MAIN_TRACK)

    @property
    def frames(self) -> int:
        if self.track is not None:
            return self.track.frames
        return int(round(self.project.audio.duration * self.fps)) if self.project.audio is not None else 0

    @property
    def duration(self) -> float:
        return self.frames / self.fps if self.fps else 0.0

    def overlapping(self, index: int, spans: Sequence[Span]) -> list[Span]:
        """The spans holding some of segment `index`'s frames."""
        s = self.segments[index]
        a, b = self._frames(s.start), self._frames(s.end)
        return [sp for sp in spans if sp.start < b and a < sp.end]

    def segment_state(self, index: int) -> str:
        """'stale' when some of the segment's frames wait for new motion, else 'ready'."""
        return "stale" if self.overlapping(index, self.stale) else "ready"

    # --- selection -------------------------------------------------------------------------
    def select(self, indices: int | Sequence[int], primary: int | None = None) -> None:
        """Select one segment (an int; -1 for none) or several; `primary` is the one the
        inspector shows (the last of them by default)."""
        wanted = [indices] if isinstance(indices, (int, np.integer)) else list(indices)
        chosen = tuple(self._valid(wanted))
        primary = int(primary) if primary is not None and primary in chosen else (
            int(wanted[-1]) if wanted and wanted[-1] in chosen else (chosen[-1] if chosen else -1))
        if chosen != self.selection or primary != self.primary:
            self.selection, self.primary = chosen, primary
            self.selection_changed.emit(primary, chosen)

    # --- planning edits (nothing changes until apply) ------------------------------------------
    def set_instruction(self, indices: int | Sequence[int], instruction: Instruction) -> Change | None:
        """The same instruction on every segment in `indices`."""
        indices = self._valid(indices)
        changed = [i for i in indices if self.segments[i].instruction != instruction]
        if not changed:
            return None
        after = list(self.segments)
        for i in changed:
            after[i] = replace(after[i], instruction=instruction)
        return self._change(f"{_edit_name(self.segments, changed, instruction)} of {_names(changed)}", after,
                            self._territories(changed))

    def rewrite(self, indices: int | Sequence[int], emotion: str | None = None,
                intensity: float | None = None) -> Change | None:
        """A new emotion and/or intensity on every segment in `indices`, each one's text reworded
        (core.instruct.wording.rewrite), as a user edit."""
        from core.instruct.wording import parse
        from core.instruct.wording import rewrite as reword
        indices = self._valid(indices)
        after = list(self.segments)
        changed = []
        for i in indices:
            text = reword(after[i].instruction.text, emotion=emotion, intensity=intensity)
            if text == after[i].instruction.text:
                continue
            e, level, _ = parse(text)
            after[i] = replace(after[i], instruction=Instruction(text, e, round(float(level), 3), "user"))
            changed.append(i)
        if not changed:
            return None
        what = "emotion" if emotion is not None and intensity is None else (
            "intensity" if emotion is None else "emotion and intensity")
        return self._change(f"Change {what} of {_names(changed)}", after, self._territories(changed))

    def set_seed(self, index: int, seed: int) -> Change | None:
        seg = self.segments[index]
        if seg.seed == int(seed):
            return None
        return self._change(f"New variation of segment {index + 1}", self._with(index, seed=int(seed)),
                            self._territories([index]))

    def retime(self, index: int, start: float, end: float) -> Change | None:
        """Move or resize a segment, clamped between its neighbours; None when it would be shorter
        than MIN_SEGMENT_S or nothing moves."""
        seg = self.segments[index]
        lo, hi = retime_limits(self.segments, index, self.duration)
        start, end = max(lo, float(start)), min(hi, float(end))
        if end - start < MIN_SEGMENT_S - 1e-9:
            return None
        if abs(start - seg.start) < 1e-6 and abs(end - seg.end) < 1e-6:
            return None
        after = self._with(index, start=start, end=end)
        (a0, b0), (a1, b1) = self._territories([index])[0], territories(after, self.duration)[index]
        return self._change(f"Retime segment {index + 1}", after, [(min(a0, a1), max(b0, b1))])

    def split(self, index: int, t: float) -> Change | None:
        """Two segments with the same instruction and seed, each with its own part of the evidence;
        the motion stands."""
        seg = self.segments[index]
        if not can_split(seg, t):
            return None
        after = list(self.segments)
        left, right = split_evidence(seg.evidence, t)
        after[index:index + 1] = [replace(seg, end=t, evidence=left), replace(seg, start=t, evidence=right)]
        return Change(f"Split segment {index + 1}", list(self.segments), after, [])

    def merge_with_next(self, index: int) -> Change | None:
        """One segment from `index` to the end of the next, with the first one's instruction."""
        segs = self.segments
        if not 0 <= index < len(segs) - 1:
            return None
        a, b = segs[index], segs[index + 1]
        after = list(segs)
        after[index:index + 2] = [replace(a, end=b.end, evidence=merge_evidence(a.evidence, b.evidence))]
        same = a.instruction.text == b.instruction.text and a.seed == b.seed and abs(a.end - b.start) < 1e-9
        return self._change(f"Merge segments {index + 1} and {index + 2}", after,
                            [] if same else self._territories([index + 1]))

    def delete(self, indices: int | Sequence[int]) -> Change | None:
        """The segments go; their frames follow the nearest remaining segments (regenerated)."""
        indices = self._valid(indices)
        if not indices:
            return None
        after = [s for i, s in enumerate(self.segments) if i not in indices]
        return self._change(f"Delete {_names(indices)}", after, self._territories(indices) if after else [])

    def add(self, start: float, end: float, instruction: Instruction | None = None) -> Change | None:
        """A new segment over [start, end), cut out of the segments it overlaps (a piece shorter
        than MIN_SEGMENT_S left of one goes with it)."""
        start, end = max(0.0, float(start)), min(self.duration, float(end))
        if end - start < MIN_SEGMENT_S - 1e-9:
            return None
        if instruction is None:
            from core.instruct.wording import compose
            instruction = Instruction(compose("neutral", 0.5), "neutral", 0.5, "user")
        after: list[Segment] = []
        for s in self.segments:
            if s.end <= start or s.start >= end:
                after.append(s)
                continue
            if s.start < start and start - s.start >= MIN_SEGMENT_S:
                after.append(replace(s, end=start))
            if s.end > end and s.end - end >= MIN_SEGMENT_S:
                after.append(replace(s, start=end))
        new = Segment(start, end, instruction)
        after.append(new)
        after.sort(key=lambda s: s.start)
        change = self._change("Add segment", after, [territories(after, self.duration)[after.index(new)]])
        change.added = (start, end)
        return change

    def index_of(self, start: float, end: float) -> int:
        """The index of the segment spanning exactly [start, end), or -1."""
        return next((i for i, s in enumerate(self.segments) if s.start == start and s.end == end), -1)

    # --- applying and reverting ---------------------------------------------------------------
    def apply(self, change: Change) -> Saved:
        """Make `change` the project's state; returns what `revert` needs to undo it exactly."""
        saved = self._snapshot(change.spans)
        self._replace_segments(change.after)
        if self.track is not None:
            for start, end, seed in change.spans:
                self._invalidate(self._frames(start), self._frames(end), seed)
        self.segments_changed.emit()
        self.stale_changed.emit()
        return saved

    def revert(self, change: Change, saved: Saved) -> None:
        """Undo `change`: the segments, the motion and the stale marks exactly as before it (stale
        spans computed since come from the cache)."""
        self._replace_segments(change.before)
        self.select(saved.selection, saved.primary if saved.primary in saved.selection else None)
        for a, b, data in saved.frames:
            self.track.data[a:b] = data
            self.track_changed.emit(a, b)
        self.stale = []
        for span in saved.stale:
            cached = self._recall(span.key)
            if cached is not None and len(cached) == span.end - span.start:
                self.track.data[span.start:span.end] = cached
                self.track_changed.emit(span.start, span.end)
            else:
                self.stale.append(span)
        self.segments_changed.emit()
        self.stale_changed.emit()

    # --- regeneration ----------------------------------------------------------------------------
    def regeneration(self, span: Span) -> Callable:
        """`run(bundle, callback) -> frames` regenerating `span` from a snapshot of the project
        taken now (so a worker thread never reads the live session)."""
        from core.motion.generate import regenerate_frames
        from core.pipeline import instruction_embeddings, segment_bounds
        segments = copy.deepcopy(self.segments)
        settings = copy.deepcopy(self.project.settings)
        features = self.project.speech_features
        if features is None:
            raise ValueError("this take holds no analysis of its speech (a project saved without it), so its "
                             "segments cannot be regenerated; import the recording again to edit it")
        track = FaceTrack(self.track.fps, self.track.data.copy())

        def run(bundle, callback=None) -> np.ndarray:
            bounds = segment_bounds(segments, settings.fps, track.frames)
            out = regenerate_frames(bundle, track, features, instruction_embeddings(segments), bounds, span.start,
                                    span.end, seed=span.seed, steps=settings.sampling_steps,
                                    guidance=settings.guidance, callback=callback)
            return out.data[span.start:span.end]
        return run

    def apply_result(self, span: Span, frames: np.ndarray) -> bool:
        """Put regenerated motion for `span` in place, unless its inputs changed meanwhile (it is
        cached either way)."""
        self._remember(span.key, np.array(frames, np.float32))
        if span not in self.stale:
            return False
        self.stale.remove(span)
        self.track.data[span.start:span.end] = frames
        self.track_changed.emit(span.start, span.end)
        self.stale_changed.emit()
        return True

    def replace_track(self, track: FaceTrack, made_from: Sequence[Segment] | None = None) -> None:
        """A whole new performance (first generation, or a settings change): the cache restarts.
        `made_from`: the segments it was generated from; a segment edited since (while the take
        was being animated) goes stale with its territory instead of passing as ready."""
        self.project.tracks[MAIN_TRACK] = track
        self.stale.clear()
        self._cache.clear()
        self._seed_cache(made_from)
        self.track_changed.emit(0, track.frames)
        self.stale_changed.emit()

    # --- internals -------------------------------------------------------------------------------
    def _change(self, text: str, after: list[Segment], ranges: list[tuple[float, float]]) -> Change:
        """A Change whose spans are the time `ranges` cut by the territories of `after`."""
        return Change(text, list(self.segments), after, owned_spans(after, self.duration, ranges))

    def _territories(self, indices: Sequence[int]) -> list[tuple[float, float]]:
        terr = territories(self.segments, self.duration)
        return [terr[i] for i in indices]

    def _valid(self, indices: int | Sequence[int]) -> list[int]:
        indices = [indices] if isinstance(indices, (int, np.integer)) else list(indices)
        return sorted({int(i) for i in indices if 0 <= i < len(self.segments)})

    def _with(self, index: int, **changes) -> list[Segment]:
        after = list(self.segments)
        after[index] = replace(after[index], **changes)
        return after

    def _replace_segments(self, segments: list[Segment]) -> None:
        """The new segment list. An edit that keeps the count keeps the selection; one that adds or
        removes segments keeps the segments the selection held (the very same values), so a
        delete never leaves other segments selected in their place."""
        if len(segments) == len(self.segments):
            self.project.segments = list(segments)
            return
        chosen = [self.segments[i] for i in self.selection]
        primary = self.segments[self.primary] if 0 <= self.primary < len(self.segments) else None
        self.project.segments = list(segments)
        kept = [j for j, s in enumerate(self.segments) if any(s is c for c in chosen)]
        current = next((j for j, s in enumerate(self.segments) if s is primary), None)
        self.select(kept, current)

    def _snapshot(self, spans: list[tuple[float, float, int]]) -> Saved:
        frames = []
        if self.track is not None:
            for start, end, _ in spans:
                a, b = self._frames(start), self._frames(end)
                frames.append((a, b, self.track.data[a:b].copy()))
        return Saved(frames, list(self.stale), self.selection, self.primary)

    def _invalidate(self, start: int, end: int, seed: int) -> None:
        if end <= start:
            return
        span = Span(start, end, seed, self._key(start, end, seed))
        kept = []
        for s in self.stale:                   # older stale spans keep their frames outside the new one
            if not s.overlaps(span):
                kept.append(s)
                continue
            for a, b in ((s.start, span.start), (span.end, s.end)):
                if b > a:
                    kept.append(Span(a, b, s.seed, self._key(a, b, s.seed)))
        self.stale = kept
        cached = self._recall(span.key)
        if cached is not None and len(cached) == end - start:
            self.track.data[start:end] = cached
            self.track_changed.emit(start, end)
        else:
            self.stale.append(span)

    def _key(self, start: int, end: int, seed: int) -> tuple:
        pad = int(round(CONTEXT_S * self.fps))
        near = tuple((self._frames(s.start), self._frames(s.end), s.instruction.text)
                     for s in self.segments
                     if self._frames(s.start) < end + pad and self._frames(s.end) > start - pad)
        st = self.project.settings
        return (start, end, seed, st.sampling_steps, st.guidance, self.fps, near)

    def _remember(self, key: tuple, frames: np.ndarray) -> None:
        self._cache[key] = frames
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)

    def _recall(self, key: tuple) -> np.ndarray | None:
        frames = self._cache.get(key)
        if frames is not None:
            self._cache.move_to_end(key)
        return frames

    def _seed_cache(self, made_from: Sequence[Segment] | None = None) -> None:
        """The motion as it stands is the cached result of every territory as it stands; with
        `made_from` (the segments it was made from), a territory whose segment changed since goes
        stale instead."""
        if self.track is None:
            return
        made = {_timing_and_words(s) for s in made_from} if made_from is not None else None
        for (lo, hi), s in zip(territories(self.segments, self.duration), self.segments):
            a, b = self._frames(lo), self._frames(hi)
            if made is None or _timing_and_words(s) in made:
                self._remember(self._key(a, b, s.seed), self.track.data[a:b].copy())
            elif b > a:
                self.stale.append(Span(a, b, s.seed, self._key(a, b, s.seed)))

    def _frames(self, t: float) -> int:
        return min(self.frames, max(0, int(round(t * self.fps))))
