"""The non-verbal part of the procedural teacher: blinks, gaze shifts, head motion from prosody.

Blinks follow a speaking person's schedule, the one the shipped motion gets at use time
(core.motion.articulation: 12-26 a minute, a blink soon after most pauses, 150-400 ms, closing
fast and opening slowly); the head nods on pitch accents (peaks of pitch and loudness), drifts slowly in yaw and roll,
and the eyes make small saccades. All random parts are seeded, so a seed is a variation.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from core.arkit import INDEX, NUM_BLENDSHAPES
from core.motion.articulation import blink_closure, blink_times

def blinks(frames: int, fps: float, rng: np.random.Generator, pauses: list[float] = ()) -> np.ndarray:
    """(frames,) eyelid closure 0..1; pauses: the times (s) where speech stops."""
    return blink_closure(frames, fps, blink_times(frames / fps, list(pauses), rng))


def accents(pitch_st: np.ndarray, loud: np.ndarray) -> np.ndarray:
    """(frames,) 0..1 prominence: where pitch and loudness both rise above their local level."""
    p = np.nan_to_num(pitch_st, nan=0.0)
    local = gaussian_filter1d(p, 15) if len(p) else p
    prominence = np.clip(p - local, 0, None) / 3.0 * np.clip(loud, 0, 1)
    return np.clip(gaussian_filter1d(prominence, 2.0) if len(p) else prominence, 0.0, 1.0)


def gestures(frames: int, fps: float, pitch_st: np.ndarray, loud: np.ndarray, seed: int = 0,
             pauses: list[float] = (), liveliness: float = 1.0) -> np.ndarray:
    """(frames, 55): blinks, eye saccades and brow flashes in the 52 weights, then head rotation.

    pitch_st: per-frame pitch in semitones relative to the speaker (NaN where unvoiced);
    loud: per-frame loudness 0..1 relative to the speaker; liveliness scales the head motion.
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((frames, NUM_BLENDSHAPES + 3), np.float32)
    if frames == 0:
        return out
    blink = blinks(frames, fps, rng, pauses)
    for side in ("Left", "Right"):
        out[:, INDEX[f"eyeBlink{side}"]] = blink
    # Saccades: hold a gaze target for 0.5-2.5 s, jump quickly to the next.
    gaze = np.zeros((frames, 2))
    i = 0
    while i < frames:
        n = int(rng.uniform(0.5, 2.5) * fps)
        gaze[i:i + n] = rng.normal(0, [0.25, 0.12])
        i += n
    gaze = gaussian_filter1d(gaze, 0.8, axis=0)
    yaw, pitch = np.clip(gaze[:, 0], -1, 1), np.clip(gaze[:, 1], -1, 1)
    for name, values in (("eyeLookOutLeft", yaw), ("eyeLookInRight", yaw), ("eyeLookInLeft", -yaw),
                         ("eyeLookOutRight", -yaw), ("eyeLookUpLeft", pitch), ("eyeLookUpRight", pitch),
                         ("eyeLookDownLeft", -pitch), ("eyeLookDownRight", -pitch)):
        out[:, INDEX[name]] = np.clip(values, 0, 1)
    accent = accents(pitch_st[:frames], loud[:frames])
    out[:, INDEX["browInnerUp"]] = 0.35 * accent
    out[:, INDEX["browOuterUpLeft"]] = out[:, INDEX["browOuterUpRight"]] = 0.25 * accent
    # Head: a nod (down, then back) on each accent, slow drift in yaw and roll.
    nod = gaussian_filter1d(accent, 3.0) * 0.12
    drift = gaussian_filter1d(rng.normal(0, 1, (frames, 2)), fps * 0.8, axis=0)
    drift /= max(1e-6, np.abs(drift).max())
    out[:, NUM_BLENDSHAPES + 0] = liveliness * nod
    out[:, NUM_BLENDSHAPES + 1] = liveliness * 0.08 * drift[:, 0]
    out[:, NUM_BLENDSHAPES + 2] = liveliness * 0.04 * drift[:, 1]
    return out
