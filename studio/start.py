"""What an empty studio shows where the timeline will be: what to do first."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

TEXT = ("<b>Start with a voice recording.</b><br>Drop a WAV, FLAC, OGG or MP3 file here, or import one: "
        "the studio listens to it, writes an instruction for each stretch of speech and animates the face. "
        "<br>Then edit the instructions on the timeline that appears here.")


class StartPage(QWidget):
    importRequested = Signal()
    openRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel(TEXT)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignCenter)
        self.import_button = QPushButton("Import Audio...")
        self.open_button = QPushButton("Open Project...")
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self.importRequested)
        self.open_button.clicked.connect(self.openRequested)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        layout.addStretch(1)
