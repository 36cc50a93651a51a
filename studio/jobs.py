"""Background work: one worker thread runs the models; the UI thread only posts and receives.

    worker = Worker()                           # owns a QThread
    handle = worker.submit(Export(path, run))   # a typed Job: a plain function of a Progress
    handle.done.connect(on_result)              # the result, on the UI thread
    handle.failed.connect(on_error)             # a message
    handle.progress.connect(on_progress)        # a fraction
    handle.cancelled.connect(on_cancelled)

Jobs are ordinary functions (testable without Qt) that call `progress.report(fraction)` and
return a result; `report` raises Cancelled once the job has been cancelled. Each kind of job says
what it cancels (`supersedes`): a regeneration cancels the regeneration of overlapping frames
(latest edit wins), an import or a whole-take animation cancels the model work of the take they
replace, and nothing cancels an export or a rewrite but the user. The worker's own signals
(finished, failed, cancelled, progress: the job first) see every job. Jobs run one at a time,
in submission order; the UI thread never runs a model.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
import weakref
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core.cancel import Cancelled


class Progress:
    """What a job sees of the worker: progress reports, which also deliver cancellation."""

    def __init__(self, emit: Callable[[float], None]):
        self._emit = emit
        self.cancelled = threading.Event()

    def report(self, fraction: float) -> None:
        if self.cancelled.is_set():
            raise Cancelled()
        self._emit(float(fraction))

    def step(self, i: int, n: int) -> None:
        """The sampler's callback(step, steps)."""
        self.report(i / max(n, 1))


@dataclass(eq=False)
class Job:
    """Work for the worker: `run(progress)` returns the result. `name` is what status lines call it."""

    run: Callable[[Progress], Any]
    progress: Progress | None = field(default=None, repr=False, init=False)
    name = "work"

    def supersedes(self, other: Job) -> bool:
        """Whether submitting this job cancels `other` (queued or running)."""
        return False


@dataclass(eq=False)
class Regeneration(Job):
    """New motion for a span of frames after an edit."""

    span: Any = None                   # a core.editing.Span
    name = "regeneration"

    def supersedes(self, other: Job) -> bool:
        return isinstance(other, Regeneration) and other.span.overlaps(self.span)


def needs_its_take(job: Job) -> bool:
    """Model work on the take open now (a regeneration, an animation, an import, a rewrite): pointless
    once another take replaces it. An export writes what it was given, whatever opens next."""
    return not isinstance(job, Export)


class _TakeWork(Job):
    """Work that replaces the take's motion: it makes every job that needs the take before it
    pointless. Exports keep running."""

    def supersedes(self, other: Job) -> bool:
        return needs_its_take(other)


@dataclass(eq=False)
class Animation(_TakeWork):
    """Stage 2 over the whole take of the document `owner`, from its segments as they were
    (`segments`: an edit made meanwhile is regenerated after it)."""

    owner: Any = None
    segments: list = field(default_factory=list)
    name = "animation"


@dataclass(eq=False)
class Import(_TakeWork):
    """Listen to a recording, write its instructions and make a project of it."""

    path: Path = None
    name = "import"


@dataclass(eq=False)
class Rewrite(Job):
    """The language model's instruction for one segment (`index`, which started at `start`)."""

    owner: Any = None
    index: int = -1
    start: float = 0.0
    name = "rewrite"


@dataclass(eq=False)
class Export(Job):
    """Writing the performance to a file (the user cancels it, nothing else)."""

    path: Path = None
    name = "export"


class JobHandle(QObject):
    """One submitted job's signals, on the UI thread."""

    done = Signal(object)          # the result
    failed = Signal(str)           # a message
    cancelled = Signal()
    progress = Signal(float)

    def __init__(self, job: Job, parent: QObject | None = None):
        super().__init__(parent)
        self.job = job


