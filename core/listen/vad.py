"""Speech activity with Silero VAD: per-window speech probabilities, then regions by hysteresis;
offline, a voice Silero barely hears (a child's syllables) is added back from its pitch and loudness."""

from __future__ import annotations

import numpy as np

from core.listen import models
from core.listen.types import FRAME_RATE, ListenSettings

RATE = 16000
WINDOW = 512                 # Silero's window at 16 kHz (32 ms)
BLOCK_WINDOWS = 9375         # 300 s per model call: bounds memory on long takes
VOICE_BELOW_DB = 10.0        # a missed voice is at most this far under the median level of the voice found
VOICE_MIN_S = 0.08           # and voiced (an f0 found) this long without a break
VOICE_MIN_P = 0.05           # where Silero still gives it at least this speech probability


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


class SpeechGate:
    """Window probabilities to speech regions by hysteresis, as the windows come: a region opens at
    the first window at the threshold and closes after `min_silence` below threshold - 0.15.
    The offline listener feeds it a whole take at once, the live one window by window."""

    def __init__(self, s: ListenSettings) -> None:
        self.on, self.off = s.vad_threshold, max(s.vad_threshold - 0.15, 0.01)
        self.min_silence = s.min_silence
        self.closed: list[tuple[int, int]] = []     # [first, last + 1) speech windows of each region
        self.open: int | None = None                # the first window of the region still open
        self.last_speech = 0

    def feed(self, probs: np.ndarray, start: int) -> bool:
        """Windows start, start + 1, ...; True if a region closed among them."""
        hop = WINDOW / RATE
        closed = False
        for i, p in enumerate(probs, start=start):
            if self.open is None:
                if p >= self.on:
                    self.open, self.last_speech = i, i
            elif p >= self.off:
                self.last_speech = i
            elif (i - self.last_speech) * hop >= self.min_silence:
                self.closed.append((self.open, self.last_speech + 1))
                self.open, closed = None, True
        return closed


def regions(probs: np.ndarray, duration: float, s: ListenSettings) -> list[tuple[float, float]]:
    """Speech regions (seconds) from window probabilities: the SpeechGate's, short blips dropped,
    padded, overlaps merged."""
    hop = WINDOW / RATE
    gate = SpeechGate(s)
    gate.feed(probs, 0)
    spans = gate.closed + ([(gate.open, gate.last_speech + 1)] if gate.open is not None else [])
    found = [(a * hop, b * hop) for a, b in spans]
    return padded_and_merged([(a, b) for a, b in found if b - a >= s.min_speech], duration, s.speech_pad)


def padded_and_merged(spans: list[tuple[float, float]], duration: float, pad: float,
                      merged_with: list[tuple[float, float]] = ()) -> list[tuple[float, float]]:
    """`spans` (seconds) padded by `pad` on each side within the take, with `merged_with` (taken as
    they are), in order, overlaps merged, rounded to the millisecond."""
    out: list[list[float]] = []
    for a, b in sorted(list(merged_with) + [(max(0.0, a - pad), min(duration, b + pad)) for a, b in spans]):
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


def with_missed_voice(regions: list[tuple[float, float]], probs: np.ndarray, energy_db: np.ndarray,
                      f0: np.ndarray, duration: float, s: ListenSettings) -> list[tuple[float, float]]:
    """`regions` and the stretches Silero left out that are as clearly a voice as the speech it
    found: voiced for VOICE_MIN_S (an f0 on every 10 ms frame), within VOICE_BELOW_DB of the median
    loudness of the voiced frames it found, and not wholly unlike speech to Silero (VOICE_MIN_P).
    Silero gives a child's short syllables 0.1-0.5; on a take with no speech found, nothing is added (music and
    noise stay silent). Padded and merged as the regions are."""
    n = min(len(energy_db), len(f0))
    inside = frame_mask(regions, n)
    voiced = inside & (f0[:n] > 0)
    if not voiced.any() or not len(probs):
        return regions
    level = float(np.median(energy_db[:n][voiced]))
    window = np.minimum(((np.arange(n) + 0.5) / FRAME_RATE * RATE / WINDOW).astype(int), len(probs) - 1)
    voice = (f0[:n] > 0) & (energy_db[:n] > level - VOICE_BELOW_DB) & (probs[window] >= VOICE_MIN_P) & ~inside
    edges = np.flatnonzero(np.diff(np.concatenate([[0], voice.astype(np.int8), [0]])))
    found = [(a / FRAME_RATE, b / FRAME_RATE) for a, b in zip(edges[::2], edges[1::2])
             if (b - a) / FRAME_RATE >= VOICE_MIN_S]
    if not found:
        return regions
    return padded_and_merged(found, duration, s.speech_pad, merged_with=regions)
