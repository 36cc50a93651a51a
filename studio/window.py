"""The studio's main window: the docks, the open document, navigation, the clock.

File commands (studio.files), background work (studio.work) and the menus (studio.menus) live
in their own modules; this one wires the widgets to the document and to each other.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtWidgets import (QAbstractSlider, QAbstractSpinBox, QComboBox, QDockWidget, QLabel, QMainWindow,
                               QMessageBox, QVBoxLayout, QWidget)

from core.arkit import NUM_CHANNELS
from core.face import load_rig
from core.instruct import DEFAULT_WRITER
from core.project import Project
from studio import APP, autosave
from studio.curves import CurvesPanel
from studio.document import Document
from studio.files import FileCommands
from studio.help import GuideWindow, ShortcutsDialog, guide_problem
from studio.inspector import Inspector
from studio.jobs import Worker, needs_its_take
from studio.live import LivePanel
from studio.menus import build_menus
from studio.meter import Meter
from studio.playback import Playback
from studio.start import StartPage
from studio.timeline import SegmentView, Timeline, format_timecode
from studio.viewport import Viewport
from studio.work import BackgroundWork


def _valid_baseline(value) -> str:
    """A stored or chosen baseline, checked by the same rule the writer applies ("auto" if not)."""
    from core.instruct import Baseline
    try:
        return Baseline.parse(str(value)).name if value else "auto"
    except ValueError:
        return "auto"


def _valid_language(value) -> str:
    """A stored or chosen language: "auto" or a code the listener knows ("auto" if not)."""
    from core.listen.language import check_language
    try:
        return check_language(str(value)) if value else "auto"
    except ValueError:
        return "auto"


class KeysToControls(QObject):
    """The window's one-key shortcuts (S splits, Left steps a frame...) give way to the control
    that has the keyboard focus for the keys it uses: letters choose in an emotion box, arrows
    move a slider or a spin box. Keys with Ctrl or Alt, and keys the control does not use (Space
    plays), stay the window's."""

    SLIDER = {Qt.Key_Left, Qt.Key_Right, Qt.Key_Up, Qt.Key_Down, Qt.Key_PageUp, Qt.Key_PageDown,
              Qt.Key_Home, Qt.Key_End}
    SPIN = SLIDER | {Qt.Key_Backspace, Qt.Key_Delete, Qt.Key_Minus, Qt.Key_Period, Qt.Key_Comma}

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.ShortcutOverride and self.uses(obj, event):
            event.accept()                  # the control gets the key press, not the shortcut
        return False

    def uses(self, control, event) -> bool:
        if event.modifiers() & (Qt.ControlModifier | Qt.AltModifier | Qt.MetaModifier):
            return False
        key, text = event.key(), event.text()
        if isinstance(control, QComboBox):
            return key in (Qt.Key_Up, Qt.Key_Down) or (text.isalnum() and len(text) == 1)
        if isinstance(control, QAbstractSpinBox):
            return key in self.SPIN or text.isdigit()
        if isinstance(control, QAbstractSlider):
            return key in self.SLIDER
        return False


