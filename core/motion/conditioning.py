"""Per-frame instruction conditioning: segment embeddings spread over frames, cross-faded.

The motion model reads one instruction embedding per frame. Inside a segment it is the
segment's embedding; around each boundary between neighbours it cross-fades over `ease_s`
seconds with the smoothstep envelope `ramp` (which the teacher's expressions in
core.synth.expression use too), so the instruction, and the motion it asks for, change smoothly.
Unlike the teacher's expression, the first and last segments do not fade to "no instruction"
at the ends of the take. The blend is linear (a cross-faded vector is shorter than a unit
vector mid-fade), identically in training and at use time.

Training and inference both build their conditioning with `instruction_frames`.
"""

from __future__ import annotations

import numpy as np



def ramp(t: np.ndarray, a: float, b: float) -> np.ndarray:
    """0 before a, 1 after b, smoothstep in between: the one definition of a fade."""
    x = np.clip((t - a) / max(b - a, 1e-6), 0.0, 1.0)
    return x * x * (3 - 2 * x)


def instruction_frames(embeddings: np.ndarray, bounds: np.ndarray, frames: int, fps: float = 30.0,
                       ease_s: float = 0.35) -> np.ndarray:
    """(frames, E) float32 per-frame instruction embedding.

    embeddings: (S, E) one per segment; bounds: (S, 2) [start, end) in frames, in time order
    (normally tiling 0..frames). Frames no segment covers (a gap) take the nearest segment's
    embedding; S == 0 gives zeros (no instruction).
    """
    emb = np.asarray(embeddings, np.float32)
    b = np.asarray(bounds, np.float64).reshape(-1, 2)
    if emb.ndim != 2 or len(emb) != len(b):
        raise ValueError(f"embeddings {emb.shape} and bounds {b.shape} disagree")
    out = np.zeros((frames, emb.shape[1] if emb.ndim == 2 else 0), np.float32)
    if frames <= 0 or len(emb) == 0:
        return out
    order = np.argsort(b[:, 0], kind="stable")
    emb, b = emb[order], b[order]
    t = (np.arange(frames) + 0.5) / fps
    starts, ends = b[:, 0] / fps, b[:, 1] / fps
    last = len(b) - 1
    env = np.zeros((len(b), frames))
    for k in range(len(b)):
        rise = ramp(t, starts[k] - ease_s / 2, starts[k] + ease_s / 2) if k > 0 else np.ones(frames)
        fall = 1 - ramp(t, ends[k] - ease_s / 2, ends[k] + ease_s / 2) if k < last else np.ones(frames)
        env[k] = rise * fall
    cover = env.sum(0)
    gap = cover < 1e-6
    if gap.any():                 # not tiled: fill the hole with the nearest segment
        centre = (starts + ends) / 2
        dist = np.minimum(np.abs(t[gap, None] - starts[None]), np.abs(t[gap, None] - ends[None]))
        dist += 1e-9 * np.abs(t[gap, None] - centre[None])
        env[:, gap] = (np.arange(len(b))[:, None] == np.argmin(dist, 1)[None]).astype(float)
        cover = env.sum(0)
    weights = env / cover[None]
    out[:] = (weights.T @ emb.astype(np.float64)).astype(np.float32)
    return out
