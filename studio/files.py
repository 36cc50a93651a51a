"""The window's file commands: new, open, import, save, export, recent files, autosave, drops.

A mixin of studio.window.MainWindow: it uses the window's `doc`, `settings`, `worker`,
`statusBar()` and `recent_menu`, and runs every import and export on the worker.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QProgressDialog

from core.audio import AUDIO_SUFFIXES
from core.export.options import ExportOptions, export_file
from core.project import MAIN_TRACK, SUFFIX, Project, ProjectChanged, load_project, save_project
from core.track import FaceTrack
from studio import APP, autosave
from studio.export_dialog import ExportOptionsDialog
from studio.jobs import Export

AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3 *.aiff *.aif);;All files (*)"
EXPORTS = {"FBX (*.fbx)": ".fbx", "glTF binary (*.glb)": ".glb", "Live Link Face CSV (*.csv)": ".csv",
           "MP4 video (*.mp4)": ".mp4"}
RECENT = 8


class FileCommands:
    def new_project(self) -> None:
        if self._confirm_discard():
            self.set_project(Project(), None)

    def open_dialog(self) -> None:
        path = self._ask_path("projects", "Open project", f"Projects (*{SUFFIX});;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        if not self._confirm_discard():
            return False
        path = Path(path)
        if path.suffix.lower() == ".csv":
            return self._open_capture(path)
        if path.suffix.lower() != SUFFIX:
            self.import_audio(path)
            return True
        try:
            project = load_project(path)
        except Exception as exc:
            QMessageBox.warning(self, APP, f"Cannot open {path}:\n{exc}")
            return False
        self.set_project(project, path)
        self._remember(path)
        return True

    def _open_capture(self, path: Path) -> bool:
        """A Live Link Face CSV as a take, with the sound of the same name next to it if there is one."""
        from core.cli import load_take
        sound = next((p for p in sorted(path.parent.glob(path.stem + ".*")) if p.suffix.lower() in AUDIO_SUFFIXES),
                     None)
        try:
            track, audio = load_take(str(path), str(sound) if sound else None)
        except Exception as exc:
            QMessageBox.warning(self, APP, f"Cannot open {path}:\n{exc}")
            return False
        self.set_project(Project(audio=audio, tracks={MAIN_TRACK: track}), None)
        self.statusBar().showMessage(f"Opened the capture {path.name}" + (f" with {sound.name}" if sound else
                                                                          " (no sound of the same name found)"), 8000)
        return True

    def import_dialog(self) -> None:
        path = self._ask_path("audio", "Import audio", AUDIO_FILTER)
        if path and self._confirm_discard():
            self.import_audio(path)

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        return self.save_to(self.doc.path)

    def save_as(self) -> bool:
        name = self.doc.path.name if self.doc.path else "untitled" + SUFFIX
        path = self._ask_path("projects", "Save project", f"Projects (*{SUFFIX})", save_as=name)
        if not path:
            return False
        if not path.lower().endswith(SUFFIX):
            path += SUFFIX
        return self.save_to(path)

    def save_to(self, path: str | Path) -> bool:
        path = Path(path)
        same_file = self.doc.path is not None and path == self.doc.path
        self._store_view()
        try:
            try:
                stamp = save_project(self.doc.project, path, unchanged_since=self.doc.stamp if same_file else None)
            except ProjectChanged:
                answer = QMessageBox.question(
                    self, APP, f"{path} was changed by another program since it was opened here.\n\n"
                               "Save over it anyway? Its changes will be lost. (Cancel, then File > Save As, "
                               "keeps both.)",
                    QMessageBox.Save | QMessageBox.Cancel, QMessageBox.Cancel)
                if answer != QMessageBox.Save:
                    return False
                stamp = save_project(self.doc.project, path)
        except Exception as exc:
            QMessageBox.warning(self, APP, f"Cannot save {path}:\n{exc}")
            return False
        autosave.discard(self.doc.path, self.autosave_folder)
        self.doc.path, self.doc.stamp = path, stamp
        self.doc.undo_stack.setClean()
        self._update_title()
        self._remember(path)
        self.statusBar().showMessage(f"Saved {path}", 5000)
        return True

    def export_dialog(self) -> None:
        if self.doc.track is None:
            QMessageBox.information(self, APP, "There is no animation to export yet.")
            return
        suffix = str(self.settings.value("export/suffix", ".fbx"))
        suffix = suffix if suffix in EXPORTS.values() else ".fbx"
        name = (self.doc.path.stem if self.doc.path else "take") + suffix
        kind = next(k for k, v in EXPORTS.items() if v == suffix)
        path, chosen = self._ask_path("exports", "Export", ";;".join(EXPORTS), save_as=name, with_filter=True,
                                      selected_filter=kind)
        if not path:
            return
        suffix = EXPORTS.get(chosen, Path(path).suffix.lower())
        if Path(path).suffix.lower() not in EXPORTS.values():
            path += suffix
        self.settings.setValue("export/suffix", Path(path).suffix.lower())
        selected = None
        chosen_segments = [self.doc.project.segments[i] for i in self.doc.selection]
        if chosen_segments:
            first, last = self.doc.selection[0] + 1, self.doc.selection[-1] + 1
            what = f"segment {first}" if first == last else f"segments {first}-{last}"
            selected = (what, min(x.start for x in chosen_segments), max(x.end for x in chosen_segments))
        dialog = ExportOptionsDialog(Path(path), self.doc.track.fps, self.doc.track.duration, selected,
                                     self.settings, self)
        if dialog.exec():
            self.export(path, dialog.options())

    def export(self, path: str | Path, options: ExportOptions | None = None) -> None:
        """Write the performance to `path` (format by suffix) as `options` say (default: the whole
        take at its rate) on the worker; atomic, cancellable."""
        path = Path(path)
        track = FaceTrack(self.doc.track.fps, self.doc.track.data.copy())
        audio = self.doc.project.audio

        def run(progress):
            export_file(path, track, audio, options, progress.report)
            return str(path)
        job = Export(run, path=path)
        dialog = QProgressDialog(f"Exporting {path.name}...", "Cancel", 0, 100, self)
        dialog.setWindowTitle(APP)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(lambda: self.worker.cancel(job))
        self._export_dialogs[job] = dialog
        handle = self.worker.submit(job)
        handle.progress.connect(lambda f: dialog.setValue(int(100 * f)))
        handle.done.connect(lambda _: self._export_ended(job, f"Exported {path}"))
        handle.cancelled.connect(lambda: self._export_ended(job, f"Export to {path} cancelled; nothing was written"))
        handle.failed.connect(lambda message: self._export_ended(job, f"The export to {path} failed: {message}",
                                                                  warn=True))
        self._show_busy()

    def _export_ended(self, job: Export, message: str, warn: bool = False) -> None:
        dialog = self._export_dialogs.pop(job, None)
        if dialog is not None:
            dialog.close()
        self.statusBar().showMessage(message, 15000 if warn else 8000)
        if warn:
            QMessageBox.warning(self, APP, message)

    def autosave(self) -> None:
        if self.doc is not None and not self.doc.undo_stack.isClean():
            self._store_view()
            autosave.write(self.doc.project, self.doc.path, self.autosave_folder)

    def _confirm_discard(self) -> bool:
        if self.doc is None or self.doc.undo_stack.isClean():
            return True
        answer = QMessageBox.question(self, APP, "Save the changes to the current project first?",
                                      QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel)
        if answer == QMessageBox.Save:
            return self.save()
        if answer == QMessageBox.Discard:
            autosave.discard(self.doc.path, self.autosave_folder)    # discarded on purpose: not offered back
            return True
        return False

    def _remember(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.settings.value("recent", [], list) or [] if p != str(path)]
        self.settings.setValue("recent", recent[:RECENT])
        self._update_recent()

    def _update_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.settings.value("recent", [], list) or []:
            self.recent_menu.addAction(p, lambda p=p: self.open_path(p))
        self.recent_menu.setEnabled(not self.recent_menu.isEmpty())

    def _ask_path(self, kind: str, title: str, filters: str, save_as: str | None = None,
                  with_filter: bool = False, selected_filter: str = ""):
        """A file dialog that opens in the folder the user last used for this kind of file."""
        folder = str(self.settings.value(f"folders/{kind}", str(Path.home())))
        if save_as is None:
            path, chosen = QFileDialog.getOpenFileName(self, title, folder, filters)
        else:
            path, chosen = QFileDialog.getSaveFileName(self, title, str(Path(folder) / save_as), filters,
                                                       selected_filter)
        if path:
            self.settings.setValue(f"folders/{kind}", str(Path(path).parent))
        return (path, chosen) if with_filter else path

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])          # a project opens, anything else is imported as audio
