"""The open project as the studio edits it: undoable edits, and what needs regenerating.

    doc = Document(project, path)
    doc.set_instruction(2, Instruction(...))    # one undo step; segment 2 becomes stale
    doc.undo_stack.undo()                       # the old text, and at once the old motion

Every edit is a QUndoCommand holding the segment list before and after and the time spans
whose motion it changes; undo puts back the motion and stale marks of before the edit
exactly. Regenerated motion goes into a cache keyed by everything that determines it (the
span's frames, seed, sampling settings, and the instructions and timing of the segments
around it), so redo, and an edit back to an earlier state, reuse motion already computed
without running the model: an unchanged segment is never recomputed. A span whose motion is not in the cache is
stale: `staleChanged` fires and the window asks the worker to regenerate it; results come
back through `apply_result`, which ignores a result whose inputs changed meanwhile.

Segments never overlap and stay in time order; gaps are allowed (the frames of a gap follow
the nearest segment's instruction). Segments are values: an edit builds a new list in which
the changed ones are replaced (dataclasses.replace), never mutated, so undo steps share every
unchanged segment and its evidence instead of copying the whole take each time.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.motion.checkpoint import MotionBundle
from core.project import FileStamp, MAIN_TRACK, Instruction, Project, Segment
from core.segments import merge_evidence, split_evidence
from core.track import FaceTrack
from studio.jobs import Job

MIN_SEGMENT_S = 0.2
UNDO_LIMIT = 500         # undo steps kept (each holds the motion its edit replaced)
CACHE_ENTRIES = 2048     # regenerated spans remembered, least recently used dropped first
CONTEXT_S = 0.5          # instructions cross-fade over 0.35 s: segments this close to a span shape it


@dataclass(frozen=True)
class Span:
    """Frames [start, end) of the performance to regenerate with `seed`; `key` says from what."""

    start: int
    end: int
    seed: int
    key: tuple

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


class Edit(QUndoCommand):
    def __init__(self, doc: Document, text: str, after: list[Segment], spans: list[tuple[float, float, int]]):
        super().__init__(text)
        self.doc = doc
        self.before = list(doc.project.segments)       # segments are values: edits replace, never mutate
        self.after = after
        self.spans = spans                              # (start s, end s, seed) changed by the edit
        self.saved = None

    def redo(self) -> None:
        if self.saved is None:                          # what undo puts back: motion and stale marks
            self.saved = self.doc._snapshot(self.spans)
        self.doc._set_segments(list(self.after), self.spans)

    def undo(self) -> None:
        self.doc._restore(list(self.before), *self.saved)


class Document(QObject):
    segmentsChanged = Signal()
    trackChanged = Signal(int, int)       # frames [start, end) got new motion
    staleChanged = Signal()
    selectionChanged = Signal(int)

    def __init__(self, project: Project, path: str | Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.project = project
        self.path = Path(path) if path else None
        # which file `path` held when the project was read or last saved: a save over a file that
        # another program replaced since then asks first (core.project.save_project's check)
        self.stamp = FileStamp.of(self.path) if self.path else None
        self.undo_stack = QUndoStack(self)
        self.selected = -1
        self.stale: list[Span] = []
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()     # least recently used first
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self._seed_cache()

    # --- reading -------------------------------------------------------------------------
    @property
    def fps(self) -> float:
        return self.project.settings.fps

    @property
    def frames(self) -> int:
        track = self.project.tracks.get(MAIN_TRACK)
        if track is not None:
            return track.frames
        return int(round(self.project.audio.duration * self.fps)) if self.project.audio is not None else 0

    @property
    def track(self):
        return self.project.tracks.get(MAIN_TRACK)

    def segment_state(self, index: int) -> str:
        """'stale' when some of the segment's frames wait for new motion, else 'ready'."""
        s = self.project.segments[index]
        a, b = self._frames(s.start), self._frames(s.end)
        return "stale" if any(sp.start < b and a < sp.end for sp in self.stale) else "ready"

    # --- edits (each one undo step) ---------------------------------------------------------
    def set_instruction(self, index: int, instruction: Instruction) -> None:
        seg = self.project.segments[index]
        if seg.instruction == instruction:
            return
        after = self._copy_with(index, instruction=instruction)
        self._push(f"Edit instruction of segment {index + 1}", after, [(seg.start, seg.end, seg.seed)])

    def set_seed(self, index: int, seed: int) -> None:
        seg = self.project.segments[index]
        if seg.seed == seed:
            return
        self._push(f"New variation of segment {index + 1}", self._copy_with(index, seed=int(seed)),
                   [(seg.start, seg.end, int(seed))])

    def retime(self, index: int, start: float, end: float) -> None:
        """Move or resize a segment; clamped between its neighbours, at least MIN_SEGMENT_S long."""
        segs = self.project.segments
        seg = segs[index]
        lo = segs[index - 1].end if index > 0 else 0.0
        hi = segs[index + 1].start if index + 1 < len(segs) else self._duration()
        start, end = max(lo, float(start)), min(hi, float(end))
        if end - start < MIN_SEGMENT_S:
            return
        if abs(start - seg.start) < 1e-6 and abs(end - seg.end) < 1e-6:
            return
        after = self._copy_with(index, start=start, end=end)
        self._push(f"Retime segment {index + 1}", after, [(min(start, seg.start), max(end, seg.end), seg.seed)])

    def split(self, index: int, t: float) -> None:
        seg = self.project.segments[index]
        if not seg.start + MIN_SEGMENT_S <= t <= seg.end - MIN_SEGMENT_S:
            return
        after = list(self.project.segments)
        left, right = split_evidence(seg.evidence, t)
        after[index:index + 1] = [replace(seg, end=t, evidence=left), replace(seg, start=t, evidence=right)]
        self._push(f"Split segment {index + 1}", after, [])         # same instruction: the motion stands

    def merge_with_next(self, index: int) -> None:
        segs = self.project.segments
        if index + 1 >= len(segs):
            return
        a, b = segs[index], segs[index + 1]
        after = list(segs)
        after[index:index + 2] = [replace(a, end=b.end, evidence=merge_evidence(a.evidence, b.evidence))]
        same = a.instruction.text == b.instruction.text and a.seed == b.seed and abs(a.end - b.start) < 1e-9
        self._push(f"Merge segments {index + 1} and {index + 2}", after,
                   [] if same else [(a.end, b.end, a.seed)])

    def delete(self, index: int) -> None:
        seg = self.project.segments[index]
        after = list(self.project.segments)
        del after[index]
        spans = [(seg.start, seg.end, seg.seed)] if after else []
        self._push(f"Delete segment {index + 1}", after, spans)

    def add(self, start: float, end: float, instruction: Instruction | None = None) -> int:
        """A new segment over [start, end) (cut out of the segments it overlaps); its index."""
        start, end = max(0.0, float(start)), min(self._duration(), float(end))
        if end - start < MIN_SEGMENT_S:
            return -1
        if instruction is None:
            from core.instruct.wording import compose
            instruction = Instruction(compose("neutral", 0.5), "neutral", 0.5, "user")
        after: list[Segment] = []
        for s in self.project.segments:
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
        self._push("Add segment", after, [(start, end, 0)])
        return next(i for i, s in enumerate(self.project.segments) if s.start == start and s.end == end)

    def select(self, index: int) -> None:
        index = index if 0 <= index < len(self.project.segments) else -1
        if index != self.selected:
            self.selected = index
            self.selectionChanged.emit(index)

    # --- work for the worker ----------------------------------------------------------------
    def regeneration(self, span: Span, model: Callable[[], MotionBundle]) -> Job:
        """A Job regenerating `span` from a snapshot of the project taken now (the worker never
        reads the live document); `model()` gives the motion model, called on the worker (the
        first call loads it there). Its result goes to apply_result."""
        from core.motion.generate import regenerate_frames
        from core.pipeline import instruction_embeddings, segment_bounds
        segments = copy.deepcopy(self.project.segments)
        settings = copy.deepcopy(self.project.settings)
        features = self.project.speech_features
        track = FaceTrack(self.track.fps, self.track.data.copy())

        def run(progress) -> np.ndarray:
            bounds = segment_bounds(segments, settings.fps, track.frames)
            out = regenerate_frames(model(), track, features, instruction_embeddings(segments), bounds, span.start,
                                    span.end, seed=span.seed, steps=settings.sampling_steps,
                                    guidance=settings.guidance, callback=progress.step)
            return out.data[span.start:span.end]

        return Job(key=span, run=run, supersedes=lambda other: isinstance(other, Span) and other.overlaps(span))

    # --- results from the worker -----------------------------------------------------------
    def apply_result(self, span: Span, frames: np.ndarray) -> bool:
        """Put regenerated motion for `span` in place, unless its inputs changed meanwhile."""
        self._remember(span.key, np.array(frames, np.float32))
        if span not in self.stale:
            return False
        self.stale.remove(span)
        self.track.data[span.start:span.end] = frames
        self.trackChanged.emit(span.start, span.end)
        self.staleChanged.emit()
        return True

    def replace_track(self, track) -> None:
        """A whole new performance (first generation, or a settings change): the cache restarts."""
        self.project.tracks[MAIN_TRACK] = track
        self.stale.clear()
        self._cache.clear()
        self._seed_cache()
        self.trackChanged.emit(0, track.frames)
        self.staleChanged.emit()

    # --- internals ---------------------------------------------------------------------------
    def _push(self, text: str, after: list[Segment], spans: list[tuple[float, float, int]]) -> None:
        self.undo_stack.push(Edit(self, text, after, spans))

    def _set_segments(self, segments: list[Segment], spans: list[tuple[float, float, int]]) -> None:
        self.project.segments = segments
        if self.selected >= len(segments):
            self.select(len(segments) - 1)
        if self.track is not None:
            for start, end, seed in spans:
                self._invalidate(self._frames(start), self._frames(end), seed)
        self.segmentsChanged.emit()
        self.staleChanged.emit()

    def _snapshot(self, spans: list[tuple[float, float, int]]) -> tuple[list, list[Span]]:
        track = self.track
        frames = []
        if track is not None:
            for start, end, _ in spans:
                a, b = self._frames(start), self._frames(end)
                frames.append((a, b, track.data[a:b].copy()))
        return frames, list(self.stale)

    def _restore(self, segments: list[Segment], frames: list, stale: list[Span]) -> None:
        """Undo: the segments, the motion and the stale marks exactly as before the edit (stale
        spans computed since are taken from the cache)."""
        self.project.segments = segments
        if self.selected >= len(segments):
            self.select(len(segments) - 1)
        for a, b, data in frames:
            self.track.data[a:b] = data
            self.trackChanged.emit(a, b)
        self.stale = []
        for span in stale:
            cached = self._recall(span.key)
            if cached is not None and len(cached) == span.end - span.start:
                self.track.data[span.start:span.end] = cached
                self.trackChanged.emit(span.start, span.end)
            else:
                self.stale.append(span)
        self.segmentsChanged.emit()
        self.staleChanged.emit()

    def _invalidate(self, start: int, end: int, seed: int) -> None:
        span = Span(start, end, seed, self._key(start, end, seed))
        self.stale = [s for s in self.stale if not s.overlaps(span)]
        cached = self._recall(span.key)
        if cached is not None and len(cached) == end - start:
            self.track.data[start:end] = cached
            self.trackChanged.emit(start, end)
        else:
            self.stale.append(span)

    def _key(self, start: int, end: int, seed: int) -> tuple:
        fps, pad = self.fps, int(round(CONTEXT_S * self.fps))
        near = tuple((self._frames(s.start), self._frames(s.end), s.instruction.text)
                     for s in self.project.segments
                     if self._frames(s.start) < end + pad and self._frames(s.end) > start - pad)
        st = self.project.settings
        return (start, end, seed, st.sampling_steps, st.guidance, fps, near)

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

    def _seed_cache(self) -> None:
        """The motion as loaded is the cached result of every segment as it stands."""
        if self.track is None:
            return
        for s in self.project.segments:
            a, b = self._frames(s.start), self._frames(s.end)
            self._remember(self._key(a, b, s.seed), self.track.data[a:b].copy())

    def _copy_with(self, index: int, **changes) -> list[Segment]:
        after = list(self.project.segments)
        after[index] = replace(after[index], **changes)
        return after

    def _frames(self, t: float) -> int:
        return min(self.frames, max(0, int(round(t * self.fps))))

    def _duration(self) -> float:
        return self.frames / self.fps if self.fps else 0.0
