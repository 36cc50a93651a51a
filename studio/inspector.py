"""The instruction inspector: a pure view of the selected segment that asks for edits by signal.

The text is free to edit (read back with core.instruct.wording.parse when the user pauses
typing, leaves the box or presses Ctrl+Enter); the emotion box and the intensity slider
rewrite the text's wording (wording.rewrite) and apply at once; the seed box and "New
variation" pick another variation; "Rewrite with language model" asks the window to have the
writer write this segment again. Below: what the listener found (words, prosody) and who
wrote the instruction. Filling the panel for a segment never emits an edit.
"""

from __future__ import annotations

import random

from PySide6.QtCore import QEvent, QTimer, Qt, Signal
from PySide6.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QSlider,
                               QSpinBox, QVBoxLayout, QWidget)

from core.instruct.wording import INTENSITY_ADVERBS, level, level_value, parse, rewrite
from core.listen.describe import describe_prosody
from core.project import EMOTIONS, Instruction, Segment

TYPING_PAUSE_MS = 600


class Inspector(QWidget):
    instructionEdited = Signal(int, object)     # segment index, Instruction
    seedChanged = Signal(int, int)              # segment index, seed
    rewriteRequested = Signal(int)              # segment index

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = -1
        self._filling = False
        self.hint = QLabel("Select a segment on the timeline to edit its instruction.")
        self.hint.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("A person feels ... and speaks with ...")
        self.text.installEventFilter(self)
        self.emotion = QComboBox()
        self.emotion.addItems(EMOTIONS)
        self.intensity = QSlider(Qt.Horizontal, minimum=0, maximum=len(INTENSITY_ADVERBS) - 1, pageStep=1)
        self.intensity.setTickPosition(QSlider.TicksBelow)
        self.adverb = QLabel()
        self.seed = QSpinBox(minimum=0, maximum=2 ** 31 - 1)
        self.variation = QPushButton("New variation")
        self.rewrite = QPushButton("Rewrite with language model")
        self.busy = QLabel()
        self.timing = QLabel()
        self.writer = QLabel()
        self.words = QLabel()
        self.words.setWordWrap(True)
        self.prosody = QLabel()
        self.prosody.setWordWrap(True)
        for label in (self.timing, self.writer, self.words, self.prosody):
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        row = QHBoxLayout()
        row.addWidget(self.intensity, 1)
        row.addWidget(self.adverb)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.variation)
        form = QFormLayout()
        form.addRow("Emotion", self.emotion)
        form.addRow("Intensity", row)
        form.addRow("Seed", seed_row)
        form.addRow("Time", self.timing)
        form.addRow("Written by", self.writer)
        form.addRow("Words", self.words)
        form.addRow("Voice", self.prosody)
        layout = QVBoxLayout(self)
        layout.addWidget(self.hint)
        layout.addWidget(self.text, 1)
        layout.addLayout(form)
        layout.addWidget(self.rewrite)
        layout.addWidget(self.busy)

        self._typing = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS, timeout=self._commit_text)
        self.text.textChanged.connect(self._text_changed)
        self.emotion.currentTextChanged.connect(self._emotion_changed)
        self.intensity.valueChanged.connect(self._intensity_moved)
        self.intensity.sliderReleased.connect(self._intensity_changed)
        self.seed.editingFinished.connect(self._seed_changed)
        self.variation.clicked.connect(self._new_variation)
        self.rewrite.clicked.connect(lambda: self.index >= 0 and self.rewriteRequested.emit(self.index))
        self.show_segment(-1, None)

    # --- filled by the window ----------------------------------------------------------------
    def show_segment(self, index: int, segment: Segment | None) -> None:
        self._filling = True
        self._typing.stop()
        try:
            self.index = index if segment is not None else -1
            on = segment is not None
            for w in (self.text, self.emotion, self.intensity, self.seed, self.variation, self.rewrite):
                w.setEnabled(on)
            self.hint.setVisible(not on)
            if not on:
                self.text.setPlainText("")
                for label in (self.timing, self.writer, self.words, self.prosody, self.adverb):
                    label.setText("")
                return
            ins = segment.instruction
            if self.text.toPlainText() != ins.text:
                self.text.setPlainText(ins.text)
            self.emotion.setCurrentText(ins.emotion)
            self.intensity.setValue(level(ins.intensity))
            self.adverb.setText(INTENSITY_ADVERBS[level(ins.intensity)])
            self.seed.setValue(segment.seed)
            self.timing.setText(f"{segment.start:.2f} - {segment.end:.2f} s ({segment.end - segment.start:.1f} s)")
            self.writer.setText(ins.writer)
            ev = segment.evidence or {}
            self.words.setText(" ".join(w.get("text", "") for w in ev.get("words", [])) or "(no words)")
            self.prosody.setText(ev.get("prosody_text") or (describe_prosody(ev) if ev.get("prosody") else ""))
        finally:
            self._filling = False

    def set_busy(self, busy: bool) -> None:
        self.busy.setText("Regenerating..." if busy else "")

    # --- user edits ------------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:
        if obj is self.text:
            if event.type() == QEvent.FocusOut:
                self._commit_text()
            elif (event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Return, Qt.Key_Enter)
                  and event.modifiers() & Qt.ControlModifier):
                self._commit_text()
                return True
        return super().eventFilter(obj, event)

    def _text_changed(self) -> None:
        if not self._filling and self.index >= 0:
            self._typing.start()

    def _commit_text(self) -> None:
        self._typing.stop()
        if self._filling or self.index < 0:
            return
        text = " ".join(self.text.toPlainText().split())
        if not text:
            return
        emotion, intensity, _ = parse(text)
        self._emit(Instruction(text, emotion, round(float(intensity), 3), "user"))

    def _emotion_changed(self, emotion: str) -> None:
        if self._filling or self.index < 0:
            return
        self._emit_rewritten(emotion=emotion)

    def _intensity_moved(self, value: int) -> None:
        self.adverb.setText(INTENSITY_ADVERBS[value])
        if not self._filling and self.index >= 0 and not self.intensity.isSliderDown():
            self._emit_rewritten(intensity=level_value(value))      # keyboard or a click on the groove

    def _intensity_changed(self) -> None:
        if not self._filling and self.index >= 0:
            self._emit_rewritten(intensity=level_value(self.intensity.value()))

    def _emit_rewritten(self, **change) -> None:
        text = rewrite(" ".join(self.text.toPlainText().split()), **change)
        emotion, intensity, _ = parse(text)
        self._filling = True
        try:
            self.text.setPlainText(text)
        finally:
            self._filling = False
        self._emit(Instruction(text, emotion, round(float(intensity), 3), "user"))

    def _emit(self, instruction: Instruction) -> None:
        self.instructionEdited.emit(self.index, instruction)

    def _seed_changed(self) -> None:
        if not self._filling and self.index >= 0:
            self.seedChanged.emit(self.index, self.seed.value())

    def _new_variation(self) -> None:
        if self.index < 0:
            return
        seed = random.Random().randrange(1, 2 ** 31 - 1)
        while seed == self.seed.value():
            seed = random.Random().randrange(1, 2 ** 31 - 1)
        self._filling = True
        try:
            self.seed.setValue(seed)
        finally:
            self._filling = False
        self.seedChanged.emit(self.index, seed)
