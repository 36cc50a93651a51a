"""Frame-level prosody at 100 Hz: f0 with voicing (WORLD DIO + StoneMask through pyworld) and
energy (RMS dBFS over 25 ms windows), plus the whole-take speaker statistics used to normalise
every per-segment summary (pitch in semitones relative to the speaker's median f0, loudness in
dB relative to the speaker's median speech energy, speaking rate relative to the take's)."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import median_filter

from core.listen import models
from core.listen.types import FRAME_RATE, ListenSettings, Phone

RATE = 16000
HOP = int(RATE / FRAME_RATE)     # 160 samples
WIN = 400                        # 25 ms
BLOCK = 60 * RATE                # f0 in 60 s blocks (bounded memory on long takes)
OVERLAP = RATE // 2

VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}


def frame_count(samples: int) -> int:
    return int(np.ceil(samples / HOP)) if samples else 0


def energy_db(x: np.ndarray) -> np.ndarray:
    n = frame_count(len(x))
    out = np.empty(n, np.float32)
    padded = np.pad(x.astype(np.float32), (WIN // 2, WIN))
    windows = np.lib.stride_tricks.sliding_window_view(padded, WIN)[::HOP][:n]
    step = 20000                     # 20000 x 400 floats at a time
    for i in range(0, n, step):
        frames = windows[i:i + step]
        out[i:i + len(frames)] = 10 * np.log10(np.einsum("ij,ij->i", frames, frames) / WIN + 1e-10)
    return out


def f0_track(x: np.ndarray, s: ListenSettings) -> np.ndarray:
    """f0 in Hz per 10 ms frame, 0 where unvoiced."""
    pw = models.pyworld()
    n = frame_count(len(x))
    out = np.zeros(n, np.float64)
    for a in range(0, len(x), BLOCK):
        lo = max(0, a - OVERLAP)
        hi = min(len(x), a + BLOCK + OVERLAP)
        seg = np.ascontiguousarray(x[lo:hi], dtype=np.float64)
        if len(seg) < WIN:
            continue
        f0, t = pw.dio(seg, RATE, f0_floor=s.f0_floor, f0_ceil=s.f0_ceil, frame_period=1000.0 / FRAME_RATE)
        f0 = pw.stonemask(seg, f0, t, RATE)
        first = (a - lo) // HOP
        take = min(BLOCK // HOP, n - a // HOP, len(f0) - first)
        if take > 0:
            out[a // HOP:a // HOP + take] = f0[first:first + take]
    return out.astype(np.float32)


def clean_voicing(f0: np.ndarray, energy: np.ndarray, speech: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Voiced = f0 found, inside speech, not far below the speech level; drop 1-2 frame blips and
    smooth octave spikes with a short median."""
    if len(f0) == 0:
        return f0, np.zeros(0, bool)
    level = np.median(energy[speech]) if speech.any() else np.median(energy)
    voiced = (f0 > 0) & speech & (energy > level - 25.0)
    # remove runs shorter than 3 frames
    v = voiced.astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], v, [0]])))
    for a, b in zip(edges[::2], edges[1::2]):
        if b - a < 3:
            voiced[a:b] = False
    smooth = f0.copy()
    if voiced.any():
        smooth[voiced] = median_filter(f0[voiced], size=5, mode="nearest")
    smooth[~voiced] = 0.0
    return smooth.astype(np.float32), voiced


def speaker_stats(f0: np.ndarray, voiced: np.ndarray, energy: np.ndarray, speech: np.ndarray,
                  phones: list[Phone], speech_seconds: float) -> dict[str, float]:
    stats: dict[str, float] = {}
    if voiced.sum() >= 10:
        med = float(np.median(f0[voiced]))
        st = 12 * np.log2(f0[voiced] / med)
        stats["median_f0_hz"] = med
        stats["f0_spread_st"] = float(np.percentile(st, 90) - np.percentile(st, 10))
    else:
        stats["median_f0_hz"] = 0.0
        stats["f0_spread_st"] = 0.0
    sp = speech if speech.any() else np.ones_like(speech)
    stats["median_energy_db"] = float(np.median(energy[sp])) if len(energy) else -100.0
    vowels = sum(1 for p in phones if p.phone in VOWELS)
    talking = sum(p.end - p.start for p in phones if p.phone != "SIL")
    stats["speech_seconds"] = float(speech_seconds)
    stats["syllables_per_s"] = vowels / talking if talking > 0.5 else 0.0
    return stats
