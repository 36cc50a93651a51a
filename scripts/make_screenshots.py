r"""The screenshots of docs/guide.md, taken from the real studio on a copy of the bundled demo project.

    xvfb-run -a .venv/bin/python scripts/make_screenshots.py [--out docs/images]

Opens studio.app.MainWindow (its own settings file and autosave folder in a temporary folder,
the rules writer, so nothing of the user's is read or written) on a copy of
resources/demo/demo.avtp at a fixed size, drives it as a user would (seek, click a segment,
pick another emotion, raise the curves, open the settings dialog and the File menu, zoom the
timeline) and saves one PNG per entry of SHOTS. Every picture is WIDTH x HEIGHT: the window
itself, with a dialog or a menu drawn where it opens over the window. The pictures are the
same on every run (the "regenerating" one holds the worker at 50 %), but for the phase of the
inspector's animated busy bar and the live one (a real-time performance: a frame or two earlier
or later); only the time it takes varies.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 1400, 860
# file name -> what it shows (docs/guide.md uses these; tests/test_screenshots.py checks them)
SHOTS: dict[str, str] = {
    "main-window.png": "the demo project loaded, paused at 4.83 s in the happy line (smiling, mouth open)",
    "inspector.png": "segment 2 selected: its instruction, who wrote it and what the listener found",
    "emotion-regenerating.png": "the emotion changed to sad: the segment regenerating (lane progress, 'regenerating...')",
    "emotion-done.png": "the same segment regenerated: the face at the same moment now sad",
    "curves.png": "the Curves dock raised: the edit's changed frames shaded, the old curves dashed",
    "settings.png": "Edit > Settings with the instruction writer choices open",
    "settings-endpoint.png": "Edit > Settings with an OpenAI-compatible endpoint filled in",
    "file-menu.png": "the File menu open, the pointer on Export...",
    "timeline-zoomed.png": "the timeline zoomed to 3.5 s: a segment edge and every word of a line readable",
    "multi-select.png": "three segments selected (Ctrl+click): the inspector's edits apply to all of them",
    "export-options.png": "File > Export's options: frame rate, range (the selected segment) and video size",
    "shortcuts.png": "Help > Keyboard Shortcuts: every key, read from the menus",
    "empty-start.png": "File > New: where the timeline will be, what to do first",
    "live.png": "the Live panel performing from a recording of real speech, switched to happy mid-way",
}
LIVE_SPEECH = ROOT / "tests" / "data" / "listen" / "sample.wav"     # real telephone speech (pyannote, MIT)
MOMENT = 4.83            # seconds: mid-word in the happy line, smile and open jaw
EDITED = 1               # the segment that is selected and edited (the happy line)
NEW_EMOTION = "sad"
ZOOM = (3.4, 6.9)        # seconds the zoomed timeline shows: a segment edge and a line's words
TIMEOUT_S = 60.0
INSPECTOR_W, TIMELINE_H, CURVES_H = 390, 250, 380        # pixels: the docks' sizes
ENDPOINT = ("http://127.0.0.1:8080/v1", "qwen2.5-7b-instruct")     # shown in the settings dialog


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNGs (default docs/images)")
    args = ap.parse_args(argv)
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM")):
        print("make_screenshots: error: the studio needs a display; run it as "
              "`xvfb-run -a .venv/bin/python scripts/make_screenshots.py`", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # One regeneration is all the model work here; one thread keeps it ~1 s even when another
    # job (a training run) holds the cores, where two threads fighting over them took 15 s.
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="avitalk-shots-") as tmp:
        return _shoot(out, Path(tmp))


def _shoot(out: Path, tmp: Path) -> int:
    from PySide6.QtCore import QObject, QPoint, QSettings, Qt, Slot
    from PySide6.QtGui import QColor, QPainter, QPen
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QAbstractItemView, QApplication

    from core.demo import demo_copy
    from core.project import load_project
    from studio.app import MainWindow, configure_opengl
    from studio.settings import SettingsDialog
    from studio.viewport import grab_window

    started = time.perf_counter()
    configure_opengl()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("AVI-Talking Studio")
    path = demo_copy(tmp / "AVI-Talking")
    window = MainWindow(load_project(path), path, settings=QSettings(str(tmp / "studio.ini"), QSettings.IniFormat),
                        autosave_folder=tmp / "autosave", writer="rules")
    window.resize(WIDTH, HEIGHT)
    window.show()
    window.activateWindow()
    QTest.qWaitForWindowExposed(window)
    # The window redraws the face every 15 ms even when paused; nothing plays here, so the
    # script draws a frame when it needs one and the two cores go to the model instead.
    window.timer.stop()

    def settle(ms: int = 150) -> None:
        """Let queued events, layouts and repaints run; show the frame at the playhead."""
        deadline = time.perf_counter() + ms / 1000
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.01)
        window.tick()
        app.processEvents()

    def wait(done, what: str) -> None:
        deadline = time.perf_counter() + TIMEOUT_S
        while not done():
            if time.perf_counter() > deadline:
                raise SystemExit(f"make_screenshots: timed out waiting for {what}")
            app.processEvents()
            time.sleep(0.01)

    def idle() -> bool:
        return not window.worker.busy and not window.doc.stale and not window._regen_timer.isActive()

    def window_picture():
        if window.size().width() != WIDTH or window.size().height() != HEIGHT:
            window.resize(WIDTH, HEIGHT)
            settle()
        window.tick()
        return grab_window(window).toImage()

    def save(name: str, image) -> None:
        assert name in SHOTS, name
        if (image.width(), image.height()) != (WIDTH, HEIGHT):
            raise SystemExit(f"make_screenshots: {name} is {image.width()}x{image.height()}, not {WIDTH}x{HEIGHT}")
        image.save(str(out / name), "PNG", 0)           # 0: the most compression
        print(f"{out / name} ({time.perf_counter() - started:.1f} s)", flush=True)

    def over_window(*widgets):
        """The window with top-level widgets (a dialog, a menu; (widget, framed) pairs) drawn
        where they are on screen."""
        picture = window_picture()
        painter = QPainter(picture)
        origin = window.mapToGlobal(QPoint(0, 0))
        for w, framed in widgets:
            image = w.grab().toImage()
            at = w.mapToGlobal(QPoint(0, 0)) - origin
            if framed:             # no window manager under Xvfb: a shadow and an edge stand in for one
                for i, alpha in enumerate((60, 40, 25, 12)):
                    painter.fillRect(at.x() - i + 3, at.y() - i + 5, image.width() + 2 * i, image.height() + 2 * i,
                                     QColor(0, 0, 0, alpha))
            painter.drawImage(at, image)
            if framed:
                painter.setPen(QPen(QColor("#7a7f87"), 1))
                painter.drawRect(at.x() - 1, at.y() - 1, image.width() + 1, image.height() + 1)
        painter.end()
        return picture

    def show_centred(dialog) -> None:
        """Show a dialog over the middle of the window, as a window manager would place it."""
        dialog.show()
        QTest.qWaitForWindowExposed(dialog)
        frame = dialog.frameGeometry()
        frame.moveCenter(window.frameGeometry().center())
        dialog.move(frame.topLeft())
        settle()

    # the docks as a user would drag them: the inspector wide enough for its controls (at its
    # first width it clips them on the right), the timeline a little lower so the evidence shows
    window.resizeDocks([window._docks["Instruction"]], [INSPECTOR_W], Qt.Horizontal)
    window.resizeDocks([window._docks["Timeline"]], [TIMELINE_H], Qt.Vertical)
    settle()
    doc = window.doc
    window.statusBar().clearMessage()          # "no audio output" under Xvfb: not what a user sees
    window.sound_label.hide()
    wait(idle, "the project to load")

    # 1. the main window, paused mid-expression
    window.playback.seek(MOMENT)
    settle()
    save("main-window.png", window_picture())

    # 2. a segment clicked on the timeline: the inspector shows its instruction and evidence
    seg = doc.project.segments[EDITED]
    lane = window.timeline.point_at((seg.start + seg.end) / 2, "lane")
    QTest.mouseClick(window.timeline.plot.viewport(), Qt.LeftButton, Qt.NoModifier, lane)
    settle()
    if doc.selected != EDITED:
        raise SystemExit(f"make_screenshots: clicking the lane selected segment {doc.selected}, not {EDITED}")
    window.playback.seek(MOMENT)               # the click on the lane does not seek; keep the moment
    settle()
    save("inspector.png", window_picture())

    # 3. another emotion: pictured halfway through the regeneration, then when it is done. The
    # worker's progress reports reach this picture-taker through a blocking connection, so the
    # worker waits at 50 % while the window is pictured: the moment is the same on any machine.
    class Catcher(QObject):
        def __init__(self):
            super().__init__()
            self.picture = None

        @Slot(object, float)
        def progress(self, key, fraction: float) -> None:
            if self.picture is None and fraction >= 0.5:
                window.timeline.set_segments(window._segment_views())    # the lane's 4-a-second repaint, now
                self.picture = window_picture()

    catcher = Catcher()
    runner = window.worker._runner            # emits on the worker thread
    runner.progress.connect(catcher.progress, Qt.BlockingQueuedConnection)
    combo = window.inspector.emotion
    combo.setCurrentIndex(combo.findText(NEW_EMOTION))
    if doc.project.segments[EDITED].instruction.emotion != NEW_EMOTION:
        raise SystemExit("make_screenshots: the emotion box did not edit the segment")
    wait(idle, "the regeneration")
    runner.progress.disconnect(catcher.progress)
    if catcher.picture is None:
        raise SystemExit("make_screenshots: the regeneration reported no progress")
    save("emotion-regenerating.png", catcher.picture)
    settle()
    save("emotion-done.png", window_picture())

    # 4. the curves dock raised on the edited segment: before (dashed) and after
    window._docks["Curves"].raise_()
    window.resizeDocks([window._docks["Curves"]], [CURVES_H], Qt.Vertical)
    window.curves.set_channels(["jawOpen", "mouthSmileLeft", "mouthFrownLeft", "browInnerUp", "headPitch"])
    window.curves.list.scrollToItem(window.curves.items["jawOpen"], QAbstractItemView.PositionAtTop)
    window.timeline.set_view(seg.start - 1.0, seg.end + 1.0)   # the curves follow the timeline's zoom
    settle()
    window.grab()                  # a first paint lays out the inspector's scroll area for its new height
    settle()
    save("curves.png", window_picture())
    window._docks["Timeline"].raise_()
    window.resizeDocks([window._docks["Timeline"]], [TIMELINE_H], Qt.Vertical)
    window.timeline.set_view(0.0, doc.project.audio.duration)
    settle()

    # 5. Edit > Settings, the writer list open
    dialog = SettingsDialog(window.current_settings(), window)
    show_centred(dialog)
    dialog.writer.showPopup()
    popup = dialog.writer.view().window()
    QTest.qWaitForWindowExposed(popup)
    settle()
    save("settings.png", over_window((dialog, True), (popup, False)))
    dialog.writer.hidePopup()
    settle()
    # ... and filled in for a bigger model behind an OpenAI-compatible server
    dialog.writer.setCurrentIndex(dialog.writer.findData("endpoint"))
    dialog.url.setText(ENDPOINT[0])
    dialog.model.setText(ENDPOINT[1])
    settle()
    save("settings-endpoint.png", over_window((dialog, True)))
    dialog.reject()
    settle()

    # 6. the File menu open under its title
    file_menu = window.menuBar().actions()[0].menu()
    title = window.menuBar().actionGeometry(window.menuBar().actions()[0])
    window.menuBar().setActiveAction(window.menuBar().actions()[0])
    QTest.qWaitForWindowExposed(file_menu)
    settle()
    if not file_menu.isVisible():
        file_menu.popup(window.menuBar().mapToGlobal(title.bottomLeft()))
        QTest.qWaitForWindowExposed(file_menu)
        settle()
    export = next(a for a in file_menu.actions() if a.text() == "&Export...")
    file_menu.setActiveAction(export)
    settle()
    save("file-menu.png", over_window((file_menu, False)))
    file_menu.hide()
    window.menuBar().setActiveAction(None)
    settle()

    # 7. the timeline zoomed in: words readable
    window.timeline.set_view(ZOOM[0], ZOOM[1])
    settle()
    save("timeline-zoomed.png", window_picture())

    # 8. several segments selected: Ctrl+click two more
    window.timeline.set_view(0.0, doc.project.audio.duration)
    settle()
    for index in (3, 4):
        other = doc.project.segments[index]
        QTest.mouseClick(window.timeline.plot.viewport(), Qt.LeftButton, Qt.ControlModifier,
                         window.timeline.point_at((other.start + other.end) / 2, "lane"))
        settle()
    if doc.selection != (EDITED, 3, 4):
        raise SystemExit(f"make_screenshots: Ctrl+click selected {doc.selection}")
    save("multi-select.png", window_picture())

    # 9. the export options for the selected segment
    from studio.export_dialog import ExportOptionsDialog
    QTest.mouseClick(window.timeline.plot.viewport(), Qt.LeftButton, Qt.NoModifier, lane)
    settle()
    export_dialog = ExportOptionsDialog(tmp / "demo.mp4", doc.fps, doc.track.duration, (EDITED, seg.start, seg.end),
                                        window.settings, window)
    show_centred(export_dialog)
    save("export-options.png", over_window((export_dialog, True)))
    export_dialog.reject()
    settle()

    # 10. Help > Keyboard Shortcuts
    from studio.help import ShortcutsDialog
    shortcuts = ShortcutsDialog(window.menuBar(), window)
    show_centred(shortcuts)
    save("shortcuts.png", over_window((shortcuts, True)))
    shortcuts.reject()
    settle()

    # 11. performing live: 4 s of real speech played in real time, the expression switched to happy
    import soundfile as sf
    x, rate = sf.read(LIVE_SPEECH)
    speech = tmp / "speech.wav"
    sf.write(speech, x[6 * rate:10 * rate], rate)
    window.live.use_recording(speech)
    window.live.record_on.setChecked(False)
    window.perform_live()
    wait(lambda: window.live._frames >= 30, "the live performance to start")
    window.live.set_expression("happy", 0.6)
    wait(lambda: window.live._frames >= 75, "the live face to turn happy")
    settle(60)
    save("live.png", window_picture())
    wait(lambda: not window.live.running, "the live performance to end")
    settle()

    # 12. File > New: an empty studio says what to do first
    window.doc.undo_stack.setClean()          # no "save changes?" question
    window._docks["Instruction"].raise_()
    window.new_project()
    window.statusBar().clearMessage()          # the live take's last message is not part of this
    settle()
    if not window.start_page.isVisible():
        raise SystemExit("make_screenshots: the empty studio shows no start page")
    save("empty-start.png", window_picture())

    window.close()
    print(f"{len(SHOTS)} screenshots in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
