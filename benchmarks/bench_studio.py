"""The studio's responsiveness: edit-to-viewport latency and the longest UI stall while the worker runs.

    xvfb-run -a .venv/bin/python benchmarks/bench_studio.py [--edits 6] [--profile]

Opens a real window (Xvfb, Mesa llvmpipe) on 20 s of real speech animated by the shipped
model and edits one ~5 s segment's emotion again and again as a user would (through the
inspector's emotion box), first while it plays, then paused in the segment (the cache is
emptied before each edit, so every edit runs the model). For each edit: the time from the edit
to the viewport having painted the regenerated motion, and the
longest gap between two ticks of the UI clock (15 ms timer) while the worker regenerates
(a gap is how long the UI could not respond), and the viewport's frame rate meanwhile: for the
30 fps take, and drawing as fast as it can (its ceiling).
--profile says what the UI thread ran during each longest gap.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
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
from core.project import EMOTIONS, MAIN_TRACK  # noqa: E402
from studio.app import MainWindow, configure_opengl  # noqa: E402


SPANS: list[tuple[float, float, str]] = []      # (start, end, name) of UI-thread calls, with --profile


def profile_ui() -> None:
    """Time the studio's UI-thread entry points (class-level, before the window exists), so the
    longest stall can be blamed on what ran during it."""
    from studio.app import MainWindow as W
    from studio.curves import CurvesPanel
    from studio.inspector import Inspector
    from studio.timeline import Timeline
    from studio.viewport import FaceWindow
    targets = [(W, n) for n in ("tick", "_job_finished", "_job_progress", "_segments_changed", "_stale_changed",
                                "_track_changed", "_submit_stale", "_selection_changed", "_busy_changed")]
    targets += [(FaceWindow, "paintGL"), (Timeline, "set_segments"), (CurvesPanel, "_redraw"),
                (CurvesPanel, "set_previous"), (Inspector, "show_segment")]
    for cls, name in targets:
        original = getattr(cls, name)

        def timed(self, *a, _original=original, _name=f"{cls.__name__}.{name}"):
            t0 = time.perf_counter()
            try:
                return _original(self, *a)
            finally:
                SPANS.append((t0, time.perf_counter(), _name))
        setattr(cls, name, timed)


def blame(t0: float, t1: float) -> str:
    """What the UI thread ran between t0 and t1, longest first."""
    total: dict[str, float] = {}
    for a, b, name in SPANS:
        overlap = min(b, t1) - max(a, t0)
        if overlap > 0:
            total[name] = total.get(name, 0.0) + overlap
    return ", ".join(f"{n} {1000 * d:.0f} ms" for n, d in sorted(total.items(), key=lambda kv: -kv[1])[:6])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edits", type=int, default=6)
    ap.add_argument("--profile", action="store_true", help="say what the UI thread ran during each longest stall")
    args = ap.parse_args()
    if args.profile:
        profile_ui()
    configure_opengl()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    tmp = Path(tempfile.mkdtemp())
    x, rate = sf.read(ROOT / "tests" / "data" / "listen" / "sample.wav")
    sf.write(tmp / "speech.wav", x[: 20 * rate], rate)
    bundle = load_default_model()
    audio = load_audio(tmp / "speech.wav")
    project = make_project(audio, listen_and_instruct(audio, writer=make_writer("rules")), bundle.fps)
    project.tracks[MAIN_TRACK] = animate(project, bundle)
    window = MainWindow(project, None, settings=QSettings(str(tmp / "s.ini"), QSettings.IniFormat),
                        autosave_folder=tmp / "autosave", writer="rules")
    window.show()
    wait(app, lambda: window.viewport.renderer is not None)
    index = min(range(len(project.segments)),
                key=lambda i: abs(project.segments[i].end - project.segments[i].start - 5.0))
    seg = window.doc.project.segments[index]
    print(f"segment {index}: {seg.end - seg.start:.1f} s; {bundle.model.parameters_count:,} parameters, "
          f"{project.settings.sampling_steps} steps")

    ticks: list[float] = []
    original_tick = window.tick

    def tick() -> None:
        ticks.append(time.perf_counter())
        original_tick()
    window.timer.timeout.disconnect()
    window.timer.timeout.connect(tick)
    latencies = {"playing": [], "paused": []}
    stalls, fps = [], []
    shown, due = [], []            # frames painted, and frames of the take that came up, per edit
    for phase, edits in latencies.items():
        window.playback.play() if phase == "playing" else window.playback.pause()
        for k in range(args.edits):
            emotion = EMOTIONS[1 + k % (len(EMOTIONS) - 1)]
            if window.doc.project.segments[index].instruction.emotion == emotion:
                emotion = EMOTIONS[0]
            window.doc.select(index)
            window.doc.session._cache.clear()        # every edit computed, none served from the cache
            if phase == "paused":                    # looking at the segment being edited
                window.playback.seek((seg.start + seg.end) / 2)
                settle = time.perf_counter() + 0.1
                wait(app, lambda: time.perf_counter() > settle)
            app.processEvents()
            ticks.clear()
            drawn = window.viewport.frames_drawn
            frame_from = int(window.playback.position * window.doc.track.fps)
            start = time.perf_counter()
            window.inspector.emotion.setCurrentIndex(window.inspector.emotion.findText(emotion))
            if phase == "paused":                    # nothing else paints: the first paint shows the result
                wait(app, lambda: not window.doc.stale and window.viewport.frames_drawn > drawn)
            else:                                    # the next paint after the result shows it
                wait(app, lambda: not window.doc.stale)
                painted = window.viewport.frames_drawn
                wait(app, lambda: window.viewport.frames_drawn > painted)
            took = time.perf_counter() - start
            frame_to = int(window.playback.position * window.doc.track.fps)
            times = [start] + ticks + [time.perf_counter()]
            if window.playback.position > window.playback.duration - 1:
                window.playback.seek(0.0)
            edits.append(took)
            if phase == "playing":
                gaps = np.diff(times)
                fps.append((window.viewport.frames_drawn - drawn) / took)
                shown.append(window.viewport.frames_drawn - drawn)
                due.append(frame_to - frame_from)
                stalls.append(float(gaps.max()))
                if args.profile:
                    k_max = int(gaps.argmax())
                    print(f"edit {k}: longest gap {1000 * gaps.max():.0f} ms; UI thread ran: "
                          f"{blame(times[k_max], times[k_max + 1]) or 'nothing timed (worker, GIL or drawing)'}")
    window.playback.play()
    # The viewport's own ceiling: redraw as fast as it can (each swap asks for the next frame)
    # during a few more regenerations, each a new variation so the cache cannot serve it.
    face = window.viewport.face
    face.frameSwapped.connect(face.update)
    capacity = []
    for _ in range(3):
        window.doc.select(index)
        app.processEvents()
        drawn, start = window.viewport.frames_drawn, time.perf_counter()
        window.inspector.variation.click()
        wait(app, lambda: not window.doc.stale and not window.worker.busy)
        capacity.append((window.viewport.frames_drawn - drawn) / (time.perf_counter() - start))
        if window.playback.position > window.playback.duration - 1:
            window.playback.seek(0.0)
    face.frameSwapped.disconnect(face.update)
    window.doc.undo_stack.setClean()
    window.close()
    st = np.array(stalls) * 1000
    debounce = window._regen_timer.interval()
    print("| studio | figure | note |\n|---|---|---|")
    for phase, edits in latencies.items():
        lat = np.array(edits) * 1000
        print(f"| edit to regenerated {seg.end - seg.start:.1f} s segment on screen, {phase} | {np.median(lat):.0f} ms "
              f"| median of {len(lat)} edits ({lat.min():.0f}-{lat.max():.0f} ms), incl. the {debounce} ms debounce |")
    print(f"| longest UI stall while regenerating | {np.median(st):.0f} ms | median over edits of the longest gap "
          f"between 15 ms UI ticks (worst {st.max():.0f} ms) |")
    print(f"| viewport frame rate while regenerating | {np.median(fps):.0f} fps | median over edits, frames "
          f"painted from the edit to the result (lowest {min(fps):.0f} fps), Xvfb + Mesa llvmpipe |")
    print(f"| viewport drawing as fast as it can while regenerating | {np.median(capacity):.0f} fps | median of "
          f"{len(capacity)} regenerations (lowest {min(capacity):.0f} fps): what it could show of a faster take |")
    print(f"| take frames that came up while regenerating, and paints | {sum(due)}, {sum(shown)} | frames of the "
          f"{window.doc.track.fps:g} fps take due during all regenerating edits, and how many times the viewport painted |")


if __name__ == "__main__":
    main()
