"""Batch throughput: lines per minute for many short dialogue lines, locally with 1 and 2 worker
processes and through a local Ray instance.

    .venv/bin/python benchmarks/bench_batch.py [--lines 200] [--writer minilm|smollm2|rules] [--exports fbx;csv]
                                               [--ray-workers 2] [--keep DIR]

Makes --lines lines of real speech, 2-4 s each, cut at random places (seed 0) from the pyannote
sample (tests/data/listen/sample.wav), writes a CSV manifest and runs the whole batch three
times into fresh folders with `core.batch.run_batch`, as `avitalk batch` does: 1 worker, 2
workers, and Ray (`--ray local`, --ray-workers actors). Each worker loads the listener, the
writer and the motion model once.

Prints per run: lines per minute over the whole wall time (start-up included), the start-up
(until the first line is finished, less its own time), lines per minute once every worker has
finished a line, and the per-line latency in a worker (median and 90th percentile, and the
median of each stage). Then how throughput scales with workers, and how many lines came out bit
for bit the same through Ray as in the local run with as many threads per worker.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.batch import BatchSettings, BatchSummary, run_batch  # noqa: E402
from core.instruct import DEFAULT_WRITER  # noqa: E402
from core.project import load_project  # noqa: E402

SAMPLE = ROOT / "tests" / "data" / "listen" / "sample.wav"


def make_lines(folder: Path, count: int, exports: str) -> Path:
    """`count` WAV files of 2-4 s cut from the sample, and their manifest."""
    x, rate = sf.read(SAMPLE)
    rng = np.random.default_rng(0)
    rows = ["id,audio,seed,exports"]
    for k in range(count):
        seconds = rng.uniform(2.0, 4.0)
        start = rng.uniform(0.0, len(x) / rate - seconds)
        name = f"line{k:04d}"
        sf.write(folder / f"{name}.wav", x[int(start * rate):int((start + seconds) * rate)], rate)
        rows.append(f"{name},{name}.wav,{k},{exports}")
    manifest = folder / "lines.csv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return manifest


def timed_run(manifest: Path, out: Path, settings: BatchSettings, **how) -> tuple[BatchSummary, list[float]]:
    """The batch's summary and the times (s from the start) at which each line finished."""
    finished: list[float] = []
    t0 = time.perf_counter()

    def log(text: str) -> None:
        if text.startswith("["):
            finished.append(time.perf_counter() - t0)
    return run_batch(manifest, out, settings, log=log, **how), finished


def describe(name: str, summary: BatchSummary, finished: list[float], workers: int) -> dict:
    """Start-up: until the first line is finished, less that line's own time. After it: the
    rate from the moment every worker has finished a line to the last line."""
    done = [r for r in summary.results if r.status == "done"]
    totals = sorted(r.timings["total"] for r in done)
    startup = finished[0] - done[0].timings["total"] if finished and done else float("nan")
    k = min(workers, len(finished) - 1) - 1
    steady = 60.0 * (len(finished) - 1 - k) / (finished[-1] - finished[k]) if k >= 0 else float("nan")
    stages = {s: statistics.median(r.timings[s] for r in done) for s in ("listen", "instruct", "animate", "save",
                                                                         "export")} if done else {}
    return {"name": name, "done": len(done), "failed": summary.count("failed"), "wall": summary.wall,
            "rate": summary.lines_per_minute, "startup": startup, "steady": steady,
            "median": statistics.median(totals) if totals else float("nan"),
            "p90": totals[int(0.9 * (len(totals) - 1))] if totals else float("nan"), "stages": stages}


def same_lines(a: Path, b: Path, ids: list[str]) -> tuple[int, float]:
    """How many lines have identical projects (segments and motion) in a and b, and the largest
    motion difference among the others of the same length."""
    same, worst = 0, 0.0
    for ident in ids:
        p, q = load_project(a / ident / f"{ident}.avtp"), load_project(b / ident / f"{ident}.avtp")
        x, y = p.main_track.data, q.main_track.data
        if [asdict(s) for s in p.segments] == [asdict(s) for s in q.segments] and np.array_equal(x, y):
            same += 1
        elif x.shape == y.shape:
            worst = max(worst, float(np.abs(x - y).max()))
    return same, worst


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--writer", default=DEFAULT_WRITER, help=f"instruction writer (default: {DEFAULT_WRITER}, as "
                                                            "`avitalk batch` uses)")
    ap.add_argument("--exports", default="", help="exports of every line, e.g. 'fbx;csv' (default: the project only)")
    ap.add_argument("--ray-workers", type=int, default=2, help="Ray actors (default 2)")
    ap.add_argument("--keep", help="write the lines and the outputs here instead of a temporary folder")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        manifest = make_lines(folder, args.lines, args.exports)
        settings = BatchSettings(writer=args.writer)
        cores = os.cpu_count() or 1
        print(f"{args.lines} lines of 2-4 s of real speech, writer {args.writer}, exports {args.exports or 'none'}; "
              f"{platform.processor() or platform.machine()}, {cores} cores", flush=True)
        runs = []
        for name, how in (("local, 1 worker", {"workers": 1}), ("local, 2 workers", {"workers": 2}),
                          (f"Ray local, {args.ray_workers} workers", {"workers": args.ray_workers, "ray": "local"})):
            out = folder / name.replace(",", "").replace(" ", "_")
            summary, finished = timed_run(manifest, out, settings, **how)
            runs.append((describe(name, summary, finished, how["workers"]), out))
            print(f"  {name}: {summary.count('done')} done, {summary.count('failed')} failed in "
                  f"{summary.wall:.1f} s", flush=True)

        print()
        print("| run | lines/min (wall) | start-up s | lines/min after start-up | line latency median / p90 s |"
              " listen / instruct / animate / save / export s (median) |")
        print("|---|---|---|---|---|---|")
        for r, _ in runs:
            st = r["stages"]
            print(f"| {r['name']} | {r['rate']:.1f} | {r['startup']:.1f} | {r['steady']:.1f} | "
                  f"{r['median']:.2f} / {r['p90']:.2f} | "
                  f"{' / '.join(f'{st[s]:.2f}' for s in ('listen', 'instruct', 'animate', 'save', 'export'))} |")

        one, two = runs[0][0], runs[1][0]
        gain = two["steady"] / one["steady"]
        print()
        print(f"Scaling: 1 -> 2 workers gives x{gain:.2f} after start-up ({gain / 2:.0%} of linear) on {cores} cores. "
              f"Throughput is about the per-worker rate ({one['steady']:.1f} lines/min here) times the workers, "
              f"up to the number of cores: each worker keeps one core busy with its own thread(s); past the "
              f"cores, more workers only share them. Each worker starts by loading the models "
              f"(~{one['startup']:.0f} s), which a long batch pays once.")
        ids = [f"line{k:04d}" for k in range(args.lines)]
        ids = [i for i in ids if (runs[1][1] / i / f"{i}.avtp").is_file() and (runs[2][1] / i / f"{i}.avtp").is_file()]
        same, worst = same_lines(runs[1][1], runs[2][1], ids)
        print(f"Ray vs local with 2 workers (1 thread each): {same} of {len(ids)} lines identical bit for bit"
              + (f"; the others differ by up to {worst:.3g} (lines Whisper had to decode by sampling)"
                 if same < len(ids) else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
