"""The settings dialog: who writes instructions, how the motion is sampled, which head previews.

    dialog = SettingsDialog(StudioSettings(...))
    if dialog.exec():
        chosen = dialog.result_settings()

Plain data in, plain data out: the window applies the result (a new sampling setting
regenerates the take; a new head is loaded into the viewport).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPushButton, QSpinBox, QWidget)

from core import limits
from core.instruct import DEFAULT_WRITER
from core.listen.language import NAMES
from core.project import EMOTIONS

WRITERS = (("Text emotion model + voice (MiniLM)", "minilm"),
           ("The same + embedded language model (SmolLM2-135M)", "smollm2"),
           ("Rules (word lexicon + voice)", "rules"),
           ("Local transformers model folder", "folder"), ("OpenAI-compatible endpoint", "endpoint"))
BUILT_IN = ("minilm", "smollm2", "rules")
BASELINES = (("Auto: calm unless the speech says otherwise", "auto"), ("Calm take", "calm"),
             ("Mild: nothing strong", "mild")) + tuple((f"Mostly {e}", e) for e in EMOTIONS if e != "neutral")


@dataclass
class StudioSettings:
    writer: str = DEFAULT_WRITER     # "minilm", "smollm2", "rules", a model folder path
    llm_url: str = ""                # an OpenAI-compatible endpoint (then writer is ignored)
    llm_model: str = ""
    sampling_steps: int = 8
    guidance: float = 2.0
    fps: float = 30.0                # the motion model's rate; shown, not editable
    head: str = ""                   # a GLB with ARKit morph targets; "" = the built-in head
    baseline: str = "auto"           # imports: core.instruct.Baseline (auto, calm, mild or an emotion)
    language: str = "auto"           # imports: "auto" (detect) or a Whisper language code


class SettingsDialog(QDialog):
    def __init__(self, settings: StudioSettings, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._fps = settings.fps
        self.writer = QComboBox()
        for label, key in WRITERS:
            self.writer.addItem(label, key)
        self.folder = QLineEdit()
        self.url = QLineEdit(placeholderText="http://127.0.0.1:8080/v1")
        self.model = QLineEdit(placeholderText="model name")
        # the ranges the project loader applies (core.limits), so any value set here saves and reopens
        self.steps = QSpinBox(minimum=int(limits.STEPS.low), maximum=int(limits.STEPS.high),
                              value=settings.sampling_steps)
        self.guidance = QDoubleSpinBox(minimum=limits.GUIDANCE.low, maximum=limits.GUIDANCE.high, singleStep=0.25,
                                       value=settings.guidance)
        self.head = QLineEdit(settings.head, placeholderText="built-in head")
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        head_row = QHBoxLayout()
        head_row.addWidget(self.head, 1)
        head_row.addWidget(browse)
        self.baseline = QComboBox()
        for label, key in BASELINES:
            self.baseline.addItem(label, key)
        self.baseline.setCurrentIndex(max(0, self.baseline.findData(settings.baseline)))
        self.baseline.setToolTip("Where the writer starts from when a recording is imported; it departs from "
                                 "it only where the words and the voice say so clearly")
        self.language = QComboBox()
        self.language.addItem("Detect it", "auto")
        for code, name in sorted(NAMES.items(), key=lambda item: item[1]):
            self.language.addItem(f"{name} ({code})", code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.language)))
        self.language.setToolTip("The language recordings are spoken in; detected from the first 30 s of speech "
                                 "unless chosen here. English uses the fast English model.")
        if settings.llm_url:
            self.writer.setCurrentIndex(self.writer.findData("endpoint"))
            self.url.setText(settings.llm_url)
            self.model.setText(settings.llm_model)
        elif settings.writer in BUILT_IN:
            self.writer.setCurrentIndex(self.writer.findData(settings.writer))
        else:
            self.writer.setCurrentIndex(self.writer.findData("folder"))
            self.folder.setText(settings.writer)
        form = QFormLayout(self)
        form.addRow("Instructions written by", self.writer)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        self.folder_browse = QPushButton("Browse...")
        self.folder_browse.clicked.connect(self._browse_folder)
        folder_row.addWidget(self.folder_browse)
        form.addRow("Model folder", folder_row)
        form.addRow("Endpoint URL", self.url)
        form.addRow("Endpoint model", self.model)
        form.addRow("Imports start from", self.baseline)
        form.addRow("Imports are spoken in", self.language)
        form.addRow("Sampling steps", self.steps)
        form.addRow("Instruction guidance", self.guidance)
        form.addRow("Frame rate", QLabel(f"{settings.fps:g} fps (the motion model's; exports resample)"))
        form.addRow("Preview head (GLB)", head_row)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.writer.currentIndexChanged.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        key = self.writer.currentData()
        self.folder.setEnabled(key == "folder")
        self.folder_browse.setEnabled(key == "folder")
        self.url.setEnabled(key == "endpoint")
        self.model.setEnabled(key == "endpoint")

    def problem(self) -> str | None:
        """What is wrong with the choices (a writer that would silently not be used), or None."""
        key = self.writer.currentData()
        if key == "folder":
            folder = self.folder.text().strip()
            if not folder:
                return "Choose the folder of a local transformers model, or another writer."
            if not Path(folder).is_dir():
                return f"The model folder {folder} does not exist."
            if not (Path(folder) / "config.json").is_file():
                return f"The folder {folder} holds no transformers model (no config.json in it)."
        if key == "endpoint" and not self.url.text().strip():
            return "Give the endpoint's URL (for example http://127.0.0.1:8080/v1), or choose another writer."
        return None

    def accept(self) -> None:
        problem = self.problem()
        if problem:
            QMessageBox.warning(self, "Settings", problem)
            return
        super().accept()

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Local transformers model folder", self.folder.text())
        if path:
            self.folder.setText(path)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Preview head", "", "glTF binary (*.glb)")
        if path:
            self.head.setText(path)

    def result_settings(self) -> StudioSettings:
        key = self.writer.currentData()
        writer = key if key in BUILT_IN else self.folder.text().strip() or DEFAULT_WRITER
        endpoint = key == "endpoint" and bool(self.url.text().strip())
        return StudioSettings(writer=DEFAULT_WRITER if key == "endpoint" else writer,
                              llm_url=self.url.text().strip() if endpoint else "",
                              llm_model=self.model.text().strip() if endpoint else "",
                              sampling_steps=self.steps.value(), guidance=self.guidance.value(), fps=self._fps,
                              head=self.head.text().strip(), baseline=str(self.baseline.currentData()),
                              language=str(self.language.currentData()))
