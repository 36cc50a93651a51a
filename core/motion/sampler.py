"""Sampling: an explicit loop over a diffusers scheduler, with guidance, inpainting and a callback.

    motion = sample(model, speech, instruction, null_instruction, steps=8, guidance=2.0, seed=0)

Classifier-free guidance mixes the prediction with and without the instruction. Inpainting
(regenerating one segment) replaces the frames outside the edited range with the known motion
noised to the current step before every model call (RePaint's replacement), so the model
sees the context it must join; at the end those frames are copied back exactly.
`callback(step, steps)` is called after every step; raising from it (e.g. Cancelled) stops.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from diffusers import DPMSolverMultistepScheduler

from core.motion.model import Denoiser


def make_scheduler(model: Denoiser) -> DPMSolverMultistepScheduler:
    return DPMSolverMultistepScheduler(num_train_timesteps=model.config.train_timesteps,
                                       prediction_type="sample", algorithm_type="dpmsolver++",
                                       solver_order=2, beta_schedule="squaredcos_cap_v2")


@torch.inference_mode()
def sample(model: Denoiser, speech: np.ndarray, instruction: np.ndarray, null_instruction: np.ndarray, *,
           steps: int = 8, guidance: float = 2.0, seed: int = 0, known: np.ndarray | None = None,
           keep: np.ndarray | None = None, callback: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Normalised motion (T, 55) for one take.

    speech (T, F) and instruction (T, E) per frame; null_instruction (E,) is the embedding the
    model was trained with for "no instruction". known (T, 55) with keep (T,) bool: frames
    where keep is True come out exactly as in `known`.
    """
    frames = speech.shape[0]
    gen = torch.Generator().manual_seed(int(seed))
    scheduler = make_scheduler(model)
    scheduler.set_timesteps(steps)
    s = torch.from_numpy(np.ascontiguousarray(speech, np.float32))[None]
    c = torch.from_numpy(np.ascontiguousarray(instruction, np.float32))[None]
    null = torch.from_numpy(np.asarray(null_instruction, np.float32))[None, None].expand_as(c)
    prepared = model.prepare(torch.cat([s, s]), torch.cat([c, null]))     # with and without the text
    x = torch.randn((1, frames, model.config.channels), generator=gen)
    x = x * scheduler.init_noise_sigma
    if known is not None:
        k = torch.from_numpy(np.asarray(known, np.float32))[None]
        m = torch.from_numpy(np.asarray(keep, bool))[None, :, None]
    for i, t in enumerate(scheduler.timesteps):
        if known is not None:
            noised = scheduler.add_noise(k, torch.randn(k.shape, generator=gen), t.reshape(1)) if i > 0 else \
                scheduler.add_noise(k, x / scheduler.init_noise_sigma, t.reshape(1))
            x = torch.where(m, noised, x)
        inp = scheduler.scale_model_input(x, t)
        tt = t.reshape(1).expand(2)
        with_text, without = model(torch.cat([inp, inp]), tt, prepared=prepared).chunk(2)
        pred = without + guidance * (with_text - without)
        x = scheduler.step(pred, t, x).prev_sample
        if callback is not None:
            callback(i + 1, steps)
    out = x[0].numpy()
    if known is not None:
        out = np.where(np.asarray(keep, bool)[:, None], known, out)
    return out.astype(np.float32)
