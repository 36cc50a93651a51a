"""Long-session reliability: many random edits, undos and regenerations on a long take in the studio.

    xvfb-run -a .venv/bin/python benchmarks/bench_session.py [--minutes 3] [--ops 100] [--seed 0]

Opens a real window (Xvfb, Mesa llvmpipe) on a take of real speech (the pyannote sample
repeated to --minutes), listened to with the rule-based writer and animated by the shipped
model, plays it, and runs --ops random operations as a user would: change a segment's emotion
in the inspector, press "New variation", retime, split at the playhead, merge, delete, undo,
redo; about every third operation waits for the background regeneration to finish, the rest
pile up so that later edits cancel earlier jobs. Then it waits for all work, saves, reopens
the file and compares it with the window's project.

Prints: operations run, regenerations applied, resident memory and OS threads after the
warm-up (10 operations) and at the end (memory growth per 100 operations), whether the worker
thread stopped when the window closed and any Python thread left,
whether the reopened project is identical, and the wall time. Exits non-zero on a failure.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from ui_wait import wait  # noqa: E402

from core.audio import load_audio  # noqa: E402
from core.instruct import make_writer  # noqa: E402
from core.motion.checkpoint import load_default_model  # noqa: E402
from core.pipeline import animate, listen_and_instruct, make_project  # noqa: E402
from core.project import EMOTIONS, MAIN_TRACK, load_project  # noqa: E402
from studio.app import MainWindow, configure_opengl  # noqa: E402
from studio.jobs import running_workers  # noqa: E402


def rss_mb() -> float:
    """Resident memory of this process, MiB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2 ** 20


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def idle(window: MainWindow) -> bool:
    return not window.worker.busy and not window.doc.stale and not window._regen_timer.isActive()


def make_take(folder: Path, minutes: float) -> Path:
    x, rate = sf.read(ROOT / "tests" / "data" / "listen" / "sample.wav")
    n = int(minutes * 60 * rate)
    path = folder / "long.wav"
    sf.write(path, np.tile(x, int(np.ceil(n / len(x))))[:n], rate)
    return path