class MainWindow(FileCommands, BackgroundWork, QMainWindow):
    def __init__(self, project: Project | None = None, path: str | Path | None = None, *,
                 settings: QSettings | None = None, autosave_folder: Path | None = None,
                 writer: str | None = None):
        super().__init__()
        self.settings = settings or QSettings("avi-talking", "studio")
        self.autosave_folder = autosave_folder
        # Edit > Settings choices are remembered; a writer given here (the command line) wins
        self.writer = writer or str(self.settings.value("studio/writer", DEFAULT_WRITER))
        self.baseline = _valid_baseline(self.settings.value("studio/baseline", "auto"))
        self.language = _valid_language(self.settings.value("studio/language", "auto"))
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
        # edits arriving in one turn of the event loop (an undo of several) become one submission;
        # a later edit cancels the regeneration it overlaps (jobs: latest wins)
        self._regen_timer = QTimer(self, singleShot=True, interval=0, timeout=self._submit_stale)
        self._autosave_timer = QTimer(self, interval=autosave.AUTOSAVE_S * 1000, timeout=self.autosave)
        self._autosave_timer.start()
        build_menus(self)
        self._keys = KeysToControls(self)
        for kind in (QComboBox, QAbstractSlider, QAbstractSpinBox):
            for control in self.findChildren(kind):
                control.installEventFilter(self._keys)
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

    def set_project(self, project: Project, path: str | Path | None = None) -> None:
        """Show and edit `project`; the model work of the one before stops (an export of it goes on)."""
        self.worker.cancel_where(needs_its_take)
        if self.doc is not None:            # its take, motion cache and undo history go with it
            self.doc.setParent(None)
            self.doc.deleteLater()
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

    def _segment_views(self) -> list[SegmentView]:
        busy = [j.span for j in self._regenerations()]
        out = []
        for i, s in enumerate(self.doc.project.segments):
            state = self.doc.segment_state(i)
            running = self.doc.overlapping(i, busy)
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
        self._track_dirty = True            # shown now, even if paused, before the curves redraw
        self.tick()
        self.curves.set_track(self.doc.track)

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

    def settings_dialog(self) -> None:
        from studio.settings import SettingsDialog
        dialog = SettingsDialog(self.current_settings(), self)
        if dialog.exec():
            self.apply_settings(dialog.result_settings())

    def current_settings(self):
        from studio.settings import StudioSettings
        st = self.doc.project.settings
        return StudioSettings(self.writer, self.llm_url, self.llm_model, st.sampling_steps, st.guidance, st.fps,
                              self.head, self.baseline, self.language)

    def apply_settings(self, chosen) -> None:
        """Use new settings: a new sampling setting regenerates the take, a new head previews.
        The writer, the endpoint and the head are remembered for the next start."""
        self.writer, self.llm_url, self.llm_model = chosen.writer, chosen.llm_url, chosen.llm_model
        self.baseline = _valid_baseline(chosen.baseline)
        self.language = _valid_language(chosen.language)
        for key, value in (("writer", chosen.writer), ("llm_url", chosen.llm_url), ("llm_model", chosen.llm_model),
                           ("baseline", self.baseline), ("language", self.language)):
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

    def select_all(self) -> None:
        self.doc.select(range(len(self.doc.project.segments)), self.doc.selected if self.doc.selected >= 0 else None)

    def to_end(self) -> None:
        """The playhead on the last frame (not past it)."""
        frames = self.doc.frames
        self.playback.seek((frames - 1) / self.doc.fps if frames else self.playback.duration)

    def step_frames(self, frames: int) -> None:
        self.playback.step(frames, self.doc.fps)

    def toggle_loop(self) -> None:
        """Loop the selected segments' span (checked), or stop (unchecked). Without a selection
        there is nothing to loop: said, and the item stays unchecked."""
        segs = [self.doc.project.segments[i] for i in self.doc.selection]
        if not self.loop_action.isChecked():
            self.playback.set_loop(None)
            self.playback.pause()
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
        problem = guide_problem()
        if problem:
            QMessageBox.information(self, APP, problem)
            return
        self.guide = GuideWindow(self)
        self.guide.show()

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
        from core.editing import MIN_SEGMENT_S, can_split
        i = self._target_segment()
        if i < 0:
            return
        seg, t = self.doc.project.segments[i], self.playback.position
        if can_split(seg, t):
            self.doc.split(i, t)
        else:                               # said, so S never seems to do nothing
            self.statusBar().showMessage(f"To split segment {i + 1}, put the playhead inside it, at least "
                                         f"{MIN_SEGMENT_S:g} s from its ends", 8000)

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
        frame = min(int(t * fps + 1e-6), total - 1) + 1 if total else 0       # counted from 1, as editors do
        self.time_label.setText(f"{format_timecode(t, fps)}  frame {frame} of {total}")

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