def leave_a_core_to_the_ui() -> int:
    """Models use one core fewer than the machine has (at least one): the UI thread, the
    viewport's software rasteriser and the display server need one to keep the face playing
    while a segment regenerates (torch's thread count is per process; the UI never runs torch).
    Returns the count before, which Worker.shutdown puts back."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    return before


SWITCH_INTERVAL_S = 0.001
_sharing = 0                 # workers running with the short interval
_interval_before = 0.005     # the interval before the first of them set it


def share_the_gil_finely() -> None:
    """The sampler releases the GIL inside each torch op and takes it back between them, about a
    thousand times a regeneration; while the face plays, the UI thread's Python holds it, and
    at Python's default switch interval (5 ms) each hand-back can wait that long. A 1 ms
    interval lets the worker back in sooner. Counted: the last worker to stop puts it back."""
    global _sharing, _interval_before
    if _sharing == 0:
        _interval_before = sys.getswitchinterval()
        sys.setswitchinterval(min(_interval_before, SWITCH_INTERVAL_S))
    _sharing += 1


def stop_sharing_the_gil_finely() -> None:
    global _sharing
    _sharing -= 1
    if _sharing == 0:
        sys.setswitchinterval(_interval_before)


class _Runner(QObject):
    done = Signal(object, object)        # job, result
    error = Signal(object, str)          # job, message
    cancelled = Signal(object)           # job
    progress = Signal(object, float)     # job, fraction
    idle = Signal()

    def __init__(self, worker: Worker):
        super().__init__()
        self._worker = worker
        self._threads_before: int | None = None

    @Slot()
    def drain(self) -> None:
        if self._threads_before is None:
            self._threads_before = leave_a_core_to_the_ui()
        while True:
            job = self._worker._next()
            if job is None:
                self.idle.emit()
                return
            try:
                result = job.run(job.progress)
            except Cancelled:
                self.cancelled.emit(job)
            except Exception as exc:                    # shown to the user, never a crash
                traceback.print_exc()
                self.error.emit(job, f"{type(exc).__name__}: {exc}")
            else:
                if job.progress.cancelled.is_set():
                    self.cancelled.emit(job)
                else:
                    self.done.emit(job, result)
            finally:
                job.run = None                          # the snapshot it ran on goes now, whoever keeps the job
                self._worker._finish(job)


_WORKERS: "weakref.WeakSet[Worker]" = weakref.WeakSet()


def running_workers() -> list[Worker]:
    """Workers whose thread still runs (a closed window's must not: the tests check after each)."""
    return [w for w in list(_WORKERS) if w._thread.isRunning()]


class Worker(QObject):
    finished = Signal(object, object)     # job, result (UI thread)
    failed = Signal(object, str)          # job, message
    cancelled = Signal(object)            # job
    progress = Signal(object, float)      # job, fraction
    busyChanged = Signal(bool)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._queue: deque[Job] = deque()
        self._running: Job | None = None
        self._handles: dict[Job, JobHandle] = {}       # UI thread only
        share_the_gil_finely()
        self._sharing_gil = True
        self._thread = QThread()
        self._thread.setObjectName("avitalk-worker")
        self._runner = _Runner(self)
        self._runner.moveToThread(self._thread)
        self._wake.connect(self._runner.drain)
        self._runner.done.connect(self._done)
        self._runner.error.connect(self._failed)
        self._runner.cancelled.connect(self._cancelled)
        self._runner.progress.connect(self._progress)
        self._runner.idle.connect(self._check_idle)
        self._thread.start()
        self._busy = False
        _WORKERS.add(self)

    # --- UI thread -----------------------------------------------------------------------
    def submit(self, job: Job) -> JobHandle:
        """Queue `job`, cancelling every queued or running job it supersedes; its handle."""
        runner = self._runner
        job.progress = Progress(lambda f, job=job: runner.progress.emit(job, f))
        handle = self._handles[job] = JobHandle(job)     # no Qt parent: gone once its job ended
        with self._lock:
            dropped = [j for j in self._queue if job.supersedes(j)]
            self._queue = deque(j for j in self._queue if not job.supersedes(j))
            if self._running is not None and job.supersedes(self._running):
                self._running.progress.cancelled.set()
            self._queue.append(job)
        for j in dropped:
            self._cancelled(j)
        self._set_busy(True)
        self._wake.emit()
        return handle

    def cancel(self, job: Job) -> None:
        """Cancel `job`, queued or running (the user pressed Cancel)."""
        with self._lock:
            dropped = [j for j in self._queue if j is job]
            self._queue = deque(j for j in self._queue if j is not job)
            if self._running is job:
                job.progress.cancelled.set()
        for j in dropped:
            self._cancelled(j)

    def cancel_all(self) -> None:
        self.cancel_where(lambda job: True)

    def cancel_where(self, doomed: Callable[[Job], bool]) -> None:
        """Cancel every queued or running job for which `doomed(job)` holds."""
        with self._lock:
            dropped = [j for j in self._queue if doomed(j)]
            self._queue = deque(j for j in self._queue if not doomed(j))
            if self._running is not None and doomed(self._running):
                self._running.progress.cancelled.set()
        for j in dropped:
            self._cancelled(j)

    @property
    def busy(self) -> bool:
        """Some submitted job's outcome (result, failure or cancellation) has not reached the UI
        thread yet: a job that ended on the worker is busy until its signal is delivered."""
        return bool(self._handles)

    def pending(self) -> list[Job]:
        """The running job (unless it has been cancelled and is only winding down), then the queued ones."""
        with self._lock:
            running = self._running is not None and not self._running.progress.cancelled.is_set()
            return ([self._running] if running else []) + list(self._queue)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel everything and stop the thread (the window calls this on close)."""
        self.cancel_all()
        self._thread.quit()
        self._thread.wait(timeout_ms)
        if self._runner._threads_before is not None:
            import torch
            torch.set_num_threads(self._runner._threads_before)
        if self._sharing_gil:
            self._sharing_gil = False
            stop_sharing_the_gil_finely()

    def _done(self, job: Job, result) -> None:
        self.finished.emit(job, result)
        handle = self._handles.pop(job, None)
        if handle is not None:
            handle.done.emit(result)

    def _failed(self, job: Job, message: str) -> None:
        self.failed.emit(job, message)
        handle = self._handles.pop(job, None)
        if handle is not None:
            handle.failed.emit(message)

    def _cancelled(self, job: Job) -> None:
        self.cancelled.emit(job)
        handle = self._handles.pop(job, None)
        if handle is not None:
            handle.cancelled.emit()

    def _progress(self, job: Job, fraction: float) -> None:
        self.progress.emit(job, fraction)
        handle = self._handles.get(job)
        if handle is not None:
            handle.progress.emit(fraction)

    def _check_idle(self) -> None:
        if not self.busy:
            self._set_busy(False)

    def _set_busy(self, busy: bool) -> None:
        if busy != self._busy:
            self._busy = busy
            self.busyChanged.emit(busy)

    # --- worker thread -------------------------------------------------------------------
    def _next(self) -> Job | None:
        with self._lock:
            self._running = self._queue.popleft() if self._queue else None
            return self._running

    def _finish(self, job: Job) -> None:
        with self._lock:
            if self._running is job:
                self._running = None
