"""The listener's data: words and phones with times, frame-level prosody, speech regions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Frame-level arrays (f0, voicing, energy, speech) are at 100 Hz: frame i covers the 10 ms around
# i / 100 s. That is PocketSphinx's and WORLD's native rate, so phones and pitch share one clock;
# `frames_at(analysis, fps)` resamples them to the project frame rate (30 fps) for stage 2.
FRAME_RATE = 100.0


@dataclass
class Word:
    text: str                   # as written by the recogniser or the script, punctuation kept
    start: float                # seconds
    end: float
    probability: float = 1.0    # the recogniser's confidence (1.0 for script words)
    aligned: bool = False       # times refined by forced alignment (else the recogniser's)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "start": round(self.start, 3), "end": round(self.end, 3),
                "p": round(float(self.probability), 3)}


@dataclass
class Phone:
    phone: str                  # ARPAbet without stress (AA, AE, ... ZH) or SIL
    start: float
    end: float
    word: int = -1              # index into Analysis.words; -1 for silence or unattached phones

    def to_json(self) -> list:
        return [self.phone, round(self.start, 3), round(self.end, 3)]


@dataclass
class ListenSettings:
    language: str = "auto"          # a Whisper language code, or "auto" to detect it
    translate: bool = True          # other languages: also an English translation (what the writer reads)
    vad_threshold: float = 0.5      # Silero speech probability that opens a speech region
    min_silence: float = 0.25       # seconds of silence that close a speech region
    min_speech: float = 0.08        # speech regions shorter than this are dropped
    speech_pad: float = 0.2         # seconds added to each side of a speech region
    beam_size: int = 1              # Whisper decoding beam (1 = greedy, fastest)
    asr_block: float = 240.0        # seconds of speech transcribed per Whisper call (bounds memory)
    align_chunk: float = 20.0       # longest stretch force-aligned at once (seconds)
    allphone_fallback: bool = True  # phone-loop decoding of speech where no words were recognised
    f0_floor: float = 60.0
    f0_ceil: float = 600.0


@dataclass
class Analysis:
    duration: float
    words: list[Word] = field(default_factory=list)
    phones: list[Phone] = field(default_factory=list)
    vad: list[tuple[float, float]] = field(default_factory=list)     # speech regions, seconds
    sounds: list[tuple[str, float, float]] = field(default_factory=list)   # (kind, start, end): laughter, sighs, ...
    f0: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))          # Hz, 0 when unvoiced
    voiced: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    energy_db: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))   # RMS dBFS
    speech: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))            # VAD per frame
    frame_rate: float = FRAME_RATE
    speaker: dict[str, float] = field(default_factory=dict)   # whole-take statistics (normalisation)
    transcript_source: str = "none"   # "asr", "script" or "none"
    language: str = "en"              # the language listened to (a Whisper code)
    language_probability: float = 1.0   # Whisper base's detection (1.0 when chosen, or when the
    #                                     English model heard a short take confidently)
    translation: list[tuple[float, float, str]] = field(default_factory=list)   # English, other languages only
    phone_source: str = "none"        # "alignment", "allphone", "estimated", "mixed" or "none"
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)   # seconds per stage

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def frames(self) -> int:
        return len(self.f0)

    @property
    def speech_seconds(self) -> float:
        return float(sum(e - s for s, e in self.vad))

    def semitones(self) -> np.ndarray:
        """f0 in semitones relative to the speaker's median (NaN where unvoiced)."""
        ref = self.speaker.get("median_f0_hz") or 0.0
        out = np.full(len(self.f0), np.nan, np.float32)
        if ref > 0:
            ok = self.voiced & (self.f0 > 0)
            out[ok] = 12.0 * np.log2(self.f0[ok] / ref)
        return out

    def summary(self) -> dict[str, Any]:
        """JSON-able overview (no frame arrays)."""
        return {
            "duration": round(self.duration, 3),
            "language": self.language,
            "language_probability": round(self.language_probability, 3),
            "transcript_source": self.transcript_source,
            "phone_source": self.phone_source,
            "text": self.text,
            "translation": [[round(a, 3), round(b, 3), t] for a, b, t in self.translation],
            "words": [w.to_json() for w in self.words],
            "speech_regions": [[round(s, 3), round(e, 3)] for s, e in self.vad],
            "sounds": [[k, round(s, 3), round(e, 3)] for k, s, e in self.sounds],
            "speaker": {k: round(float(v), 3) for k, v in self.speaker.items()},
            "warnings": list(self.warnings),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


def frames_at(analysis: Analysis, fps: float, start: int = 0, frames: int | None = None) -> dict[str, np.ndarray]:
    """Frame-level prosody and phone labels resampled to `fps` (e.g. the project's 30 fps), for
    frames [start, start + frames) (default: the whole take; a live take asks for its newest).

    Returns f0 (Hz, 0 unvoiced), semitones (relative to the speaker, 0 unvoiced), voiced,
    energy_db, loudness_db (relative to the speaker), speech, and phone (ARPAbet label or SIL).
    """
    n = max(1, int(round(analysis.duration * fps))) - start if frames is None else frames
    t = (start + np.arange(n) + 0.5) / fps
    if analysis.frames:
        src = np.clip(np.floor(t * analysis.frame_rate).astype(int), 0, analysis.frames - 1)
        st = np.nan_to_num(analysis.semitones(), nan=0.0)
        out = {
            "f0": analysis.f0[src],
            "semitones": st[src],
            "voiced": analysis.voiced[src],
            "energy_db": analysis.energy_db[src],
            "loudness_db": (analysis.energy_db - analysis.speaker.get("median_energy_db", 0.0))[src],
            "speech": analysis.speech[src],
        }
    else:
        zeros = np.zeros(n, np.float32)
        out = {"f0": zeros, "semitones": zeros, "voiced": np.zeros(n, bool), "energy_db": zeros - 100.0,
               "loudness_db": zeros, "speech": np.zeros(n, bool)}
    labels = np.full(n, "SIL", dtype=object)
    if analysis.phones:                       # the phone under each frame's centre
        starts = np.array([p.start for p in analysis.phones])
        ends = np.array([p.end for p in analysis.phones])
        names = np.array([p.phone for p in analysis.phones], dtype=object)
        k = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, len(starts) - 1)
        inside = (t >= starts[k]) & (t < ends[k])
        labels[inside] = names[k[inside]]
    out["phone"] = labels
    return out
