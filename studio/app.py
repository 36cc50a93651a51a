"""`avitalk-studio`: the main window. Open or import a take, edit its instructions, export.

    avitalk-studio [PROJECT.avtp | SPEECH.wav | TAKE.csv [--audio TAKE.wav]] [--screenshot out.png]

Docks (rearrange them; the layout is remembered): the 3D viewport in the middle, the
timeline, the instruction inspector and the curves panel. Everything that runs a model runs
on one worker thread (studio.jobs); the window only posts edits and shows results.

Keys: Space play/pause, Shift+Space loops the selected segments, Home/End, Left/Right (or , and .)
one frame, J back one second, K pause, L play, Delete deletes the selected segments, S splits at
the playhead, M merges with the next, Ctrl+A selects every segment, Ctrl+Z/Ctrl+Y undo and redo
(named for the edit), Z zooms to the selection, W wireframe, R resets the view, F1 lists them
all. Without a take, the first run opens a copy of the bundled demo project
(~/AVI-Talking/demo.avtp); later runs open an empty project that says what to do first.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QSurfaceFormat
from PySide6.QtWidgets import QApplication, QMessageBox

from core.instruct import DEFAULT_WRITER
from core.project import MAIN_TRACK, SUFFIX, Project, load_project
from studio import APP, autosave
from studio.viewport import grab_window
from studio.window import MainWindow

__all__ = ["MainWindow", "configure_opengl", "main", "offer_recovery"]


def configure_opengl() -> None:
    """Ask Qt for an OpenGL 3.3 core context with a depth buffer; before QApplication exists."""
    fmt = QSurfaceFormat()
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.CoreProfile)
    fmt.setDepthBufferSize(24)
    QSurfaceFormat.setDefaultFormat(fmt)


def _initial_project(args, settings: QSettings) -> tuple[Project, str | None]:
    """The project the window opens on: the take named on the command line; without one, on the
    very first run (no recent projects yet) the user's copy of the demo project, later an empty one."""
    if not args.take:
        if settings.value("recent", [], list):
            return Project(), None
        from core.demo import demo_copy
        path = demo_copy()
        return load_project(path), str(path)
    p = Path(args.take)
    if p.suffix.lower() == SUFFIX:
        return load_project(p), str(p)
    if p.suffix.lower() == ".csv":
        from core.cli import load_take
        track, audio = load_take(args.take, args.audio)
        return Project(audio=audio, tracks={MAIN_TRACK: track}), None
    return Project(), None          # audio: imported in the background once the window is up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="avitalk-studio", description=__doc__.splitlines()[0])
    parser.add_argument("take", nargs="?", help=".avtp project, a voice recording to import, or a Live Link "
                                                "Face CSV (default on the first run: a copy of the demo project, "
                                                "~/AVI-Talking/demo.avtp)")
    parser.add_argument("--audio", help="sound for a CSV take")
    parser.add_argument("--writer", help="instruction writer for imports (minilm, smollm2, rules, a model folder; "
                                             f"default: the one chosen in Settings, else {DEFAULT_WRITER})")
    parser.add_argument("--screenshot", help="wait until all background work is done, save a picture of the "
                                             "window, and exit")
    args = parser.parse_args(argv)

    configure_opengl()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    settings = QSettings("avi-talking", "studio")
    try:
        project, path = _initial_project(args, settings)
    except Exception as exc:   # shown to the user, not a traceback
        QMessageBox.critical(None, APP, f"Cannot open {args.take or 'the demo project'}:\n{exc}")
        return 2
    window = MainWindow(project, path, settings=settings, writer=args.writer)
    if not args.take and path is not None:
        window._remember(Path(path))      # the demo opened on the first run: Open Recent lists it from now on
    window.show()
    if args.take and Path(args.take).suffix.lower() not in (SUFFIX, ".csv"):
        window.import_audio(args.take)
    elif not args.screenshot:
        offer_recovery(window)
    if args.screenshot:
        def shoot() -> None:
            if window.worker.busy or window._regen_timer.isActive():
                QTimer.singleShot(200, shoot)
                return
            window.tick()
            grab_window(window).save(args.screenshot)
            window.doc.undo_stack.setClean()
            window.close()
        QTimer.singleShot(500, shoot)
    return app.exec()


def offer_recovery(window: MainWindow) -> None:
    """After a crash: offer the newest autosave left behind."""
    found = autosave.pending(window.autosave_folder)
    if not found:
        return
    r = found[0]
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.saved_at))
    answer = QMessageBox.question(window, APP, f"Unsaved work from {when} ({r.original or 'an unsaved project'}) "
                                               "was found. Recover it?")
    if answer == QMessageBox.Yes:
        window.set_project(load_project(r.path), r.original)
        window.doc.undo_stack.resetClean()      # unsaved, with nothing to undo: Undo cannot make it look saved
        window._update_title()
        window.autosave()                       # kept under this run's name now, so it is offered once
        if r.path != autosave.slot(r.original, window.autosave_folder):
            r.path.unlink(missing_ok=True)
            r.path.with_suffix(".json").unlink(missing_ok=True)
    else:
        r.path.unlink(missing_ok=True)
        r.path.with_suffix(".json").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
