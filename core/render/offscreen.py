"""Offscreen rendering on a standalone EGL context (Mesa llvmpipe here): images and video frames."""

from __future__ import annotations

import moderngl
import numpy as np

from core.face.rig import FaceRig
from core.render.camera import OrbitCamera
from core.render.renderer import FaceRenderer, Lighting, default_camera


class RenderError(RuntimeError):
    """No OpenGL context could be created (missing EGL/Mesa libraries)."""


def standalone_context() -> moderngl.Context:
    """A headless OpenGL 3.3+ context through EGL, not left current: use it inside `with ctx:`.

    A context left current would block every other on this thread: libglvnd refuses to make
    Qt's GLX context current while an EGL one is, so a viewport in the same thread goes blank.
    """
    try:
        ctx = moderngl.create_context(standalone=True, backend="egl", require=330)
    except Exception as exc:  # moderngl raises plain Exception for loader failures
        raise RenderError(
            "cannot create an offscreen OpenGL context through EGL "
            f"({exc}); install libegl1 libegl-mesa0 libgl1-mesa-dri libgbm1"
        ) from exc
    ctx.__enter__()
    ctx.__exit__(None, None, None)   # back to no current context
    return ctx


class OffscreenRenderer:
    """Renders frames of a rig to numpy images: `render(values55) -> (H, W, 3) uint8`."""

    def __init__(self, rig: FaceRig, width: int = 1280, height: int = 720, antialias: bool = True,
                 lighting: Lighting | None = None):
        self.width, self.height = int(width), int(height)
        self.ctx = standalone_context()
        size = (self.width, self.height)
        with self.ctx:
            self._target = self.ctx.framebuffer(
                color_attachments=[self.ctx.renderbuffer(size, 4)], depth_attachment=self.ctx.depth_renderbuffer(size)
            )
            self.face = FaceRenderer(self.ctx, rig, lighting)
        self.face.antialias = antialias
        self.face.camera = default_camera(rig, aspect=self.width / self.height)
        self._pixels = np.empty((self.height, self.width, 4), np.uint8)

    @property
    def camera(self) -> OrbitCamera:
        return self.face.camera

    def render_rgba(self, values: np.ndarray, camera: OrbitCamera | None = None) -> np.ndarray:
        """(H, W, 4) RGBA picture for one frame's 55 values, top row first; the array is reused.

        RGBA because llvmpipe reads it back three times faster than RGB.
        """
        with self.ctx:
            self.face.draw(values, self._target, self.width, self.height, camera, top_down=True)
            self._target.read_into(self._pixels, components=4, alignment=1)
        return self._pixels

    def render(self, values: np.ndarray, camera: OrbitCamera | None = None) -> np.ndarray:
        """(H, W, 3) RGB picture for one frame's 55 values, top row first (a new array)."""
        return self.render_rgba(values, camera)[:, :, :3].copy()

    def release(self) -> None:
        with self.ctx:
            self.face.release()
            self._target.release()
        self.ctx.release()

    def __enter__(self) -> OffscreenRenderer:
        return self

    def __exit__(self, *exc) -> None:
        self.release()

