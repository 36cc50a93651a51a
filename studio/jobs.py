"""Background work: one worker thread runs the models; the UI thread only posts and receives.

    worker = Worker()                       # owns a QThread
    worker.submit(job)                      # a Job: a plain function of a Progress, plus its key
    worker.finished.connect(on_result)      # (key, result) on the UI thread
    worker.failed.connect(on_error)         # (key, message)
    worker.progress.connect(on_progress)    # (key, fraction)

Jobs are ordinary functions (testable without Qt) that call `progress.report(fraction)` and
return a result; `report` raises Cancelled once the job has been superseded. Latest edit wins:
submitting a job cancels every queued or running job it `supersedes` (for regeneration: an
overlapping frame range), so the worker always works on what the user asked for last. Jobs
run one at a time, in submission order; the UI thread never runs a model.
"""

from __future__ import annotations

import os
import threading
import traceback
import weakref
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

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


@dataclass
class Job:
    key: Hashable
    run: Callable[[Progress], Any]
    supersedes: Callable[[Hashable], bool] = lambda other: False    # cancel older jobs this replaces
    progress: Progress | None = field(default=None, repr=False)


def leave_a_core_to_the_ui() -> int:
    """Models use one core fewer than the machine has (at least one): the UI thread, the
    viewport's software rasteriser and the display server need one to keep the face playing
    while a segment regenerates (torch's thread count is per process; the UI never runs torch).
    Returns the count before, which Worker.shutdown puts back."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    return before


class _Runner(QObject):
    done = Signal(object, object)        # key, result
    error = Signal(object, str)          # key, message
    cancelled = Signal(object)           # key
    progress = Signal(object, float)     # key, fraction
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
                self.cancelled.emit(job.key)
            except Exception as exc:                    # shown to the user, never a crash
                traceback.print_exc()
                self.error.emit(job.key, f"{type(exc).__name__}: {exc}")
            else:
                if job.progress.cancelled.is_set():
                    self.cancelled.emit(job.key)
                else:
                    self.done.emit(job.key, result)
            finally:
                self._worker._finish(job)


_WORKERS: "weakref.WeakSet[Worker]" = weakref.WeakSet()


def running_workers() -> list[Worker]:
    """Workers whose thread still runs (a closed window's must not: the tests check after each)."""
    return [w for w in list(_WORKERS) if w._thread.isRunning()]


class Worker(QObject):
    finished = Signal(object, object)     # key, result (UI thread)
    failed = Signal(object, str)          # key, message
    cancelled = Signal(object)            # key
    progress = Signal(object, float)      # key, fraction
    busyChanged = Signal(bool)
    _wake = Signal()

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._lock = threading.Lock()
        self._queue: deque[Job] = deque()
        self._running: Job | None = None
        self._thread = QThread()
        self._thread.setObjectName("avitalk-worker")
        self._runner = _Runner(self)
        self._runner.moveToThread(self._thread)
        self._wake.connect(self._runner.drain)
        self._runner.done.connect(self.finished)
        self._runner.error.connect(self.failed)
        self._runner.cancelled.connect(self.cancelled)
        self._runner.progress.connect(self.progress)
        self._runner.idle.connect(self._check_idle)
        self._thread.start()
        self._busy = False
        _WORKERS.add(self)

    # --- UI thread -----------------------------------------------------------------------
    def submit(self, job: Job) -> None:
        """Queue `job`, cancelling every queued or running job it supersedes."""
        runner = self._runner
        job.progress = Progress(lambda f, key=job.key: runner.progress.emit(key, f))
        with self._lock:
            dropped = [j for j in self._queue if job.supersedes(j.key)]
            self._queue = deque(j for j in self._queue if not job.supersedes(j.key))
            if self._running is not None and job.supersedes(self._running.key):
                self._running.progress.cancelled.set()
            self._queue.append(job)
        for j in dropped:
            self.cancelled.emit(j.key)
        self._set_busy(True)
        self._wake.emit()

    def cancel(self, key: Hashable) -> None:
        """Cancel the queued or running job with this key (the user pressed Cancel)."""
        with self._lock:
            dropped = [j for j in self._queue if j.key == key]
            self._queue = deque(j for j in self._queue if j.key != key)
            if self._running is not None and self._running.key == key:
                self._running.progress.cancelled.set()
        for j in dropped:
            self.cancelled.emit(j.key)

    def cancel_all(self) -> None:
        with self._lock:
            dropped = list(self._queue)
            self._queue.clear()
            if self._running is not None:
                self._running.progress.cancelled.set()
        for j in dropped:
            self.cancelled.emit(j.key)

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._running is not None or bool(self._queue)

    def pending_keys(self) -> list[Hashable]:
        with self._lock:
            return ([self._running.key] if self._running else []) + [j.key for j in self._queue]

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel everything and stop the thread (the window calls this on close)."""
        self.cancel_all()
        self._thread.quit()
        self._thread.wait(timeout_ms)
        if self._runner._threads_before is not None:
            import torch
            torch.set_num_threads(self._runner._threads_before)

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
