"""Loading speech: the original samples for playback and export, 16 kHz mono for analysis.

Documented behaviour on awkward input:
- unreadable, missing or empty files raise AudioError naming the file and the problem, and so
  does anything that is not a regular file (a folder, a device such as /dev/zero, a FIFO, a
  socket: checked before opening, so nothing blocks or streams forever) and any file larger
  than core.limits.MAX_MEMBER_BYTES (2 GiB, the largest audio a project holds; checked before
  it is read);
- any sample rate (1 kHz to 384 kHz) and channel count is accepted; analysis audio is the
  channel mean resampled to 16 kHz;
- a few NaN/infinite samples (a damaged float WAV) are replaced by silence with a warning
  in `Audio.warnings`; if more than 1% are bad the file is refused;
- a WAV file cut short (an interrupted recording or copy) keeps the samples it holds; an
  uncompressed one says so in a warning giving the length its header announced and the
  length it holds; one cut inside its header is refused as unreadable;
- a WAV whose data chunk size is 0 or 0xFFFFFFFF (a streaming writer's header, written before
  the length was known) is read to its end, with a warning; one whose data chunk announces
  less than the file holds after it (and what follows is not more chunks) keeps the announced
  length, as ffmpeg and libsndfile do, with a warning giving both lengths;
- a clipped recording (more than 1% of the samples at full scale) is accepted with a warning;
- silence is accepted (`Audio.is_silent` tells: no signal at all, a peak below SILENCE_DBFS,
  about one step of 16-bit audio), so the caller decides what to do with it;
- very quiet audio (a peak below QUIET_DBFS) is accepted with a warning, and its analysis copy
  (`Audio.mono16k`) is amplified to a peak of ANALYSIS_PEAK_DBFS so quiet speech is still
  listened to (the samples themselves, for playback and export, are left as they are);
- files longer than MAX_DURATION (3 hours) are refused before their samples are decoded, and
  so are files announcing more samples than their size can hold (a damaged header, or a
  decompression bomb: see MAX_SAMPLES_PER_BYTE), so a small file never fills memory.
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass, field
from math import gcd
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from core.fileio import NotReadable, read_regular
from core.limits import MAX_MEMBER_BYTES

ANALYSIS_RATE = 16000
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")   # what file pickers and pairing look for
MAX_DURATION = 3 * 3600.0
SILENCE_DBFS = -90.0         # peak below this: no signal (one step of 16-bit audio is -90.3 dBFS)
QUIET_DBFS = -30.0           # peak below this: very quiet; speech detection starts to miss words
ANALYSIS_PEAK_DBFS = -10.0   # the peak a very quiet take's analysis copy is amplified to
MAX_FILE_BYTES = MAX_MEMBER_BYTES   # the largest audio file read (and the largest a project holds)
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
        """Channel mean at 16 kHz, float32, computed once; a very quiet take's copy is amplified
        (see analysis_gain)."""
        if self._analysis is None:
            self._analysis = to_mono_16k(self.samples, self.sample_rate)
            gain = self.analysis_gain
            if gain != 1.0:
                self._analysis *= np.float32(gain)
        return self._analysis

    @property
    def analysis_gain(self) -> float:
        """The factor the analysis copy is amplified by: 1 unless the take is very quiet (peak
        below QUIET_DBFS but not silent), then what brings its peak to ANALYSIS_PEAK_DBFS."""
        peak = self.peak_dbfs
        if self.is_silent or peak >= QUIET_DBFS:
            return 1.0
        return float(10 ** ((ANALYSIS_PEAK_DBFS - peak) / 20))

    @property
    def peak_dbfs(self) -> float:
        # max and -min rather than abs: no copy of the samples (an hour of stereo is 1.4 GB)
        peak = max(float(self.samples.max()), -float(self.samples.min())) if self.samples.size else 0.0
        return float(20 * np.log10(peak)) if peak > 0 else -np.inf

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
    try:
        data = read_regular(p, "an audio file", MAX_FILE_BYTES, TOO_LARGE)
    except NotReadable as exc:
        raise AudioError(f"{p}: {exc}") from None
    return decode_audio(data, p.name)


TOO_LARGE = (f"the file is {{size_gib:.1f}} GiB, more than the {MAX_FILE_BYTES / 2 ** 30:.0f} GiB this program accepts "
             f"for audio (3 hours of 48 kHz stereo WAV is 1.9 GiB); split or compress it first")


def _check_size(size: int, name: str) -> None:
    if size > MAX_FILE_BYTES:
        raise AudioError(f"{name}: " + TOO_LARGE.format(size_gib=size / 2 ** 30))


def decode_audio(data: bytes, name: str) -> Audio:
    """Decode audio file bytes (as kept inside a project)."""
    if not data:
        raise AudioError(f"{name}: the file is empty (0 bytes)")
    _check_size(len(data), name)
    warnings: list[str] = []
    # A WAV header whose data size is wrong is read as ffmpeg reads it (see the module doc):
    # libsndfile would read a data size of 0 as no audio at all, so it is given a copy of the
    # bytes with the size patched; `data` itself is kept as it came.
    readable, held_note = _wav_as_players_read_it(data, name)
    try:
        with sf.SoundFile(io.BytesIO(readable)) as f:
            rate, frames, channels = f.samplerate, f.frames, f.channels
            if not 1000 <= rate <= 384000:
                raise AudioError(f"{name}: unsupported sample rate {rate} Hz")
            if frames <= 0:
                raise AudioError(f"{name}: the file holds no audio samples")
            if frames / rate > MAX_DURATION:
                raise AudioError(
                    f"{name}: {frames / rate / 3600:.1f} hours of audio is longer than the "
                    f"{MAX_DURATION / 3600:.0f} hours this program accepts; split it first"
                )
            samples = _read_samples(f, frames, channels, rate, len(data), name)
    except AudioError:
        raise
    except MemoryError:
        raise AudioError(f"{name}: not enough memory to decode the file") from None
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(f"{name}: not a readable audio file ({_short(exc)})") from exc
    if len(samples) == 0:
        raise AudioError(f"{name}: the file holds no audio samples (it may be truncated)")
    if not np.isfinite(samples).all():
        bad = ~np.isfinite(samples)
        fraction = bad.mean()
        if fraction > 0.01:
            raise AudioError(f"{name}: {fraction:.0%} of the samples are NaN or infinite; the file is damaged")
        samples[bad] = 0.0
        warnings.append(f"{name}: {int(bad.sum())} NaN or infinite samples were replaced by silence")
    if held_note is not None:
        warnings.append(held_note(len(samples) / rate))
    announced = wav_announced_frames(readable)
    if announced is not None and announced > len(samples) + 1:
        warnings.append(f"{name}: the file is cut short: its header announces {announced / rate:.2f} s of audio "
                        f"but it holds {len(samples) / rate:.2f} s; only what is there is used")
    clipped = (np.count_nonzero(samples >= FULL_SCALE) + np.count_nonzero(samples <= -FULL_SCALE)) / samples.size
    if clipped > CLIPPED_FRACTION:
        warnings.append(f"{name}: {clipped:.0%} of the samples are at full scale: the recording is clipped "
                        f"(distorted), which makes the speech harder to recognise")
    audio = Audio(samples=samples, sample_rate=rate, name=name, data=data, warnings=warnings)
    gain = audio.analysis_gain
    if gain != 1.0:
        warnings.append(f"{name}: the recording is very quiet (its peak is {audio.peak_dbfs:.0f} dBFS); it is "
                        f"amplified by {20 * np.log10(gain):.0f} dB for listening (the audio itself is unchanged)")
    return audio


# What a small file may decode to. Up to MAX_SAMPLES_UNCHECKED samples (256 MB as float32: 23
# minutes of 48 kHz mono, 70 of 16 kHz) any file may hold; beyond that, no more than
# MAX_SAMPLES_PER_BYTE per byte of file. Real encodings give 0.5 (24-bit PCM) to about 25
# (32 kbit/s MP3 of 44.1 kHz stereo, 16 kbit/s Opus); a FLAC or Vorbis file of long digital
# silence, or a damaged header, gives thousands, which would fill memory from a few megabytes.
MAX_SAMPLES_UNCHECKED = 2 ** 26
MAX_SAMPLES_PER_BYTE = 32


def _read_samples(f: sf.SoundFile, frames: int, channels: int, rate: int, size: int, name: str) -> np.ndarray:
    """All the frames of `f` as (frames, channels) float32, once the count its header announces
    is known to fit the file's size (see MAX_SAMPLES_PER_BYTE). The array is allocated for the
    announced count but only what is decoded is ever written (and so resident in memory)."""
    if frames * channels > max(MAX_SAMPLES_UNCHECKED, MAX_SAMPLES_PER_BYTE * size):
        raise AudioError(f"{name}: the file announces {frames / rate:.0f} s of {channels}-channel audio at {rate} Hz "
                         f"({frames * channels / size:.0f} samples per byte of its {size:,} bytes), more than any "
                         f"recording compresses to; it is damaged (or made to fill memory)")
    return f.read(frames, dtype="float32", always_2d=True)   # (some codecs are not seekable)


# WAV codes whose frames all have the same size (PCM, float, A-law, mu-law, extensible)
_UNCOMPRESSED_WAV = (1, 3, 6, 7, 0xFFFE)
_OPEN_SIZES = (0, 0xFFFFFFFF)   # what recorders write as the data size before they know the length
_MAX_CHUNKS = 1000              # real WAVs have a handful; a walk over more is stopped (it costs time)


@dataclass
class _WavData:
    codec: int
    rate: int
    block_align: int
    start: int       # offset of the first sample byte
    size: int        # the data chunk's size field


def _wav_data(data: bytes) -> _WavData | None:
    """Where a RIFF WAVE file's data chunk starts and what its header says, or None for other
    formats and for WAVs without a data chunk header."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, codec, rate, block_align = 12, 0, 0, 0
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > len(data):
            break
        tag, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if tag == b"fmt " and pos + 22 <= len(data):
            codec = int.from_bytes(data[pos + 8:pos + 10], "little")
            rate = int.from_bytes(data[pos + 12:pos + 16], "little")
            block_align = int.from_bytes(data[pos + 20:pos + 22], "little")
        elif tag == b"data":
            return _WavData(codec, rate, block_align, pos + 8, size)
        pos += 8 + size + (size & 1)
    return None


