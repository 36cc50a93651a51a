"""The instruction inspector: a pure view of the selected segment that asks for edits by signal.

    inspector.show_segment(index, segment)      # fill it (never emits); -1/None: nothing selected
    inspector.set_busy(True)                    # "Regenerating..." (editing stays possible)
    inspector.instructionEdited -> (index, Instruction)   writer "user"
    inspector.seedChanged       -> (index, seed)
    inspector.rewriteRequested  -> (index)

The text is free to edit; it is read back with core.instruct.wording.parse (emotion and
intensity) when the user leaves the box, presses Ctrl+Enter or pauses typing for
TYPING_PAUSE_MS, and only if it really changed. The emotion box and the intensity slider
(the five degree adverbs of the wording) rewrite the text with wording.rewrite and apply at
once (the slider when it is released, or at each step by keyboard or a click on its groove).
The seed box applies when its value settles; "New variation" picks a new random seed. Below:
what the listener found (the words, uncertain ones in grey; the prosody in words and in
numbers relative to the speaker) and who wrote the instruction. The panel never touches the
project: the window connects the signals and calls show_segment again after every change.
"""

from __future__ import annotations

import html
import random
from typing import Any

from PySide6.QtCore import QEvent, QSize, QTimer, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import (QComboBox, QFormLayout, QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar,
                               QPushButton, QScrollArea, QSizePolicy, QSlider, QSpinBox, QVBoxLayout, QWidget)

from core.instruct.evidence import why_text
from core.instruct.wording import INTENSITY_ADVERBS, level, level_value, parse, rewrite
from core.listen.describe import describe_prosody
from core.project import EMOTIONS, Instruction, Segment
from studio.timeline.theme import emotion_colour

TYPING_PAUSE_MS = 600          # a pause in typing this long applies the text
SEED_PAUSE_MS = 400            # the seed box applies when its value has settled this long
MAX_SEED = 2 ** 31 - 1
UNCERTAIN = 0.4                # a recognised word below this probability is shown as uncertain
HINT = "Select a segment on the timeline to see and edit its instruction."


def _swatch(colour: str, size: int = 12) -> QIcon:
    pix = QPixmap(size, size)
    pix.fill(QColor(colour))
    return QIcon(pix)


def _num(d: dict, key: str) -> float | None:
    v = d.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def words_html(evidence: dict[str, Any]) -> str:
    """The segment's words as rich text; words the recogniser was unsure of in grey italics."""
    words = evidence.get("words") or []
    if not words:
        kind = evidence.get("kind")
        return "<i>no words (non-verbal sound)</i>" if kind == "nonverbal" else "<i>no words</i>"
    out = []
    for w in words:
        text = html.escape(str(w.get("text", "")), quote=False)
        p = w.get("p")
        if isinstance(p, (int, float)) and p < UNCERTAIN:
            out.append(f'<span style="color:#8a8f96; font-style:italic" title="uncertain">{text}</span>')
        else:
            out.append(text)
    shown = " ".join(out)
    if "original" in evidence:           # another language: what the writer read is the translation
        from core.listen.language import name
        english = html.escape(str(evidence.get("text") or ""), quote=False) or "<i>no translation</i>"
        shown += (f'<br><span style="color:#8a8f96">{html.escape(name(str(evidence.get("language", ""))))}; '
                  f'in English: </span>{english}')
    return shown


def prosody_numbers(evidence: dict[str, Any]) -> tuple[str, str, str]:
    """(pitch, loudness, pace) of a segment's prosody summary, relative to the speaker."""
    p = evidence.get("prosody") if isinstance(evidence.get("prosody"), dict) else {}
    hz, st, rng, trend = (_num(p, k) for k in ("pitch_hz", "pitch_level_st", "pitch_range_st",
                                                  "pitch_trend_st_per_s"))
    if hz is None and st is None:
        pitch = "no clear pitch"
    else:
        parts = []
        if hz is not None:
            parts.append(f"{hz:.0f} Hz")
        if st is not None:
            parts.append(f"{st:+.1f} st")
        pitch = ", ".join(parts)
        extra = []
        if rng is not None:
            extra.append(f"range {rng:.1f} st")
        if trend is not None:
            extra.append(f"end {trend:+.1f} st/s")
        if extra:
            pitch += " (" + ", ".join(extra) + ")"
    db, peak = _num(p, "loudness_db"), _num(p, "loudness_peak_db")
    loud = "no speech" if db is None else f"{db:+.1f} dB" + (f" (peak {peak:+.1f} dB)" if peak is not None else "")
    sps, rel = _num(p, "syllables_per_s"), _num(p, "rate_relative")
    if sps is None and rel is None:
        pace = "unknown"
    else:
        pace = ", ".join(([f"{sps:.1f} syllables/s"] if sps is not None else [])
                         + ([f"{rel:.2f}\u00d7 the speaker's"] if rel is not None else []))
    return pitch, loud, pace


