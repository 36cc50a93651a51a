"""Training the motion denoiser (stage 2) on a synthesised or captured dataset.

    cfg = TrainConfig(data="data/motion", out="runs/motion", steps=3000)
    result = train(cfg)                 # or train(cfg, resume=True) to continue exactly
    TrainConfig(data="data/mine", out="runs/mine", init="resources/motion", steps=500, lr=2e-4)  # fine-tune

DDPM on normalised motion with diffusers' DDPMScheduler (the same squaredcos_cap_v2 betas
and train_timesteps the sampler uses); the network predicts the clean sample. The loss is a
per-channel weighted MSE (mouth and jaw weigh more: lip sync is what viewers judge first)
plus a small velocity term (frame differences) for smoothness. The instruction is replaced
by the null embedding with probability cfg_dropout, so classifier-free guidance works.

Out folder: checkpoints/step_NNNNNNN.{safetensors,pt,json} (weights EMA + raw; optimizer,
LR schedule and RNG state; sidecar last, so a checkpoint with a sidecar is complete),
model.{safetensors,json} (EMA weights to ship, loaded by core.motion.checkpoint) and
report.{json,md}. Dataset format: see `load_dataset`.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
from diffusers import DDPMScheduler
from tqdm import tqdm

from core.arkit import CHANNELS
from core.fileio import atomic_write
from core.motion.checkpoint import Normalisation, load_state, read_meta, resolve, save_motion_checkpoint
from core.motion.conditioning import instruction_frames
from core.motion.model import Denoiser, MotionConfig
from core.motion.text import EMBEDDING_SIZE
from core.project import EMOTIONS

MOUTH = np.array([n.startswith(("jaw", "mouth")) or n in ("cheekPuff", "tongueOut") for n in CHANNELS])


@dataclass
class TrainConfig:
    data: str = ""
    out: str = "runs/motion"
    steps: int = 3000
    batch: int = 32
    window: int = 150                 # frames per training window (5 s at 30 fps)
    lr: float = 1e-3
    min_lr: float = 1e-4              # the cosine decays to this
    warmup: int = 200
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    cfg_dropout: float = 0.15         # probability of training a window without its instruction
    wording_mix: float = 0.5          # probability that a segment reads a blend of two of its wordings
    wording_noise: float = 0.01       # std of Gaussian noise on each embedding dimension (then renormalised)
    text_hide: float = 0.3            # with an emotion reader: probability that a window reads only its emotion
    reader_decay: float = 1e-5        # L2 weight of the emotion reader's fit
    ema_decay: float = 0.999
    velocity_weight: float = 0.5
    mouth_weight: float = 2.0
    std_floor: float = 0.02           # normalisation never divides by less than this
    seed: int = 0
    log_every: int = 25
    eval_every: int = 250
    ckpt_every: int = 250
    keep_checkpoints: int = 2
    eval_windows: int = 64
    threads: int = 0                  # torch threads; 0 leaves torch's default
    final_dtype: str = "float16"      # the shipped model.safetensors in half precision (float32 to keep it)
    init: str = ""                    # fine-tune: start from this checkpoint's weights and normalisation
    model: MotionConfig = field(default_factory=MotionConfig)

    def to_json(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "model"}
        d["model"] = self.model.to_json()
        return d

    @classmethod
    def from_json(cls, d: dict) -> TrainConfig:
        d = dict(d)
        model = MotionConfig.from_json(d.pop("model"))
        known = {f.name for f in fields(cls)}
        return cls(model=model, **{k: v for k, v in d.items() if k in known})


# ---------------------------------------------------------------------------------------------
# data

@dataclass
class Item:
    name: str
    speech: np.ndarray          # (T, F)
    motion: np.ndarray          # (T, 55) raw
    instruction: np.ndarray     # (T, E) per frame, from each segment's own text
    wordings: np.ndarray | None = None    # (S, K, E): each segment's text and its other wordings (K >= 1)
    bounds: np.ndarray | None = None      # (S, 2) frame ranges of the segments
    fps: float = 30.0
    emotions: np.ndarray | None = None    # (S,) each segment's emotion, an index into EMOTIONS (-1: unknown)

    def instruction_with(self, choice: np.ndarray) -> np.ndarray:
        """(T, E) per-frame instruction with segment s worded as wordings[s, choice[s]]."""
        return self.instruction_from(self.wordings[np.arange(len(choice)), choice])

    def instruction_from(self, emb: np.ndarray) -> np.ndarray:
        """(T, E) per-frame instruction from one (S, E) embedding per segment."""
        return np.asarray(instruction_frames(emb, self.bounds, len(self.motion), self.fps), np.float32)

    def blended_wordings(self, rng: np.random.Generator, mix: float, noise: float) -> np.ndarray:
        """(S, E): per segment one of its wordings, or with probability `mix` a random blend of
        two, plus Gaussian noise, back on the unit sphere. The model then answers a region of
        the embedding space around each meaning, not a handful of points in it, which is what
        lets it read wordings it never saw."""
        S, K, _ = self.wordings.shape
        rows = np.arange(S)
        first = self.wordings[rows, rng.integers(0, K, S)]
        second = self.wordings[rows, rng.integers(0, K, S)]
        lam = np.where(rng.random(S) < mix, rng.random(S), 1.0)[:, None]
        emb = lam * first + (1.0 - lam) * second
        if noise > 0:
            emb = emb + rng.normal(0.0, noise, emb.shape)
        return (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-8)).astype(np.float32)


@dataclass
class Dataset:
    fps: float
    train: list[Item]
    heldout: list[Item]


def load_dataset(path: str | os.PathLike, features: int = 48, embedding: int = EMBEDDING_SIZE) -> Dataset:
    """A folder with index.json ({"version": 1, "fps", "features", "items": [{"file", "frames",
    "split": "train"|"heldout", "segments": [...]}]}) and per item an .npz holding speech (T, F),
    motion (T, 55), seg_embeddings (S, E), seg_bounds (S, 2) frame ranges and optionally
    seg_alternatives (S, K, E), other wordings of the same instructions. Several folders joined
    by commas ("data/motion2,data/motion_ml") are read as one dataset."""
    if "," in str(path):
        parts = [load_dataset(p, features, embedding) for p in str(path).split(",") if p.strip()]
        if len({d.fps for d in parts}) > 1:
            raise ValueError(f"{path}: the folders hold different frame rates ({sorted({d.fps for d in parts})})")
        return Dataset(parts[0].fps, [i for d in parts for i in d.train], [i for d in parts for i in d.heldout])
    root = Path(path)
    index = json.loads((root / "index.json").read_text())
    if index.get("version") != 1:
        raise ValueError(f"{root}: unknown dataset version {index.get('version')!r}")
    if int(index.get("features", features)) != features:
        raise ValueError(f"{root}: {index['features']} speech features, the model takes {features}")
    fps = float(index["fps"])
    out = Dataset(fps, [], [])
    for entry in index["items"]:
        with np.load(root / entry["file"]) as z:
            speech, motion = z["speech"].astype(np.float32), z["motion"].astype(np.float32)
            emb, bounds = z["seg_embeddings"].astype(np.float32), z["seg_bounds"]
            alts = z["seg_alternatives"].astype(np.float32) if "seg_alternatives" in z.files else None
        frames = len(motion)
        if len(emb) and emb.shape[1] != embedding:
            raise ValueError(f"{root}: {entry['file']} holds {emb.shape[1]}-d instruction embeddings, the model "
                             f"takes {embedding}-d (a dataset built by an older version: build it again)")
        if speech.shape != (frames, features) or motion.shape != (frames, len(CHANNELS)):
            raise ValueError(f"{entry['file']}: speech {speech.shape} and motion {motion.shape} do not match")
        if len(emb):
            instruction = np.asarray(instruction_frames(emb, bounds, frames, fps), np.float32)
        else:
            instruction = np.zeros((frames, embedding), np.float32)                 # no instruction
        wordings = None
        if len(emb):                        # a capture dataset has no other wordings: K = 1
            wordings = np.concatenate([emb[:, None], alts], axis=1) if alts is not None else emb[:, None]
        labels = np.array([EMOTIONS.index(seg["emotion"]) if seg.get("emotion") in EMOTIONS else -1
                           for seg in entry.get("segments", [])], np.int64)
        item = Item(entry["file"], speech, motion, instruction, wordings, np.asarray(bounds), fps,
                    labels if len(labels) == len(emb) else None)
        (out.heldout if entry.get("split") == "heldout" else out.train).append(item)
    if not out.train:
        raise ValueError(f"{root}: no training items")
    return out


def fit_softmax(x: torch.Tensor, y: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None,
                decay: float = 0.0, steps: int = 500, lr: float = 0.05) -> None:
    """Fit the linear softmax classifier x @ weight (+ bias) to the labels y, in place: full-batch
    Adam, L2 weight `decay` on the weight. The emotion reader and adherence.text_probe use it."""
    opt = torch.optim.Adam([weight] if bias is None else [weight, bias], lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        logits = x @ weight if bias is None else x @ weight + bias
        loss = torch.nn.functional.cross_entropy(logits, y) + decay * (weight ** 2).sum()
        loss.backward()
        opt.step()


def labelled_wordings(items: list[Item]) -> tuple[np.ndarray, np.ndarray]:
    """(N, E) every wording of every segment with a known emotion, and (N,) that emotion."""
    xs, ys = [], []
    for it in items:
        if it.emotions is None or it.wordings is None:
            continue
        for words, label in zip(it.wordings, it.emotions):
            if label >= 0:
                xs.append(words)
                ys.append(np.full(len(words), label))
    if not xs:
        return np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys)


def fit_emotion_reader(data: Dataset, classes: int, decay: float, steps: int = 500) -> tuple[np.ndarray, dict]:
    """The model's emotion reader (classes, E): a linear softmax classifier without bias on the
    embeddings of the training wordings, labelled with their segments' emotions (full-batch Adam,
    L2 weight `decay`). Returns it and its accuracy on the training and held-out wordings."""
    x, y = labelled_wordings(data.train)
    if not len(x):
        raise ValueError("the emotion reader needs segments labelled with an emotion and their wordings "
                         "(index.json segments[].emotion, seg_alternatives)")
    w = torch.zeros(x.shape[1], classes, requires_grad=True)
    fit_softmax(torch.from_numpy(x), torch.from_numpy(y), w, decay=decay, steps=steps)
    weight = w.detach().T.contiguous()

    def accuracy(xs: np.ndarray, ys: np.ndarray) -> float | None:
        if not len(xs):
            return None
        return float(((torch.from_numpy(xs) @ weight.T).argmax(1).numpy() == ys).mean())

    hx, hy = labelled_wordings(data.heldout)
    return weight.numpy(), {"train_wordings": len(x), "train_accuracy": accuracy(x, y),
                            "heldout_wordings": len(hx), "heldout_accuracy": accuracy(hx, hy)}


def sharpen_reader(weight: torch.Tensor, data: Dataset, limit: float = 10.0) -> float:
    """The factor (1 to `limit`) for the finished model's emotion reader that gives the held-out
    items' wordings (words and sentence frames never trained on) the same mean probability of
    their emotion as the training wordings had during training. The network learned what to do
    with the reader's training-time confidence; unseen wordings are read right about as often
    but less confidently, and an unsharpened reading of them comes out as a weaker or mixed
    emotion. 1.0 when there are no held-out wordings or they are already read as confidently."""
    x, y = labelled_wordings(data.train)
    hx, hy = labelled_wordings(data.heldout)
    if not len(x) or not len(hx):
        return 1.0
    w = weight.float()

    def p_right(xs: np.ndarray, ys: np.ndarray, c: float) -> float:
        probs = torch.softmax(c * (torch.from_numpy(xs) @ w.T), dim=1)
        return float(probs[torch.arange(len(ys)), torch.from_numpy(ys)].mean())

    target = p_right(x, y, 1.0)
    if p_right(hx, hy, 1.0) >= target:
        return 1.0
    if p_right(hx, hy, limit) <= target:
        return limit
    lo, hi = 1.0, limit
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if p_right(hx, hy, mid) < target else (lo, mid)
    return round(0.5 * (lo + hi), 3)


def fit_normalisation(items: list[Item], floor: float) -> Normalisation:
    motion = np.concatenate([it.motion for it in items]).astype(np.float64)
    return Normalisation(motion.mean(0), np.maximum(motion.std(0), floor))


def window(item: Item, start: int, length: int, instruction: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """speech, motion, instruction and a frame mask for [start, start + length); short items are
    padded with their last frame and masked out of the loss. `instruction` replaces the item's
    own per-frame instruction (another wording)."""
    end = min(start + length, len(item.motion))
    idx = np.minimum(np.arange(start, start + length), len(item.motion) - 1)
    mask = np.zeros(length, np.float32)
    mask[: end - start] = 1.0
    return item.speech[idx], item.motion[idx], (item.instruction if instruction is None else instruction)[idx], mask


class Batches:
    """Random windows; items drawn in proportion to their length, so every frame counts alike;
    each segment's instruction in one of its wordings or a blend of two, at random."""

    def __init__(self, items: list[Item], norm: Normalisation, length: int, rng: np.random.Generator,
                 mix: float = 0.0, noise: float = 0.0):
        self.items, self.norm, self.length, self.rng = items, norm, length, rng
        self.mix, self.noise = mix, noise
        frames = np.array([len(it.motion) for it in items], np.float64)
        self.p = frames / frames.sum()

    def __call__(self, batch: int) -> dict[str, torch.Tensor]:
        picks = self.rng.choice(len(self.items), size=batch, p=self.p)
        parts = []
        for i in picks:
            it = self.items[i]
            start = int(self.rng.integers(0, max(1, len(it.motion) - self.length + 1)))
            instruction = None
            if it.wordings is not None and it.wordings.shape[1] > 1:   # one of its wordings (or a blend)
                instruction = it.instruction_from(it.blended_wordings(self.rng, self.mix, self.noise))
            parts.append(window(it, start, self.length, instruction))
        return stack(parts, self.norm)


