"""The Live panel: perform with a microphone (or a recording played in real time), see the face in
the viewport, stream it to Live Link and VMC, record the take.

The performance runs `core.live.session.run_live` on a plain thread (the UI thread never runs a
model); frames and the input level come back through attributes the panel's 30 Hz timer reads,
so a slow paint never holds the performance up. The emotion buttons and the intensity slider
compose the instruction (core.instruct.wording.compose) and cross-fade the face to it live; the
text is embedded off the UI thread. When a recorded performance stops, the window opens the
recording as an ordinary take on the timeline (the offline pipeline can then refine it).
"""

from __future__ import annotations

import datetime
import queue
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QFileDialog, QFormLayout, QGridLayout, QHBoxLayout,
                               QLabel,
                               QLineEdit, QPushButton, QSlider, QVBoxLayout, QWidget)

from core.live.inputs import list_devices
from core.project import EMOTIONS, SUFFIX
from studio.meter import Meter

LEVEL_FLOOR_DB = -60.0
DEFAULT_DEVICE = "Default input"


class LivePanel(QWidget):
    """Input, expression, destinations, record; Start/Stop; level and what the performance does."""

    frameReady = Signal(object)         # (55,) the newest frame, on the UI thread (the viewport shows it)
    started = Signal()
    stopped = Signal(object)            # the recording's path, or None
    failed = Signal(str)

    def __init__(self, parent=None, folder: Path | None = None):
        super().__init__(parent)
        self.folder = Path(folder) if folder else Path.home()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._changes: queue.Queue = queue.Queue()
        self._frame: np.ndarray | None = None
        self._frames = 0
        self._level = LEVEL_FLOOR_DB
        self._result = None
        self._error = ""
        self._messages: list[str] = []
        self.stats = None
        self.recording: Path | None = None

        self.input = QComboBox()
        self.input.setEditable(False)
        self.refresh_inputs()
        browse = QPushButton("Recording...")
        browse.setToolTip("play a recording in real time as if spoken into the microphone")
        browse.clicked.connect(self._choose_recording)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(browse)

        self.emotions = QButtonGroup(self)
        grid = QGridLayout()
        for k, emotion in enumerate(EMOTIONS):
            b = QPushButton(emotion)
            b.setCheckable(True)
            b.setChecked(emotion == "neutral")
            self.emotions.addButton(b, k)
            grid.addWidget(b, k // 4, k % 4)
        self.emotions.idClicked.connect(lambda _: self._expression_changed())
        self.intensity = QSlider()
        self.intensity.setOrientation(self.intensity.orientation().Horizontal)
        self.intensity.setRange(0, 100)
        self.intensity.setValue(30)
        self.intensity.sliderReleased.connect(self._expression_changed)
        self.intensity.valueChanged.connect(self._intensity_moved)
        self.instruction = QLabel(self.instruction_text())
        self.instruction.setWordWrap(True)

        self.livelink_on = QCheckBox("Live Link")
        self.livelink = QLineEdit("127.0.0.1:11111")
        self.vmc_on = QCheckBox("VMC")
        self.vmc = QLineEdit("127.0.0.1:39539")
        self.record_on = QCheckBox("Record to")
        self.record_on.setChecked(True)
        self.record_path = QLineEdit(str(self.folder / f"live-{datetime.datetime.now():%Y%m%d-%H%M%S}{SUFFIX}"))

        self.level = Meter(width=220)
        self.button = QPushButton("Start")
        self.button.clicked.connect(self.toggle)
        self.status = QLabel("Not performing")
        self.status.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Input", row)
        form.addRow("Expression", grid)
        form.addRow("Intensity", self.intensity)
        form.addRow("", self.instruction)
        for check, edit in ((self.livelink_on, self.livelink), (self.vmc_on, self.vmc),
                            (self.record_on, self.record_path)):
            form.addRow(check, edit)
        form.addRow("Level", self.level)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.button)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self._timer = QTimer(self, interval=33, timeout=self._poll)

    # --- choices -------------------------------------------------------------------------------
    def refresh_inputs(self) -> None:
        self.input.clear()
        self.input.addItem(DEFAULT_DEVICE, None)
        for line in list_devices():
            index, _, name = line.partition(": ")
            self.input.addItem(name, index)

    def _choose_recording(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Play a recording live", str(self.folder),
                                              "Audio (*.wav *.flac *.ogg *.mp3 *.aiff *.aif)")
        if path:
            self.use_recording(path)

    def use_recording(self, path: str | Path) -> None:
        """Perform from a recording played in real time (what tests and rehearsals use)."""
        self.input.addItem(f"Recording: {Path(path).name}", str(path))
        self.input.setCurrentIndex(self.input.count() - 1)

    def instruction_text(self) -> str:
        from core.instruct.wording import compose
        emotion = EMOTIONS[max(0, self.emotions.checkedId())]
        return compose(emotion, self.intensity.value() / 100.0)

    def set_expression(self, emotion: str, intensity: float) -> None:
        self.emotions.button(EMOTIONS.index(emotion)).setChecked(True)
        self.intensity.setValue(int(round(100 * intensity)))
        self._expression_changed()

    def _intensity_moved(self, _value: int) -> None:
        if not self.intensity.isSliderDown():       # a drag changes the expression once, when released
            self._expression_changed()

    def _expression_changed(self) -> None:
        text = self.instruction_text()
        if text == self.instruction.text():
            return
        self.instruction.setText(text)
        if self.running:
            def embed_it() -> None:
                from core.motion.text import embed
                self._changes.put((text, embed([text])[0]))
            threading.Thread(target=embed_it, name="live-instruction", daemon=True).start()

    # --- performing ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def toggle(self) -> None:
        self.stop() if self.running else self.start()

    def start(self) -> None:
        from core.live.session import LiveOptions
        if self.running:
            return
        record = self.record_path.text().strip() if self.record_on.isChecked() else None
        if record and not record.lower().endswith(SUFFIX):
            self._fail(f"{record}: a recording is a project file ({SUFFIX})")
            return
        options = LiveOptions(input=self.input.currentData(), instruction=self.instruction_text(),
                              livelink=self.livelink.text() if self.livelink_on.isChecked() else None,
                              vmc=self.vmc.text() if self.vmc_on.isChecked() else None, record=record or None)
        self._stop.clear()
        self._result, self._error, self._frame, self._frames = None, "", None, 0
        self._messages = []
        self.recording = None
        self._thread = threading.Thread(target=self._run, args=(options,), name="live", daemon=True)
        self._thread.start()
        self.button.setText("Stop")
        self.status.setText("Starting: loading the motion model...")
        self._timer.start()
        self.started.emit()

    def _run(self, options) -> None:
        from core.live.session import run_live
        try:
            self._result = run_live(options, instructions=self._changes, stop=self._stop, on_frame=self._on_frame,
                                    on_level=self._on_level, log=self._messages.append)
        except Exception as exc:           # shown on the UI thread by _poll
            self._error = str(exc) or type(exc).__name__

    def _on_frame(self, index: int, frame: np.ndarray) -> None:
        self._frame, self._frames = frame, index + 1

    def _on_level(self, dbfs: float) -> None:
        self._level = dbfs

    def stop(self) -> None:
        self._stop.set()

    def _poll(self) -> None:
        if self._frame is not None:
            self.frameReady.emit(self._frame)
            self._frame = None
        self.level.set_fraction((self._level - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB)
        if self.running:
            if self._frames:
                note = f"; {self._messages[-1]}" if self._messages else ""
                self.status.setText(f"Performing: {self._frames / 30.0:.1f} s, {self._frames} frames{note}")
            return
        self._timer.stop()
        self._thread = None
        self.button.setText("Start")
        self.level.set_fraction(0.0)
        if self._error:
            self._fail(self._error)
            return
        self.stats = self._result
        s = self.stats.summary() if self.stats is not None else {}
        self.recording = Path(s["recording"]) if s.get("recording") else None
        self.status.setText(f"Stopped ({s.get('ended_by', '')}): {s.get('sent', 0)} frames, latency median "
                            f"{s.get('latency_ms_median')} ms" + (f"; recorded {self.recording.name}"
                                                                   if self.recording else ""))
        self.stopped.emit(self.recording)

    def _fail(self, message: str) -> None:
        self.status.setText(f"Live failed: {message}")
        self.button.setText("Start")
        self.failed.emit(message)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop and wait (the window is closing)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
