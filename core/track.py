"""FaceTrack: per-frame ARKit-52 weights and head rotation at a fixed frame rate."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import limits
from core.arkit import NUM_BLENDSHAPES, NUM_CHANNELS
from core.limits import check_number

DEFAULT_FPS = 30.0


@dataclass
class FaceTrack:
    """frames x 55 float32: 52 ARKit weights (0..1) then head pitch, yaw, roll (radians)."""

    fps: float
    data: np.ndarray

    def __post_init__(self) -> None:
        data = np.asarray(self.data, dtype=np.float32)
        if data.ndim != 2 or data.shape[1] != NUM_CHANNELS:
            raise ValueError(f"a FaceTrack holds frames x {NUM_CHANNELS} values, got shape {data.shape}")
        if not np.isfinite(data).all():
            raise ValueError("a FaceTrack must not hold NaN or infinite values")
        self.fps = check_number("the frame rate", self.fps, limits.FPS)
        self.data = np.ascontiguousarray(data)

    @classmethod
    def zeros(cls, frames: int, fps: float = DEFAULT_FPS) -> FaceTrack:
        return cls(fps, np.zeros((frames, NUM_CHANNELS), np.float32))

    @property
    def frames(self) -> int:
        return self.data.shape[0]

    @property
    def duration(self) -> float:
        return self.frames / self.fps

    @property
    def weights(self) -> np.ndarray:
        """frames x 52 blendshape weights (a view)."""
        return self.data[:, :NUM_BLENDSHAPES]

    @property
    def head(self) -> np.ndarray:
        """frames x 3 head rotation, pitch/yaw/roll in radians (a view)."""
        return self.data[:, NUM_BLENDSHAPES:]

    def times(self) -> np.ndarray:
        return np.arange(self.frames, dtype=np.float64) / self.fps

    def sample(self, t: float) -> np.ndarray:
        """The 55 values at time t (seconds), linearly interpolated, clamped at the ends."""
        if self.frames == 0:
            return np.zeros(NUM_CHANNELS, np.float32)
        x = min(max(t * self.fps, 0.0), self.frames - 1)
        i = int(x)
        j = min(i + 1, self.frames - 1)
        a = x - i
        return (1 - a) * self.data[i] + a * self.data[j]

    def frame_at(self, t: float) -> np.ndarray:
        """The 55 values of the frame showing at time t (frame i covers [i, i + 1) / fps), clamped.
        Playback shows frames at the track's own rate, as an editor does: a 30 fps take repaints
        30 times a second however fast the clock ticks. A copy: a caller keeping it (the viewport)
        must not see it change when the track's frames are regenerated in place."""
        if self.frames == 0:
            return np.zeros(NUM_CHANNELS, np.float32)
        return self.data[min(max(int(t * self.fps), 0), self.frames - 1)].copy()

    def resampled(self, fps: float) -> FaceTrack:
        """The same motion at another frame rate (linear interpolation per channel)."""
        if self.frames == 0 or fps == self.fps:
            return FaceTrack(fps, self.data.copy()[: 0 if self.frames == 0 else None])
        n = max(1, int(round(self.duration * fps)))
        src = self.times()
        dst = np.arange(n) / fps
        out = np.empty((n, NUM_CHANNELS), np.float32)
        for c in range(NUM_CHANNELS):
            out[:, c] = np.interp(dst, src, self.data[:, c])
        return FaceTrack(fps, out)