def stack(parts: list[tuple[np.ndarray, ...]], norm: Normalisation) -> dict[str, torch.Tensor]:
    speech, motion, instruction, mask = (np.stack(x) for x in zip(*parts))
    return {"speech": torch.from_numpy(speech), "x0": torch.from_numpy(norm.normalise(motion)),
            "instruction": torch.from_numpy(np.ascontiguousarray(instruction)), "mask": torch.from_numpy(mask)}


def eval_windows(items: list[Item], length: int, limit: int) -> list[tuple[np.ndarray, ...]]:
    """Fixed, non-overlapping windows over the held-out items (the same at every evaluation)."""
    out = []
    for it in items:
        for start in range(0, max(1, len(it.motion) - length // 2), length):
            out.append(window(it, start, length))
    if len(out) > limit:
        out = [out[i] for i in np.linspace(0, len(out) - 1, limit).round().astype(int)]
    return out


# ---------------------------------------------------------------------------------------------
# objective

def make_noise_scheduler(config: MotionConfig) -> DDPMScheduler:
    return DDPMScheduler(num_train_timesteps=config.train_timesteps, beta_schedule="squaredcos_cap_v2",
                         prediction_type="sample")


def channel_weights(cfg: TrainConfig) -> torch.Tensor:
    w = np.where(MOUTH, cfg.mouth_weight, 1.0)
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def losses(pred: torch.Tensor, x0: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor,
           velocity_weight: float) -> dict[str, torch.Tensor]:
    """Weighted MSE over valid frames, plus the MSE of frame-to-frame differences."""
    err = (pred - x0) ** 2 * weights
    m = mask[..., None]
    mse = (err * m).sum() / (m.sum() * err.shape[-1]).clamp(min=1)
    dv = ((pred[:, 1:] - pred[:, :-1]) - (x0[:, 1:] - x0[:, :-1])) ** 2 * weights
    mv = (mask[:, 1:] * mask[:, :-1])[..., None]
    vel = (dv * mv).sum() / (mv.sum() * dv.shape[-1]).clamp(min=1)
    return {"loss": mse + velocity_weight * vel, "mse": mse, "velocity": vel}


def lr_factor(cfg: TrainConfig, step: int) -> float:
    """Linear warmup, then cosine from lr down to min_lr at cfg.steps."""
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    floor = cfg.min_lr / cfg.lr
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate(model: Denoiser, parts: list[tuple[np.ndarray, ...]], norm: Normalisation, cfg: TrainConfig,
             noise: DDPMScheduler) -> dict[str, float]:
    """The training loss on fixed windows, timesteps spread evenly, fixed noise (its own RNG)."""
    if not parts:
        return {}
    model.eval()
    gen = torch.Generator().manual_seed(12345)
    weights = channel_weights(cfg)
    n = len(parts)
    ts = torch.linspace(0, cfg.model.train_timesteps - 1, n).round().long()
    totals = {"loss": 0.0, "mse": 0.0, "velocity": 0.0, "mouth_mse": 0.0, "upper_mse": 0.0}
    mouth = torch.from_numpy(MOUTH)
    for i in range(0, n, cfg.batch):
        b = stack(parts[i:i + cfg.batch], norm)
        t = ts[i:i + cfg.batch]
        x_t = noise.add_noise(b["x0"], torch.randn(b["x0"].shape, generator=gen), t)
        pred = model(x_t, t, b["speech"], b["instruction"])
        part = losses(pred, b["x0"], b["mask"], weights, cfg.velocity_weight)
        sq = ((pred - b["x0"]) ** 2 * b["mask"][..., None]).sum((0, 1)) / b["mask"].sum().clamp(min=1)
        k = len(t)
        for key in ("loss", "mse", "velocity"):
            totals[key] += float(part[key]) * k
        totals["mouth_mse"] += float(sq[mouth].mean()) * k
        totals["upper_mse"] += float(sq[~mouth].mean()) * k
    return {key: v / n for key, v in totals.items()}


def _initialise(model: Denoiser, cfg: TrainConfig, fps: float) -> Normalisation:
    """Load cfg.init's EMA weights into `model` for fine-tuning; its normalisation is kept, so
    the fine-tuned model reads and writes motion exactly as the one it started from."""
    path = resolve(cfg.init)
    if not path.with_suffix(".json").is_file():
        raise FileNotFoundError(f"{cfg.init}: no motion checkpoint to fine-tune from ({path.with_suffix('.json')} "
                                "is missing)")
    meta = read_meta(path)
    theirs = MotionConfig.from_json(meta["model"])
    if theirs != cfg.model:
        mine = cfg.model.to_json()
        diff = "; ".join(f"{k} {v} in the checkpoint, {mine.get(k)} configured"
                         for k, v in theirs.to_json().items() if mine.get(k) != v)
        raise ValueError(f"{path}: the checkpoint's model differs from the configured one ({diff}); "
                         "leave the --model-* options out to take its own")
    if abs(float(meta.get("fps", fps)) - fps) > 1e-6:
        raise ValueError(f"{path}: the checkpoint runs at {meta['fps']} fps, the data at {fps}")
    model.load_state_dict(load_state(path, "ema"))
    return Normalisation.from_json(meta["normalisation"])


# ---------------------------------------------------------------------------------------------
# checkpoints

def checkpoint_dir(out: str | os.PathLike) -> Path:
    return Path(out) / "checkpoints"


def latest_checkpoint(out: str | os.PathLike) -> Path | None:
    """The newest checkpoint with all three files (the sidecar is written last)."""
    d = checkpoint_dir(out)
    done = [p for p in sorted(d.glob("step_*.json")) if p.with_suffix(".pt").exists()] if d.is_dir() else []
    return done[-1].with_suffix(".safetensors") if done else None


def _meta(cfg: TrainConfig, norm: Normalisation, fps: float, step: int, history: dict, **extra) -> dict:
    return {"model": cfg.model.to_json(), "normalisation": norm.to_json(),
            "null_instruction": [0.0] * cfg.model.instruction_features, "fps": fps, "step": step,
            "train": cfg.to_json(), "history": history, **extra}


def save_training_checkpoint(cfg: TrainConfig, step: int, model: Denoiser, ema: Denoiser, optimizer, schedule,
                             rng: np.random.Generator, gen: torch.Generator, norm: Normalisation, fps: float,
                             history: dict, wall: float) -> Path:
    d = checkpoint_dir(cfg.out)
    path = d / f"step_{step:07d}.safetensors"
    state = {"step": step, "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(),
             "numpy_rng": rng.bit_generator.state, "torch_rng": gen.get_state()}
    buf = io.BytesIO()
    torch.save(state, buf)
    d.mkdir(parents=True, exist_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)   # rewriting a step: incomplete until the sidecar is back
    with atomic_write(path.with_suffix(".pt")) as f:
        f.write(buf.getvalue())
    save_motion_checkpoint(path, {"ema": ema.state_dict(), "raw": model.state_dict()},
                           _meta(cfg, norm, fps, step, history, wall_s=wall))
    for old in sorted(d.glob("step_*.json"))[:-cfg.keep_checkpoints]:
        for suffix in (".safetensors", ".pt", ".json"):
            old.with_suffix(suffix).unlink(missing_ok=True)
    return path


# ---------------------------------------------------------------------------------------------
# the loop

@dataclass
class TrainResult:
    step: int
    history: dict                       # {"train": [[step, loss], ...], "heldout": [[step, {...}], ...]}
    step_losses: dict[int, float]       # every step run in this call
    model_path: Path | None
    checkpoint: Path | None
    report: dict


def train(cfg: TrainConfig, *, resume: bool = False, stop_after: int | None = None,
          progress: bool = True) -> TrainResult:
    """Train to cfg.steps (or stop after `stop_after` steps of this call, checkpointing there).

    resume=True continues from the newest checkpoint in cfg.out exactly (weights, optimizer,
    LR schedule, RNG state); its saved TrainConfig is used, except steps, data and out.
    cfg.init (fine-tuning) starts the weights and their EMA copy from that checkpoint's EMA
    weights and keeps its normalisation; a checkpoint to resume from wins over it.
    """
    ckpt = latest_checkpoint(cfg.out) if resume else None
    if ckpt is not None:
        saved = json.loads(ckpt.with_suffix(".json").read_text())
        cfg = TrainConfig.from_json({**saved["train"], "steps": cfg.steps, "data": cfg.data, "out": cfg.out,
                                     "threads": cfg.threads})
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    data = load_dataset(cfg.data, cfg.model.speech_features, cfg.model.instruction_features)
    norm = fit_normalisation(data.train, cfg.std_floor)
    torch.manual_seed(cfg.seed)
    model = Denoiser(cfg.model)
    reader: dict | None = None
    if cfg.init and ckpt is None:
        norm = _initialise(model, cfg, data.fps)
    elif cfg.model.emotion_classes and ckpt is None:
        weight, reader = fit_emotion_reader(data, cfg.model.emotion_classes, cfg.reader_decay)
        model.emotion_reader.copy_(torch.from_numpy(weight))
    ema = copy.deepcopy(model).requires_grad_(False)
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim >= 2 else no_decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr, betas=(0.9, 0.99))
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(cfg, s))
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    history: dict = {"train": [], "heldout": []}
    if reader is not None:
        history["emotion_reader"] = reader          # its fit, for the report
    step, wall_before = 0, 0.0
    if ckpt is not None:
        model.load_state_dict(load_state(ckpt, "raw"))
        ema.load_state_dict(load_state(ckpt, "ema"))
        state = torch.load(ckpt.with_suffix(".pt"), weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        rng.bit_generator.state = state["numpy_rng"]
        gen.set_state(state["torch_rng"])
        step = int(state["step"])
        history = saved["history"]
        wall_before = float(saved.get("wall_s", 0.0))
        norm = Normalisation.from_json(saved["normalisation"])   # exactly the one the weights learned

    batches = Batches(data.train, norm, cfg.window, rng, cfg.wording_mix, cfg.wording_noise)
    held = eval_windows(data.heldout, cfg.window, cfg.eval_windows)
    noise = make_noise_scheduler(cfg.model)
    weights = channel_weights(cfg)
    null = torch.zeros(cfg.model.instruction_features)                 # "no instruction" (zeros)
    end = cfg.steps if stop_after is None else min(cfg.steps, step + stop_after)
    step_losses: dict[int, float] = {}
    pending: list[float] = []
    last_ckpt = None
    t0 = time.perf_counter()
    first_step = step
    bar = tqdm(total=cfg.steps, initial=step, disable=not progress, desc="train", dynamic_ncols=True)

    def wall() -> float:
        return wall_before + time.perf_counter() - t0

    def record_eval() -> None:
        if held:
            history["heldout"].append([step, evaluate(ema, held, norm, cfg, noise)])

    while step < end:
        model.train()
        b = batches(cfg.batch)
        x0 = b["x0"]
        t = torch.randint(0, cfg.model.train_timesteps, (cfg.batch,), generator=gen)
        eps = torch.randn(x0.shape, generator=gen)
        drop = torch.rand(cfg.batch, generator=gen) < cfg.cfg_dropout
        instruction = torch.where(drop[:, None, None], null.expand_as(b["instruction"]), b["instruction"])
        keep = (torch.rand(cfg.batch, generator=gen) >= cfg.text_hide).float() if cfg.model.emotion_classes else None
        pred = model(noise.add_noise(x0, eps, t), t, b["speech"], instruction, keep)
        parts = losses(pred, x0, b["mask"], weights, cfg.velocity_weight)
        optimizer.zero_grad(set_to_none=True)
        parts["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        schedule.step()
        step += 1
        with torch.no_grad():
            d = min(cfg.ema_decay, (1 + step) / (10 + step))
            for pe, p in zip(ema.parameters(), model.parameters()):
                pe.lerp_(p, 1 - d)
        loss = parts["loss"].item()
        step_losses[step] = loss
        pending.append(loss)
        bar.update(1)
        if step % cfg.log_every == 0 or step == end:
            history["train"].append([step, float(np.mean(pending))])
            pending.clear()
            bar.set_postfix(loss=f"{history['train'][-1][1]:.4f}", lr=f"{schedule.get_last_lr()[0]:.2e}")
        if step % cfg.eval_every == 0 or step == cfg.steps:
            record_eval()
        if step % cfg.ckpt_every == 0 or step == end:
            last_ckpt = save_training_checkpoint(cfg, step, model, ema, optimizer, schedule, rng, gen, norm,
                                                 data.fps, history, wall())
    bar.close()

    run_s = time.perf_counter() - t0
    model_path = None
    if step >= cfg.steps:
        final = dict(ema.state_dict())
        fit = history.get("emotion_reader")
        if fit is not None:                         # a reader fitted in this run: sharpen it for use
            fit["sharpen"] = sharpen_reader(final["emotion_reader"], data)
            final["emotion_reader"] = final["emotion_reader"] * fit["sharpen"]
        model_path = save_motion_checkpoint(
            Path(cfg.out) / "model.safetensors", {"ema": final},
            _meta(cfg, norm, data.fps, step, history, wall_s=wall()), dtype=getattr(torch, cfg.final_dtype))
    report = write_report(cfg, data, model, step, history, wall(), step - first_step, run_s, model_path)
    return TrainResult(step, history, step_losses, model_path, last_ckpt, report)


def write_report(cfg: TrainConfig, data: Dataset, model: Denoiser, step: int, history: dict, wall: float,
                 run_steps: int, run_s: float, model_path: Path | None) -> dict:
    final = history["heldout"][-1][1] if history["heldout"] else {}
    report = {
        "step": step, "steps": cfg.steps, "parameters": model.parameters_count,
        "train_items": len(data.train), "heldout_items": len(data.heldout),
        "train_frames": int(sum(len(it.motion) for it in data.train)), "fps": data.fps,
        "wall_s": round(wall, 2), "steps_per_s": round(run_steps / run_s, 3) if run_s > 0 else None,
        "threads": torch.get_num_threads(), "final_train_loss": history["train"][-1][1] if history["train"] else None,
        "final_heldout": final, "train_curve": history["train"], "heldout_curve": history["heldout"],
        "model": str(model_path) if model_path else None,
        "model_bytes": model_path.stat().st_size if model_path else None, "init": cfg.init or None,
        "config": cfg.to_json(),
    }
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_write(out / "report.json") as f:
        f.write(json.dumps(report, indent=1).encode())
    lines = ["# Motion model training report", "",
             f"- data: `{cfg.data}` ({report['train_items']} training items, {report['train_frames']} frames; "
             f"{report['heldout_items']} held out) at {data.fps:g} fps",
             f"- model: {report['parameters']:,} parameters, width {cfg.model.width}, {cfg.model.blocks} blocks"
             + (f", fine-tuned from `{cfg.init}`" if cfg.init else ""),
             f"- steps: {step} of {cfg.steps}, batch {cfg.batch} x {cfg.window} frames, lr {cfg.lr:g} "
             f"(warmup {cfg.warmup}, cosine to {cfg.min_lr:g})",
             f"- wall time: {wall:.0f} s in all" + (f"; this run {run_steps} steps at {report['steps_per_s']} "
                                                   f"steps/s on {report['threads']} threads" if run_steps else ""),
             ""]
    fit = history.get("emotion_reader")
    if fit:
        held_acc = "n/a" if fit["heldout_accuracy"] is None else f"{fit['heldout_accuracy']:.3f}"
        sharpen = f"; sharpened x{fit['sharpen']:g} in the finished model" if "sharpen" in fit else ""
        lines.insert(-1, f"- emotion reader: reads the emotion of {fit['train_accuracy']:.3f} of "
                     f"{fit['train_wordings']} training wordings, {held_acc} of {fit['heldout_wordings']} "
                     f"held-out items' wordings{sharpen}")
    if final:
        lines += ["Held-out loss (EMA weights, fixed windows and noise): " +
                  ", ".join(f"{k} {v:.4f}" for k, v in final.items()), ""]
    lines += ["| step | train loss | held-out loss |", "|---:|---:|---:|"]
    held = {s: v["loss"] for s, v in history["heldout"]}
    curve = history["train"]
    for i in sorted(set(np.linspace(0, len(curve) - 1, min(len(curve), 20)).round().astype(int))) if curve else []:
        s, v = curve[i]
        lines.append(f"| {s} | {v:.4f} | {held[s]:.4f} |" if s in held else f"| {s} | {v:.4f} | |")
    with atomic_write(out / "report.md") as f:
        f.write(("\n".join(lines) + "\n").encode())
    return report
