"""Playback clock: the audio device's clock when there is one, else a monotonic clock.

The face frame shown is always derived from this clock, so picture and sound cannot drift
apart. Without an audio output device (a server, a test under Xvfb) playback still runs.
With a `loop` range set, playing stays inside it: it starts at the range's start when the
playhead is outside, and jumps back there at its end, sound included.
"""

from __future__ import annotations

import time

import numpy as np

from core.audio import Audio


class Playback:
    def __init__(self, audio: Audio | None, duration: float):
        self.audio = audio
        self.duration = duration
        self.playing = False
        self._origin = 0.0          # seconds of the take at _started
        self._started = 0.0         # monotonic time playback (re)started
        self._stream = None
        self._sd = None
        self.device_error: str | None = None
        self.loop: tuple[float, float] | None = None      # seconds [start, end) played over and over
        if audio is not None:
            try:
                import sounddevice
                sounddevice.query_devices(kind="output")
                self._sd = sounddevice
            except Exception as exc:   # no PortAudio or no output device: play silently
                self.device_error = f"no audio output ({exc}); playing without sound"

    @property
    def position(self) -> float:
        if not self.playing:
            return self._origin
        t = self._origin + time.monotonic() - self._started
        if self.loop is not None and t >= self.loop[1]:
            self.seek(self.loop[0] + (t - self.loop[1]) % max(self.loop[1] - self.loop[0], 1e-3))
            return self._origin + time.monotonic() - self._started
        if t >= self.duration:
            self.pause()
            self._origin = self.duration
            return self.duration
        return t

    def play(self) -> None:
        if self.playing:
            return
        if self._origin >= self.duration:
            self._origin = 0.0
        if self.loop is not None and not self.loop[0] <= self._origin < self.loop[1]:
            self._origin = self.loop[0]
        self.playing = True
        self._started = time.monotonic()
        if self._sd is not None and self.audio is not None:
            start = int(self._origin * self.audio.sample_rate)
            try:
                self._sd.play(np.ascontiguousarray(self.audio.samples[start:]), self.audio.sample_rate)
            except Exception as exc:
                self.device_error = f"audio output failed ({exc}); playing without sound"
                self._sd = None

    def pause(self) -> None:
        if not self.playing:
            return
        self._origin = min(self.duration, self._origin + time.monotonic() - self._started)
        self.playing = False
        if self._sd is not None:
            self._sd.stop()

    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    def set_loop(self, start: float | None, end: float | None = None) -> None:
        """Loop [start, end) (clipped to the take; at least a frame long), or stop looping (None)."""
        if start is None or end is None:
            self.loop = None
            return
        start = float(np.clip(start, 0.0, self.duration))
        end = float(np.clip(end, 0.0, self.duration))
        self.loop = (start, end) if end - start > 1e-3 else None

    def step(self, frames: int, fps: float) -> None:
        """Pause and move the playhead by whole frames, onto the frame grid."""
        self.pause()
        frame = int(np.floor(self._origin * fps + 1e-6)) + int(frames)
        self.seek(frame / fps)

    def seek(self, seconds: float) -> None:
        was = self.playing
        self.pause()
        self._origin = float(np.clip(seconds, 0.0, self.duration))
        if was:
            self.play()
