"""Generation and segment regeneration on a saved (untrained, seeded) model: the track's shape
and range, seeds, and inpainting that leaves every frame outside the segment untouched and
joins the new motion to the old without a jump."""

import numpy as np
import pytest
import torch

from core.arkit import NUM_BLENDSHAPES
from core.motion.checkpoint import load_motion_model, save_motion_checkpoint
from core.motion.generate import generate, instruction_track, join_edges, regenerate_segment
from core.motion.model import Denoiser, MotionConfig
from core.motion.text import EMBEDDING_SIZE, SENTENCE_SIZE, sentence_part
from core.cancel import Cancelled
from core.track import FaceTrack

FRAMES = 240


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.manual_seed(0)
    config = MotionConfig(width=32, blocks=2, dilations=(1, 2))
    model = Denoiser(config)
    meta = {"model": config.to_json(), "fps": 30.0, "null_instruction": [0.0] * EMBEDDING_SIZE,
            "normalisation": {"mean": [0.2] * 52 + [0.0] * 3, "std": [0.15] * 52 + [0.05] * 3}}
    path = save_motion_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.safetensors",
                                  {"ema": model.state_dict()}, meta, dtype=torch.float16)
    return load_motion_model(path)


@pytest.fixture(scope="module")
def take():
    rng = np.random.default_rng(1)
    speech = rng.normal(size=(FRAMES, 48)).astype(np.float32)
    emb = rng.normal(size=(3, EMBEDDING_SIZE)).astype(np.float32)
    bounds = np.array([[0, 80], [80, 170], [170, FRAMES]], np.int32)
    return speech, emb, bounds


def smooth_track() -> FaceTrack:
    """Slow sines in every channel: weights in 0.2..0.8, head within 0.1 rad."""
    t = np.arange(FRAMES)[:, None] / 30.0
    phase = np.arange(55)[None] * 0.7
    data = 0.5 + 0.3 * np.sin(2 * np.pi * 0.4 * t + phase)
    data[:, NUM_BLENDSHAPES:] = 0.1 * np.sin(2 * np.pi * 0.3 * t[:, :1] + phase[:, NUM_BLENDSHAPES:])
    return FaceTrack(30.0, data.astype(np.float32))


def test_generate_gives_a_track_in_range_and_seeds_vary(bundle, take):
    speech, emb, bounds = take
    a = generate(bundle, speech, emb, bounds, steps=4, seed=1)
    assert a.frames == FRAMES and a.fps == 30.0
    assert a.weights.min() >= 0.0 and a.weights.max() <= 1.0
    np.testing.assert_array_equal(a.data, generate(bundle, speech, emb, bounds, steps=4, seed=1).data)
    assert np.abs(a.data - generate(bundle, speech, emb, bounds, steps=4, seed=2).data).mean() > 1e-3


@pytest.mark.parametrize("index", [0, 1, 2])
def test_regeneration_changes_only_the_segment_and_joins_smoothly(bundle, take, index):
    speech, emb, bounds = take
    track = smooth_track()
    new_emb = emb.copy()
    new_emb[index] = np.random.default_rng(9).normal(size=EMBEDDING_SIZE)
    out = regenerate_segment(bundle, track, speech, new_emb, bounds, index, seed=4, steps=4)
    start, end = bounds[index]
    np.testing.assert_array_equal(out.data[:start], track.data[:start])
    np.testing.assert_array_equal(out.data[end:], track.data[end:])
    assert np.abs(out.data[start:end] - track.data[start:end]).mean() > 1e-3
    step = np.abs(np.diff(track.data, axis=0)).max(0) + 1e-5     # the track's own largest step, per channel
    if start > 0:
        assert (np.abs(out.data[start] - track.data[start - 1]) <= step).all()
    if end < FRAMES:
        assert (np.abs(out.data[end - 1] - track.data[end]) <= step).all()
    assert out.weights.min() >= 0.0 and out.weights.max() <= 1.0


def test_regeneration_reports_progress_and_can_be_cancelled(bundle, take):
    speech, emb, bounds = take
    seen = []
    regenerate_segment(bundle, smooth_track(), speech, emb, bounds, 1, steps=3,
                       callback=lambda i, n: seen.append((i, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]

    def stop(i, n):
        raise Cancelled()
    with pytest.raises(Cancelled):
        regenerate_segment(bundle, smooth_track(), speech, emb, bounds, 1, steps=3, callback=stop)


def test_regeneration_rejects_mismatched_inputs(bundle, take):
    speech, emb, bounds = take
    with pytest.raises(ValueError):
        regenerate_segment(bundle, smooth_track(), speech[:-1], emb, bounds, 0)
    with pytest.raises(ValueError):
        regenerate_segment(bundle, FaceTrack(25.0, smooth_track().data), speech, emb, bounds, 0)


def test_join_edges_lands_on_the_continuation_of_both_sides():
    rng = np.random.default_rng(0)
    inner = rng.normal(size=(20, 55)).astype(np.float32)
    before = np.stack([np.full(55, 0.1), np.full(55, 0.2)]).astype(np.float32)   # rising by 0.1
    after = np.stack([np.full(55, 0.5), np.full(55, 0.4)]).astype(np.float32)    # falling towards the segment
    out = join_edges(inner, before, after, blend=8)
    np.testing.assert_allclose(out[0], 0.3, atol=1e-5)
    np.testing.assert_allclose(out[-1], 0.6, atol=1e-5)
    np.testing.assert_allclose(out[8:12], inner[8:12], atol=1e-6)     # the middle keeps the model's motion
    short = join_edges(inner[:3], before, after, blend=8)                # offsets overlap in a short segment
    np.testing.assert_allclose(short[[0, -1]], [np.full(55, 0.3), np.full(55, 0.6)], atol=1e-5)
    np.testing.assert_allclose(join_edges(inner[:1], before, after, 8)[0], 0.45, atol=1e-6)


def test_a_model_trained_on_sentence_embeddings_reads_the_sentence_half(tmp_path, take):
    torch.manual_seed(0)
    config = MotionConfig(width=32, blocks=2, dilations=(1, 2), instruction_features=SENTENCE_SIZE)
    meta = {"model": config.to_json(), "fps": 30.0, "null_instruction": [0.0] * SENTENCE_SIZE,
            "normalisation": {"mean": [0.2] * 52 + [0.0] * 3, "std": [0.15] * 52 + [0.05] * 3}}
    old = load_motion_model(save_motion_checkpoint(tmp_path / "old.safetensors",
                                                   {"ema": Denoiser(config).state_dict()}, meta))
    speech, emb, bounds = take
    frames = instruction_track(old, emb, bounds, FRAMES)
    assert frames.shape == (FRAMES, SENTENCE_SIZE)
    np.testing.assert_allclose(frames[10], sentence_part(emb)[0], atol=1e-6)
    assert generate(old, speech, emb, bounds, steps=2).data.shape == (FRAMES, 55)
    with pytest.raises(ValueError, match="reads 384-d instruction embeddings, got 100-d"):
        instruction_track(old, emb[:, :100], bounds, FRAMES)
