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
import copy
import sys
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, QTimer, Qt
from PySide6.QtGui import QAction, QKeySequence, QSurfaceFormat, QUndoCommand
from PySide6.QtWidgets import (QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMessageBox,
                               QProgressDialog, QVBoxLayout, QWidget)

from core.arkit import NUM_CHANNELS
from core.audio import AUDIO_SUFFIXES
from core.export.options import ExportOptions, export_file
from core.face import load_rig
from core.instruct import DEFAULT_WRITER
from core.project import MAIN_TRACK, SUFFIX, Project, ProjectChanged, load_project, save_project
from core.track import FaceTrack
from studio import autosave
from studio.curves import CurvesPanel
from studio.document import Document
from studio.help import ShortcutsDialog, open_guide
from studio.export_dialog import ExportOptionsDialog
from studio.inspector import Inspector
from studio.jobs import Animation, Export, Import, Regeneration, Rewrite, Worker
from studio.live import LivePanel
from studio.meter import Meter
from studio.playback import Playback
from studio.start import StartPage
from studio.timeline import SegmentView, Timeline, format_timecode
from studio.viewport import Viewport, grab_window

APP = "AVI-Talking Studio"
AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3 *.aiff *.aif);;All files (*)"
EXPORTS = {"FBX (*.fbx)": ".fbx", "glTF binary (*.glb)": ".glb", "Live Link Face CSV (*.csv)": ".csv",
           "MP4 video (*.mp4)": ".mp4"}
RECENT = 8


def _bundle():
    from core.motion.checkpoint import load_default_model
    return load_default_model()



def _valid_baseline(value) -> str:
    """A stored or chosen baseline, checked by the same rule the writer applies ("auto" if not)."""
    from core.instruct import Baseline
    try:
        return Baseline.parse(str(value)).name if value else "auto"
    except ValueError:
        return "auto"

