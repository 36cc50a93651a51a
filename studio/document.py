"""The open project as the studio edits it: core.editing's session behind an undo stack.

    doc = Document(project, path)
    doc.set_instruction([2], Instruction(...))   # one undo step, e.g. "Change emotion of segment 3"
    doc.undo_stack.undo()                        # the old text, and at once the old motion

Every rule of editing (what a split, a drag or a delete may do, how a gap is regenerated, the
stale spans and the regeneration cache) lives in core.editing.EditSession, tested without Qt.
This module only turns each planned Change into one QUndoCommand whose redo applies it and whose
undo reverts it, and re-emits the session's events as Qt signals for the widgets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from core.editing import Change, EditSession, Span
from core.motion.checkpoint import MotionBundle
from core.project import FileStamp, Instruction, Project
from studio.jobs import Regeneration

UNDO_LIMIT = 500         # undo steps kept (each holds the motion its edit replaced)


class Edit(QUndoCommand):
    """One Change of the session: redo applies it, undo reverts it exactly."""

    def __init__(self, session: EditSession, change: Change):
        super().__init__(change.text)
        self.session = session
        self.change = change
        self.saved = None

    def redo(self) -> None:
        saved = self.session.apply(self.change)
        if self.saved is None:             # what undo puts back: the motion and stale marks of before
            self.saved = saved

    def undo(self) -> None:
        self.session.revert(self.change, self.saved)


class Document(QObject):
    segmentsChanged = Signal()
    trackChanged = Signal(int, int)       # frames [start, end) got new motion
    staleChanged = Signal()
    selectionChanged = Signal(int)        # the primary selected segment (-1: none)
    selectionListChanged = Signal(list)   # every selected segment

    def __init__(self, project: Project, path: str | Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.session = EditSession(project)
        self.path = Path(path) if path else None
        # which file `path` held when the project was read or last saved: a save over a file that
        # another program replaced since then asks first (core.project.save_project's check)
        self.stamp = FileStamp.of(self.path) if self.path else None
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(UNDO_LIMIT)
        self.session.segments_changed.connect(self.segmentsChanged.emit)
        self.session.track_changed.connect(self.trackChanged.emit)
        self.session.stale_changed.connect(self.staleChanged.emit)
        self.session.selection_changed.connect(self._selection_changed)

    # --- reading -------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.session.project

    @property
    def fps(self) -> float:
        return self.session.fps

    @property
    def frames(self) -> int:
        return self.session.frames

    @property
    def track(self):
        return self.session.track

    @property
    def stale(self) -> list[Span]:
        return self.session.stale

    @property
    def selected(self) -> int:
        return self.session.primary

    @property
    def selection(self) -> tuple[int, ...]:
        return self.session.selection

    def segment_state(self, index: int) -> str:
        return self.session.segment_state(index)

    def overlapping(self, index: int, spans) -> list[Span]:
        return self.session.overlapping(index, spans)

    # --- edits (each one undo step) ---------------------------------------------------------
    def set_instruction(self, indices: int | Sequence[int], instruction: Instruction) -> None:
        self._push(self.session.set_instruction(indices, instruction))

    def rewrite(self, indices: int | Sequence[int], emotion: str | None = None, intensity: float | None = None) -> None:
        self._push(self.session.rewrite(indices, emotion=emotion, intensity=intensity))

    def set_seed(self, index: int, seed: int) -> None:
        self._push(self.session.set_seed(index, seed))

    def retime(self, index: int, start: float, end: float) -> None:
        self._push(self.session.retime(index, start, end))

    def split(self, index: int, t: float) -> None:
        self._push(self.session.split(index, t))

    def merge_with_next(self, index: int) -> None:
        self._push(self.session.merge_with_next(index))

    def delete(self, indices: int | Sequence[int]) -> None:
        self._push(self.session.delete(indices))

    def add(self, start: float, end: float, instruction: Instruction | None = None) -> int:
        """A new segment over [start, end); its index (-1 when it would be too short)."""
        change = self.session.add(start, end, instruction)
        if change is None:
            return -1
        self._push(change)
        return self.session.index_of(*change.added)

    def select(self, indices: int | Sequence[int], primary: int | None = None) -> None:
        self.session.select(indices, primary)

    # --- work for the worker ----------------------------------------------------------------
    def regeneration(self, span: Span, model: Callable[[], MotionBundle]) -> Regeneration:
        """A job regenerating `span` from a snapshot of the project taken now; `model()` gives the
        motion model, called on the worker (the first call loads it there)."""
        run = self.session.regeneration(span)
        return Regeneration(lambda progress: run(model(), progress.step), span=span)

    def apply_result(self, span: Span, frames: np.ndarray) -> bool:
        return self.session.apply_result(span, frames)

    def replace_track(self, track, made_from=None) -> bool:
        """A new performance of the whole take. If there was one before, the undo history restarts:
        its steps hold that performance's motion, which undo must not bring back (unsaved work
        stays marked). The first performance keeps the edits made while it was animated undoable.
        Returns whether the history restarted."""
        restart = self.track is not None and self.undo_stack.count() > 0
        if restart:
            dirty = not self.undo_stack.isClean()
            self.undo_stack.clear()
            if dirty:
                self.undo_stack.resetClean()
        self.session.replace_track(track, made_from)
        return restart

    # --- internals ---------------------------------------------------------------------------
    def _push(self, change: Change | None) -> None:
        if change is not None:
            self.undo_stack.push(Edit(self.session, change))

    def _selection_changed(self, primary: int, selection: tuple[int, ...]) -> None:
        self.selectionChanged.emit(primary)
        self.selectionListChanged.emit(list(selection))
