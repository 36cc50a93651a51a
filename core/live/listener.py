"""The streaming listener: 16 kHz blocks in, the motion model's per-frame speech features out.

It keeps the take as the offline listener describes one (a core.listen.Analysis whose 100 Hz
arrays and phones grow as the audio arrives), so `core.motion.features.speech_features` reads it
exactly as it reads a recorded take, for any range of frames:

- **Speech activity**: Silero VAD run window by window (32 ms) with its recurrent state carried
  over, the same model and thresholds as offline; a region opens at the first window over the
  threshold and closes after `min_silence` below it, padded as offline where the frames are
  still to come.
- **Phones**: PocketSphinx's phone loop decodes inside one utterance as the audio arrives
  (about 1 ms a block); its partial best path gives the newest phones, which may still change
  over the next frames (the performer's look-ahead). An utterance ends at a pause or after
  MAX_UTTERANCE_S, and its phones are then final. The loop finds few lip closures, so a frame
  classifier listening for them (core.live.bilabial, 40 ms of look-ahead) puts an M where it
  is sure of one.
- **Prosody**: energy per 10 ms as offline; f0 by WORLD's DIO + StoneMask on the newest audio
  with half a second of context; pitch and loudness relative to the speaker so far (the running
  medians of the speech heard).

The words are not known live (no recogniser runs), so the word-onset feature stays 0, as in an
offline take where no words were recognised.
"""

from __future__ import annotations

import math

import numpy as np

from core.listen import models, vad
from core.listen.align import loop_phones, pcm16
from core.listen.prosody import clean_voicing
from core.listen.types import Analysis, ListenSettings, Phone
from core.live.bilabial import StreamingClosures, overlay
from core.motion.features import speech_features

RATE = 16000
HOP = 160                     # samples per 10 ms analysis frame
WIN = 400                     # energy window (25 ms), centred on the frame
VAD_WINDOW = 512              # Silero's window at 16 kHz
VAD_CONTEXT = 64              # samples of the previous window Silero sees
F0_CONTEXT = 50               # analysis frames of audio before the newest f0 frames
F0_REDO = 8                   # the newest f0 frames, recomputed when more audio has come
MAX_UTTERANCE_S = 8.0         # a phone-loop utterance is cut here even without a pause
HOLD_LAST_S = 0.3             # the newest phone is held over this much undecoded speech at most
DEFAULT_LEVEL_DB = -30.0      # the speaker's speech level before any speech was heard


class _Grow:
    """A growable 1-D array."""

    def __init__(self, dtype, fill=0) -> None:
        self.data = np.full(1024, fill, dtype)
        self.fill = fill
        self.n = 0

    def reserve(self, n: int) -> None:
        if n > len(self.data):
            bigger = np.full(max(n, 2 * len(self.data)), self.fill, self.data.dtype)
            bigger[:len(self.data)] = self.data
            self.data = bigger

    def extend(self, values: np.ndarray) -> None:
        self.reserve(self.n + len(values))
        self.data[self.n:self.n + len(values)] = values
        self.n += len(values)

    @property
    def view(self) -> np.ndarray:
        return self.data[:self.n]


class _StreamingVad:
    """Silero window by window, its recurrent state kept between calls."""

    def __init__(self) -> None:
        self.session = models.vad().session
        self.h = np.zeros((1, 1, 128), np.float32)
        self.c = np.zeros((1, 1, 128), np.float32)
        self.context = np.zeros(VAD_CONTEXT, np.float32)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        """Speech probability of each of (k, 512) windows, in order."""
        batch = np.empty((len(windows), VAD_CONTEXT + VAD_WINDOW), np.float32)
        for i, w in enumerate(windows):
            batch[i, :VAD_CONTEXT] = self.context
            batch[i, VAD_CONTEXT:] = w
            self.context = w[-VAD_CONTEXT:]
        out, self.h, self.c = self.session.run(None, {"input": batch, "h": self.h, "c": self.c})
        return np.asarray(out, np.float32).reshape(-1)


