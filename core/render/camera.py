"""An orbit camera around a target point, with view and projection matrices."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OrbitCamera:
    target: np.ndarray = field(default_factory=lambda: np.zeros(3, np.float32))
    distance: float = 60.0     # cm
    yaw: float = 0.0           # radians, positive orbits to the subject's left
    pitch: float = 0.0         # radians, positive looks from above
    fov_y: float = math.radians(22.0)
    near: float = 1.0
    far: float = 1000.0
    home_target: np.ndarray | None = None   # where reset() returns to
    home_distance: float = 60.0

    @classmethod
    def framing(cls, lo: np.ndarray, hi: np.ndarray, aspect: float = 16 / 9, margin: float = 1.15) -> OrbitCamera:
        """A camera looking at the box [lo, hi] from the front so that it fills the view."""
        cam = cls(target=((lo + hi) / 2).astype(np.float32))
        half_h = (hi[1] - lo[1]) / 2 * margin
        half_w = (hi[0] - lo[0]) / 2 * margin
        tan_y = math.tan(cam.fov_y / 2)
        cam.distance = float(max(half_h / tan_y, half_w / (tan_y * aspect)) + (hi[2] - lo[2]) / 2)
        cam.home_target, cam.home_distance = cam.target.copy(), cam.distance
        return cam

    def eye(self) -> np.ndarray:
        cp = math.cos(self.pitch)
        offset = np.array([math.sin(self.yaw) * cp, math.sin(self.pitch), math.cos(self.yaw) * cp])
        return (self.target + self.distance * offset).astype(np.float32)

    def view(self) -> np.ndarray:
        """4x4 world-to-camera matrix (row-major numpy; transpose for GL)."""
        eye = self.eye()
        f = self.target - eye
        f = f / np.linalg.norm(f)
        up = np.array([0.0, 1.0, 0.0])
        s = np.cross(f, up)
        s = s / np.linalg.norm(s)
        u = np.cross(s, f)
        m = np.identity(4, np.float32)
        m[0, :3], m[1, :3], m[2, :3] = s, u, -f
        m[:3, 3] = -m[:3, :3] @ eye
        return m

    def projection(self, aspect: float) -> np.ndarray:
        f = 1.0 / math.tan(self.fov_y / 2)
        n, fa = self.near, self.far
        m = np.zeros((4, 4), np.float32)
        m[0, 0] = f / aspect
        m[1, 1] = f
        m[2, 2] = (fa + n) / (n - fa)
        m[2, 3] = 2 * fa * n / (n - fa)
        m[3, 2] = -1.0
        return m

    def orbit(self, d_yaw: float, d_pitch: float) -> None:
        self.yaw += d_yaw
        self.pitch = float(np.clip(self.pitch + d_pitch, -1.4, 1.4))

    def zoom(self, factor: float) -> None:
        self.distance = float(np.clip(self.distance * factor, 5.0, 500.0))

    def pan(self, dx: float, dy: float) -> None:
        """Move the target in the view plane by fractions of the visible height."""
        v = self.view()
        h = 2 * self.distance * math.tan(self.fov_y / 2)
        self.target = (self.target + (-dx * v[0, :3] + dy * v[1, :3]) * h).astype(np.float32)

    def reset(self) -> None:
        if self.home_target is not None:
            self.target = self.home_target.copy()
        self.distance, self.yaw, self.pitch = self.home_distance, 0.0, 0.0
