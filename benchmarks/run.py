"""Benchmarks of every stage on this machine, printed as one table.

    .venv/bin/python benchmarks/run.py [--quick]

Real parts throughout: the built-in head, a Mesa llvmpipe EGL context, the real writers.
Stages 1 and 2 run on 60 s of real speech (the pyannote sample twice); rendering and export
on the bundled demo take repeated to 60 s (30 fps). Real-time factor (RTF) = time
spent / duration of the take: below 1 is faster than real time.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.audio import Audio  # noqa: E402
from core.demo import demo_take  # noqa: E402
from core.face import load_rig  # noqa: E402
from core.track import FaceTrack  # noqa: E402

ROWS: list[tuple[str, str, str]] = []


def row(stage: str, figure: str, note: str = "") -> None:
    ROWS.append((stage, figure, note))
    print(f"  {stage:<34} {figure:<22} {note}", flush=True)


def long_take(seconds: float) -> tuple[FaceTrack, Audio]:
    track, audio = demo_take()
    reps = int(np.ceil(seconds / track.duration))
    frames = int(round(seconds * track.fps))
    data = np.tile(track.data, (reps, 1))[:frames]
    samples = np.tile(audio.samples, (reps, 1))[: int(seconds * audio.sample_rate)]
    return FaceTrack(track.fps, data), Audio(samples=samples, sample_rate=audio.sample_rate, name="demo60.wav")


def timed(fn, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def bench_rig(track: FaceTrack) -> None:
    t0 = time.perf_counter()
    load_rig.cache_clear()
    rig = load_rig()
    row("rig build (load_rig)", f"{(time.perf_counter() - t0) * 1000:.0f} ms",
        f"{rig.num_vertices} vertices, {len(rig.triangles)} triangles")
    w = track.weights
    per_frame = timed(lambda: [rig.evaluate(w[i]) for i in range(300)], 3) / 300
    row("rig evaluate, one frame", f"{per_frame * 1e3:.2f} ms", "active shapes only")
    whole = timed(lambda: rig.evaluate(w[:600]), 3)
    row("rig evaluate, 600 frames at once", f"{whole * 1e3:.0f} ms", f"{600 / whole:.0f} frames/s vectorised")


def bench_render(track: FaceTrack, frames: int) -> None:
    from core.render.offscreen import OffscreenRenderer
    rig = load_rig()
    for antialias in (False, True):
        with OffscreenRenderer(rig, 1280, 720, antialias=antialias) as r:
            r.render_rgba(track.data[0])
            t = timed(lambda: [r.render_rgba(track.data[i]) for i in range(frames)])
            row(f"render 1280x720, antialias {'on' if antialias else 'off'}", f"{frames / t:.1f} frames/s",
                f"{t / frames * 1e3:.1f} ms/frame incl. read-back")


def bench_exports(track: FaceTrack, audio: Audio, quick: bool) -> None:
    from core.export.fbx import write_fbx
    from core.export.gltf import write_glb
    from core.export.livelink import write_livelink_csv
    from core.export.video import write_video
    rig = load_rig()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for name, fn in (("FBX", lambda: write_fbx(d / "a.fbx", rig, track)),
                         ("GLB", lambda: write_glb(d / "a.glb", rig, track)),
                         ("Live Link CSV (60 rows/s)", lambda: write_livelink_csv(d / "a.csv", track, rate=60))):
            t = timed(fn, 2)
            size = next(d.glob("a.*")).stat().st_size
            for f in d.glob("a.*"):
                f.unlink()
            row(f"export {name}", f"{t:.2f} s", f"RTF {t / track.duration:.4f}, {size / 1e6:.1f} MB")
        video_track = FaceTrack(track.fps, track.data[: int(10 * track.fps)]) if quick else track
        t = timed(lambda: write_video(d / "a.mp4", rig, video_track, audio))
        row(f"export MP4 1280x720 ({video_track.duration:.0f} s take)", f"{t:.1f} s",
            f"RTF {t / video_track.duration:.2f}, {video_track.frames / t:.1f} frames/s")


def bench_stages(tmp: Path) -> None:
    """Both stages on 60 s of real speech: `avitalk listen` and `avitalk generate` in fresh
    processes (start-up and model loads count), then stage 2 alone in this process: the whole
    take, and one ~5 s segment regenerated (what an edit in the studio costs)."""
    import re
    import subprocess
    import soundfile as sf
    sample = Path(__file__).resolve().parents[1] / "tests" / "data" / "listen" / "sample.wav"
    x, rate = sf.read(sample, dtype="float32")
    wav = tmp / "speech60.wav"
    sf.write(wav, np.concatenate([x, x])[: 60 * rate], rate)
    avitalk = Path(sys.executable).with_name("avitalk")
    for writer in ("rules", "minilm", "smollm2"):
        t = time.perf_counter()
        out = subprocess.run([str(avitalk), "listen", str(wav), "-o", str(tmp / f"{writer}.avtp"), "--writer", writer],
                             capture_output=True, text=True, check=True).stdout
        wall = time.perf_counter() - t
        m = re.search(r"(\d+) segments.*listening ([\d.]+) s, instructions ([\d.]+) s", out)
        row(f"listen + instruct 60 s speech ({writer})", f"{wall:.1f} s",
            f"RTF {wall / 60:.2f} incl. start-up; listening {m.group(2)} s, instructions {m.group(3)} s, "
            f"{m.group(1)} segments")
    t = time.perf_counter()
    subprocess.run([str(avitalk), "generate", str(wav), "-o", str(tmp / "g.avtp")],
                   capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    row("avitalk generate 60 s speech", f"{wall:.1f} s", f"RTF {wall / 60:.2f}: both stages, fresh process, the default writer")

    from core.motion.checkpoint import load_default_model
    from core.pipeline import animate, instruction_embeddings, regenerate
    from core.project import MAIN_TRACK, load_project
    project = load_project(tmp / "rules.avtp")
    bundle = load_default_model()
    instruction_embeddings(project.segments)               # the text model loads once
    t = timed(lambda: project.tracks.__setitem__(MAIN_TRACK, animate(project, bundle)), repeat=3)
    row("stage 2, whole 60 s take", f"{t:.2f} s",
        f"RTF {t / 60:.3f}; {project.settings.sampling_steps} steps, {bundle.model.parameters_count:,} parameters")
    k = min(range(len(project.segments)), key=lambda i: abs(project.segments[i].end - project.segments[i].start - 5))
    seg = project.segments[k]
    times = []
    for seed in range(10):
        seg.seed = seed
        t0 = time.perf_counter()
        regenerate(project, k, bundle)
        times.append(time.perf_counter() - t0)
    row(f"regenerate one {seg.end - seg.start:.1f} s segment", f"{1000 * float(np.median(times)):.0f} ms",
        f"median of 10 seeds ({1000 * min(times):.0f}-{1000 * max(times):.0f} ms), 1 s inpainting context each side")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer frames (a smoke run)")
    args = parser.parse_args()
    track, audio = long_take(60.0)
    print(f"AVI-Talking Studio benchmarks on {platform.machine()}, {platform.python_version()}, "
          f"take {track.duration:.0f} s at {track.fps:g} fps")
    with tempfile.TemporaryDirectory() as tmp:
        bench_stages(Path(tmp))
    bench_rig(track)
    bench_render(track, 60 if args.quick else 300)
    bench_exports(track, audio, args.quick)
    print("\n| stage | figure | note |\n|---|---|---|")
    for stage, figure, note in ROWS:
        print(f"| {stage} | {figure} | {note} |")


if __name__ == "__main__":
    main()