class StreamingListener:
    """Push 16 kHz mono blocks; read speech features for any frames that have their audio."""

    def __init__(self, fps: float = 30.0, settings: ListenSettings | None = None) -> None:
        self.fps = float(fps)
        self.s = settings or ListenSettings()
        self.samples = _Grow(np.float32)
        self.energy = _Grow(np.float32, -100.0)
        self.f0_raw = _Grow(np.float32)
        self._vad_windows = 0                 # VAD windows judged so far
        self._vad = _StreamingVad()
        self._decoder = models.streaming_allphone()
        self._closures = StreamingClosures()
        self._utt_start = 0                 # sample where the current utterance began
        self._in_utt = False
        self._final_phones: list[Phone] = []
        self._partial: list[Phone] = []
        self._partial_stale = True
        self._gate = vad.SpeechGate(self.s)      # speech regions, in VAD windows
        # the speaker so far
        self._voiced_f0: list[np.ndarray] = []
        self._speech_energy: list[np.ndarray] = []
        self._stats_frames = 0

    # ------------------------------------------------------------------ input
    @property
    def duration(self) -> float:
        return self.samples.n / RATE

    @property
    def frames_ready(self) -> int:
        """Frames at `fps` whose whole span of audio has arrived."""
        return int(self.samples.n * self.fps / RATE)

    def push(self, block: np.ndarray) -> None:
        """Append a block of 16 kHz mono float samples."""
        block = np.asarray(block, np.float32).reshape(-1)
        if len(block) == 0:
            return
        self.samples.extend(block)
        self._update_energy()
        self._update_vad()
        self._feed_decoder(block)
        self._closures.update(self.samples.view)

    def _update_energy(self) -> None:
        x, n = self.samples.view, self.samples.n
        first = self.energy.n
        last = (n - WIN // 2) // HOP                 # frames whose window has all its samples
        if last < first:
            return
        out = np.empty(last - first + 1, np.float32)
        for k, i in enumerate(range(first, last + 1)):
            a = i * HOP - WIN // 2
            w = x[max(0, a):a + WIN]
            out[k] = 10 * np.log10(float(np.dot(w, w)) / WIN + 1e-10)
        self.energy.extend(out)

    def _update_vad(self) -> None:
        done = self._vad_windows
        have = self.samples.n // VAD_WINDOW
        if have <= done:
            return
        windows = self.samples.view[done * VAD_WINDOW:have * VAD_WINDOW].reshape(-1, VAD_WINDOW)
        probs = self._vad(windows)
        self._vad_windows = have
        if self._gate.feed(probs, done):          # a pause: the phone loop's utterance ends there
            self._end_utterance()

    def _feed_decoder(self, block: np.ndarray) -> None:
        if not self._in_utt:
            self._decoder.start_utt()
            self._in_utt = True
            self._utt_start = self.samples.n - len(block)
        self._decoder.process_raw(pcm16(block), False, False)
        self._partial_stale = True
        if (self.samples.n - self._utt_start) / RATE >= MAX_UTTERANCE_S:
            self._end_utterance()

    def _spoken(self) -> list[Phone]:
        """The current utterance's phones so far, without its silences (the take's are tiled in),
        with the closures the classifier is sure of."""
        start = self._utt_start / RATE
        spoken = [p for p in loop_phones(self._decoder, start) if p.phone != "SIL"]
        return overlay(spoken, self._closures.spans(start))

    def _end_utterance(self) -> None:
        if not self._in_utt:
            return
        try:
            self._decoder.end_utt()
            self._final_phones += self._spoken()
        except (RuntimeError, ValueError):
            pass
        self._in_utt = False
        self._partial = []
        self._partial_stale = False

    # ------------------------------------------------------------------ reading
    def _update_f0(self) -> None:
        pw = models.pyworld()
        n_frames = self.energy.n
        first = max(0, min(self.f0_raw.n, n_frames) - F0_REDO)
        if n_frames <= first:
            return
        lo = max(0, first - F0_CONTEXT)
        seg = np.ascontiguousarray(self.samples.view[lo * HOP:], np.float64)
        if len(seg) < WIN:
            return
        f0, t = pw.dio(seg, RATE, f0_floor=self.s.f0_floor, f0_ceil=self.s.f0_ceil, frame_period=10.0)
        f0 = pw.stonemask(seg, f0, t, RATE)
        new = np.zeros(n_frames - first, np.float32)
        take = min(len(new), len(f0) - (first - lo))
        if take > 0:
            new[:take] = f0[first - lo:first - lo + take]
        self.f0_raw.n = first
        self.f0_raw.extend(new)

    def _speech_mask(self, lo: int, hi: int) -> np.ndarray:
        """Speech per 10 ms frame in [lo, hi), from the regions so far (padded as offline; the
        open region runs to the newest audio)."""
        mask = np.zeros(hi - lo, bool)
        win_s = VAD_WINDOW / RATE
        spans = []
        for a, b in reversed(self._gate.closed):      # newest first; stop before the range
            if (b * win_s + self.s.speech_pad) * 100 < lo:
                break
            if (b - a) * win_s >= self.s.min_speech:   # blips are dropped, as offline
                spans.append((a * win_s, b * win_s))
        if self._gate.open is not None:
            spans.append((self._gate.open * win_s, self.duration))
        for a, b in spans:
            i0 = max(lo, int((a - self.s.speech_pad) * 100))
            i1 = min(hi, int(np.ceil((b + self.s.speech_pad) * 100)))
            mask[i0 - lo:max(i0, i1) - lo] = True
        return mask

    def _phones(self) -> list[Phone]:
        if self._in_utt and self._partial_stale:
            try:
                self._partial = self._spoken()
            except (RuntimeError, ValueError):
                self._partial = []
            self._partial_stale = False
        partial = self._partial
        if partial and self._gate.open is not None and self.duration - partial[-1].end < HOLD_LAST_S:
            # the decoder's best path ends ~50 ms short of the audio; while speech goes on, the
            # phone being spoken is the best guess for those frames (not silence)
            last = partial[-1]
            partial = partial[:-1] + [Phone(last.phone, last.start, self.duration)]
        return self._final_phones + partial

    def _speaker(self, n: int) -> dict[str, float]:
        """The speaker so far: running medians of f0 and speech energy (frames up to n - 100 are
        final, so they are counted once)."""
        settled = max(0, n - 100)
        if settled > self._stats_frames:
            a = self._stats_frames
            f0, voiced = clean_voicing(self.f0_raw.view[a:settled].copy(), self.energy.view[a:settled],
                                       self._speech_mask(a, settled))
            self._voiced_f0.append(f0[voiced])
            self._speech_energy.append(self.energy.view[a:settled][self._speech_mask(a, settled)])
            self._stats_frames = settled
        if len(self._voiced_f0) > 64:          # keep the lists short
            self._voiced_f0 = [np.concatenate(self._voiced_f0)]
            self._speech_energy = [np.concatenate(self._speech_energy)]
        vf = np.concatenate(self._voiced_f0) if self._voiced_f0 else np.zeros(0)
        se = np.concatenate(self._speech_energy) if self._speech_energy else np.zeros(0)
        return {"median_f0_hz": float(np.median(vf)) if len(vf) >= 10 else 0.0,
                "median_energy_db": float(np.median(se)) if len(se) >= 10 else DEFAULT_LEVEL_DB}

    def analysis(self, start_s: float = 0.0) -> Analysis:
        """The take from `start_s` (on a 10 ms frame) to now, as the offline listener describes a
        take that starts there (times relative to `start_s`)."""
        self._update_f0()
        n = min(self.energy.n, self.f0_raw.n)
        lo = min(n, int(round(start_s * 100)))
        ctx = max(0, lo - 20)                   # voicing cleanup sees a little before the window
        energy = self.energy.view[ctx:n]
        speech = self._speech_mask(ctx, n)
        f0, voiced = clean_voicing(self.f0_raw.view[ctx:n].copy(), energy, speech)
        t0 = lo / 100.0
        phones = [Phone(p.phone, p.start - t0, p.end - t0) for p in self._phones() if p.end > t0]
        return Analysis(duration=self.duration - t0, phones=phones, f0=f0[lo - ctx:], voiced=voiced[lo - ctx:],
                        energy_db=energy[lo - ctx:], speech=speech[lo - ctx:], speaker=self._speaker(n),
                        phone_source="allphone")

    def features(self, start: int, frames: int) -> np.ndarray:
        """(frames, 48) speech features for frames [start, start + frames) at `fps`."""
        step = self._aligned_step
        shift = (start // step) * step              # a frame that starts on a 10 ms frame
        part = self.analysis(shift / self.fps)
        return speech_features(part, self.fps, start - shift, frames)

    @property
    def _aligned_step(self) -> int:
        """The smallest frame count at `fps` that is a whole number of 10 ms frames."""
        fps = int(round(self.fps))
        return fps // math.gcd(fps, 100) if abs(fps - self.fps) < 1e-9 else 1

    def finish(self) -> Analysis:
        """End the current utterance (its phones become final) and return the whole take."""
        self._end_utterance()
        return self.analysis(0.0)

    def audio(self) -> np.ndarray:
        """Every sample heard so far (16 kHz mono float32)."""
        return self.samples.view.copy()
