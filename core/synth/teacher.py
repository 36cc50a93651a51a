"""The procedural teacher: phones + timed instructions + prosody -> a FaceTrack.

It produces stage 2's training targets, and serves as a baseline at use time when driven by
the aligner's phones. Parts (each its own module): coarticulated visemes for lips, jaw and
tongue; FACS-based expressions from the instructions; blinks, gaze and head motion from
prosody. They combine as a soft union (1 - (1-a)(1-b)) so no channel leaves 0..1, except
that a bilabial closure wins over any jaw opening the expression asks for, and mouthClose
seals the lips over whatever jaw opening coarticulation leaves there.
"""

from __future__ import annotations

import numpy as np

from core.arkit import INDEX, NUM_BLENDSHAPES
from core.motion.articulation import PAUSE_MIN_S
from core.motion.conditioning import ramp
from core.synth.expression import expression_weights
from core.synth.gestures import gestures
from core.synth.visemes import lip_weights
from core.track import FaceTrack

JAW = INDEX["jawOpen"]
CLOSE = INDEX["mouthClose"]


def teacher_track(phones: list[tuple[str, float, float]], segments: list[tuple[float, float, str]],
                  duration: float, fps: float = 30.0, pitch_st: np.ndarray | None = None,
                  loud: np.ndarray | None = None, seed: int = 0) -> FaceTrack:
    """The teacher's performance. phones: ARPAbet [(phone, start, end)]; segments: [(start, end,
    instruction text)]; pitch_st / loud: per-frame prosody at `fps` (semitones vs the speaker,
    NaN unvoiced; loudness 0..1), zeros when not given."""
    frames = int(round(duration * fps))
    pitch_st = np.zeros(frames) if pitch_st is None else np.asarray(pitch_st, float)[:frames]
    loud = np.full(frames, 0.5) if loud is None else np.asarray(loud, float)[:frames]
    lips = lip_weights(phones, frames, fps, loud)
    expr, posture = expression_weights(segments, frames, fps)
    # Where speech stops: a silence of PAUSE_MIN_S or more after speech, or the take's tail.
    pauses = [s for k, (p, s, e) in enumerate(phones)
              if p == "SIL" and s > 0 and (e - s >= PAUSE_MIN_S or k == len(phones) - 1)]
    base = gestures(frames, fps, pitch_st, loud, seed=seed, pauses=pauses)
    out = base.copy()
    w = out[:, :NUM_BLENDSHAPES]
    for layer in (expr, lips):
        w[:] = 1.0 - (1.0 - w) * (1.0 - layer)
    closure = np.clip(lips[:, INDEX["mouthPressLeft"]] / 0.45, 0.0, 1.0)
    w[:, JAW] = lips[:, JAW] + expr[:, JAW] * (1.0 - closure)
    # Coarticulation leaves the jaw a little open at /p b m/; mouthClose (defined on top of
    # jawOpen: equal values meet the lips) seals them, so bilabials really close.
    seal = ramp(lips[:, INDEX["mouthPressLeft"]], 0.28, 0.36)   # bilabial centres only, not their neighbours
    w[:, CLOSE] = np.maximum(w[:, CLOSE], seal * w[:, JAW])
    out[:, NUM_BLENDSHAPES] += posture
    return FaceTrack(fps, np.clip(out, -1.0, 1.0))
