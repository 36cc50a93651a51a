"""The sampling loop on a real (untrained, seeded) denoiser: inpainting, guidance, callback."""

import numpy as np
import pytest
import torch

from core.motion.model import Denoiser, MotionConfig
from core.cancel import Cancelled
from core.motion.sampler import sample
from core.motion.text import EMBEDDING_SIZE


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    m = Denoiser(MotionConfig(width=64, blocks=2)).eval()
    return m


def inputs(frames=90, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(frames, 48)).astype(np.float32), rng.normal(size=(frames, EMBEDDING_SIZE)).astype(np.float32)


def test_shapes_determinism_and_seeds(model):
    speech, text = inputs()
    null = np.zeros(EMBEDDING_SIZE, np.float32)
    a = sample(model, speech, text, null, steps=4, seed=1)
    assert a.shape == (90, 55) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, sample(model, speech, text, null, steps=4, seed=1))
    assert np.abs(a - sample(model, speech, text, null, steps=4, seed=2)).mean() > 1e-3


def test_inpainting_keeps_the_outside_exactly(model):
    speech, text = inputs()
    null = np.zeros(EMBEDDING_SIZE, np.float32)
    known = np.random.default_rng(5).normal(size=(90, 55)).astype(np.float32)
    keep = np.ones(90, bool)
    keep[30:60] = False
    out = sample(model, speech, text, null, steps=4, seed=3, known=known, keep=keep)
    np.testing.assert_array_equal(out[keep], known[keep])
    assert np.abs(out[~keep] - known[~keep]).mean() > 1e-3


def test_callback_reports_and_cancels(model):
    speech, text = inputs(30)
    seen = []
    sample(model, speech, text, np.zeros(EMBEDDING_SIZE, np.float32), steps=5, callback=lambda i, n: seen.append((i, n)))
    assert seen == [(i, 5) for i in range(1, 6)]

    def stop(i, n):
        if i == 2:
            raise Cancelled()
    with pytest.raises(Cancelled):
        sample(model, speech, text, np.zeros(EMBEDDING_SIZE, np.float32), steps=5, callback=stop)


def test_default_size_is_a_few_million_parameters():
    assert 2e6 < Denoiser(MotionConfig()).parameters_count < 8e6


def test_a_frame_does_not_depend_on_the_window_length():
    """Per-frame normalisation: cropping the window changes nothing beyond the receptive field
    (whole takes, 4 s training windows and regeneration windows all see the same network)."""
    torch.manual_seed(0)
    config = MotionConfig(width=64, blocks=2, dilations=(1, 2))
    m = Denoiser(config).eval()
    for p in m.parameters():                      # the zero-initialised output convs would hide it
        torch.nn.init.normal_(p, std=0.1)
    reach = sum((config.kernel - 1) // 2 * config.dilations[i % 2] for i in range(config.blocks))
    x, s, c = torch.randn(1, 200, 55), torch.randn(1, 200, 48), torch.randn(1, 200, EMBEDDING_SIZE)
    t = torch.tensor([500])
    with torch.no_grad():
        full, crop = m(x, t, s, c), m(x[:, :100], t, s[:, :100], c[:, :100])
    torch.testing.assert_close(crop[:, :100 - reach], full[:, :100 - reach], rtol=1e-4, atol=1e-5)
    assert (crop[:, 100 - reach:] - full[:, 100 - reach:100]).abs().max() > 1e-4


def test_the_prepared_instruction_film_equals_film_of_the_whole_condition():
    """The sampler computes each block's FiLM of the instruction once per run and adds the
    timestep's part per step; that must be the FiLM of instruction + timestep."""
    from core.motion.model import timestep_embedding
    torch.manual_seed(0)
    m = Denoiser(MotionConfig(width=32, blocks=3, dilations=(1, 2)))
    m.emotion_reader.normal_()
    speech, instruction = torch.randn(2, 20, 48), torch.randn(2, 20, EMBEDDING_SIZE)
    t = torch.tensor([10, 700])
    with torch.no_grad():
        prepared = m.prepare(speech, instruction)
        time = m.time_in(timestep_embedding(t, 32))
        cond = m.instruction_in(m.read_instruction(instruction)) + time[:, None, :]
        for block, film in zip(m.blocks, prepared.films):
            torch.testing.assert_close(film + block.film(time)[:, None, :], block.film(cond), atol=1e-5, rtol=1e-4)
        x = torch.randn(2, 20, 55)
        torch.testing.assert_close(m(x, t, prepared=prepared), m(x, t, speech, instruction))
