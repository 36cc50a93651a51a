"""The lip part of the procedural teacher: phones to coarticulated ARKit mouth, jaw and tongue.

Each phone has a target (ARKit weights at full articulation) and a dominance that decays
exponentially from its centre (Cohen & Massaro's coarticulation model): at every frame each
channel is the dominance-weighted mean of the targets around it, so a bilabial's strong
dominance closes the lips even between open vowels, while a weak /h/ borrows its neighbours'
shape. The jaw opens with loudness. Used for training targets and as the teacher baseline.
"""

from __future__ import annotations

import numpy as np

from core.arkit import INDEX, NUM_BLENDSHAPES

REST: dict[str, float] = {}
# (targets, dominance strength, decay rate per second)
_BILABIAL = ({"jawOpen": 0.0, "mouthPressLeft": 0.45, "mouthPressRight": 0.45, "mouthRollLower": 0.15,
              "mouthRollUpper": 0.1}, 6.0, 28.0)
_LABIODENTAL = ({"jawOpen": 0.06, "mouthRollLower": 0.55, "mouthUpperUpLeft": 0.2, "mouthUpperUpRight": 0.2}, 4.0, 28.0)
_DENTAL = ({"jawOpen": 0.14, "tongueOut": 0.35}, 2.0, 25.0)
_ALVEOLAR = ({"jawOpen": 0.14}, 0.8, 22.0)
_VELAR = ({"jawOpen": 0.2}, 0.6, 22.0)
_POSTALVEOLAR = ({"jawOpen": 0.12, "mouthFunnel": 0.45, "mouthPucker": 0.25, "mouthShrugUpper": 0.15}, 2.5, 25.0)
_SIBILANT = ({"jawOpen": 0.06, "mouthStretchLeft": 0.25, "mouthStretchRight": 0.25}, 1.5, 25.0)
_ROUNDED_GLIDE = ({"jawOpen": 0.08, "mouthPucker": 0.7, "mouthFunnel": 0.25}, 3.0, 24.0)
_R = ({"jawOpen": 0.1, "mouthPucker": 0.35, "mouthFunnel": 0.25}, 1.5, 24.0)

PHONES: dict[str, tuple[dict[str, float], float, float]] = {
    "P": _BILABIAL, "B": _BILABIAL, "M": _BILABIAL,
    "F": _LABIODENTAL, "V": _LABIODENTAL,
    "TH": _DENTAL, "DH": _DENTAL,
    "T": _ALVEOLAR, "D": _ALVEOLAR, "N": _ALVEOLAR, "L": ({"jawOpen": 0.18}, 0.8, 22.0),
    "K": _VELAR, "G": _VELAR, "NG": _VELAR, "HH": ({"jawOpen": 0.2}, 0.2, 18.0), "Y": ({"jawOpen": 0.1,
    "mouthStretchLeft": 0.2, "mouthStretchRight": 0.2}, 1.0, 22.0),
    "CH": _POSTALVEOLAR, "JH": _POSTALVEOLAR, "SH": _POSTALVEOLAR, "ZH": _POSTALVEOLAR,
    "S": _SIBILANT, "Z": _SIBILANT,
    "W": _ROUNDED_GLIDE, "R": _R,
    "AA": ({"jawOpen": 0.55, "mouthLowerDownLeft": 0.2, "mouthLowerDownRight": 0.2}, 1.2, 16.0),
    "AE": ({"jawOpen": 0.45, "mouthStretchLeft": 0.25, "mouthStretchRight": 0.25,
            "mouthUpperUpLeft": 0.15, "mouthUpperUpRight": 0.15}, 1.2, 16.0),
    "AH": ({"jawOpen": 0.35}, 1.0, 16.0),
    "AO": ({"jawOpen": 0.45, "mouthFunnel": 0.4}, 1.2, 16.0),
    "AW": ({"jawOpen": 0.45, "mouthFunnel": 0.3, "mouthPucker": 0.2}, 1.2, 16.0),
    "AY": ({"jawOpen": 0.45, "mouthStretchLeft": 0.15, "mouthStretchRight": 0.15}, 1.2, 16.0),
    "EH": ({"jawOpen": 0.3, "mouthStretchLeft": 0.3, "mouthStretchRight": 0.3}, 1.0, 16.0),
    "ER": ({"jawOpen": 0.2, "mouthFunnel": 0.35, "mouthPucker": 0.2}, 1.0, 16.0),
    "EY": ({"jawOpen": 0.25, "mouthStretchLeft": 0.35, "mouthStretchRight": 0.35}, 1.0, 16.0),
    "IH": ({"jawOpen": 0.15, "mouthStretchLeft": 0.35, "mouthStretchRight": 0.35}, 1.0, 16.0),
    "IY": ({"jawOpen": 0.1, "mouthStretchLeft": 0.45, "mouthStretchRight": 0.45,
            "mouthSmileLeft": 0.15, "mouthSmileRight": 0.15}, 1.0, 16.0),
    "OW": ({"jawOpen": 0.3, "mouthFunnel": 0.55, "mouthPucker": 0.3}, 1.2, 16.0),
    "OY": ({"jawOpen": 0.3, "mouthFunnel": 0.45, "mouthPucker": 0.2}, 1.2, 16.0),
    "UH": ({"jawOpen": 0.15, "mouthFunnel": 0.4, "mouthPucker": 0.45}, 1.2, 16.0),
    "UW": ({"jawOpen": 0.1, "mouthFunnel": 0.35, "mouthPucker": 0.75}, 1.5, 16.0),
    "SIL": (REST, 0.5, 10.0),
}
MOUTH_CHANNELS = sorted({name for targets, _, _ in PHONES.values() for name in targets} | {"jawOpen"})


def lip_weights(phones: list[tuple[str, float, float]], frames: int, fps: float,
                loudness: np.ndarray | None = None) -> np.ndarray:
    """(frames, 52) ARKit weights for the mouth from ARPAbet phones [(phone, start, end)].

    loudness: optional per-frame 0..1 (relative to the speaker); it scales the jaw opening
    from 0.6x (soft) to 1.3x (loud).
    """
    out = np.zeros((frames, NUM_BLENDSHAPES), np.float32)
    if frames == 0:
        return out
    t = (np.arange(frames) + 0.5) / fps
    channels = [INDEX[c] for c in MOUTH_CHANNELS]
    total = np.full(frames, 1e-3)                      # a faint pull towards rest everywhere
    acc = np.zeros((frames, len(channels)))
    for phone, start, end in phones:
        targets, strength, decay = PHONES.get(phone, PHONES["AH" if phone[:1] in "AEIOU" else "SIL"])
        centre = 0.5 * (start + end)
        half = 0.5 * (end - start)
        # Full dominance over the phone's own span, exponential decay outside it.
        dist = np.maximum(np.abs(t - centre) - half, 0.0)
        dom = strength * np.exp(-decay * dist)
        total += dom
        vec = np.array([targets.get(c, 0.0) for c in MOUTH_CHANNELS])
        acc += dom[:, None] * vec[None, :]
    values = acc / total[:, None]
    if loudness is not None:
        jaw = MOUTH_CHANNELS.index("jawOpen")
        values[:, jaw] *= 0.6 + 0.7 * np.clip(loudness, 0.0, 1.0)
    out[:, channels] = np.clip(values, 0.0, 1.0)
    return out
