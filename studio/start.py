"""What an empty studio shows where the timeline will be: what to do first."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

TEXT = ("<b>Start with a voice recording.</b><br>Drop a WAV, FLAC, OGG, MP3 or AIFF file here, or import one: "
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

    def set_listening(self, name: str | None) -> None:
        """While a recording is imported: say so, and offer nothing to click; None: the invitation."""
        self.label.setText(TEXT if name is None else
                           f"<b>Listening to {name}...</b><br>Its instructions appear on the timeline here "
                           "when the studio has heard it, then the face is animated.")
        self.import_button.setEnabled(name is None)
        self.open_button.setEnabled(name is None)