def wav_announced_frames(data: bytes) -> int | None:
    """The number of frames an uncompressed WAV's header announces (its data chunk's size over
    the frame size), or None for other formats and codecs and for headers that leave the size
    open."""
    wav = _wav_data(data)
    if wav is None or wav.codec not in _UNCOMPRESSED_WAV or wav.block_align == 0 or wav.size in _OPEN_SIZES:
        return None
    return wav.size // wav.block_align


def _only_chunks_from(data: bytes, pos: int) -> bool:
    """Whether the bytes from `pos` to the end are whole RIFF chunks (LIST, id3, ...: what
    writers put after the samples), rather than more samples."""
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > len(data):
            return True
        tag, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if not all(0x20 <= b <= 0x7E for b in tag) or pos + 8 + size > len(data):
            return False
        pos += 8 + size + (size & 1)
    return False


def _wav_as_players_read_it(data: bytes, name: str) -> tuple[bytes, Callable[[float], str] | None]:
    """The bytes to give libsndfile, and what to tell the user (a function of the seconds
    decoded), for a WAV whose data size disagrees with the file, read as ffmpeg reads it: a
    size left open (0 or 0xFFFFFFFF) means "to the end of the file"; a size smaller than what
    follows is kept (ffmpeg, libsndfile and sox all stop there) but said."""
    wav = _wav_data(data)
    if wav is None or len(data) <= wav.start:
        return data, None
    held = len(data) - wav.start
    if wav.size in _OPEN_SIZES:
        size = held - held % wav.block_align if wav.block_align else held
        patched = bytearray(data)
        patched[wav.start - 4:wav.start] = min(size, 0xFFFFFFFE).to_bytes(4, "little")
        shown = "0" if wav.size == 0 else "0xFFFFFFFF"
        return bytes(patched), lambda seconds: (
            f"{name}: the WAV header leaves the length of the audio open (data size {shown}, as a recorder "
            f"writes it before it knows the length); all {seconds:.2f} s the file holds are used")
    end = wav.start + wav.size + (wav.size & 1)
    if (wav.codec in _UNCOMPRESSED_WAV and wav.block_align and wav.rate and end < len(data)
            and not _only_chunks_from(data, end)):
        held_s = held // wav.block_align / wav.rate
        if held_s - wav.size // wav.block_align / wav.rate >= 0.1:
            return data, lambda seconds: (
                f"{name}: the WAV header announces {seconds:.2f} s of audio but the file holds {held_s:.2f} s; "
                f"only the announced {seconds:.2f} s are used, as other players do (the header may be damaged)")
    return data, None


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # libsndfile prefixes its reason with the Python object it was given; drop that.
    text = re.sub(r"^Error opening <[^>]*>: ", "", text)
    return text[:200]