def prosody_words(evidence: dict[str, Any]) -> str:
    if evidence.get("prosody_text"):
        return str(evidence["prosody_text"])
    if isinstance(evidence.get("prosody"), dict):
        return describe_prosody(evidence)
    return "no prosody information"


class _Caption(QLabel):
    """A small grey label."""

    def __init__(self, text: str = ""):
        super().__init__(text)
        palette = self.palette()
        palette.setColor(QPalette.WindowText, palette.color(QPalette.PlaceholderText))
        self.setPalette(palette)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.setFont(font)


class Inspector(QWidget):
    instructionEdited = Signal(int, object)     # segment index, Instruction (writer "user")
    seedChanged = Signal(int, int)              # segment index, seed
    rewriteRequested = Signal(int)              # segment index
    rewordRequested = Signal(object)            # {"emotion": ...} or {"intensity": ...} for every selected segment

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.index = -1
        self._filling = False
        self._text = ""              # the instruction text as last shown or applied
        self._level = 2              # its intensity level
        self._seed = 0               # the seed as last shown or applied

        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.busy = QWidget()
        busy_row = QHBoxLayout(self.busy)
        busy_row.setContentsMargins(0, 0, 0, 0)
        self.busy_bar = QProgressBar(minimum=0, maximum=0, textVisible=False, maximumWidth=48, maximumHeight=8)
        self.busy_label = _Caption("regenerating...")
        busy_row.addWidget(self.busy_bar)
        busy_row.addWidget(self.busy_label)
        policy = self.busy.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.busy.setSizePolicy(policy)
        self.busy.hide()
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.busy)

        self.hint = QLabel(HINT)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setContentsMargins(12, 24, 12, 24)
        palette = self.hint.palette()
        palette.setColor(QPalette.WindowText, palette.color(QPalette.PlaceholderText))
        self.hint.setPalette(palette)

        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("A person feels ... and speaks with ...")
        self.text.setTabChangesFocus(True)
        self.text.setToolTip("Edit freely; it applies when you pause, leave the box or press Ctrl+Enter.")
        self.text.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        self.text.setMinimumHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.text.setMaximumHeight(self.fontMetrics().lineSpacing() * 7 + 12)
        self.text.installEventFilter(self)
        self.writer = _Caption()
        self.writer.setAlignment(Qt.AlignRight)

        self.emotion = QComboBox()
        for name in EMOTIONS:
            self.emotion.addItem(_swatch(emotion_colour(name)), name)
        self.emotion.setIconSize(QSize(12, 12))
        self.emotion.setToolTip("Rewrites the text for this emotion")
        self.intensity = QSlider(Qt.Horizontal, minimum=0, maximum=len(INTENSITY_ADVERBS) - 1, pageStep=1)
        self.intensity.setTickPosition(QSlider.TicksBelow)
        self.intensity.setToolTip("Rewrites the text's degree adverbs")
        self.adverb = QLabel()
        self.adverb.setMinimumWidth(self.fontMetrics().horizontalAdvance("extremely") + 6)
        self.seed = QSpinBox(minimum=0, maximum=MAX_SEED)
        self.seed.setKeyboardTracking(False)
        self.seed.setToolTip("The variation the motion model samples for this segment")
        self.variation = QPushButton("New variation")
        self.rewrite_button = QPushButton("Rewrite with language model")
        self.rewrite_button.setToolTip("Have the instruction writer write this segment's instruction again")

        self.timing = QLabel()
        self.words = QLabel()
        self.words.setWordWrap(True)
        self.words.setTextFormat(Qt.RichText)
        self.prosody = QLabel()
        self.prosody.setWordWrap(True)
        self.pitch = QLabel()
        self.pitch.setWordWrap(True)
        self.loudness = QLabel()
        self.pace = QLabel()
        self.pace.setWordWrap(True)
        self.why = QLabel()
        self.why.setWordWrap(True)
        self.why.setToolTip("Why the writer chose this emotion: what the words and the voice say, sounds "
                            "without words, the neighbouring segments and the take's baseline")
        for label in (self.timing, self.words, self.prosody, self.pitch, self.loudness, self.pace, self.why):
            label.setTextInteractionFlags(Qt.TextSelectableByMouse)

        intensity_row = QHBoxLayout()
        intensity_row.addWidget(self.intensity, 1)
        intensity_row.addWidget(self.adverb)
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed, 1)
        seed_row.addWidget(self.variation)
        controls = QFormLayout()
        controls.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        controls.addRow("Emotion", self.emotion)
        controls.addRow("Intensity", intensity_row)
        controls.addRow("Seed", seed_row)

        evidence_title = QLabel("What the listener found")
        evidence_title.setFont(font)
        line = QFrame(frameShape=QFrame.HLine, frameShadow=QFrame.Sunken)
        self.evidence = evidence = QFormLayout()
        evidence.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        evidence.addRow("Time", self.timing)
        evidence.addRow("Words", self.words)
        evidence.addRow("Voice", self.prosody)
        evidence.addRow("Pitch", self.pitch)
        evidence.addRow("Loudness", self.loudness)
        evidence.addRow("Rate", self.pace)
        evidence.addRow("Why", self.why)

        self.editor = QWidget()
        body = QVBoxLayout(self.editor)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.text)
        body.addWidget(self.writer)
        body.addLayout(controls)
        body.addWidget(self.rewrite_button)
        body.addSpacing(6)
        body.addWidget(line)
        body.addWidget(evidence_title)
        body.addLayout(evidence)
        body.addStretch(1)

        # a short dock scrolls instead of squeezing the rows
        self.scroll = QScrollArea(widgetResizable=True, frameShape=QFrame.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.scroll.setWidget(self.editor)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.hint)
        layout.addWidget(self.scroll, 1)
        layout.addStretch(0)

        self._typing = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS, timeout=self._commit_text)
        self._seed_settle = QTimer(self, singleShot=True, interval=SEED_PAUSE_MS, timeout=self._commit_seed)
        self.text.textChanged.connect(self._text_changed)
        self.emotion.currentIndexChanged.connect(self._emotion_changed)
        self.intensity.valueChanged.connect(self._intensity_moved)
        self.intensity.sliderReleased.connect(self._intensity_released)
        self.seed.valueChanged.connect(self._seed_moved)
        self.seed.editingFinished.connect(self._commit_seed)
        self.variation.clicked.connect(self._new_variation)
        self.rewrite_button.clicked.connect(self._rewrite_clicked)
        self.show_segment(-1, None)

    # --- filled by the window ----------------------------------------------------------------
    def show_segment(self, index: int, segment: Segment | None, selected: int = 1) -> None:
        """Show `segment` (the index-th); None or index < 0 shows nothing. Never emits an edit.
        With `selected` > 1 segments selected, an edit applies to all of them: a new emotion or
        intensity as rewordRequested, a typed instruction as instructionEdited.

        Text the user is typing into the same segment is kept (their edit applies shortly)."""
        self.selected = selected
        on = segment is not None and index >= 0
        typing = on and index == self.index and self._typing.isActive()
        if not typing:
            self._typing.stop()
        self._seed_settle.stop()
        self._filling = True
        try:
            self.index = index if on else -1
            self.scroll.setVisible(on)
            self.hint.setVisible(not on)
            for w in (self.text, self.emotion, self.intensity, self.seed, self.variation, self.rewrite_button):
                w.setEnabled(on)
            if not on:
                self.title.setText("Instruction")
                self.text.setPlainText("")
                self._text, self._seed = "", 0
                return
            ins = segment.instruction
            self.title.setText(f"Segment {index + 1}" if selected < 2 else
                               f"Segment {index + 1} and {selected - 1} more selected: edits apply to all")
            self._text = ins.text
            current = " ".join(self.text.toPlainText().split())
            if not typing and current != ins.text:
                self.text.setPlainText(ins.text)
            self._show_wording(ins.emotion, ins.intensity)
            self._seed = int(segment.seed)
            self.seed.setValue(self._seed)
            self.writer.setText(f"written by {ins.writer}")
            ev = segment.evidence or {}
            length = segment.end - segment.start
            self.timing.setText(f"{segment.start:.2f} \u2013 {segment.end:.2f} s  ({length:.2f} s)")
            self.words.setText(words_html(ev))
            listened = isinstance(ev.get("prosody"), dict)
            self.prosody.setText(prosody_words(ev) if listened else
                                 "nothing: this segment was not listened to (added by hand)")
            pitch, loud, pace = prosody_numbers(ev)
            self.pitch.setText(pitch)
            self.loudness.setText(loud)
            self.pace.setText(pace)
            reasons = ev.get("why") if isinstance(ev.get("why"), dict) else {}
            # the reasons of the writer's choice, not of an emotion the user set since
            why = why_text(reasons) if ins.writer != "user" and reasons.get("emotion") == ins.emotion else ""
            self.why.setText(why)
            for label in (self.words, self.pitch, self.loudness, self.pace):
                self.evidence.setRowVisible(label, listened)
            self.evidence.setRowVisible(self.why, bool(why))
        finally:
            self._filling = False

    def set_busy(self, busy: bool) -> None:
        """A small 'regenerating...' indicator; editing stays possible meanwhile."""
        self.busy.setVisible(bool(busy))

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
        if not text:                      # an emptied box is not an instruction: show the old one
            self._set_text(self._text)
            return
        if text == self._text:
            return
        emotion, intensity, _ = parse(text)
        self._apply(text, emotion, intensity)

    def _emotion_changed(self, row: int) -> None:
        if self._filling or self.index < 0 or row < 0:
            return
        self._rewrite(emotion=EMOTIONS[row])

    def _intensity_moved(self, value: int) -> None:
        self.adverb.setText(INTENSITY_ADVERBS[value])
        if not self._filling and self.index >= 0 and not self.intensity.isSliderDown():
            self._intensity_released()             # keyboard, wheel or a click on the groove

    def _intensity_released(self) -> None:
        if not self._filling and self.index >= 0 and self.intensity.value() != self._level:
            self._rewrite(intensity=level_value(self.intensity.value()))

    def _rewrite(self, **change) -> None:
        self._typing.stop()
        if self.selected > 1:                  # each selected segment rewords its own text
            self.rewordRequested.emit(change)
            return
        current = " ".join(self.text.toPlainText().split()) or self._text
        text = rewrite(current, **change)
        emotion, intensity, _ = parse(text)
        self._set_text(text)
        self._apply(text, emotion, intensity)

    def _apply(self, text: str, emotion: str, intensity: float) -> None:
        self._text = text
        self._show_wording(emotion, intensity)
        self.writer.setText("written by user")
        self.instructionEdited.emit(self.index, Instruction(text, emotion, round(float(intensity), 3), "user"))

    def _set_text(self, text: str) -> None:
        filling, self._filling = self._filling, True
        try:
            self.text.setPlainText(text)
        finally:
            self._filling = filling

    def _show_wording(self, emotion: str, intensity: float) -> None:
        self._level = level(intensity)
        for w in (self.emotion, self.intensity):
            w.blockSignals(True)
        try:
            self.emotion.setCurrentIndex(EMOTIONS.index(emotion))
            self.intensity.setValue(self._level)
        finally:
            for w in (self.emotion, self.intensity):
                w.blockSignals(False)
        self.adverb.setText(INTENSITY_ADVERBS[self._level])

    def _seed_moved(self, value: int) -> None:
        if not self._filling and self.index >= 0:
            self._seed_settle.start()

    def _commit_seed(self) -> None:
        self._seed_settle.stop()
        if self._filling or self.index < 0 or self.seed.value() == self._seed:
            return
        self._seed = self.seed.value()
        self.seedChanged.emit(self.index, self._seed)

    def _new_variation(self) -> None:
        if self.index < 0:
            return
        rng = random.SystemRandom()
        seed = rng.randrange(0, MAX_SEED + 1)
        while seed == self._seed:
            seed = rng.randrange(0, MAX_SEED + 1)
        self._filling = True
        try:
            self.seed.setValue(seed)
        finally:
            self._filling = False
        self._seed_settle.stop()
        self._seed = seed
        self.seedChanged.emit(self.index, seed)

    def _rewrite_clicked(self) -> None:
        if self.index >= 0:
            self.rewriteRequested.emit(self.index)
