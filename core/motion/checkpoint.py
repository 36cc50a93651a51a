"""Motion-model checkpoints: weights (safetensors) with a JSON sidecar that carries the config.

A checkpoint is two files with one stem:

    model.safetensors   tensors "ema.<param>" (the weights to use) and optionally "raw.<param>"
    model.json          {"format": 1, "model": MotionConfig, "normalisation": {"mean", "std"},
                         "null_instruction": [...], "fps": 30.0, "step": ..., ...}

The sidecar is written last, so a checkpoint whose JSON exists is complete; both files are
written atomically. Loading needs only this module and the model: inference never imports
the training package (core.synth).

The default weights ship in the package: resources/motion/model.{safetensors,json} (trained
here on the CPU; resources/motion/report.md says how). `AVITALK_MOTION_MODEL` (a checkpoint
file or folder) replaces them, as does the `--model` option of the commands.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save

from core.fileio import atomic_write
from core.motion.model import Denoiser, MotionConfig

FORMAT = 1
DEFAULT_MODEL = Path(str(files("resources").joinpath("motion", "model.safetensors")))


@dataclass
class Normalisation:
    """Per-channel mean and std of the training motion; the model works on (x - mean) / std."""

    mean: np.ndarray
    std: np.ndarray

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, np.float32)
        self.std = np.asarray(self.std, np.float32)

    def normalise(self, motion: np.ndarray) -> np.ndarray:
        return ((np.asarray(motion, np.float32) - self.mean) / self.std).astype(np.float32)

    def denormalise(self, motion: np.ndarray) -> np.ndarray:
        return (np.asarray(motion, np.float32) * self.std + self.mean).astype(np.float32)

    def to_json(self) -> dict:
        return {"mean": [float(v) for v in self.mean], "std": [float(v) for v in self.std]}

    @classmethod
    def from_json(cls, d: dict) -> Normalisation:
        return cls(np.array(d["mean"], np.float32), np.array(d["std"], np.float32))


@dataclass
class MotionBundle:
    """Everything inference needs: the denoiser (eval mode, EMA weights) and how to use it."""

    model: Denoiser
    normalisation: Normalisation
    config: MotionConfig
    null_instruction: np.ndarray          # (E,) the embedding the model learned as "no instruction"
    fps: float
    meta: dict = field(default_factory=dict)   # the whole sidecar (training config, step, losses)


def sidecar(path: str | os.PathLike) -> Path:
    return Path(path).with_suffix(".json")


def save_motion_checkpoint(path: str | os.PathLike, weights: dict[str, dict[str, torch.Tensor]], meta: dict,
                           dtype: torch.dtype | None = None) -> Path:
    """Write `path` (.safetensors) with {"ema": state_dict, "raw": state_dict, ...} and its sidecar.

    meta must hold "model" (MotionConfig.to_json()), "normalisation", "null_instruction" and "fps".
    dtype (e.g. torch.float16) shrinks a checkpoint meant for shipping; loading casts back.
    """
    path = Path(path).with_suffix(".safetensors")
    for key in ("model", "normalisation", "null_instruction", "fps"):
        if key not in meta:
            raise ValueError(f"checkpoint metadata lacks {key!r}")
    if "ema" not in weights:
        raise ValueError("a checkpoint needs the EMA weights")
    tensors = {}
    for prefix, state in weights.items():
        for name, t in state.items():
            t = t.detach().cpu()
            tensors[f"{prefix}.{name}"] = (t.to(dtype) if dtype is not None and t.is_floating_point() else t).contiguous()
    with atomic_write(path) as f:
        f.write(save(tensors, metadata={"format": str(FORMAT)}))
    with atomic_write(sidecar(path)) as f:
        f.write(json.dumps({"format": FORMAT, **meta}, indent=1).encode())
    return path


def read_meta(path: str | os.PathLike) -> dict:
    meta = json.loads(sidecar(path).read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"{sidecar(path)}: unknown motion checkpoint format {meta.get('format')!r}")
    return meta


def load_state(path: str | os.PathLike, prefix: str = "ema") -> dict[str, torch.Tensor]:
    """One set of weights ("ema" or "raw") from a checkpoint, as float32 tensors."""
    tensors = load_file(str(Path(path).with_suffix(".safetensors")))
    p = prefix + "."
    state = {k[len(p):]: (v.float() if v.is_floating_point() else v) for k, v in tensors.items() if k.startswith(p)}
    if not state:
        raise ValueError(f"{path}: no {prefix!r} weights in this checkpoint")
    return state


def resolve(path: str | os.PathLike) -> Path:
    """A checkpoint path from a .safetensors or .json path, or a folder (its model.safetensors,
    else its newest complete checkpoint under checkpoints/)."""
    path = Path(path)
    if path.is_dir():
        if (path / "model.json").exists():
            return path / "model.safetensors"
        found = sorted((path / "checkpoints").glob("step_*.json")) if (path / "checkpoints").is_dir() else []
        if not found:
            raise FileNotFoundError(f"{path}: no motion checkpoint in this folder")
        return found[-1].with_suffix(".safetensors")
    return path.with_suffix(".safetensors")


def load_motion_model(path: str | os.PathLike) -> MotionBundle:
    """The denoiser in eval mode with its EMA weights, its normalisation and its config."""
    path = resolve(path)
    meta = read_meta(path)
    config = MotionConfig.from_json(meta["model"])
    model = Denoiser(config)
    model.load_state_dict(load_state(path, "ema"))
    model.eval().requires_grad_(False)
    return MotionBundle(model=model, normalisation=Normalisation.from_json(meta["normalisation"]), config=config,
                        null_instruction=np.asarray(meta["null_instruction"], np.float32), fps=float(meta["fps"]),
                        meta=meta)


_default: dict[Path, MotionBundle] = {}
_default_lock = threading.Lock()


def default_model_path() -> Path:
    """The checkpoint the program uses unless told otherwise: $AVITALK_MOTION_MODEL or the shipped one."""
    override = os.environ.get("AVITALK_MOTION_MODEL")
    return resolve(override) if override else DEFAULT_MODEL


def load_default_model(path: str | os.PathLike | None = None) -> MotionBundle:
    """`load_motion_model` of `path` (default: default_model_path()), loaded once per process and
    shared: the bundle is read-only at inference, so threads may use it together."""
    target = resolve(path) if path is not None else default_model_path()
    with _default_lock:
        if target not in _default:
            if not sidecar(target).is_file() or not target.with_suffix(".safetensors").is_file():
                raise FileNotFoundError(f"no motion model at {target} (a .safetensors file with its .json sidecar "
                                        "is expected; reinstall the package or pass a checkpoint with --model)")
            _default[target] = load_motion_model(target)
        return _default[target]
