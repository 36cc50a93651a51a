"""Loading speech: the original samples for playback and export, 16 kHz mono for analysis.

Documented behaviour on awkward input:
- unreadable, missing or empty files raise AudioError naming the file and the problem;
- any sample rate (1 kHz to 384 kHz) and channel count is accepted; analysis audio is the
  channel mean resampled to 16 kHz;
- a few NaN/infinite samples (a damaged float WAV) are replaced by silence with a warning
  in `Audio.warnings`; if more than 1% are bad the file is refused;
- a WAV file cut short (an interrupted recording or copy) keeps the samples it holds; an
  uncompressed one says so in a warning giving the length its header announced and the
  length it holds; one cut inside its header is refused as unreadable;
- a clipped recording (more than 1% of the samples at full scale) is accepted with a warning;
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
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")   # what file pickers and pairing look for
MAX_DURATION = 3 * 3600.0
SILENCE_DBFS = -60.0
FULL_SCALE = 0.999           # |sample| at or above this counts as clipped
CLIPPED_FRACTION = 0.01      # more clipped samples than this gets a warning


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
            samples = f.read(frames, dtype="float32", always_2d=True)   # (some codecs are not seekable)
    except AudioError:
        raise
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{name}: not a readable audio file ({_short(exc)})") from exc
    if len(samples) == 0:
        raise AudioError(f"{name}: the file holds no audio samples (it may be truncated)")
    warnings = []
    if not np.isfinite(samples).all():
        bad = ~np.isfinite(samples)
        fraction = bad.mean()
        if fraction > 0.01:
            raise AudioError(f"{name}: {fraction:.0%} of the samples are NaN or infinite; the file is damaged")
        samples[bad] = 0.0
        warnings.append(f"{name}: {int(bad.sum())} NaN or infinite samples were replaced by silence")
    announced = wav_announced_frames(data)
    if announced is not None and announced > len(samples) + 1:
        warnings.append(f"{name}: the file is cut short: its header announces {announced / rate:.2f} s of audio "
                        f"but it holds {len(samples) / rate:.2f} s; only what is there is used")
    clipped = (np.count_nonzero(samples >= FULL_SCALE) + np.count_nonzero(samples <= -FULL_SCALE)) / samples.size
    if clipped > CLIPPED_FRACTION:
        warnings.append(f"{name}: {clipped:.0%} of the samples are at full scale: the recording is clipped "
                        f"(distorted), which makes the speech harder to recognise")
    return Audio(samples=samples, sample_rate=rate, name=name, data=data, warnings=warnings)


# WAV codes whose frames all have the same size (PCM, float, A-law, mu-law, extensible)
_UNCOMPRESSED_WAV = (1, 3, 6, 7, 0xFFFE)


def wav_announced_frames(data: bytes) -> int | None:
    """The number of frames an uncompressed WAV's header announces (its data chunk's size over
    the frame size), or None for other formats and codecs and for headers that leave the size
    open."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, codec, block_align = 12, 0, 0
    while pos + 8 <= len(data):
        tag, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if tag == b"fmt " and pos + 22 <= len(data):
            codec = int.from_bytes(data[pos + 8:pos + 10], "little")
            block_align = int.from_bytes(data[pos + 20:pos + 22], "little")
        elif tag == b"data":
            # 0 and 0xFFFFFFFF are what recorders write before they know the length
            if codec not in _UNCOMPRESSED_WAV or block_align == 0 or size in (0, 0xFFFFFFFF):
                return None
            return size // block_align
        pos += 8 + size + (size & 1)
    return None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # libsndfile prefixes its reason with the Python object it was given; drop that.
    text = re.sub(r"^Error opening <[^>]*>: ", "", text)
    return text[:200]
