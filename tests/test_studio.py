"""The studio window under Xvfb with a real OpenGL context, driven as a user drives it."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

from PySide6.QtCore import QPoint, Qt  # noqa: E402

from studio.app import MainWindow, configure_opengl  # noqa: E402
from tests.conftest import open_mouth_track  # noqa: E402

configure_opengl()


@pytest.fixture
def window(qtbot):
    w = MainWindow(open_mouth_track(frames=60, open_from=0, open_to=60), None, "test")
    qtbot.addWidget(w)
    w.show()
    w.activateWindow()
    qtbot.waitActive(w)      # shortcuts act on the active window, as for a user
    yield w
    w.timer.stop()


def picture(widget) -> np.ndarray:
    img = widget.grabFramebuffer().convertToFormat(widget.grabFramebuffer().Format.Format_RGB888)
    return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : img.width() * 3] \
        .reshape(img.height(), img.width(), 3).astype(int)


def test_space_plays_and_the_face_is_drawn(window, qtbot):
    img = picture(window.viewport)
    h, w = img.shape[:2]
    assert img[h // 3: 2 * h // 3, w // 3: 2 * w // 3].mean() > img[:20, :20].mean() + 50   # skin on backdrop
    qtbot.keyClick(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.playback.position > 0.3, timeout=3000)
    qtbot.keyClick(window, Qt.Key_Space)
    stopped = window.playback.position
    qtbot.wait(200)
    assert window.playback.position == stopped
    qtbot.keyClick(window, Qt.Key_Home)
    assert window.playback.position == 0.0


def test_drag_orbits_and_r_resets(window, qtbot):
    cam = window.viewport.renderer.camera
    before = cam.eye().copy()
    vp = window.viewport
    qtbot.mousePress(vp, Qt.LeftButton, pos=QPoint(200, 200))
    for x in range(210, 320, 10):
        qtbot.mouseMove(vp, QPoint(x, 200))
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=QPoint(320, 200))
    assert not np.allclose(cam.eye(), before)
    qtbot.keyClick(window, Qt.Key_R)
    np.testing.assert_allclose(cam.eye(), before, atol=1e-4)


def test_screenshot_command(tmp_path):
    out = tmp_path / "studio.png"
    exe = Path(sys.executable).with_name("avitalk-studio")
    subprocess.run([str(exe), "--screenshot", str(out)], check=True, timeout=120)
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape[0] > 300 and img.std() > 10


def test_viewport_draws_after_offscreen_rendering_in_the_same_thread(qtbot, head):
    # An EGL context left current on the GUI thread once blanked every QOpenGLWidget.
    from core.render.offscreen import OffscreenRenderer
    with OffscreenRenderer(head, 64, 36) as r:
        r.render(np.zeros(55, np.float32))
    w = MainWindow(open_mouth_track(frames=10), None, "test")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    img = picture(w.viewport)
    assert w.viewport.renderer is not None and img.std() > 10
    w.timer.stop()
