"""Batch: a manifest of dialogue lines (core.manifest), each animated into a project plus its
exports, on this machine's cores or on a Ray cluster.

    summary = run_batch("lines.csv", "out", BatchSettings(writer="rules"), workers=2)
    summary = run_batch("lines.csv", "out", settings, ray="local")         # or ray="HOST:PORT"

Each line becomes OUTDIR/<id>/<id>.avtp and the exports it asks for (<id>.fbx, .glb, .csv,
.mp4); OUTDIR/<id>/done.json is written last and holds a key of the line's inputs (its
manifest fields, the audio file's size and modification time, the settings and the motion
model's bytes), so a rerun skips the lines whose key still matches and whose outputs are all
there, and redoes the others. OUTDIR/report.csv lists every line (done, failed, skipped, or
pending when the run was interrupted) and is rewritten atomically after every finished line.
Ctrl+C, SIGTERM and SIGHUP stop the workers at once and write the report; a worker process
whose batch is gone (killed) ends by itself.

A bad row (no audio, an unknown emotion or export format, a number out of the range the
project loader holds it to) or a line that fails (unreadable audio, a device or FIFO given as
audio, say) is reported and the batch goes on; a manifest that cannot be read as a whole is
refused (core.manifest.ManifestError).
Every worker, a local process or a Ray actor, is a `Worker`: it loads the listener, the
instruction writer and the motion model once and runs lines with the same code, so a line
gives the same result wherever it runs.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import signal
import socket
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

from core import limits
from core.export.options import ExportOptions, export_file
from core.fileio import atomic_write
from core.manifest import REPORT_NAME, Line, Manifest, read_manifest
from core.instruct import DEFAULT_WRITER
from core.listen.language import check_language

DONE_NAME = "done.json"
STAGES: tuple[str, ...] = ("read", "listen", "instruct", "animate", "save", "export", "total")
REPORT_COLUMNS: tuple[str, ...] = (
    "line", "id", "status", "audio", "duration_s", "segments", *(f"{s}_s" for s in STAGES),
    "outputs", "worker", "warnings", "error")


class BatchError(RuntimeError):
    """The batch cannot start (Ray missing or unreachable, a bad setting)."""


@dataclass
class LineResult:
    id: str
    status: str                      # "done", "failed", "skipped" (done by an earlier run) or "pending"
    error: str = ""
    audio: str = ""
    duration: float = 0.0            # seconds of audio
    segments: int = 0
    timings: dict[str, float] = field(default_factory=dict)   # seconds per stage (STAGES)
    outputs: list[str] = field(default_factory=list)          # paths relative to the output folder
    warnings: list[str] = field(default_factory=list)
    worker: str = ""                 # host:pid that ran it
    line: int = 0


@dataclass
class BatchSettings:
    """How every line is made (the same for all lines). `threads` is the torch/Whisper thread
    count of each worker (None: the cores over the workers, or 1 on a Ray cluster)."""

    writer: str = DEFAULT_WRITER
    llm_url: str | None = None
    llm_model: str | None = None
    baseline: str = "auto"           # core.instruct.Baseline: auto, calm, mild or an emotion
    language: str = "auto"           # what every line is spoken in, unless its `language` column says
    min_segment: float = 1.5
    max_segment: float = 8.0
    steps: int = 8
    guidance: float = 2.0
    model: str | None = None         # a motion checkpoint; None: $AVITALK_MOTION_MODEL or the shipped one
    width: int = 1280                # video exports
    height: int = 720
    antialias: bool = False
    threads: int | None = None

    def identity(self) -> dict[str, Any]:
        """What a line's result depends on (threads and the checkpoint's path do not count; the
        checkpoint's bytes do, through model_identity)."""
        d = asdict(self)
        for key in ("threads", "model"):
            d.pop(key)
        return d


