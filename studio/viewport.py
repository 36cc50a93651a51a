"""The 3D viewport: a QOpenGLWindow, embedded in the main window, that hands its framebuffer to
core.render.FaceRenderer.

A QOpenGLWindow in a window container rather than a QOpenGLWidget: with a QOpenGLWidget Qt
composites the whole main window through OpenGL whenever anything in it repaints (the playhead,
the curves, a progress meter), which under a software rasteriser costs ~45 ms a time. A native
GL window presents only itself, and the rest of the window keeps plain raster painting.
"""

from __future__ import annotations

import time

import moderngl
import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap, QWindow
from PySide6.QtOpenGL import QOpenGLWindow
from PySide6.QtWidgets import QApplication, QVBoxLayout, QWidget

from core.arkit import NUM_CHANNELS
from core.face.rig import FaceRig
from core.render.renderer import FaceRenderer, default_camera


class FaceWindow(QOpenGLWindow):
    """The GL surface. It never takes keyboard focus, so the main window's shortcuts (Space,
    J/K/L, W, R...) keep working after a click into the face."""

    def __init__(self, rig: FaceRig, parent: QWindow | None = None):
        super().__init__(QOpenGLWindow.NoPartialUpdate, parent)
        self.setFlag(Qt.WindowDoesNotAcceptFocus, True)
        self.rig = rig
        self.values = np.zeros(NUM_CHANNELS, np.float32)
        self.ctx: moderngl.Context | None = None
        self.renderer: FaceRenderer | None = None
        self.wireframe = False
        self._drag = None
        self.frames_drawn = 0               # frames painted so far (the studio benchmark's frame rate)

    def initializeGL(self) -> None:
        self.ctx = moderngl.create_context()
        self._make_renderer()

    def _make_renderer(self) -> None:
        self.renderer = FaceRenderer(self.ctx, self.rig)
        self.renderer.camera = default_camera(self.rig, aspect=max(1, self.width()) / max(1, self.height()))
        self.renderer.wireframe = self.wireframe

    def paintGL(self) -> None:
        ratio = self.devicePixelRatio()
        w, h = max(1, int(self.width() * ratio)), max(1, int(self.height() * ratio))
        target = self.ctx.detect_framebuffer(self.defaultFramebufferObject())
        self.renderer.draw(self.values, target, w, h)
        self.frames_drawn += 1

    def set_rig(self, rig: FaceRig) -> None:
        self.rig = rig
        if self.ctx is not None:
            self.makeCurrent()
            self._make_renderer()
            self.doneCurrent()
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


class Viewport(QWidget):
    """Shows the rig posed by `values` (55 floats); drag to orbit, right-drag to pan, wheel zooms."""

    def __init__(self, rig: FaceRig, parent=None):
        super().__init__(parent)
        # Made with a parent so that C++ owns it (the container deletes it with itself; a
        # Python-owned GL window was deleted twice at exit). The container then reparents it.
        self._birth_parent = QWindow()
        self.face = FaceWindow(rig, self._birth_parent)
        self.container = QWidget.createWindowContainer(self.face, self)
        self.container.setFocusPolicy(Qt.NoFocus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.container)
        self.setMinimumSize(320, 180)

    @property
    def rig(self) -> FaceRig:
        return self.face.rig

    @property
    def values(self) -> np.ndarray:
        return self.face.values

    @property
    def renderer(self) -> FaceRenderer | None:
        return self.face.renderer

    @property
    def frames_drawn(self) -> int:
        return self.face.frames_drawn

    def set_rig(self, rig: FaceRig) -> None:
        """Preview another head (a user's GLB with ARKit morph targets, or the built-in one)."""
        self.face.set_rig(rig)

    def show_values(self, values: np.ndarray) -> None:
        """Pose the face; a paused playhead on the same pose draws nothing new (the CPU is the worker's).
        The values are copied: an array the caller changes later must not change the pose unseen."""
        values = np.array(values, np.float32)
        if np.array_equal(values, self.face.values):
            return
        self.face.values = values
        self.face.update()

    def set_moving(self, moving: bool) -> None:
        """While the face moves (playback) draw without the edge filter, a full-screen pass that
        costs a software rasteriser 5-8 ms a frame; a still face gets it back at once."""
        renderer = self.face.renderer
        if renderer is not None and renderer.antialias == moving:
            renderer.antialias = not moving
            self.face.update()

    def set_wireframe(self, on: bool) -> None:
        self.face.wireframe = on
        if self.face.renderer is not None:
            self.face.renderer.wireframe = on
        self.face.update()

    def reset_view(self) -> None:
        if self.face.renderer is not None:
            self.face.renderer.camera.reset()
            self.face.update()

    def grabFramebuffer(self, timeout: float = 5.0) -> QImage:
        """What the viewport shows now, drawn afresh; waits (handling events) for a window shown
        a moment ago to get its GL context."""
        end = time.monotonic() + timeout
        while self.face.renderer is None and self.isVisible() and time.monotonic() < end:
            QApplication.processEvents()
            time.sleep(0.005)
        if self.face.renderer is None:
            return self.face.grabFramebuffer()         # a null image: never shown
        # QOpenGLWindow.grabFramebuffer reads the back buffer as it is, which after a swap or a
        # resize holds nothing defined: draw into it first.
        self.face.makeCurrent()
        self.face.paintGL()
        return self.face.grabFramebuffer()


def grab_window(window: QWidget) -> QPixmap:
    """A picture of `window` with the GL viewports in it: QWidget.grab paints widgets only, and
    leaves a native GL window black."""
    pixmap = window.grab()
    painter = QPainter(pixmap)
    for viewport in window.findChildren(Viewport):
        if viewport.isVisible():
            origin = viewport.container.mapTo(window, QPoint(0, 0))
            painter.drawImage(origin, viewport.grabFramebuffer().scaled(viewport.container.size()))
    painter.end()
    return pixmap
