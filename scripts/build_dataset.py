"""Build stage 2's synthetic training data (see core/synth/dataset.py for the format).

    .venv/bin/python scripts/build_dataset.py /tmp/avitalk-data --count 300 --workers 2 --seed 0

Resumable: run it again with the same folder and seed (and a larger --count to extend it).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from core.synth.dataset import build_dataset  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", help="dataset folder (created; resumed if it holds a build with the same seed)")
    ap.add_argument("--count", type=int, default=300, help="number of utterances (default 300)")
    ap.add_argument("--seed", type=int, default=0, help="build seed (default 0)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes (default 2; 1 = in this process)")
    ap.add_argument("--heldout-fraction", type=float, default=0.12, help="share of held-out items (default 0.12)")
    ap.add_argument("--languages", default="", help="speak the items in these languages instead of English, "
                    "comma-separated (es,fr,de,it,pt,ru: core.synth.corpus_languages)")
    args = ap.parse_args(argv)
    start = time.perf_counter()

    def progress(done: int, total: int, stats: dict) -> None:
        elapsed = time.perf_counter() - start
        built = len(stats["seconds"])
        rate = f", {elapsed / built:.2f} s/item wall" if built else ""
        print(f"\r{done}/{total} items ({stats['failed']} failed{rate})", end="", file=sys.stderr, flush=True)

    index = build_dataset(args.folder, args.count, seed=args.seed, workers=args.workers,
                          heldout_fraction=args.heldout_fraction, progress=progress,
                          languages=tuple(x.strip() for x in args.languages.split(",") if x.strip()))
    print(file=sys.stderr)
    items = index["items"]
    frames = sum(i["frames"] for i in items)
    held = sum(1 for i in items if i["split"] == "heldout")
    b = index["build"]
    print(f"{len(items)} items ({held} held out), {frames} frames = {frames / index['fps'] / 60:.1f} min of speech; "
          f"built {b['built_now']} now in {b['wall_seconds']} s ({b['mean_item_seconds']} s per item in a worker); "
          f"{b['failed']} failed -> {args.folder}")
    return 1 if b["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
