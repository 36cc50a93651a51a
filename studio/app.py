"""`avitalk-studio`: the main window. For now a player: the face plays the take with its sound.

    avitalk-studio [TAKE.avtp | TAKE.csv [--audio TAKE.wav]] [--screenshot out.png]

Space plays and pauses, Home/End jump, W toggles the wireframe, R resets the view.
Without a take it opens the bundled demo.
"""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QTimer, Qt
from PySide6.QtGui import QKeySequence, QShortcut, QSurfaceFormat
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox

from core.audio import Audio
from core.face import load_rig
from core.track import FaceTrack
from studio.playback import Playback
from studio.viewport import Viewport


class MainWindow(QMainWindow):
    def __init__(self, track: FaceTrack, audio: Audio | None, title: str):
        super().__init__()
        self.track = track
        self.setWindowTitle(f"{title} - AVI-Talking Studio")
        self.viewport = Viewport(load_rig())
        self.setCentralWidget(self.viewport)
        self.time_label = QLabel()
        self.statusBar().addPermanentWidget(self.time_label)
        self.playback = Playback(audio, track.duration)
        if self.playback.device_error:
            self.statusBar().showMessage(self.playback.device_error, 10000)
        for key, action in ((Qt.Key_Space, self.playback.toggle), (Qt.Key_Home, lambda: self.playback.seek(0)),
                            (Qt.Key_End, lambda: self.playback.seek(track.duration)),
                            (Qt.Key_W, lambda: self.viewport.set_wireframe(not self.viewport.renderer.wireframe)),
                            (Qt.Key_R, self.viewport.reset_view)):
            QShortcut(QKeySequence(key), self, activated=action)
        self.timer = QTimer(self, interval=15, timeout=self.tick)
        self.timer.start()
        self.resize(1280, 800)
        self.tick()

    def tick(self) -> None:
        t = self.playback.position
        self.viewport.show_values(self.track.sample(t))
        self.time_label.setText(f"{t:6.2f} / {self.track.duration:.2f} s")

    def closeEvent(self, event) -> None:
        self.playback.pause()
        super().closeEvent(event)


def configure_opengl() -> None:
    """Ask Qt for an OpenGL 3.3 core context with a depth buffer; before QApplication exists."""
    fmt = QSurfaceFormat()
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.CoreProfile)
    fmt.setDepthBufferSize(24)
    QSurfaceFormat.setDefaultFormat(fmt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="avitalk-studio", description=__doc__.splitlines()[0])
    parser.add_argument("take", nargs="?", help=".avtp project or Live Link Face CSV (default: the demo)")
    parser.add_argument("--audio", help="sound for a CSV take")
    parser.add_argument("--screenshot", help="save a picture of the window once drawn, then exit")
    args = parser.parse_args(argv)

    configure_opengl()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    try:
        if args.take:
            from core.cli import load_take
            track, audio = load_take(args.take, args.audio)
            title = args.take
        else:
            from core.demo import demo_take
            (track, audio), title = demo_take(), "demo"
    except Exception as exc:   # shown to the user, not a traceback
        QMessageBox.critical(None, "AVI-Talking Studio", f"Cannot open {args.take}:\n{exc}")
        return 2
    window = MainWindow(track, audio, title)
    window.show()
    if args.screenshot:
        def shoot() -> None:
            window.grab().save(args.screenshot)
            app.quit()
        QTimer.singleShot(500, shoot)
    else:
        window.playback.play()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
