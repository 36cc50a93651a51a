"""The export options dialog: frame rate, range and video size, asked once the file is named.

    dialog = ExportOptionsDialog(Path("take.mp4"), fps=30, duration=8.0, selected=(1, 2.4, 5.1), settings=qsettings)
    if dialog.exec():
        options = dialog.options()          # a core.export.options.ExportOptions

The choices are remembered in the studio's QSettings (export/fps, export/range, export/size)
and offered again next time; a remembered value the dialog does not offer is ignored.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QWidget

from core.export.options import ExportOptions

FRAME_RATES = (24.0, 25.0, 30.0, 50.0, 60.0)
VIDEO_SIZES = ((1280, 720), (1920, 1080), (720, 720))      # the first is the render default


class ExportOptionsDialog(QDialog):
    def __init__(self, path: Path, fps: float, duration: float, selected: tuple[str, float, float] | None,
                 settings: QSettings, parent: QWidget | None = None):
        """`fps` and `duration`: the take's; `selected`: (what, start, end) of the selected segments, if any
        ("segment 3" or "segments 3-5")."""
        super().__init__(parent)
        self.setWindowTitle(f"Export {path.name}")
        self.settings = settings
        self.selected = selected
        self.rate = QComboBox()
        for r in sorted(set(FRAME_RATES) | {float(fps)}):
            self.rate.addItem(f"{r:g} fps" + (" (the take's)" if r == fps else ""), r)
        self.range = QComboBox()
        self.range.addItem(f"Whole take (0.00-{duration:.2f} s)", "take")
        if selected is not None:
            what, start, end = selected
            self.range.addItem(f"Selected {what} ({start:.2f}-{end:.2f} s)", "selection")
        self.size = QComboBox()
        for w, h in VIDEO_SIZES:
            self.size.addItem(f"{w} x {h}", f"{w}x{h}")
        is_video = path.suffix.lower() == ".mp4"
        self.size.setEnabled(is_video)
        self.size.setToolTip("" if is_video else "Only a video (MP4) has a picture size")
        self._restore(fps)
        form = QFormLayout(self)
        form.addRow("Frame rate", self.rate)
        form.addRow("Range", self.range)
        form.addRow("Video size", self.size)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _restore(self, fps: float) -> None:
        """The last choices where this dialog offers them; else the take's rate, the whole take, 1280 x 720."""
        try:
            rate = float(self.settings.value("export/fps", fps))
        except (TypeError, ValueError):
            rate = fps
        found = self.rate.findData(rate)
        self.rate.setCurrentIndex(found if found >= 0 else self.rate.findData(float(fps)))
        self.range.setCurrentIndex(max(0, self.range.findData(str(self.settings.value("export/range", "take")))))
        self.size.setCurrentIndex(max(0, self.size.findData(str(self.settings.value("export/size", "")))))

    def accept(self) -> None:
        self.settings.setValue("export/fps", self.rate.currentData())
        self.settings.setValue("export/range", self.range.currentData())
        self.settings.setValue("export/size", self.size.currentData())
        super().accept()

    def options(self) -> ExportOptions:
        width, height = (int(n) for n in self.size.currentData().split("x"))
        start = end = None
        if self.range.currentData() == "selection":
            _, start, end = self.selected
        return ExportOptions(fps=self.rate.currentData(), start=start, end=end, width=width, height=height)
