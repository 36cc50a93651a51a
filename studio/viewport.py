"""The 3D viewport: a QOpenGLWidget that hands its framebuffer to core.render.FaceRenderer."""

from __future__ import annotations

import moderngl
import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtOpenGLWidgets import QOpenGLWidget

from core.arkit import NUM_CHANNELS
from core.face.rig import FaceRig
from core.render.renderer import FaceRenderer, default_camera


class Viewport(QOpenGLWidget):
    """Shows the rig posed by `values` (55 floats); drag to orbit, right-drag to pan, wheel zooms."""

    def __init__(self, rig: FaceRig, parent=None):
        super().__init__(parent)
        self.rig = rig
        self.values = np.zeros(NUM_CHANNELS, np.float32)
        self.ctx: moderngl.Context | None = None
        self.renderer: FaceRenderer | None = None
        self._drag = None
        self.frames_drawn = 0               # frames painted so far (the studio benchmark's frame rate)
        self.setMinimumSize(320, 180)
        self.setFocusPolicy(Qt.StrongFocus)

    def initializeGL(self) -> None:
        self.ctx = moderngl.create_context()
        self.renderer = FaceRenderer(self.ctx, self.rig)
        self.renderer.camera = default_camera(self.rig, aspect=max(1, self.width()) / max(1, self.height()))

    def paintGL(self) -> None:
        ratio = self.devicePixelRatio()
        w, h = max(1, int(self.width() * ratio)), max(1, int(self.height() * ratio))
        # Qt binds its own framebuffer for this widget; never framebuffer 0.
        target = self.ctx.detect_framebuffer(self.defaultFramebufferObject())
        self.renderer.draw(self.values, target, w, h)
        self.frames_drawn += 1

    def set_rig(self, rig: FaceRig) -> None:
        """Preview another head (a user's GLB with ARKit morph targets, or the built-in one)."""
        self.rig = rig
        if self.ctx is not None:
            self.makeCurrent()
            self.renderer = FaceRenderer(self.ctx, rig)
            self.renderer.camera = default_camera(rig, aspect=max(1, self.width()) / max(1, self.height()))
            self.doneCurrent()
        self.update()

    def show_values(self, values: np.ndarray) -> None:
        """Pose the face; a paused playhead on the same pose draws nothing new (the CPU is the worker's)."""
        values = np.asarray(values, np.float32)
        if np.array_equal(values, self.values):
            return
        self.values = values
        self.update()

    def set_moving(self, moving: bool) -> None:
        """While the face moves (playback) draw without the edge filter, a full-screen pass that
        costs a software rasteriser 5-8 ms a frame; a still face gets it back at once."""
        if self.renderer is not None and self.renderer.antialias == moving:
            self.renderer.antialias = not moving
            self.update()

    def set_wireframe(self, on: bool) -> None:
        if self.renderer is not None:
            self.renderer.wireframe = on
            self.update()

    def reset_view(self) -> None:
        if self.renderer is not None:
            self.renderer.camera.reset()
            self.update()

    def mousePressEvent(self, event) -> None:
        self._drag = (event.position(), event.button())

    def mouseMoveEvent(self, event) -> None:
        if self._drag is None or self.renderer is None:
            return
        start, button = self._drag
        d = event.position() - start
        self._drag = (event.position(), button)
        cam = self.renderer.camera
        if button == Qt.LeftButton:
            cam.orbit(-d.x() * 0.01, d.y() * 0.01)
        else:
            cam.pan(d.x() / max(1, self.height()), d.y() / max(1, self.height()))
        self.update()

    def mouseReleaseEvent(self, event) -> None:
        self._drag = None

    def wheelEvent(self, event) -> None:
        if self.renderer is not None:
            self.renderer.camera.zoom(0.9 ** (event.angleDelta().y() / 120))
            self.update()