class MainWindow(QMainWindow):
    def __init__(self, project: Project | None = None, path: str | Path | None = None, *,
                 settings: QSettings | None = None, autosave_folder: Path | None = None,
                 writer: str | None = None):
        super().__init__()
        self.settings = settings or QSettings("avi-talking", "studio")
        self.autosave_folder = autosave_folder
        # Edit > Settings choices are remembered; a writer given here (the command line) wins
        self.writer = writer or str(self.settings.value("studio/writer", DEFAULT_WRITER))
        self.baseline = _valid_baseline(self.settings.value("studio/baseline", "auto"))
        self.llm_url = str(self.settings.value("studio/llm_url", ""))
        self.llm_model = str(self.settings.value("studio/llm_model", ""))
        self.head = ""
        self.worker = Worker(self)
        self.viewport = Viewport(load_rig())
        self.setCentralWidget(self.viewport)
        self.timeline = Timeline()
        self.start_page = StartPage()
        lane = QWidget()                    # the timeline, or before there is a take what to do first
        lane_layout = QVBoxLayout(lane)
        lane_layout.setContentsMargins(0, 0, 0, 0)
        lane_layout.addWidget(self.start_page)
        lane_layout.addWidget(self.timeline)
        self.inspector = Inspector()
        self.curves = CurvesPanel()
        self.live = LivePanel(folder=Path(str(self.settings.value("live/folder", Path.home()))))
        self._live = False                  # performing: the viewport shows the live frames, not the take
        self._docks = {}
        for name, widget, area in (("Timeline", lane, Qt.BottomDockWidgetArea),
                                   ("Instruction", self.inspector, Qt.RightDockWidgetArea),
                                   ("Curves", self.curves, Qt.BottomDockWidgetArea),
                                   ("Live", self.live, Qt.RightDockWidgetArea)):
            dock = QDockWidget(name, self)
            dock.setObjectName(name)
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            self._docks[name] = dock
        self.tabifyDockWidget(self._docks["Timeline"], self._docks["Curves"])
        self.tabifyDockWidget(self._docks["Instruction"], self._docks["Live"])
        self._docks["Timeline"].raise_()
        self._docks["Instruction"].raise_()
        self.resizeDocks([self._docks["Timeline"]], [300], Qt.Vertical)     # the face keeps most of the height
        self.resizeDocks([self._docks["Instruction"]], [380], Qt.Horizontal)  # the inspector's rows fit unclipped
        self.time_label = QLabel()
        self.busy_label = QLabel("Ready")
        self.busy_bar = Meter()
        self.busy_bar.hide()
        self.sound_label = QLabel()         # stays while there is no sound, not a message that fades
        self.sound_label.hide()
        self.statusBar().addPermanentWidget(self.sound_label)
        self.statusBar().addPermanentWidget(self.busy_label)
        self.statusBar().addPermanentWidget(self.busy_bar)
        self.statusBar().addPermanentWidget(self.time_label)
        self.doc: Document | None = None
        self.playback = Playback(None, 0.0)
        self._jobs_started: dict = {}
        self._progress: dict = {}
        self._progress_drawn = 0.0
        self._export_dialogs: dict = {}
        self.last_regeneration_s: float | None = None
        self.import_warnings: QMessageBox | None = None     # what the last import had to say, if anything
        # edits arriving together (keys held on the intensity slider, an undo of several) become one
        # submission; a later edit still cancels the regeneration it overlaps (jobs: latest wins)
        self._regen_timer = QTimer(self, singleShot=True, interval=40, timeout=self._submit_stale)
        self._autosave_timer = QTimer(self, interval=autosave.AUTOSAVE_S * 1000, timeout=self.autosave)
        self._autosave_timer.start()
        self._build_menus()
        self._connect()
        self._shown: tuple | None = None    # (frame index, duration) the clock showed last
        self._track_dirty = True
        self.timer = QTimer(self, interval=15, timeout=self.tick)
        self.timer.start()
        self.resize(1400, 900)
        self.setAcceptDrops(True)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        channels = self.settings.value("curves/channels", [], list)
        if channels:
            self.curves.set_channels(channels)          # the channels the user plotted last time
        self.curves.channelsChanged.connect(lambda names: self.settings.setValue("curves/channels", list(names)))
        head = str(self.settings.value("studio/head", ""))
        if head:
            try:
                self._use_head(head)
            except Exception as exc:          # moved or deleted since: said, and the built-in head shows
                self.statusBar().showMessage(f"The preview head {head} is unusable ({exc}); "
                                             "showing the built-in head", 15000)
        self.set_project(project or Project(), path)

    # --- building ----------------------------------------------------------------------------
    def _build_menus(self) -> None:
        m = self.menuBar().addMenu("&File")
        self._action(m, "&New", self.new_project, QKeySequence.New)
        self._action(m, "&Open...", self.open_dialog, QKeySequence.Open)
        self.recent_menu = m.addMenu("Open &Recent")
        self._action(m, "&Save", self.save, QKeySequence.Save)
        self._action(m, "Save &As...", self.save_as, QKeySequence.SaveAs)
        m.addSeparator()
        self._action(m, "&Import Audio...", self.import_dialog, "Ctrl+I")
        self._action(m, "&Export...", self.export_dialog, "Ctrl+E")
        m.addSeparator()
        self._action(m, "&Quit", self.close, QKeySequence.Quit)
        m = self.menuBar().addMenu("&Edit")
        self.undo_action = self._action(m, "&Undo", lambda: self.doc.undo_stack.undo(), QKeySequence.Undo)
        self.redo_action = self._action(m, "&Redo", lambda: self.doc.undo_stack.redo(), "Ctrl+Y")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
        m.addSeparator()
        self._action(m, "Select &All Segments", self.select_all, QKeySequence.SelectAll)
        m.addSeparator()
        self._action(m, "Se&ttings...", self.settings_dialog, QKeySequence.Preferences)
        m = self.menuBar().addMenu("&Segment")
        self._action(m, "&Split at Playhead", self.split_selected, "S")
        self._action(m, "&Merge with Next", self.merge_selected, "M")
        m.addSeparator()
        self._action(m, "&Delete Selected Segments", self.delete_selected, QKeySequence.Delete)
        m = self.menuBar().addMenu("&Playback")
        self._action(m, "&Play/Pause", lambda: self.playback.toggle(), "Space")
        self.loop_action = self._action(m, "&Loop the Selection", self.toggle_loop, "Shift+Space")
        self.loop_action.setCheckable(True)
        m.addSeparator()
        self._action(m, "To &Start", lambda: self.playback.seek(0.0), "Home")
        self._action(m, "To &End", lambda: self.playback.seek(self.playback.duration), "End")
        previous = self._action(m, "Previous &Frame", lambda: self.step_frames(-1), "Left")
        previous.setShortcuts([QKeySequence("Left"), QKeySequence(",")])
        following = self._action(m, "&Next Frame", lambda: self.step_frames(1), "Right")
        following.setShortcuts([QKeySequence("Right"), QKeySequence(".")])
        self._action(m, "Back One Second", lambda: self.playback.seek(self.playback.position - 1.0), "J")
        self._action(m, "Pause", lambda: self.playback.pause(), "K")
        self._action(m, "Play", lambda: self.playback.play(), "L")
        m.addSeparator()
        self._action(m, "Perform &Live", self.perform_live, "Ctrl+L")
        m = self.menuBar().addMenu("&View")
        for dock in self._docks.values():
            m.addAction(dock.toggleViewAction())
        m.addSeparator()
        self._action(m, "&Zoom to Selection", lambda: self.timeline.zoom_to_selection(), "Z")
        self._action(m, "Show the &Whole Take", lambda: self.timeline.show_whole_take())
        m.addSeparator()
        self._action(m, "&Wireframe", lambda: self.viewport.set_wireframe(not self.viewport.renderer.wireframe), "W")
        self._action(m, "&Reset View", self.viewport.reset_view, "R")
        m = self.menuBar().addMenu("&Help")
        self._action(m, "&Keyboard Shortcuts", self.show_shortcuts, QKeySequence.HelpContents)
        self._action(m, "User &Guide", self.show_guide)
        self._action(m, "&About", lambda: QMessageBox.about(
            self, APP, f"{APP}\n\nSpeech to expressive ARKit face animation (the AVI-Talking method: "
                       "Sun et al., 2024, arXiv 2402.16124)."))
        self._update_recent()

    def _action(self, menu, text, slot, shortcut=None) -> QAction:
        a = QAction(text, self)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        a.triggered.connect(slot)
        menu.addAction(a)
        return a

    def _connect(self) -> None:
        self.worker.finished.connect(self._job_finished)
        self.worker.failed.connect(self._job_failed)
        self.worker.cancelled.connect(self._job_cancelled)
        self.worker.progress.connect(self._job_progress)
        self.worker.busyChanged.connect(self._busy_changed)
        self.timeline.seekRequested.connect(lambda t: self.playback.seek(t))
        self.timeline.viewChanged.connect(self.curves.set_view)       # the curves show what the timeline shows
        self.timeline.selectionListChanged.connect(lambda sel: self.doc.select(sel, self.timeline.selected))
        self.timeline.segmentRetimed.connect(lambda i, a, b: self.doc.retime(i, a, b))
        self.timeline.splitRequested.connect(lambda i, t: self.doc.split(i, t))
        self.timeline.mergeRequested.connect(lambda i: self.doc.merge_with_next(i))
        self.timeline.deleteRequested.connect(
            lambda i: self.doc.delete(self.doc.selection if i in self.doc.selection else i))
        self.timeline.addRequested.connect(lambda a, b: self.doc.select(self.doc.add(a, b)))
        self.inspector.instructionEdited.connect(self._instruction_edited)
        self.inspector.rewordRequested.connect(lambda change: self.doc.rewrite(self.doc.selection, **change))
        self.inspector.seedChanged.connect(lambda i, seed: self.doc.set_seed(i, seed))
        self.inspector.rewriteRequested.connect(self.rewrite_with_language_model)
        self.live.started.connect(self._live_started)
        self.live.frameReady.connect(self.viewport.show_values)
        self.live.stopped.connect(self._live_stopped)
        self.live.failed.connect(self._live_failed)
        self.start_page.importRequested.connect(self.import_dialog)
        self.start_page.openRequested.connect(self.open_dialog)

    # --- the document --------------------------------------------------------------------------
    def set_project(self, project: Project, path: str | Path | None = None) -> None:
        self.worker.cancel_all()
        self.doc = Document(project, path, self)
        self.doc.segmentsChanged.connect(self._segments_changed)
        self.doc.staleChanged.connect(self._stale_changed)
        self.doc.trackChanged.connect(self._track_changed)
        self.doc.selectionChanged.connect(self._selection_changed)
        self.doc.undo_stack.indexChanged.connect(self._name_undo)
        self.doc.undo_stack.cleanChanged.connect(self._update_title)
        self._name_undo()
        self.playback.pause()
        audio = project.audio
        self.playback = Playback(audio, audio.duration if audio is not None else 0.0)
        if audio is not None:
            mono = audio.samples.mean(axis=1) if audio.samples.ndim == 2 else audio.samples
            self.timeline.set_audio(np.asarray(mono, np.float32), audio.sample_rate, audio.duration)
        else:
            self.timeline.set_audio(None, 16000, 0.0)
        words = [(w["text"], w["start"], w["end"]) for s in project.segments for w in s.evidence.get("words", [])]
        self.timeline.set_words(words)
        self.timeline.set_frame_rate(self.doc.fps)
        empty = audio is None and self.doc.track is None
        self.start_page.setVisible(empty)
        self.timeline.setVisible(not empty)
        self._segments_changed()
        self._track_changed(0, self.doc.frames)
        self.loop_action.setChecked(False)
        self._restore_view(project)
        self._update_title()
        if project.audio is not None and self.doc.track is None:
            self.generate_all()

    def _regenerations(self) -> list[Regeneration]:
        return [j for j in self.worker.pending() if isinstance(j, Regeneration)]

    def _segment_views(self) -> list[SegmentView]:
        busy = [j.span for j in self._regenerations()]
        out = []
        for i, s in enumerate(self.doc.project.segments):
            state = self.doc.segment_state(i)
            a, b = round(s.start * self.doc.fps), round(s.end * self.doc.fps)
            running = [k for k in busy if k.start < b and a < k.end]
            progress = max((self._progress.get(k, 0.0) for k in running), default=0.0)
            if state == "stale" and running:
                state = "busy"
            out.append(SegmentView(s.start, s.end, s.instruction.emotion, s.instruction.text, state, progress))
        return out

    def _segments_changed(self) -> None:
        self.timeline.set_segments(self._segment_views())
        self._selection_changed(self.doc.selected)

    def _stale_changed(self) -> None:
        self.timeline.set_segments(self._segment_views())
        if self.doc.stale:
            self._regen_timer.start()

    def _track_changed(self, start: int, end: int) -> None:
        self.curves.set_track(self.doc.track)
        self._track_dirty = True            # the next tick shows the new motion even if paused

    def _selection_changed(self, index: int) -> None:
        segs = self.doc.project.segments
        seg = segs[index] if 0 <= index < len(segs) else None
        self.timeline.set_selection(list(self.doc.selection), index if seg is not None else None)
        self.inspector.show_segment(index if seg is not None else -1, seg, max(1, len(self.doc.selection)))
        self._show_busy()

    def _name_undo(self, *args) -> None:
        """Undo and Redo say what they undo and redo."""
        stack = self.doc.undo_stack
        self.undo_action.setText(f"&Undo {stack.undoText()}" if stack.canUndo() else "&Undo")
        self.redo_action.setText(f"&Redo {stack.redoText()}" if stack.canRedo() else "&Redo")
        self.undo_action.setEnabled(stack.canUndo())
        self.redo_action.setEnabled(stack.canRedo())

    def _update_title(self, *args) -> None:
        name = self.doc.path.name if self.doc and self.doc.path else "untitled"
        dirty = self.doc is not None and not self.doc.undo_stack.isClean()
        self.setWindowTitle(f"{name}{'*' if dirty else ''} - {APP}")

    # --- background work -----------------------------------------------------------------------
    def _submit_stale(self) -> None:
        pending = {j.span for j in self._regenerations()}
        if self.doc.track is not None and any(span not in pending for span in self.doc.stale):
            self.curves.set_previous(FaceTrack(self.doc.track.fps, self.doc.track.data.copy()))
        for span in list(self.doc.stale):
            if span not in pending:
                self._jobs_started[span] = time.perf_counter()
                self.worker.submit(self.doc.regeneration(span, _bundle))
        self.timeline.set_segments(self._segment_views())
        self._show_busy()

    def generate_all(self) -> None:
        """Stage 2 over the whole take (after import, or for a project without motion)."""
        from core.pipeline import animate
        project = copy.deepcopy(self.doc.project)
        doc = self.doc

        def run(progress):
            return animate(project, _bundle(), callback=progress.step)
        self.worker.submit(Animation(run, owner=doc))
        self._show_busy()

    def import_audio(self, path: str | Path) -> None:
        """Listen, instruct and animate in the background; segments show as soon as they exist."""
        from core.audio import load_audio
        from core.instruct import make_writer
        from core.pipeline import listen_and_instruct, make_project
        writer_name, url, model = self.writer, self.llm_url or None, self.llm_model or None
        baseline = self.baseline
        path = Path(path)

        def run(progress):
            audio = load_audio(path)
            result = listen_and_instruct(audio, writer=make_writer(writer_name, llm_url=url, llm_model=model),
                                         baseline=baseline, progress=lambda name, f: progress.report(0.9 * f))
            return make_project(audio, result, 30.0), list(audio.warnings) + list(result.warnings)
        self.worker.submit(Import(run, path=path))
        self._show_busy()

    def rewrite_with_language_model(self, index: int) -> None:
        from core.instruct import make_writer
        seg = self.doc.project.segments[index]
        evidence, writer_name, doc = dict(seg.evidence), self.writer, self.doc
        url, model = self.llm_url or None, self.llm_model or None

        def run(progress):
            writer = make_writer(writer_name, llm_url=url, llm_model=model)
            return writer.write([evidence])[0], list(writer.warnings)
        self.worker.submit(Rewrite(run, owner=doc, index=index, start=seg.start))
        self._show_busy()

    def _job_finished(self, job, result) -> None:
        if isinstance(job, Regeneration):
            self._progress.pop(job.span, None)
            started = self._jobs_started.pop(job.span, None)
            if self.doc.apply_result(job.span, result) and started is not None:
                self.last_regeneration_s = time.perf_counter() - started
            self.timeline.set_segments(self._segment_views())
        elif isinstance(job, Animation) and job.owner is self.doc:
            self.doc.replace_track(result)
            self._segments_changed()
        elif isinstance(job, Import):
            project, warnings = result
            self.set_project(project, None)
            self.doc.undo_stack.resetClean()
            self._update_title()
            n = len(project.segments)
            self.statusBar().showMessage(f"{job.path.name}: {n} segment{'' if n == 1 else 's'}", 8000)
            if warnings:            # a clipped, cut-short or silent recording: said, without blocking
                self.import_warnings = QMessageBox(QMessageBox.Warning, APP, f"{job.path.name}:\n\n"
                                                   + "\n".join(f"- {w}" for w in warnings), parent=self)
                self.import_warnings.open()
        elif isinstance(job, Rewrite) and job.owner is self.doc:
            index = job.index
            instruction, warnings = result
            segs = self.doc.project.segments
            if index < len(segs) and segs[index].start == job.start:
                same = segs[index].instruction.text == instruction.text
                self.doc.set_instruction(index, instruction)
                # said either way, so a rewrite that comes back as it was does not look like nothing happened
                said = (f"Rewrite: {instruction.writer} wrote the same instruction again for segment {index + 1}"
                        if same else f"Rewrite: segment {index + 1} now reads \"{instruction.text}\"")
                self.statusBar().showMessage("; ".join([said, *warnings]), 15000)
            elif warnings:          # e.g. the endpoint was down and the rules wrote it
                self.statusBar().showMessage("Rewrite: " + "; ".join(warnings), 15000)
        self._show_busy()

    def _job_cancelled(self, job) -> None:
        if isinstance(job, Regeneration):
            self._progress.pop(job.span, None)
        self._show_busy()

    def _job_failed(self, job, message: str) -> None:
        if isinstance(job, Export):            # its handle says it (export())
            return
        self.statusBar().showMessage(f"The {job.name} failed: {message}", 15000)
        if isinstance(job, Import):
            QMessageBox.warning(self, APP, f"The import of {job.path.name} failed:\n{message}")
        self._show_busy()

    def _job_progress(self, job, fraction: float) -> None:
        self.busy_bar.set_fraction(fraction)
        if isinstance(job, Regeneration):
            self._progress[job.span] = fraction
            now = time.perf_counter()
            if now - self._progress_drawn > 0.25:          # the lane repaints at most 4 times a second
                self._progress_drawn = now
                self.timeline.set_segments(self._segment_views())

    def _busy_changed(self, busy: bool) -> None:
        self._show_busy()
        if not busy:
            self.timeline.set_segments(self._segment_views())

    def _show_busy(self) -> None:
        """One line says what the worker does (or "Ready"), and the inspector says "regenerating"
        only while the segment it shows is."""
        jobs = self.worker.pending()
        self.busy_label.setText(busy_text(jobs, self._live))
        self.busy_bar.setVisible(bool(jobs))
        seg = self.doc.project.segments[self.doc.selected] if self.doc is not None and self.doc.selected >= 0 else None
        if seg is not None:
            a, b = round(seg.start * self.doc.fps), round(seg.end * self.doc.fps)
            mine = any(sp.start < b and a < sp.end for sp in self.doc.stale)
        else:
            mine = False
        self.inspector.set_busy(mine)

    # --- commands ------------------------------------------------------------------------------
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
        name = (self.doc.path.stem if self.doc.path else "take") + self.settings.value("export/suffix", ".fbx")
        path, chosen = self._ask_path("exports", "Export", ";;".join(EXPORTS), save_as=name, with_filter=True)
        if not path:
            return
        suffix = EXPORTS.get(chosen, Path(path).suffix.lower())
        if Path(path).suffix.lower() not in EXPORTS.values():
            path += suffix
        self.settings.setValue("export/suffix", Path(path).suffix.lower())
        selected = None
        if self.doc.selected >= 0:
            segment = self.doc.project.segments[self.doc.selected]
            selected = (self.doc.selected, segment.start, segment.end)
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

    def settings_dialog(self) -> None:
        from studio.settings import SettingsDialog
        dialog = SettingsDialog(self.current_settings(), self)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def current_settings(self):
        from studio.settings import StudioSettings
        st = self.doc.project.settings
        return StudioSettings(self.writer, self.llm_url, self.llm_model, st.sampling_steps, st.guidance, st.fps,
                              self.head, self.baseline)

    def apply_settings(self, chosen) -> None:
        """Use new settings: a new sampling setting regenerates the take, a new head previews.
        The writer, the endpoint and the head are remembered for the next start."""
        self.writer, self.llm_url, self.llm_model = chosen.writer, chosen.llm_url, chosen.llm_model
        self.baseline = _valid_baseline(chosen.baseline)
        for key, value in (("writer", chosen.writer), ("llm_url", chosen.llm_url), ("llm_model", chosen.llm_model),
                           ("baseline", self.baseline)):
            self.settings.setValue(f"studio/{key}", value)
        st = self.doc.project.settings
        if (chosen.sampling_steps, chosen.guidance) != (st.sampling_steps, st.guidance):
            st.sampling_steps, st.guidance = chosen.sampling_steps, chosen.guidance
            if self.doc.project.audio is not None:
                self.generate_all()
        if chosen.head != self.head:
            try:
                self._use_head(chosen.head)
            except Exception as exc:
                QMessageBox.warning(self, APP, f"Cannot use {chosen.head} as the preview head:\n{exc}")
                return
            self.settings.setValue("studio/head", chosen.head)

    def _use_head(self, head: str) -> None:
        """Preview `head` (a GLB with ARKit morph targets; "" = the built-in head); raises if unusable."""
        if head:
            from core.export.gltf import load_glb_head
            rig = load_glb_head(head)
        else:
            rig = load_rig()
        self.head = head
        self.viewport.set_rig(rig)

    def _ask_path(self, kind: str, title: str, filters: str, save_as: str | None = None,
                  with_filter: bool = False):
        """A file dialog that opens in the folder the user last used for this kind of file."""
        folder = str(self.settings.value(f"folders/{kind}", str(Path.home())))
        if save_as is None:
            path, chosen = QFileDialog.getOpenFileName(self, title, folder, filters)
        else:
            path, chosen = QFileDialog.getSaveFileName(self, title, str(Path(folder) / save_as), filters)
        if path:
            self.settings.setValue(f"folders/{kind}", str(Path(path).parent))
        return (path, chosen) if with_filter else path

    # --- navigation ----------------------------------------------------------------------------
    def select_all(self) -> None:
        self.doc.select(range(len(self.doc.project.segments)), self.doc.selected if self.doc.selected >= 0 else None)

    def step_frames(self, frames: int) -> None:
        self.playback.step(frames, self.doc.fps)

    def toggle_loop(self) -> None:
        """Loop the selected segments' span (checked), or play on (unchecked). Without a selection
        there is nothing to loop: said, and the item stays unchecked."""
        segs = [self.doc.project.segments[i] for i in self.doc.selection]
        if not self.loop_action.isChecked():
            self.playback.set_loop(None)
            return
        if not segs:
            self.loop_action.setChecked(False)
            self.statusBar().showMessage("Select a segment (or several) to loop", 5000)
            return
        self.playback.set_loop(min(s.start for s in segs), max(s.end for s in segs))
        self.playback.play()

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.menuBar(), self).exec()

    def show_guide(self) -> None:
        problem = open_guide()
        if problem:
            QMessageBox.information(self, APP, problem)

    def _store_view(self) -> None:
        """The playhead, selection and visible range go into the project, for the next opening."""
        t0, t1 = self.timeline.view_range()
        self.doc.project.settings.extra["view"] = {
            "playhead": round(float(self.playback.position), 4), "selection": list(self.doc.selection),
            "current": self.doc.selected, "range": [round(float(t0), 4), round(float(t1), 4)]}

    def _restore_view(self, project: Project) -> None:
        """Put back what _store_view kept; anything missing or odd is left at its default."""
        view = project.settings.extra.get("view")
        view = view if isinstance(view, dict) else {}
        playhead, selection, current, span = (view.get(k) for k in ("playhead", "selection", "current", "range"))
        number = (int, float)
        if isinstance(playhead, number) and not isinstance(playhead, bool) and np.isfinite(playhead):
            self.playback.seek(playhead)
        if isinstance(selection, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in selection):
            self.doc.select(selection, current if isinstance(current, int) else None)
        else:
            self.doc.select(-1)
        self._selection_changed(self.doc.selected)
        if (isinstance(span, list) and len(span) == 2 and all(isinstance(v, number) for v in span)
                and np.isfinite(span).all() and span[1] > span[0]):
            self.timeline.set_view(float(span[0]), float(span[1]))

    def _target_segment(self) -> int:
        """The selected segment, or else the one under the playhead (-1: none)."""
        if self.doc.selected >= 0:
            return self.doc.selected
        t = self.playback.position
        return next((i for i, s in enumerate(self.doc.project.segments) if s.start <= t < s.end), -1)

    def split_selected(self) -> None:
        i = self._target_segment()
        if i >= 0:
            self.doc.split(i, self.playback.position)

    def merge_selected(self) -> None:
        i = self._target_segment()
        if i >= 0:
            self.doc.merge_with_next(i)

    def delete_selected(self) -> None:
        if self.doc.selection:            # deleting needs an explicit choice
            self.doc.delete(self.doc.selection)

    def _instruction_edited(self, index: int, instruction) -> None:
        """The inspector's typed instruction: on the segment it shows, or on every selected one."""
        selection = self.doc.selection
        self.doc.set_instruction(selection if len(selection) > 1 and index in selection else index, instruction)

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

    # --- drag and drop ------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])          # a project opens, anything else is imported as audio

    # --- the clock -----------------------------------------------------------------------------
    # --- live ------------------------------------------------------------------------------------
    def perform_live(self) -> None:
        """Show the Live panel; start performing, or stop."""
        self._docks["Live"].show()
        self._docks["Live"].raise_()
        self.live.toggle()

    def _live_started(self) -> None:
        self.playback.pause()
        self._live = True
        self._show_busy()
        self.viewport.set_moving(True)
        self.statusBar().showMessage("Performing live: the face follows the input", 5000)

    def _live_stopped(self, recording) -> None:
        self._live, self._track_dirty = False, True
        self._show_busy()
        if recording is None:
            return
        self.settings.setValue("live/folder", str(Path(recording).parent))
        if self.open_path(recording):
            self.statusBar().showMessage(f"The live take {Path(recording).name} is open: edit a segment to "
                                         "regenerate it, or export it as it is", 10000)

    def _live_failed(self, message: str) -> None:
        self._live, self._track_dirty = False, True
        self._show_busy()
        QMessageBox.warning(self, APP, f"Live performance failed:\n{message}")

    def tick(self) -> None:
        """The clock (every 15 ms): when the frame to show changed, show it everywhere at once.
        Between frames nothing is touched: every repaint of this window composites all of it
        (a QOpenGLWidget lives in it), which on a software rasteriser costs more than a frame.
        While performing live the viewport shows the live frames instead."""
        if self._live:
            return
        self._show_sound()
        t = self.playback.position
        self.viewport.set_moving(self.playback.playing)
        track = self.doc.track if self.doc is not None else None
        fps = track.fps if track is not None and track.frames else 30.0
        shown = (int(t * fps), self.playback.duration)
        if shown == self._shown and not self._track_dirty:
            return
        self._shown, self._track_dirty = shown, False
        self.viewport.show_values(track.frame_at(t) if track is not None and track.frames else
                                  np.zeros(NUM_CHANNELS, np.float32))
        self.timeline.set_playhead(t)
        self.curves.set_playhead(t)
        total = track.frames if track is not None else int(round(self.playback.duration * fps))
        self.time_label.setText(f"{format_timecode(t, fps)}  frame {int(t * fps + 1e-6)} of {total}")

    def _show_sound(self) -> None:
        error = self.playback.device_error or ""
        if error != self.sound_label.toolTip():
            self.sound_label.setText("No sound" if error else "")
            self.sound_label.setToolTip(error)
            self.sound_label.setVisible(bool(error))
            if error:
                self.statusBar().showMessage(error, 15000)

    def closeEvent(self, event) -> None:
        if not self._confirm_discard():
            event.ignore()
            return
        self.playback.pause()
        self.live.shutdown()
        self.timer.stop()
        self.settings.setValue("window/state", self.saveState())
        self.worker.shutdown()
        if self.doc is not None:
            autosave.discard(self.doc.path, self.autosave_folder)
        super().closeEvent(event)


def busy_text(jobs: list, live: bool = False) -> str:
    """The status line for the worker's jobs (the running one first): what it does, or "Ready"."""
    if not jobs:
        return "Performing live" if live else "Ready"
    job = jobs[0]
    if isinstance(job, Import):
        text = f"Listening to {job.path.name}..."
    elif isinstance(job, Animation):
        text = "Animating the take..."
    elif isinstance(job, Export):
        text = f"Exporting {job.path.name}..."
    elif isinstance(job, Rewrite):
        text = f"Rewriting segment {job.index + 1}..."
    else:
        n = sum(isinstance(j, Regeneration) for j in jobs)
        text = f"Regenerating {n} span{'' if n == 1 else 's'}..."
    more = len(jobs) - 1 if not isinstance(job, Regeneration) else sum(not isinstance(j, Regeneration) for j in jobs)
    return text + (f" (+{more} queued)" if more else "")


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
        window.doc.undo_stack.push(QUndoCommand("Recover unsaved work"))    # marks it unsaved
        window._update_title()
    else:
        r.path.unlink(missing_ok=True)
        r.path.with_suffix(".json").unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