@dataclass
class BatchSummary:
    results: list[LineResult]        # in manifest order
    wall: float                      # seconds from starting the workers to the last result
    report: Path
    interrupted: bool = False
    stopped_by: int = 0              # the signal that interrupted it: SIGINT (Ctrl+C), SIGTERM or SIGHUP

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def processed(self) -> int:
        """Lines run this time (done or failed in a worker; not rows refused by the manifest check)."""
        return sum(bool(r.worker) and r.status in ("done", "failed") for r in self.results)

    @property
    def lines_per_minute(self) -> float:
        return 60.0 * self.processed / self.wall if self.wall > 0 else 0.0


def check_settings(settings: BatchSettings) -> None:
    """BatchError unless every number of the settings is within the range the project loader and
    the renderer hold it to (core.limits): no setting makes a project that cannot be opened
    again, nor a line unbounded in time or memory."""
    for option, value, limit in (("--steps", settings.steps, limits.STEPS),
                                 ("--guidance", settings.guidance, limits.GUIDANCE),
                                 ("--min-segment", settings.min_segment, limits.SEGMENT_SECONDS),
                                 ("--max-segment", settings.max_segment, limits.SEGMENT_SECONDS),
                                 ("--width", settings.width, limits.VIDEO_SIZE),
                                 ("--height", settings.height, limits.VIDEO_SIZE)):
        try:
            limits.check_number(option, value, limit)
        except ValueError as exc:
            raise BatchError(str(exc)) from None


# --- keys: what a line's result depends on ------------------------------------------------

def model_path(settings: BatchSettings) -> Path:
    """The motion checkpoint the workers will load (its .safetensors file)."""
    from core.motion.checkpoint import default_model_path, resolve
    return resolve(settings.model) if settings.model else default_model_path()


def model_identity(settings: BatchSettings) -> str:
    """A hash of the motion checkpoint's bytes (weights and sidecar)."""
    target = model_path(settings)
    h = hashlib.sha256()
    for part in (target.with_suffix(".safetensors"), target.with_suffix(".json")):
        if not part.is_file():
            raise FileNotFoundError(f"no motion model at {target} (a .safetensors file with its .json sidecar is "
                                    f"expected)")
        h.update(part.read_bytes())
    return h.hexdigest()


def line_key(line: Line, settings: BatchSettings, model_id: str) -> str:
    """A hash of everything the line's outputs depend on."""
    doc: dict[str, Any] = {"line": {k: v for k, v in asdict(line).items() if k not in ("number", "problem")},
                           "settings": settings.identity(), "model": model_id}
    try:
        st = os.stat(line.audio)
        doc["audio_file"] = [st.st_size, st.st_mtime_ns]
    except OSError:
        doc["audio_file"] = None
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def finished(line: Line, key: str, outdir: Path) -> LineResult | None:
    """The earlier result of a line whose marker matches `key` and whose outputs are all there."""
    try:
        doc = json.loads((outdir / line.id / DONE_NAME).read_text(encoding="utf-8"))
        if doc.get("key") != key:
            return None
        result = LineResult(**{f.name: doc["result"][f.name] for f in fields(LineResult) if f.name in doc["result"]})
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None
    if result.status != "done" or not result.outputs or not all((outdir / o).is_file() for o in result.outputs):
        return None
    return result


# --- the worker ---------------------------------------------------------------------------

def thread_env(threads: int) -> dict[str, str]:
    """The environment of a worker process: the thread count of OpenMP and of numpy's BLAS.
    They read it once, when they load, which in a new process is before any code of ours runs,
    so a worker is started with it. (Whisper's numbers depend on it.)"""
    return {name: str(threads) for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}


def limit_threads(threads: int) -> None:
    """Make this process's models use `threads` threads: torch (motion model, embedder, language
    model) and Whisper's CTranslate2 (which asks core.listen.models.cpu_threads when it loads)."""
    import torch

    from core.listen import models
    torch.set_num_threads(threads)
    models.set_cpu_threads(threads)


