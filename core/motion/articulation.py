"""What the sampled motion gets before it becomes a track: blinks on a person's schedule and lips
that seal on /p b m/.

Both are rules an animator expects to hold on every take, which a small denoiser gets right only
most of the time (on real speech the shipped model blinked 26-38 times a minute and sealed 0.70-0.80
of the bilabial frames), so they are applied after sampling, from the listener's speech features:

- **Blinks.** People blink about 12-26 times a minute while speaking, more at pauses and phrase
  ends; a blink lasts 100-400 ms, closing fast and opening more slowly, both eyes together. The
  schedule is drawn from the take's own pauses (a blink soon after most pause onsets, others at
  gamma-distributed intervals between them), seeded by the take's speech activity, so it is the
  same for the whole take whatever is regenerated, and a regenerated segment joins the frames
  around it. The model's own eyelid level (a droop, a squint) is kept: its blinks are taken out
  with a running median and the schedule's closures laid over what remains.
- **Lips.** On the frames of a bilabial phone the lips meet whatever the jaw does, the ARKit way:
  mouthClose takes the value of jawOpen (the two cancel at the lips) and the shapes that part the
  lips (funnel, upper lip up, lower lip down, stretch, tongue out) are let go; the frame before
  the phone is 30 % of the way there (the lips close ahead of the phone), the frame after is left
  alone (a release opens them at once).
  The jaw itself is left as the model made it, so jaw and loudness still move together.

`articulate(rows, speech, fps, start)` applies both to rows [start, start + len(rows)) of a take
whose speech features (core.motion.features, the whole take) are `speech`.
"""

from __future__ import annotations

import zlib

import numpy as np
from scipy.ndimage import median_filter

from core.arkit import INDEX
from core.motion.features import PHONE_INDEX, PHONES

SPEECH_COLUMN = len(PHONES) + 5                 # speech activity, 0/1 per frame
BILABIAL_COLUMNS = [PHONE_INDEX[p] for p in ("P", "B", "M")]

BLINK_CHANNELS = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]
MEAN_INTERVAL_S = 4.0          # between blinks not tied to a pause: 15 a minute
MIN_INTERVAL_S = 1.2           # no two blinks closer than this
PAUSE_MIN_S = 0.25             # a silence at least this long after speech is a pause
PAUSE_BLINK_P = 0.7            # the share of pause onsets followed by a blink
BLINK_S = (0.15, 0.4)          # a blink's length, close + open
CLOSE_SHARE = 0.35             # the closing part of a blink; the opening takes the rest
EYELID_MEDIAN_S = 1.2          # over twice any blink (the model drew some of 0.4 s), under a droop or a squint

SEAL_CLOSE = INDEX["mouthClose"]
SEAL_JAW = INDEX["jawOpen"]
LIP_OPENERS = [INDEX[n] for n in ("mouthFunnel", "mouthUpperUpLeft", "mouthUpperUpRight", "mouthLowerDownLeft",
                                  "mouthLowerDownRight", "mouthStretchLeft", "mouthStretchRight", "tongueOut")]
SEAL_BEFORE, SEAL_AFTER = 0.3, 0.0


def pause_onsets(speaking: np.ndarray, fps: float) -> list[float]:
    """Times (s) where speech stops for at least PAUSE_MIN_S (the take's end counts)."""
    speaking = np.asarray(speaking) > 0.5
    need = max(1, int(round(PAUSE_MIN_S * fps)))
    out = []
    for i in np.flatnonzero(speaking[:-1] & ~speaking[1:]) + 1:
        if not speaking[i:i + need].any():
            out.append(i / fps)
    return out


def blink_times(duration: float, pauses: list[float], rng: np.random.Generator) -> list[tuple[float, float]]:
    """(onset s, length s) of each blink: one soon after most pauses, others between them."""
    chosen = [p + rng.uniform(0.05, 0.2) for p in pauses if rng.random() < PAUSE_BLINK_P]
    t = rng.uniform(0.5, 2.5)
    while t < duration:
        chosen.append(t)
        t += MIN_INTERVAL_S + rng.gamma(2.0, (MEAN_INTERVAL_S - MIN_INTERVAL_S) / 2.0)
    kept: list[float] = []
    for t in sorted(chosen):          # pause blinks and the others thinned to MIN_INTERVAL_S
        if t < duration and (not kept or t - kept[-1] >= MIN_INTERVAL_S):
            kept.append(t)
    return [(t, rng.uniform(*BLINK_S)) for t in kept]


