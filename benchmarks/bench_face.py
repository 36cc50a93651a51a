"""How much each ARKit shape shows on the preview head (issue 15's measure), against its target.

    .venv/bin/python benchmarks/bench_face.py [--size 256]

Per shape: the share of a face-sheet tile's pixels whose grey level changes by more than 20
against the neutral tile (core.face.sheet.shape_visibility); the targets are 2 % for the mouth,
jaw, cheek and tongue shapes and 0.6 % for the eye, brow and nose ones (the eye-look shapes have
none). Also the time to build the rig and to render the 53 tiles.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.face.build import build_rig  # noqa: E402
from core.face.sheet import shape_visibility, visibility_target  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256, help="tile width in pixels (the sheet's is 256)")
    args = ap.parse_args()
    t = time.perf_counter()
    rig = build_rig()
    built = time.perf_counter() - t
    t = time.perf_counter()
    seen = shape_visibility(rig, args.size)
    rendered = time.perf_counter() - t
    print(f"rig: {rig.num_vertices} vertices, built in {built * 1000:.0f} ms; 53 tiles of {args.size} px "
          f"rendered in {rendered:.1f} s\n")
    print("| shape | visible | target | met |\n|---|---|---|---|")
    met = scored = 0
    for name, share in seen.items():
        goal = visibility_target(name)
        ok = "" if goal is None else ("yes" if share >= goal else "no")
        if goal is not None:
            scored += 1
            met += share >= goal
        print(f"| {name} | {share * 100:.2f} % | {'-' if goal is None else f'{goal * 100:.1f} %'} | {ok} |")
    print(f"\n{met} of {scored} shapes meet their target")


if __name__ == "__main__":
    main()
