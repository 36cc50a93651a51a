"""Train the stage-2 motion model: a command line over core.synth.train.TrainConfig.

    .venv/bin/python scripts/train_motion.py --data data/motion --out runs/motion --steps 3000
    .venv/bin/python scripts/train_motion.py --data data/motion --out runs/motion --resume

Every TrainConfig field is a flag (--batch, --window, --lr, --cfg-dropout, ...) and every
MotionConfig field one with a model- prefix (--model-width 128, --model-dilations 1,2,4,8).
--stop-after N trains N steps of this call and checkpoints, so a long run can go in chunks.
--init CHECKPOINT fine-tunes: it starts from that model (say resources/motion) and keeps its
architecture and normalisation, e.g. on captures from scripts/build_capture_dataset.py:

    .venv/bin/python scripts/train_motion.py --data data/mine --out runs/mine --init resources/motion \
        --steps 500 --lr 2e-4 --warmup 50
Writes OUT/model.{safetensors,json} (load with core.motion.checkpoint.load_motion_model),
OUT/checkpoints/ and OUT/report.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.motion.model import MotionConfig  # noqa: E402
from core.synth.train import TrainConfig, latest_checkpoint, train  # noqa: E402


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in --out")
    p.add_argument("--stop-after", type=int, default=None, help="train at most this many steps in this call")
    p.add_argument("--no-progress", action="store_true")
    for prefix, cls in (("", TrainConfig), ("model-", MotionConfig)):
        defaults = cls()
        for f in fields(cls):
            if f.name == "model":
                continue
            value = getattr(defaults, f.name)
            kind = (lambda s: tuple(int(v) for v in s.split(","))) if isinstance(value, tuple) else type(value)
            p.add_argument(f"--{prefix}{f.name.replace('_', '-')}", dest=f"{prefix.replace('-', '_')}{f.name}",
                           type=kind, default=None, help=f"default {value}")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    given = {f.name: getattr(args, f"model_{f.name}") for f in fields(MotionConfig)
             if getattr(args, f"model_{f.name}") is not None}
    resuming = args.resume and latest_checkpoint(args.out or TrainConfig().out) is not None
    if args.init and not given and not resuming:     # fine-tuning: the checkpoint's own architecture
        from core.motion.checkpoint import read_meta, resolve
        try:
            model = MotionConfig.from_json(read_meta(resolve(args.init))["model"])
        except (OSError, ValueError, KeyError) as exc:
            raise SystemExit(f"--init {args.init}: not a motion checkpoint ({exc})") from None
    else:
        model = MotionConfig(**given)
    cfg = TrainConfig(model=model, **{f.name: getattr(args, f.name) for f in fields(TrainConfig)
                                      if f.name != "model" and getattr(args, f.name) is not None})
    if not cfg.data:
        raise SystemExit("--data is required")
    result = train(cfg, resume=args.resume, stop_after=args.stop_after, progress=not args.no_progress)
    r = result.report
    print(json.dumps({k: r[k] for k in ("step", "parameters", "wall_s", "steps_per_s", "final_train_loss",
                                        "final_heldout", "model")}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
