"""Lip closures heard as the audio arrives: a small frame classifier for /p b m/ in live takes.

Live, no words are known, so the phones come from PocketSphinx's phone loop, which finds about a
third of the /p b m/ of real speech (offline forced alignment finds them all). This classifier
listens for the closure itself: 32 log-mel bands (60 Hz-4 kHz, so telephone audio reads alike)
every 10 ms, normalised by running statistics of the take so far, 8 frames of the past and 4 of
the future (40 ms of look-ahead, inside the performer's), through a two-layer perceptron
(`resources/live/bilabial.npz`, trained by `scripts/train_bilabial.py` on real recorded speech
labelled by the offline aligner). Where it is sure, and on to either side while it still hears
the closure, the streaming listener puts an M over the phone loop's phone, so the motion model
closes the lips.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RATE = 16000
HOP = 160                 # 10 ms
WIN = 400                 # 25 ms
NFFT = 512
BANDS = 32
PAST, FUTURE = 8, 4       # context frames
TAU = 300.0               # frames over which the running statistics forget (3 s)
THRESHOLD = 0.9           # probability above which a frame is a closure (the model file's, if it has one)
EXTEND = None             # a closure runs on to either side while the probability stays above this (the file's)
MIN_FRAMES = 3            # shortest closure kept, in frames (the model file's, if it has one)
MODEL = Path(__file__).resolve().parents[2] / "resources" / "live" / "bilabial.npz"


def mel_filters() -> np.ndarray:
    def to_mel(hz):
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def to_hz(mel):
        return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)
    edges = np.floor((NFFT + 1) * to_hz(np.linspace(to_mel(60.0), to_mel(4000.0), BANDS + 2)) / RATE).astype(int)
    fb = np.zeros((BANDS, NFFT // 2 + 1), np.float32)
    for i in range(BANDS):
        a, b, c = edges[i], edges[i + 1], edges[i + 2]
        fb[i, a:b] = (np.arange(a, b) - a) / max(1, b - a)
        fb[i, b:c] = (c - np.arange(b, c)) / max(1, c - b)
    return fb


_FILTERS = mel_filters()
_WINDOW = np.hanning(WIN).astype(np.float32)


def log_mel(x: np.ndarray, first: int, last: int) -> np.ndarray:
    """Log-mel bands of frames [first, last) of 16 kHz audio `x` (frame i centred on i * HOP;
    only the samples those frames need are read)."""
    lo = first * HOP - WIN // 2
    piece = np.asarray(x[max(0, lo):(last - 1) * HOP + WIN // 2], np.float32)
    piece = np.pad(piece, (max(0, -lo), max(0, (last - first - 1) * HOP + WIN - len(piece) - max(0, -lo))))
    starts = np.arange(last - first) * HOP
    frames = piece[starts[:, None] + np.arange(WIN)[None, :]] * _WINDOW
    power = np.abs(np.fft.rfft(frames, NFFT)) ** 2
    return np.log(power @ _FILTERS.T + 1e-8).astype(np.float32)


class RunningNorm:
    """Each band's mean and variance over the take so far (exponentially forgetting), starting
    from the training speech's."""

    def __init__(self, mean: np.ndarray, var: np.ndarray) -> None:
        self.mean, self.var = mean.astype(np.float64).copy(), var.astype(np.float64).copy()

    def __call__(self, bands: np.ndarray) -> np.ndarray:
        out = np.empty_like(bands)
        a = 1.0 / TAU
        for t, v in enumerate(bands):
            self.mean = (1 - a) * self.mean + a * v
            self.var = (1 - a) * self.var + a * (v - self.mean) ** 2
            out[t] = (v - self.mean) / np.sqrt(self.var + 1e-3)
        return out


def overlay(phones: list, spans: list[tuple[float, float]], name: str = "M") -> list:
    """`phones` (sorted, not overlapping) with `name` over each span, the phones under it cut
    back; spans already inside a closure phone are left as they are."""
    from core.listen.types import Phone
    out = list(phones)
    for a, b in spans:
        if any(p.phone in ("P", "B", "M") and p.start < b and p.end > a for p in out):
            continue
        kept = []
        for p in out:
            if p.end <= a or p.start >= b:
                kept.append(p)
                continue
            if p.start < a:
                kept.append(Phone(p.phone, p.start, a, p.word))
            if p.end > b:
                kept.append(Phone(p.phone, b, p.end, p.word))
        kept.append(Phone(name, a, b))
        out = sorted(kept, key=lambda p: p.start)
    return out


