r"""Make a training dataset from your own Live Link Face captures (see core/synth/captures.py).

    .venv/bin/python scripts/build_capture_dataset.py captures/ data/mine [--writer rules] [--instruction TEXT]
    .venv/bin/python scripts/train_motion.py --data data/mine --out runs/mine --init resources/motion \
        --steps 500 --lr 2e-4 --warmup 50

captures/ holds take01.csv + take01.wav (or .flac, .ogg, .mp3, .aiff; + take01.txt, what is
said), take02.csv + ...; files without a partner, unreadable files and pairs whose lengths
differ by more than 0.5 s are listed and skipped. The second command fine-tunes the shipped
model on the dataset (see scripts/train_motion.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.synth.captures import CaptureSkipped, build_capture_dataset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="folder of Live Link Face CSVs, each with its audio file of the same name")
    ap.add_argument("out", help="dataset folder to write")
    ap.add_argument("--fps", type=float, default=30.0, help="frame rate of the dataset, the model's (default 30)")
    ap.add_argument("--writer", default="rules", help="who writes the instructions: rules (default), smollm2, "
                                                      "a local model folder or an endpoint URL")
    ap.add_argument("--instruction", help="give every segment this instruction instead")
    args = ap.parse_args(argv)

    def progress(done: int, total: int, name: str) -> None:
        print(f"\r{done}/{total} captures {name}".ljust(60), end="", file=sys.stderr, flush=True)

    try:
        with warnings.catch_warnings():          # the skipped files are listed below, once
            warnings.simplefilter("ignore", CaptureSkipped)
            index = build_capture_dataset(args.source, args.out, fps=args.fps, instruction=args.instruction,
                                          writer=args.writer, progress=progress)
    except ValueError as exc:
        print(f"\nbuild_capture_dataset: error: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    b = index["build"]
    for line in b["skipped"]:
        print(f"skipped {line}", file=sys.stderr)
    frames = sum(i["frames"] for i in index["items"])
    print(f"{b['items']} captures ({b['heldout']} held out), {frames} frames = {frames / index['fps'] / 60:.1f} min "
          f"in {b['wall_seconds']} s; {len(b['skipped'])} skipped -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
