"""Make a training dataset from your own Live Link Face captures (see core/synth/captures.py).

    .venv/bin/python scripts/build_capture_dataset.py captures/ data/mine [--writer rules] [--instruction TEXT]

captures/ holds take01.csv + take01.wav (+ take01.txt, what is said), take02.csv + ...; the
dataset is then fine-tuned on with scripts/train_motion.py --data data/mine --init resources/motion.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.synth.captures import build_capture_dataset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source", help="folder of Live Link Face CSVs, each with its audio file of the same name")
    ap.add_argument("out", help="dataset folder to write")
    ap.add_argument("--fps", type=float, default=30.0, help="frame rate of the dataset (the model's; default 30)")
    ap.add_argument("--writer", default="rules", help="who writes the instructions: rules, smollm2 or a model folder")
    ap.add_argument("--instruction", help="give every segment this instruction instead")
    args = ap.parse_args(argv)

    def progress(done: int, total: int, name: str) -> None:
        print(f"\r{done}/{total} captures {name}".ljust(60), end="", file=sys.stderr, flush=True)

    try:
        report = build_capture_dataset(args.source, args.out, fps=args.fps, instruction=args.instruction,
                                       writer=args.writer, progress=progress)
    except ValueError as exc:
        print(f"\nbuild_capture_dataset: error: {exc}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    for line in report.skipped:
        print(f"skipped {line}", file=sys.stderr)
    items = report.index["items"]
    frames = sum(i["frames"] for i in items)
    held = sum(1 for i in items if i["split"] == "heldout")
    print(f"{len(items)} captures ({held} held out), {frames / args.fps / 60:.1f} min -> {args.out}; "
          f"{len(report.skipped)} skipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