def blink_closure(frames: int, fps: float, blinks: list[tuple[float, float]], start: int = 0) -> np.ndarray:
    """(frames,) eyelid closure 0..1 at the times of frames [start, start + frames): each blink
    closes over CLOSE_SHARE of its length and opens over the rest (smooth half-cosine ramps), so
    it closes fast and opens slowly."""
    t = (start + np.arange(frames)) / fps
    out = np.zeros(frames)
    if frames == 0:
        return out
    for onset, length in blinks:
        if onset > t[-1] or onset + length < t[0]:
            continue
        close, opening = CLOSE_SHARE * length, (1.0 - CLOSE_SHARE) * length
        u = (t - onset) / close
        v = (t - onset - close) / opening
        c = np.where((u >= 0) & (u < 1), 0.5 - 0.5 * np.cos(np.pi * np.clip(u, 0, 1)), 0.0)
        c = np.where((v >= 0) & (v < 1), 0.5 + 0.5 * np.cos(np.pi * np.clip(v, 0, 1)), c)
        c = np.where(np.abs(t - onset - close) < 0.5 / fps, 1.0, c)    # the frame nearest full closure
        out = np.maximum(out, c)
    return out


def take_blinks(speech: np.ndarray, fps: float, start: int = 0, frames: int | None = None) -> np.ndarray:
    """The take's blink closure over frames [start, start + frames) (default: all), drawn from its
    speech activity alone (deterministic: the same for every part of the take)."""
    speaking = np.asarray(speech)[:, SPEECH_COLUMN] > 0.5
    seed = zlib.crc32(np.packbits(speaking).tobytes() + len(speaking).to_bytes(8, "little"))
    rng = np.random.default_rng(seed)
    total = len(speaking)
    frames = total - start if frames is None else frames
    return blink_closure(frames, fps, blink_times(total / fps, pause_onsets(speaking, fps), rng), start)


def seal_strength(speech: np.ndarray) -> np.ndarray:
    """(frames,) 1 on bilabial frames, SEAL_BEFORE on the frame before, SEAL_AFTER on the one after."""
    bil = np.asarray(speech)[:, BILABIAL_COLUMNS].max(axis=1) > 0.5
    s = bil.astype(np.float64)
    s[:-1] = np.maximum(s[:-1], SEAL_BEFORE * bil[1:])
    s[1:] = np.maximum(s[1:], SEAL_AFTER * bil[:-1])
    return s


def articulate(rows: np.ndarray, speech: np.ndarray, fps: float, start: int = 0,
               closure: np.ndarray | None = None) -> np.ndarray:
    """Rows [start, start + len(rows)) of a take's motion (frames x 55, weights 0..1) with the
    take's blinks and sealed bilabials; a new array. `closure` (len(rows),) gives the eyelid
    closure of the blinks instead of the take's schedule (a live take draws its own as it goes)."""
    out = np.array(rows, np.float32)
    n = len(out)
    if n == 0:
        return out
    speech = np.asarray(speech)
    window = max(3, int(round(EYELID_MEDIAN_S * fps)) | 1)
    if closure is None:
        closure = take_blinks(speech, fps, start, n)
    for c in BLINK_CHANNELS:
        lid = median_filter(out[:, c], size=window, mode="nearest")
        out[:, c] = lid + (1.0 - lid) * closure
    s = seal_strength(speech)[start:start + n, None]
    out[:, LIP_OPENERS] *= (1.0 - s).astype(np.float32)
    close = out[:, SEAL_CLOSE:SEAL_CLOSE + 1]
    out[:, SEAL_CLOSE:SEAL_CLOSE + 1] = close + s * (out[:, SEAL_JAW:SEAL_JAW + 1] - close)
    return out