class Worker:
    """One worker's models, loaded once: the listener, the instruction writer and the motion
    model; `run` makes one line. A local worker process holds one; on Ray it is the actor."""

    def __init__(self, settings: BatchSettings) -> None:
        self.settings = settings
        limit_threads(settings.threads or 1)
        from core.instruct import LocalLMWriter, make_writer
        from core.listen import models
        from core.motion.checkpoint import load_default_model
        from core.motion.text import embed
        self.writer = make_writer(settings.writer, llm_url=settings.llm_url, llm_model=settings.llm_model)
        if isinstance(self.writer, LocalLMWriter):
            self.writer.scorer()        # loads the language model
        self.bundle = load_default_model(settings.model)
        for load in (models.vad, models.whisper, models.aligner, models.allphone, models.pyworld):
            load()
        embed([""])                     # loads the instruction embedder
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def run(self, line: Line, key: str, outdir: str) -> LineResult:
        """Make the line's project and exports under outdir/<id>/ and write its marker last;
        any failure is returned as a failed result, never raised."""
        t0 = time.perf_counter()
        result = LineResult(line.id, "failed", audio=line.audio, worker=self.name, line=line.number)
        try:
            self._run(line, key, Path(outdir), result)
        except Exception as exc:        # a line's failure is reported; the batch goes on
            result.status, result.error = "failed", _message(exc)
            result.timings["total"] = time.perf_counter() - t0
        return result

    def _run(self, line: Line, key: str, outdir: Path, result: LineResult) -> None:
        from core.audio import load_audio
        from core.instruct.wording import rewrite
        from core.pipeline import animate, listen_and_instruct, make_project, user_instruction
        from core.project import MAIN_TRACK, save_project
        s, timings = self.settings, result.timings
        folder = outdir / line.id
        folder.mkdir(parents=True, exist_ok=True)
        (folder / DONE_NAME).unlink(missing_ok=True)        # outputs change from here on
        t = time.perf_counter()
        audio = load_audio(line.audio)
        result.duration = audio.duration
        timings["read"] = time.perf_counter() - t
        stage1 = listen_and_instruct(audio, script=line.script or None, writer=self.writer,
                                     min_length=s.min_segment, max_length=s.max_segment, baseline=s.baseline,
                                     language=line.language or s.language)
        timings["listen"] = stage1.timings["listen"] + stage1.timings["segment"]
        timings["instruct"] = stage1.timings["instruct"]
        result.warnings = list(audio.warnings) + list(stage1.warnings)
        project = make_project(audio, stage1, self.bundle.fps)
        project.settings.extra["stage1"] = {"writer": stage1.writer, "min_segment": s.min_segment,
                                            "max_segment": s.max_segment, "script": bool(line.script),
                                            "baseline": s.baseline, "language": stage1.analysis.language}
        project.settings.extra["batch"] = {"id": line.id, "seed": line.seed, "instruction": line.instruction,
                                           "emotion": line.emotion, "intensity": line.intensity}
        project.settings.sampling_steps, project.settings.guidance = s.steps, s.guidance
        for seg in project.segments:
            if line.instruction:
                seg.instruction = user_instruction(line.instruction)
            if line.emotion or line.intensity is not None:
                seg.instruction = user_instruction(rewrite(seg.instruction.text, line.emotion or None, line.intensity))
        result.segments = len(project.segments)
        t = time.perf_counter()
        track = project.tracks[MAIN_TRACK] = animate(project, self.bundle, seed=line.seed)
        timings["animate"] = time.perf_counter() - t
        t = time.perf_counter()
        outputs = [folder / f"{line.id}.avtp"]
        save_project(project, outputs[0])
        timings["save"] = time.perf_counter() - t
        t = time.perf_counter()
        for fmt in line.exports:
            out = folder / f"{line.id}.{fmt}"
            export_file(out, track, audio, ExportOptions(width=s.width, height=s.height, antialias=s.antialias))
            outputs.append(out)
        timings["export"] = time.perf_counter() - t
        result.outputs = [o.relative_to(outdir).as_posix() for o in outputs]
        result.timings["total"] = sum(timings.values())
        result.status = "done"
        with atomic_write(folder / DONE_NAME) as f:
            f.write(json.dumps({"key": key, "result": asdict(result)}, indent=1).encode())


def _message(exc: BaseException) -> str:
    """One line: the message of the problems a user can act on, else the exception's type too."""
    from core.audio import AudioError
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, (AudioError, OSError, ValueError)):
        text = f"{type(exc).__name__}: {text}"
    return text[:500]