def operation(rng: random.Random, window: MainWindow) -> str:
    """One random user operation; returns its name."""
    doc, segs = window.doc, window.doc.project.segments
    i = rng.randrange(len(segs))
    kind = rng.choices(["emotion", "variation", "retime", "split", "merge", "delete", "undo", "redo"],
                       weights=[5, 3, 2, 1, 1, 1, 3, 2])[0]
    if kind == "emotion":
        doc.select(i)
        QApplication.processEvents()
        combo = window.inspector.emotion
        combo.setCurrentIndex(combo.findText(rng.choice([e for e in EMOTIONS if e != combo.currentText()])))
    elif kind == "variation":
        doc.select(i)
        QApplication.processEvents()
        window.inspector.variation.click()
    elif kind == "retime":
        s = segs[i]
        lo = segs[i - 1].end if i > 0 else 0.0
        hi = segs[i + 1].start if i + 1 < len(segs) else window.playback.duration
        start = min(max(lo, s.start + rng.uniform(-0.3, 0.3)), s.end - 0.5)
        end = max(min(hi, s.end + rng.uniform(-0.3, 0.3)), start + 0.5)
        doc.retime(i, start, end)
    elif kind == "split" and segs[i].end - segs[i].start > 2.0:
        doc.split(i, (segs[i].start + segs[i].end) / 2)
    elif kind == "merge" and i + 1 < len(segs):
        doc.merge_with_next(i)
    elif kind == "delete" and len(segs) > 3:
        doc.delete(i)
    elif kind == "undo" and doc.undo_stack.canUndo():
        doc.undo_stack.undo()
    elif kind == "redo" and doc.undo_stack.canRedo():
        doc.undo_stack.redo()
    else:
        return "skipped"
    return kind


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=3.0)
    ap.add_argument("--ops", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    configure_opengl()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp())
    wall = time.perf_counter()
    bundle = load_default_model()
    audio = load_audio(make_take(tmp, args.minutes))
    project = make_project(audio, listen_and_instruct(audio, writer=make_writer("rules")), bundle.fps)
    project.tracks[MAIN_TRACK] = animate(project, bundle)
    print(f"take: {audio.duration:.0f} s, {len(project.segments)} segments, ready in "
          f"{time.perf_counter() - wall:.0f} s", flush=True)
    threads_before, py_before = os_threads(), set(threading.enumerate())

    window = MainWindow(project, None, settings=QSettings(str(tmp / "s.ini"), QSettings.IniFormat),
                        autosave_folder=tmp / "autosave", writer="rules")
    window.show()
    wait(app, lambda: window.viewport.renderer is not None)
    window.playback.play()
    applied = 0
    original_apply = window.doc.apply_result

    def counting_apply(span, frames):
        nonlocal applied
        done = original_apply(span, frames)
        applied += bool(done)
        return done
    window.doc.apply_result = counting_apply

    rng = random.Random(args.seed)
    counts: dict[str, int] = {}
    rss_warm = None
    t_ops = time.perf_counter()
    for k in range(args.ops):
        name = "skipped"
        while name == "skipped":                # an operation that cannot apply now is drawn again
            name = operation(rng, window)
        counts[name] = counts.get(name, 0) + 1
        app.processEvents()
        if k % 3 == 2:
            wait(app, lambda: idle(window))
        if window.playback.position > window.playback.duration - 1:
            window.playback.seek(0.0)
        if k == min(9, args.ops - 1):
            wait(app, lambda: idle(window))
            gc.collect()
            rss_warm, threads_warm = rss_mb(), os_threads()
    wait(app, lambda: idle(window))
    ops_s = time.perf_counter() - t_ops
    gc.collect()
    rss_end, threads_end = rss_mb(), os_threads()

    path = tmp / "session.avtp"
    if not window.save_to(path):
        print("FAILED: the project could not be saved")
        return 1
    live = window.doc.project
    reopened = load_project(path)
    same_segments = [(s.start, s.end, s.instruction, s.seed) for s in live.segments] == \
                    [(s.start, s.end, s.instruction, s.seed) for s in reopened.segments]
    same_motion = np.array_equal(live.tracks[MAIN_TRACK].data, reopened.tracks[MAIN_TRACK].data)
    window.close()
    app.processEvents()
    stopped = not running_workers()
    py_left = [t.name for t in threading.enumerate() if t not in py_before and t.is_alive()
               and type(t).__name__ not in ("_DummyThread", "TMonitor")]
    threads_after = os_threads()

    growth = (rss_end - rss_warm) * 100 / max(1, args.ops - 10)
    print(f"operations: {args.ops} ({', '.join(f'{n} {c}' for n, c in sorted(counts.items()))}) in {ops_s:.0f} s; "
          f"{applied} regenerations applied")
    print("| long session | figure | note |\n|---|---|---|")
    print(f"| resident memory | {rss_warm:.0f} -> {rss_end:.0f} MiB | after 10 operations -> after {args.ops}; "
          f"{growth:+.1f} MiB per 100 operations |")
    print(f"| OS threads | {threads_warm} -> {threads_end} | after 10 operations -> after {args.ops} "
          f"({threads_before} before the window opened, {threads_after} after it closed); worker stopped: "
          f"{stopped}; new Python threads left: {py_left or 'none'} |")
    print(f"| saved project reopens identical | {same_segments and same_motion} | segments "
          f"{'same' if same_segments else 'DIFFER'}, motion {'bit-identical' if same_motion else 'DIFFERS'} |")
    print(f"| wall time | {time.perf_counter() - wall:.0f} s | {audio.duration / 60:.1f} min take |")
    ok = same_segments and same_motion and stopped and not py_left and threads_end <= threads_warm
    if not ok:
        print("FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
