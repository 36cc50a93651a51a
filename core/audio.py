"""Loading speech: the original samples for playback and export, 16 kHz mono for analysis.

Documented behaviour on awkward input:
- unreadable, missing or empty files raise AudioError naming the file and the problem;
- any sample rate (1 kHz to 384 kHz) and channel count is accepted; analysis audio is the
  channel mean resampled to 16 kHz;
- a few NaN/infinite samples (a damaged float WAV) are replaced by silence with a warning
  in `Audio.warnings`; if more than 1% are bad the file is refused;
- silence is accepted (`Audio.is_silent` tells), so the caller decides what to do with it;
- files longer than MAX_DURATION (3 hours) are refused before they are read into memory.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf

ANALYSIS_RATE = 16000
MAX_DURATION = 3 * 3600.0
SILENCE_DBFS = -60.0


class AudioError(ValueError):
    """The audio could not be used; the message names the file and the reason."""


@dataclass
class Audio:
    samples: np.ndarray          # (frames, channels) float32, as in the file
    sample_rate: int
    name: str = ""               # file name, for messages and the project
    data: bytes = b""            # the original file's bytes (kept for export and saving)
    warnings: list[str] = field(default_factory=list)
    _analysis: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    @property
    def frames(self) -> int:
        return self.samples.shape[0]

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    @property
    def mono16k(self) -> np.ndarray:
        """Channel mean at 16 kHz, float32, computed once."""
        if self._analysis is None:
            self._analysis = to_mono_16k(self.samples, self.sample_rate)
        return self._analysis

    @property
    def peak_dbfs(self) -> float:
        peak = float(np.max(np.abs(self.samples))) if self.frames else 0.0
        return 20 * np.log10(peak) if peak > 0 else -np.inf

    @property
    def is_silent(self) -> bool:
        return self.peak_dbfs < SILENCE_DBFS


def to_mono_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    mono = samples.mean(axis=1, dtype=np.float32) if samples.ndim == 2 else samples.astype(np.float32)
    if rate == ANALYSIS_RATE:
        return np.ascontiguousarray(mono)
    from scipy.signal import resample_poly   # here: importing scipy.signal costs 1-2 s at start-up
    g = gcd(ANALYSIS_RATE, rate)
    return resample_poly(mono, ANALYSIS_RATE // g, rate // g).astype(np.float32)


def load_audio(path: str | os.PathLike) -> Audio:
    """Read an audio file (WAV, FLAC, OGG, MP3, AIFF, ... as libsndfile reads them)."""
    p = Path(path)
    if not p.exists():
        raise AudioError(f"{p}: no such file")
    if p.is_dir():
        raise AudioError(f"{p}: is a folder, not an audio file")
    data = p.read_bytes()
    return decode_audio(data, p.name)


def decode_audio(data: bytes, name: str) -> Audio:
    """Decode audio file bytes (as kept inside a project)."""
    if not data:
        raise AudioError(f"{name}: the file is empty (0 bytes)")
    try:
        with sf.SoundFile(io.BytesIO(data)) as f:
            rate, frames = f.samplerate, f.frames
            if not 1000 <= rate <= 384000:
                raise AudioError(f"{name}: unsupported sample rate {rate} Hz")
            if frames <= 0:
                raise AudioError(f"{name}: the file holds no audio samples")
            if frames / rate > MAX_DURATION:
                raise AudioError(
                    f"{name}: {frames / rate / 3600:.1f} hours of audio is longer than the "
                    f"{MAX_DURATION / 3600:.0f} hours this program accepts; split it first"
                )
            samples = f.read(dtype="float32", always_2d=True)
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{name}: not a readable audio file ({_short(exc)})") from exc
    if len(samples) == 0:
        raise AudioError(f"{name}: the file holds no audio samples (it may be truncated)")
    warnings = []
    bad = ~np.isfinite(samples)
    if bad.any():
        fraction = bad.mean()
        if fraction > 0.01:
            raise AudioError(f"{name}: {fraction:.0%} of the samples are NaN or infinite; the file is damaged")
        samples[bad] = 0.0
        warnings.append(f"{name}: {int(bad.sum())} NaN or infinite samples were replaced by silence")
    return Audio(samples=samples, sample_rate=rate, name=name, data=data, warnings=warnings)


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # libsndfile prefixes its reason with the Python object it was given; drop that.
    text = re.sub(r"^Error opening <[^>]*>: ", "", text)
    return text[:200]