def context(frames: np.ndarray) -> np.ndarray:
    """(n - PAST - FUTURE, (PAST + 1 + FUTURE) * BANDS): each frame with its neighbours."""
    width = PAST + 1 + FUTURE
    if len(frames) < width:
        return np.zeros((0, width * frames.shape[1]), np.float32)
    return np.lib.stride_tricks.sliding_window_view(frames, (width, frames.shape[1]))[:, 0].reshape(
        len(frames) - width + 1, -1)


class Classifier:
    """The trained perceptron (numpy)."""

    def __init__(self, path: Path = MODEL) -> None:
        w = np.load(path)
        self.layers = [(w[f"w{i}"], w[f"b{i}"]) for i in range(sum(k.startswith("w") for k in w.files))]
        self.mean, self.var = w["mean"], w["var"]
        self.threshold = float(w["threshold"]) if "threshold" in w else THRESHOLD
        self.shortest = int(w["shortest"]) if "shortest" in w else MIN_FRAMES
        self.extend = float(w["extend"]) if "extend" in w else EXTEND

    def probability(self, rows: np.ndarray) -> np.ndarray:
        h = rows
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return 1.0 / (1.0 + np.exp(-h[:, 0]))


_classifier: Classifier | None = None


def classifier() -> Classifier:
    global _classifier
    if _classifier is None:
        _classifier = Classifier()
    return _classifier


class StreamingClosures:
    """Closure probability per 10 ms frame of a growing take; frame i is known once the audio of
    frame i + FUTURE has arrived."""

    def __init__(self) -> None:
        self.model = classifier()
        self.norm = RunningNorm(self.model.mean, self.model.var)
        self._bands = np.zeros((PAST + 4096, BANDS), np.float32)   # PAST zero frames, then every frame so far
        self.frames = 0
        self._prob = np.zeros(4096, np.float32)
        self.known = 0                                           # frames with a probability

    @property
    def prob(self) -> np.ndarray:
        return self._prob[:self.known]

    def update(self, x: np.ndarray) -> None:
        """Read the new frames of the take's audio `x` (all samples so far)."""
        last = (len(x) - WIN // 2) // HOP + 1               # frames whose window has all its samples
        if last <= self.frames:
            return
        new = self.norm(log_mel(x, self.frames, last))
        if PAST + last > len(self._bands):
            self._bands = np.concatenate([self._bands, np.zeros((max(len(self._bands), len(new)), BANDS),
                                                                np.float32)])
        self._bands[PAST + self.frames:PAST + last] = new
        self.frames = last
        known = last - FUTURE
        if known > self.known:
            rows = context(self._bands[self.known:known + PAST + FUTURE])
            if known > len(self._prob):
                self._prob = np.concatenate([self._prob, np.zeros(max(len(self._prob), known), np.float32)])
            self._prob[self.known:known] = self.model.probability(rows)
            self.known = known

    def spans(self, since: float = 0.0) -> list[tuple[float, float]]:
        """Closures (start, end) in seconds from `since` on."""
        return closure_spans(self.prob, self.model.threshold, max(0, int(since * 100)), self.model.shortest,
                             self.model.extend)


def closure_spans(prob: np.ndarray, threshold: float, start: int = 0, shortest: int = MIN_FRAMES,
                  extend: float | None = None) -> list[tuple[float, float]]:
    """Runs of at least `shortest` frames over `threshold`, from frame `start`, in seconds; each
    run goes on to either side while the probability stays over `extend` (where the classifier
    hears the closure begin and end, though less surely than at its middle)."""
    sure = prob > threshold
    out, i = [], start
    while i < len(sure):
        if sure[i]:
            j = i
            while j < len(sure) and sure[j]:
                j += 1
            if j - i >= shortest:
                a, b = i, j
                if extend is not None:
                    # never into the run before: it ended on a frame at or under `extend`
                    while a > start and prob[a - 1] > extend:
                        a -= 1
                    while b < len(prob) and prob[b] > extend:
                        b += 1
                out.append((a / 100.0, b / 100.0))
                j = b
            i = j
        else:
            i += 1
    return out
