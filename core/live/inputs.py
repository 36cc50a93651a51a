"""Where live sound comes from: a sound device, or a file played in real time.

Both give 16 kHz mono float32 blocks in order (`blocks()`), and say when each sample reached
the input (`sample_time(i)`, in time.monotonic() seconds), which is what live latency is
measured from. A file is paced by the clock as a microphone would deliver it (a block is handed
over when its last sample "has been spoken"), so tests and benchmarks drive the live path with
real recordings. A device that cannot be opened, or that stops delivering, raises InputError
with a message naming it.
"""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from core.audio import AudioError, load_audio, to_mono_16k

RATE = 16000
BLOCK = 320                   # 20 ms, a usual sound-card period
DEVICE_TIMEOUT_S = 2.0        # no audio for this long from a device: it is gone
RESAMPLE_HOLD = 96            # input samples of context each side when a device runs at another rate


class InputError(RuntimeError):
    """The sound input cannot be used (names the device or file and why)."""


class FileInput:
    """A recording played in real time, as if spoken into a microphone."""

    def __init__(self, path: str, block: int = BLOCK, speed: float = 1.0) -> None:
        try:
            audio = load_audio(path)
        except AudioError as exc:
            raise InputError(str(exc)) from None
        self.name = audio.name or str(path)
        self.samples = np.asarray(audio.mono16k, np.float32)
        self.block = int(block)
        self.speed = float(speed)          # 0: as fast as the reader takes them (no pacing)
        self.origin = 0.0
        self.warnings = list(audio.warnings)

    def sample_time(self, index: float) -> float:
        return self.origin + index / RATE / (self.speed or 1.0)

    def blocks(self) -> Iterator[np.ndarray]:
        self.origin = time.monotonic()
        for first in range(0, len(self.samples), self.block):
            part = self.samples[first:first + self.block]
            if self.speed > 0:
                wait = self.sample_time(first + len(part)) - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
            yield part

    def close(self) -> None:
        pass


def list_devices() -> list[str]:
    """Input devices as "INDEX: NAME" lines (empty without PortAudio)."""
    try:
        import sounddevice as sd
        return [f"{i}: {d['name']}" for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]
    except (ImportError, OSError):
        return []


class DeviceInput:
    """A sound device through PortAudio (sounddevice), resampled to 16 kHz mono."""

    def __init__(self, device: str | int | None = None, block_s: float = BLOCK / RATE) -> None:
        try:
            import sounddevice as sd
        except (ImportError, OSError) as exc:
            raise InputError(f"sound input needs PortAudio and the Python package 'sounddevice' ({exc}); "
                             "or give a recording with --input FILE") from None
        self._sd = sd
        spec = device
        if isinstance(device, str) and device.strip().isdigit():
            spec = int(device)
        try:
            info = sd.query_devices(spec, "input")
        except (ValueError, sd.PortAudioError) as exc:
            found = "\n  ".join(list_devices()) or "(none)"
            raise InputError(f"no sound input {device!r} ({exc}); input devices here:\n  {found}") from None
        self.name = str(info["name"])
        self._queue: queue.Queue = queue.Queue()
        self.origin = 0.0
        self._count = 0
        self._held = np.zeros(0, np.float32)
        self.overflows = 0
        self.warnings: list[str] = []
        self._stream = None
        for rate in (RATE, int(info["default_samplerate"] or 48000)):    # 16 kHz if the device resamples
            self.rate = rate
            try:
                self._stream = sd.InputStream(device=spec, channels=1, samplerate=rate,
                                              blocksize=max(1, int(round(block_s * rate))), dtype="float32",
                                              callback=self._callback)
                break
            except sd.PortAudioError as exc:
                error = exc
        if self._stream is None:
            raise InputError(f"cannot open the sound input {self.name!r}: {error}")

    def _callback(self, data, frames, timing, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        self._queue.put((time.monotonic(), data[:, 0].copy()))

    def _resample(self, data: np.ndarray) -> np.ndarray:
        """To 16 kHz, block by block without edge clicks: the last RESAMPLE_HOLD input samples wait
        for the next block, and the filter sees RESAMPLE_HOLD samples of the previous one."""
        x = np.concatenate([self._held, data])
        keep = max(0, len(x) - RESAMPLE_HOLD)
        lead = min(RESAMPLE_HOLD, len(self._held))
        y = to_mono_16k(x[:, None], self.rate)
        a, b = int(round(lead * RATE / self.rate)), int(round(keep * RATE / self.rate))
        self._held = x[max(0, keep - RESAMPLE_HOLD):]
        return y[a:b]

    def sample_time(self, index: float) -> float:
        return self.origin + index / RATE

    def blocks(self) -> Iterator[np.ndarray]:
        try:
            self._stream.start()
        except self._sd.PortAudioError as exc:
            raise InputError(f"cannot start the sound input {self.name!r}: {exc}") from None
        latency = float(self._stream.latency or 0.0)
        while True:
            try:
                arrived, data = self._queue.get(timeout=DEVICE_TIMEOUT_S)
            except queue.Empty:
                raise InputError(f"the sound input {self.name!r} stopped delivering audio "
                                 f"(unplugged or taken by another program?)") from None
            part = self._resample(data) if self.rate != RATE else data
            if self._count == 0:      # the first block's samples reached the input before it was handed over
                self.origin = arrived - latency - len(part) / RATE
            self._count += len(part)
            yield np.asarray(part, np.float32)

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except self._sd.PortAudioError:
            pass


def open_input(spec: str | None, speed: float = 1.0):
    """A FileInput for an existing file, else a DeviceInput for a device name or index (None:
    the system's default input)."""
    if spec is not None and (Path(spec).exists() or Path(spec).suffix.lower() in
                             (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")):
        return FileInput(spec, speed=speed)
    return DeviceInput(spec)
