"""Per-frame speech features for the motion model, from the listener's analysis.

The same function serves training (on synthesised speech, listened to by the same listener)
and use, so the model sees identical inputs in both. 48 values per frame:
- 40: the phone under the frame, one-hot (39 ARPAbet phones + SIL);
- 8: pitch in semitones relative to the speaker / 12 (0 unvoiced), voicing, loudness relative
  to the speaker / 20 dB, their frame-to-frame changes, speech activity, the position inside
  the current phone (0 at its start, 1 at its end), and a word-onset flag.
"""

from __future__ import annotations

import numpy as np

from core.listen import Analysis, frames_at

PHONES: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH", "IH",
    "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH", "UW", "V",
    "W", "Y", "Z", "ZH", "SIL",
)
PHONE_INDEX = {p: i for i, p in enumerate(PHONES)}
NUM_FEATURES = len(PHONES) + 8


def speech_features(analysis: Analysis, fps: float, start: int = 0, frames: int | None = None) -> np.ndarray:
    """(frames, 48) float32 at `fps` for frames [start, start + frames); by default the whole
    take, frames = round(duration * fps)."""
    f = frames_at(analysis, fps, start, frames)
    n = len(f["phone"])
    out = np.zeros((n, NUM_FEATURES), np.float32)
    idx = np.array([PHONE_INDEX.get(p, PHONE_INDEX["SIL"]) for p in f["phone"]])
    out[np.arange(n), idx] = 1.0
    k = len(PHONES)
    pitch = np.where(f["voiced"], f["semitones"], 0.0) / 12.0
    loud = np.clip(f["loudness_db"], -60, 20) / 20.0
    out[:, k + 0] = pitch
    out[:, k + 1] = f["voiced"]
    out[:, k + 2] = loud
    out[:, k + 3] = np.gradient(pitch) if n > 1 else 0.0
    out[:, k + 4] = np.gradient(loud) if n > 1 else 0.0
    out[:, k + 5] = f["speech"]
    t = (start + np.arange(n) + 0.5) / fps
    first, last = (t[0], t[-1]) if n else (0.0, -1.0)
    for p in analysis.phones:
        if p.end < first or p.start > last:
            continue
        a, b = np.searchsorted(t, [p.start, p.end])
        if b > a:
            out[a:b, k + 6] = (t[a:b] - p.start) / max(p.end - p.start, 1e-6)
    for w in analysis.words:
        i = int(w.start * fps) - start
        if 0 <= i < n:
            out[i, k + 7] = 1.0
    return out
