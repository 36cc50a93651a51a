"""Speech activity with Silero VAD: per-window speech probabilities, then regions by hysteresis."""

from __future__ import annotations

import numpy as np

from core.listen import models
from core.listen.types import FRAME_RATE, ListenSettings

RATE = 16000
WINDOW = 512                 # Silero's window at 16 kHz (32 ms)
BLOCK_WINDOWS = 9375         # 300 s per model call: bounds memory on long takes


def speech_probabilities(x: np.ndarray) -> np.ndarray:
    """One speech probability per 32 ms window of 16 kHz audio."""
    if len(x) == 0:
        return np.zeros(0, np.float32)
    model = models.vad()
    out = []
    block = BLOCK_WINDOWS * WINDOW
    for i in range(0, len(x), block):
        part = np.asarray(x[i:i + block], dtype=np.float32)
        part = np.pad(part, (0, (-len(part)) % WINDOW))      # np.pad copies: the model writes into it
        out.append(np.asarray(model(part), dtype=np.float32).reshape(-1))
    return np.concatenate(out)


def regions(probs: np.ndarray, duration: float, s: ListenSettings) -> list[tuple[float, float]]:
    """Speech regions (seconds) from window probabilities: open above the threshold, close after
    `min_silence` below threshold - 0.15, drop short blips, pad, merge overlaps."""
    hop = WINDOW / RATE
    on, off = s.vad_threshold, max(s.vad_threshold - 0.15, 0.01)
    found: list[list[float]] = []
    start = None
    last_speech = 0
    for i, p in enumerate(probs):
        if start is None:
            if p >= on:
                start, last_speech = i, i
        else:
            if p >= off:
                last_speech = i
            elif (i - last_speech) * hop >= s.min_silence:
                found.append([start * hop, (last_speech + 1) * hop])
                start = None
    if start is not None:
        found.append([start * hop, (last_speech + 1) * hop])
    out: list[list[float]] = []
    for a, b in found:
        if b - a < s.min_speech:
            continue
        a, b = max(0.0, a - s.speech_pad), min(duration, b + s.speech_pad)
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(round(a, 3), round(b, 3)) for a, b in out if b > a]


def frame_mask(vad: list[tuple[float, float]], frames: int) -> np.ndarray:
    mask = np.zeros(frames, bool)
    for a, b in vad:
        mask[int(a * FRAME_RATE):int(np.ceil(b * FRAME_RATE))] = True
    return mask