# local worker processes: one Worker each, made by the pool's initializer
_worker: Worker | None = None


def _init_process(settings: BatchSettings, parent: int) -> None:
    global _worker
    # Ctrl+C, SIGTERM and a hang-up reach the whole process group (a terminal, `timeout`,
    # systemd): they are the batch's to handle, which stops its workers itself
    for name in STOP_SIGNALS:
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    _follow_parent(parent)
    _worker = Worker(settings)


def _follow_parent(parent: int) -> None:
    """End this worker process as soon as the batch that started it is gone, however it went
    (SIGKILL, out of memory), instead of running on alone."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)
    threading.Thread(target=watch, name="batch-parent", daemon=True).start()


def _run_in_process(line: Line, key: str, outdir: str) -> LineResult:
    return _worker.run(line, key, outdir)


# --- stopping a batch ---------------------------------------------------------------------

STOP_SIGNALS: tuple[str, ...] = tuple(name for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
POLL_S = 0.2                         # how often a running batch looks for a stop signal


class _StopSignals:
    """While a batch runs (in the main thread): SIGINT (Ctrl+C), SIGTERM and SIGHUP only note that
    the batch is to stop; the loop that feeds the workers looks every POLL_S, stops the workers and
    the report is written (the lines in flight: pending). A signal the program handles its own way
    or ignores is left to it. `signum` is the first stop signal received (0: none)."""

    def __init__(self) -> None:
        self.signum = 0
        self._saved: dict[int, Any] = {}

    def _note(self, signum: int, frame: Any) -> None:
        self.signum = self.signum or signum

    def __enter__(self) -> _StopSignals:
        if threading.current_thread() is threading.main_thread():
            for name in STOP_SIGNALS:
                signum = getattr(signal, name)
                if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler):
                    self._saved[signum] = signal.signal(signum, self._note)
        return self

    def reclaim(self) -> None:
        """Take back the signals of ours that a library set a handler of its own for (ray.init
        sets SIGTERM to exit at once)."""
        for signum in self._saved:
            signal.signal(signum, self._note)

    def check(self) -> None:
        """Raise KeyboardInterrupt once a stop signal has come."""
        if self.signum:
            raise KeyboardInterrupt(signal.Signals(self.signum).name)

    def __exit__(self, *exc: Any) -> None:
        for signum, handler in self._saved.items():
            signal.signal(signum, handler)
        self._saved.clear()


# --- running a batch ----------------------------------------------------------------------

def run_batch(manifest: str | os.PathLike | Manifest, outdir: str | os.PathLike, settings: BatchSettings, *,
              workers: int | None = None, ray: str | None = None,
              log: Callable[[str], None] | None = None) -> BatchSummary:
    """Run every line of the manifest that is not done yet, on `workers` local processes
    (default: the cores) or, with `ray` ("local" or a cluster address), as Ray actors (default:
    one per `threads` CPUs of the cluster). Rewrites OUTDIR/report.csv after every line.
    KeyboardInterrupt stops the workers, writes the report (unfinished lines: pending) and
    returns with `interrupted` set; so do SIGTERM and SIGHUP (`stopped_by` says which signal) when
    the program has no handler of its own for them."""
    log = log or (lambda text: None)
    manifest = manifest if isinstance(manifest, Manifest) else read_manifest(manifest)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    if workers is not None and workers < 1:
        raise BatchError(f"--workers must be at least 1, got {workers}")
    if settings.threads is not None and settings.threads < 1:
        raise BatchError(f"--threads must be at least 1, got {settings.threads}")
    check_settings(settings)
    from core.instruct import Baseline, make_writer
    make_writer(settings.writer, llm_url=settings.llm_url, llm_model=settings.llm_model)   # a bad spec fails here
    Baseline.parse(settings.baseline)
    check_language(settings.language)
    model_id = model_identity(settings)
    settings = BatchSettings(**{**asdict(settings), "model": str(model_path(settings))})

    results: dict[str, LineResult] = {}
    todo: list[tuple[Line, str]] = []
    for line in manifest.lines:
        if line.problem:
            results[line.id] = LineResult(line.id, "failed", error=line.problem, audio=line.audio, line=line.number)
            continue
        key = line_key(line, settings, model_id)
        earlier = finished(line, key, out)
        if earlier is not None:
            earlier.status, earlier.timings, earlier.worker, earlier.line = "skipped", {}, "", line.number
            results[line.id] = earlier
        else:
            results[line.id] = LineResult(line.id, "pending", audio=line.audio, line=line.number)
            todo.append((line, key))
    report = out / REPORT_NAME

    def ordered() -> list[LineResult]:
        return [results[line.id] for line in manifest.lines]
    write_report(report, ordered())
    skipped = sum(r.status == "skipped" for r in results.values())
    refused = sum(r.status == "failed" for r in results.values())
    if skipped or refused:
        log(f"{len(todo)} of {len(manifest.lines)} lines to run; {skipped} done earlier (skipped), "
            f"{refused} refused by the manifest check")

    count = [0]
    t0 = time.perf_counter()

    def finish(result: LineResult) -> None:
        results[result.id] = result
        write_report(report, ordered())
        count[0] += 1
        rate = 60.0 * count[0] / max(time.perf_counter() - t0, 1e-9)
        what = (f"done in {result.timings.get('total', 0.0):.1f} s ({result.duration:.1f} s of audio, "
                f"{result.segments} segment{'' if result.segments == 1 else 's'})" if result.status == "done"
                else f"failed: {result.error}")
        log(f"[{count[0]}/{len(todo)}] {result.id}: {what}; {rate:.1f} lines/min")

    stopped_by = 0
    with _StopSignals() as stop:
        try:
            if not todo:
                pass
            elif ray is None:
                _run_local(todo, out, settings, workers or os.cpu_count() or 1, finish, stop)
            else:
                _run_ray(todo, out, settings, workers, ray, finish, log, stop)
        except KeyboardInterrupt:
            stopped_by = int(stop.signum or signal.SIGINT)
        wall = time.perf_counter() - t0
        write_report(report, ordered())
    return BatchSummary(ordered(), wall, report, bool(stopped_by), stopped_by)


def _run_local(todo: list[tuple[Line, str]], out: Path, settings: BatchSettings, workers: int,
               finish: Callable[[LineResult], None], stop: _StopSignals) -> None:
    workers = min(workers, len(todo))
    if settings.threads is None:
        settings = BatchSettings(**{**asdict(settings), "threads": max(1, (os.cpu_count() or 1) // workers)})
    env = thread_env(settings.threads)
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)                              # inherited by the worker processes
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_init_process, initargs=(settings, os.getpid()))
    queue = list(reversed(todo))
    pending: dict = {}
    broken = ""                          # why the pool cannot take lines any more

    def fail(line: Line, why: str) -> None:
        finish(LineResult(line.id, "failed", audio=line.audio, line=line.number, worker="?",
                          error=f"the worker process stopped ({why})"))
    try:
        while queue or pending:
            # a few lines ahead of the workers, not all: waiting on a handful of futures is cheap
            while queue and len(pending) < 2 * workers and not broken:
                line, key = queue[-1]
                try:
                    pending[pool.submit(_run_in_process, line, key, str(out))] = line
                except BrokenProcessPool as exc:
                    broken = _message(exc)
                    break
                queue.pop()
            if broken and not pending:
                while queue:             # a worker died (killed, out of memory, a failed start): the pool is done
                    fail(queue.pop()[0], broken)
                break
            ready, _ = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            for future in ready:
                line = pending.pop(future)
                try:
                    result = future.result()
                except Exception as exc:     # the worker process died (or its result did not come back)
                    if stop.signum:
                        continue             # stopped with the batch: the line stays pending
                    if isinstance(exc, BrokenProcessPool):
                        broken = broken or _message(exc)
                    fail(line, _message(exc))
                    continue
                finish(result)
            stop.check()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        workers_left = set(multiprocessing.active_children()) - before
        for process in workers_left:
            process.kill()               # at once (they ignore SIGINT and SIGTERM); their saves are atomic
        for process in workers_left:
            process.join(5)
        raise
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    pool.shutdown()


def _run_ray(todo: list[tuple[Line, str]], out: Path, settings: BatchSettings, workers: int | None, address: str,
             finish: Callable[[LineResult], None], log: Callable[[str], None], stop: _StopSignals) -> None:
    """The lines as calls on Ray actors (one Worker each), fed as they become free. Uses the
    Ray connection this process already has, else connects (ray.init) and disconnects after."""
    try:
        import ray
    except ImportError:
        raise BatchError("--ray needs the 'ray' package: pip install 'avi-talking-studio[batch]' "
                         "(scripts/setup.sh installs it)") from None
    connected = ray.is_initialized()
    if not connected:
        if address == "local":
            local = workers or os.cpu_count() or 1
            ray.init(num_cpus=local * (settings.threads or max(1, (os.cpu_count() or 1) // local)),
                     include_dashboard=False, configure_logging=False)
        else:
            _check_reachable(address)
            try:
                ray.init(address=address, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise BatchError(f"cannot connect to the Ray cluster at {address}: {_message(exc)}") from exc
        stop.reclaim()
    actors: list = []
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        if settings.threads is None:
            threads = max(1, cpus // workers) if workers else 1
            settings = BatchSettings(**{**asdict(settings), "threads": threads})
        count = min(workers or max(1, cpus // settings.threads), len(todo))
        log(f"Ray: {count} worker{'s' if count > 1 else ''} of {settings.threads} thread"
            f"{'s' if settings.threads > 1 else ''} on a cluster of {cpus} CPUs")
        actor_class = ray.remote(num_cpus=settings.threads,
                                 runtime_env={"env_vars": thread_env(settings.threads)})(Worker)
        actors = [actor_class.remote(settings) for _ in range(count)]
        queue = list(reversed(todo))
        idle = list(actors)
        running: dict = {}
        while queue or running:
            while queue and idle:
                line, key = queue.pop()
                actor = idle.pop()
                running[actor.run.remote(line, key, str(out))] = (line, actor)
            if not running:              # every actor died: the rest cannot run
                for line, _ in reversed(queue):
                    finish(LineResult(line.id, "failed", audio=line.audio, line=line.number, worker="?",
                                      error="no Ray worker is left to run it"))
                return
            ready, _ = ray.wait(list(running), num_returns=1, timeout=POLL_S)
            stop.check()
            if not ready:
                continue
            line, actor = running.pop(ready[0])
            try:
                finish(ray.get(ready[0]))
                idle.append(actor)
            except ray.exceptions.RayError as exc:     # the actor died or could not start
                finish(LineResult(line.id, "failed", audio=line.audio, line=line.number, worker="?",
                                  error=f"the Ray worker stopped ({_message(exc)})"))
    finally:
        for actor in actors:
            ray.kill(actor)
        if not connected:
            ray.shutdown()


def _check_reachable(address: str) -> None:
    """Refuse a host:port nothing answers on at once (ray.init would retry for minutes)."""
    host, _, port = address.rpartition(":")
    if "://" in address or not host or not port.isdigit():
        return                           # "auto", ray://...: left to Ray
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise BatchError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); start one with "
                         f"`ray start --head` or use --ray local") from None


# --- the report ---------------------------------------------------------------------------

def write_report(path: Path, results: list[LineResult]) -> None:
    """OUTDIR/report.csv: one row per line (REPORT_COLUMNS), written atomically."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REPORT_COLUMNS)
    for r in results:
        w.writerow([r.line, r.id, r.status, r.audio, f"{r.duration:.3f}" if r.duration else "", r.segments or "",
                    *(f"{r.timings[s]:.3f}" if s in r.timings else "" for s in STAGES),
                    ";".join(r.outputs), r.worker, " | ".join(r.warnings), r.error])
    with atomic_write(path) as f:
        f.write(buf.getvalue().encode("utf-8"))


def read_report(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a report, as dicts keyed by REPORT_COLUMNS."""
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))
