"""Training the motion model on a tiny synthetic dataset written here in the dataset format:
the loss falls, checkpoints carry their config and are written atomically, resume is exact,
and the result loads for inference without the training package."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from core.arkit import INDEX, NUM_BLENDSHAPES
from core.motion.checkpoint import load_motion_model
from core.motion.generate import generate
from core.motion.model import MotionConfig
from core.motion.text import EMBEDDING_SIZE
from core.project import EMOTIONS
from core.synth import train as training
from core.synth.train import TrainConfig, latest_checkpoint, load_dataset, train

ROOT = Path(__file__).resolve().parents[1]
TINY = MotionConfig(width=32, blocks=2, dilations=(1, 2))


def write_tiny_dataset(root: Path, items: int = 8, seed: int = 0, alternatives: bool = True) -> Path:
    """Speech whose 'loudness' drives jawOpen, an instruction (one of two directions) that
    drives the smile, blinks and a slow head nod: random, but learnable."""
    rng = np.random.default_rng(seed)
    styles = rng.normal(size=(2, EMBEDDING_SIZE)).astype(np.float32)
    styles /= np.linalg.norm(styles, axis=1, keepdims=True)
    wordings = styles[:, None] + 0.3 * rng.normal(size=(2, 4, EMBEDDING_SIZE)).astype(np.float32) / np.sqrt(EMBEDDING_SIZE)
    wordings /= np.linalg.norm(wordings, axis=2, keepdims=True)      # other wordings: nearby directions
    entries = []
    (root / "items").mkdir(parents=True)
    for n in range(items):
        frames = int(rng.integers(70, 130))
        speech = np.zeros((frames, 48), np.float32)
        phones = np.repeat(rng.integers(0, 40, size=frames // 4 + 1), 4)[:frames]
        speech[np.arange(frames), phones] = 1.0
        loud = np.clip(np.convolve(rng.random(frames), np.ones(5) / 5, "same"), 0, 1).astype(np.float32)
        speech[:, 42] = loud
        motion = np.zeros((frames, 55), np.float32)
        motion[:, INDEX["jawOpen"]] = 0.7 * loud
        half = frames // 2
        bounds = np.array([[0, half], [half, frames]], np.int32)
        kinds = rng.integers(0, 2, size=2)
        for (a, b), k in zip(bounds, kinds):
            motion[a:b, INDEX["mouthSmileLeft"]] = motion[a:b, INDEX["mouthSmileRight"]] = 0.6 if k else 0.05
        motion[::25, INDEX["eyeBlinkLeft"]] = motion[::25, INDEX["eyeBlinkRight"]] = 1.0
        motion[:, NUM_BLENDSHAPES] = 0.05 * np.sin(np.arange(frames) / 10)
        name = f"items/{n:06d}.npz"
        extra = {"seg_alternatives": wordings[kinds]} if alternatives else {}
        np.savez(root / name, speech=speech, motion=motion, seg_embeddings=styles[kinds], seg_bounds=bounds, **extra)
        entries.append({"file": name, "frames": frames, "split": "heldout" if n >= items - 2 else "train",
                        "segments": [{"start": int(a), "end": int(b), "emotion": "happy" if k else "neutral",
                                      "intensity": 1, "text": "", "canonical": ""}
                                     for (a, b), k in zip(bounds, kinds)]})
    (root / "index.json").write_text(json.dumps({"version": 1, "fps": 30.0, "features": 48, "items": entries}))
    return root


def tiny_config(data: Path, out: Path, **kw) -> TrainConfig:
    base = dict(data=str(data), out=str(out), steps=30, batch=8, window=48, lr=3e-3, warmup=5, min_lr=3e-4,
                log_every=5, eval_every=15, ckpt_every=15, eval_windows=8, threads=1, model=TINY)
    return TrainConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return train(tiny_config(dataset, out), progress=False), out


def test_folders_joined_by_commas_are_one_dataset(dataset, tmp_path):
    other = write_tiny_dataset(tmp_path / "more")
    one, both = load_dataset(dataset), load_dataset(f"{dataset},{other}")
    assert len(both.train) == 2 * len(one.train) and len(both.heldout) == 2 * len(one.heldout)


def test_the_trainer_reads_every_wording(dataset):
    data = load_dataset(dataset)
    item = next(it for it in data.train if it.wordings is not None)
    assert item.wordings.shape[1] == 5                    # its own text + 4 others
    own = item.instruction_with(np.zeros(len(item.wordings), int))
    np.testing.assert_allclose(own, item.instruction, atol=1e-6)
    other = item.instruction_with(np.full(len(item.wordings), 2))
    assert np.abs(other - item.instruction).max() > 1e-3


def test_thirty_steps_lower_the_loss(trained):
    result, _ = trained
    losses = [result.step_losses[s] for s in sorted(result.step_losses)]
    assert len(losses) == 30
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    held = result.history["heldout"]
    assert [s for s, _ in held] == [15, 30] and held[-1][1]["loss"] < held[0][1]["loss"] * 1.05


def test_checkpoint_carries_its_config_and_is_complete(trained):
    result, out = trained
    ckpt = latest_checkpoint(out)
    assert ckpt.name == "step_0000030.safetensors" and ckpt.with_suffix(".pt").exists()
    meta = json.loads(ckpt.with_suffix(".json").read_text())
    assert MotionConfig.from_json(meta["model"]) == TINY and meta["step"] == 30
    assert TrainConfig.from_json(meta["train"]).window == 48
    assert len(meta["normalisation"]["mean"]) == 55 and min(meta["normalisation"]["std"]) == pytest.approx(0.02)
    assert not list(out.rglob("*.part*"))                      # no temporary files left behind
    report = json.loads((out / "report.json").read_text())
    assert report["step"] == 30 and report["steps_per_s"] > 0 and report["final_heldout"]["loss"] > 0
    assert "| 30 |" in (out / "report.md").read_text()


def test_a_failed_checkpoint_write_leaves_the_previous_one(dataset, tmp_path, monkeypatch):
    out = tmp_path / "run"
    train(tiny_config(dataset, out, steps=4, ckpt_every=2, eval_every=100), progress=False, stop_after=2)
    assert latest_checkpoint(out).name == "step_0000002.safetensors"

    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr("core.motion.checkpoint.save", broken)
    with pytest.raises(OSError):
        train(tiny_config(dataset, out, steps=4, ckpt_every=2, eval_every=100), progress=False, resume=True)
    assert latest_checkpoint(out).name == "step_0000002.safetensors"
    assert not list(out.rglob("*.part*"))


def test_resume_continues_exactly(dataset, tmp_path):
    cfg = dict(steps=8, ckpt_every=100, eval_every=4)
    whole = train(tiny_config(dataset, tmp_path / "a", **cfg), progress=False)
    first = train(tiny_config(dataset, tmp_path / "b", **cfg), progress=False, stop_after=4)
    assert first.step == 4 and first.model_path is None
    rest = train(tiny_config(dataset, tmp_path / "b", **cfg), progress=False, resume=True)
    assert sorted(rest.step_losses) == [5, 6, 7, 8]
    assert [rest.step_losses[s] for s in range(5, 9)] == [whole.step_losses[s] for s in range(5, 9)]
    assert rest.history["train"][-1] == whole.history["train"][-1]         # steps 6-8 on both
    assert rest.history["heldout"] == whole.history["heldout"]


def test_trained_model_loads_and_generates(trained, dataset):
    result, out = trained
    bundle = load_motion_model(out)
    assert bundle.config == TINY and not bundle.model.training and bundle.fps == 30.0
    with np.load(dataset / "items/000000.npz") as z:
        speech, emb, bounds = z["speech"], z["seg_embeddings"], z["seg_bounds"]
    track = generate(bundle, speech, emb, bounds, steps=4, seed=3)
    assert track.frames == len(speech) and track.fps == 30.0
    assert track.weights.min() >= 0.0 and track.weights.max() <= 1.0


def test_loading_and_generation_need_no_training_code(trained):
    _, out = trained
    code = ("import sys, core.motion.generate; from core.motion.checkpoint import load_motion_model; "
            f"b = load_motion_model({str(out)!r}); assert b.model is not None; "
            "bad = [m for m in sys.modules if m.startswith('core.synth')]; assert not bad, bad")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr


def test_command_line(dataset, tmp_path):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import train_motion
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    out = tmp_path / "cli"
    assert train_motion.main(["--data", str(dataset), "--out", str(out), "--steps", "3", "--batch", "4",
                              "--window", "32", "--model-width", "16", "--model-blocks", "1",
                              "--model-dilations", "1", "--threads", "1", "--no-progress"]) == 0
    meta = json.loads((out / "model.json").read_text())
    assert meta["model"]["width"] == 16 and meta["model"]["dilations"] == [1] and meta["step"] == 3
    assert training.TrainConfig.from_json(meta["train"]).batch == 4


def test_blended_wordings_stay_on_the_sphere_between_two_wordings(dataset):
    item = next(it for it in load_dataset(dataset).train if it.wordings is not None)
    rng = np.random.default_rng(0)
    plain = item.blended_wordings(rng, mix=0.0, noise=0.0)          # one wording per segment, as is
    for s, row in enumerate(plain):
        assert np.abs(item.wordings[s] - row).max(axis=1).min() < 1e-6
    blend = item.blended_wordings(rng, mix=1.0, noise=0.01)
    np.testing.assert_allclose(np.linalg.norm(blend, axis=1), 1.0, atol=1e-5)
    # a blend sits nearer the segment's own wordings than any other segment's
    for s, row in enumerate(blend):
        own = (item.wordings[s] @ row).max()
        assert own > 0.8


def test_the_model_carries_an_emotion_reader_fitted_on_the_wordings(trained, dataset):
    result, out = trained
    bundle = load_motion_model(out)
    reader = bundle.model.emotion_reader
    assert reader.shape == (len(EMOTIONS), EMBEDDING_SIZE) and reader.abs().sum() > 0
    fit = result.history["emotion_reader"]
    assert fit["train_wordings"] > 0 and fit["train_accuracy"] == 1.0
    assert "emotion reader: reads the emotion" in (out / "report.md").read_text()
    index = json.loads((dataset / "index.json").read_text())
    for entry in index["items"]:                  # every wording of every segment reads as its emotion
        with np.load(dataset / entry["file"]) as z:
            words = np.concatenate([z["seg_embeddings"][:, None], z["seg_alternatives"]], axis=1)
        for seg, w in zip(entry["segments"], torch.from_numpy(words).float()):
            assert set((w @ reader.T).argmax(1).tolist()) == {EMOTIONS.index(seg["emotion"])}


def test_hidden_text_leaves_the_emotion_reading(trained):
    bundle = load_motion_model(trained[1])
    e = torch.nn.functional.normalize(torch.randn(2, 5, EMBEDDING_SIZE), dim=-1)
    read = bundle.model.read_instruction(e, torch.tensor([1.0, 0.0]))
    assert read.shape == (2, 5, EMBEDDING_SIZE + len(EMOTIONS))
    torch.testing.assert_close(read[0, :, :EMBEDDING_SIZE], e[0])
    assert read[1, :, :EMBEDDING_SIZE].abs().max() == 0                        # the text hidden
    torch.testing.assert_close(read[:, :, EMBEDDING_SIZE:].sum(-1), torch.ones(2, 5))
    null = bundle.model.read_instruction(torch.zeros(1, 3, EMBEDDING_SIZE))    # "no instruction": uniform
    torch.testing.assert_close(null[0, :, EMBEDDING_SIZE:], torch.full((3, len(EMOTIONS)), 1 / len(EMOTIONS)))


def test_checkpoints_from_before_the_emotion_reader_load_without_one():
    old = {k: v for k, v in TINY.to_json().items() if k != "emotion_classes"}
    config = MotionConfig.from_json(old)
    assert config.emotion_classes == 0
    e = torch.randn(1, 4, EMBEDDING_SIZE)
    from core.motion.model import Denoiser
    assert torch.equal(Denoiser(config).read_instruction(e), e)


def test_the_finished_model_reads_unseen_wordings_as_confidently_as_training_ones(trained):
    result, out = trained
    fit = result.history["emotion_reader"]
    shipped = load_motion_model(out).model.emotion_reader
    last = training.load_state(result.checkpoint, "ema")["emotion_reader"]        # as trained
    assert fit["sharpen"] >= 1.0
    torch.testing.assert_close(shipped, last * fit["sharpen"], rtol=2e-3, atol=1e-4)   # float16 shipped
    assert f"sharpened x{fit['sharpen']:g}" in (out / "report.md").read_text()


def _item(wordings: np.ndarray, labels: list[int]) -> training.Item:
    s = len(labels)
    return training.Item("x", np.zeros((10, 48), np.float32), np.zeros((10, 55), np.float32),
                         np.zeros((10, wordings.shape[-1]), np.float32), wordings.astype(np.float32),
                         np.array([[0, 5], [5, 10]][:s]), 30.0, np.array(labels))


def test_sharpening_matches_the_probability_of_the_right_emotion():
    rng = np.random.default_rng(0)
    axes = np.eye(4)[:2]                                             # emotion k lies along axis k

    def wordings(spread: float, n: int) -> np.ndarray:
        w = axes[:, None] + spread * rng.normal(size=(2, n, 4))
        return w / np.linalg.norm(w, axis=-1, keepdims=True)

    data = training.Dataset(30.0, [_item(wordings(0.2, 50), [0, 1])], [_item(wordings(0.4, 50), [0, 1])])
    weight = torch.tensor(2.0 * axes, dtype=torch.float32)           # (2 classes, 4)
    c = training.sharpen_reader(weight, data)
    assert 1.0 < c < 10.0

    def p_right(items, factor):
        x, y = training.labelled_wordings(items)
        p = torch.softmax(factor * torch.from_numpy(x) @ weight.T, 1)
        return float(p[torch.arange(len(y)), torch.from_numpy(y)].mean())

    assert p_right(data.heldout, 1.0) < p_right(data.train, 1.0)
    assert abs(p_right(data.heldout, c) - p_right(data.train, 1.0)) < 1e-3
    same = training.Dataset(30.0, data.train, data.train)                # nothing unseen: left as it is
    assert training.sharpen_reader(weight, same) == 1.0


def test_a_dataset_without_other_wordings_trains_a_reader_on_the_texts_alone(tmp_path):
    """Captures (core.synth.captures) store each segment's own text only."""
    data = write_tiny_dataset(tmp_path / "data", alternatives=False)
    loaded = load_dataset(data)
    assert all(it.wordings.shape[1] == 1 for it in loaded.train)
    result = train(tiny_config(data, tmp_path / "run", steps=3), progress=False)
    fit = result.history["emotion_reader"]
    assert fit["train_wordings"] == 2 * len(loaded.train) and fit["train_accuracy"] == 1.0
