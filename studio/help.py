"""The Help menu's pieces: the keyboard shortcuts (read from the window's own menus, so the list is
always what the keys do) and the user guide shipped with the program, shown in a window of its own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QImage, QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QMenuBar, QTableWidget, QTableWidgetItem, QTextBrowser,
                               QVBoxLayout)

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "guide.md"
PICTURE_WIDTH = 900          # pixels: the guide's screenshots as the guide window shows them

# keys the timeline reads itself when it has the focus (no menu item of their own)
TIMELINE_KEYS = (
    ("Timeline", "Click / Ctrl+click / Shift+click", "Select a segment / add or remove one / select a range"),
    ("Timeline", "Drag a segment's edge or body", "Retime or move it (snaps to words and pauses; Alt: freely)"),
    ("Timeline", "Drag across an empty stretch", "Add a segment there"),
    ("Timeline", "Click or drag on the waveform", "Seek / scrub"),
    ("Timeline", "Wheel / Shift+wheel", "Zoom around the mouse / pan"),
    ("Timeline", "+ / - / 0", "Zoom in / out around the playhead / show the whole take"),
    ("Timeline", "Escape", "Select none (or cancel a drag)"),
    ("Timeline", "Backspace", "Delete the selected segments (as Delete)"),
    ("Timeline", "Right-click", "The segment commands, Add segment here, Zoom to selection"),
)


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, keys, what) for every menu item with a shortcut, in menu order."""
    rows = []
    for top in menu_bar.actions():
        menu = top.menu()
        if menu is None:
            continue
        for action in menu.actions():
            keys = [k.toString(QKeySequence.NativeText) for k in action.shortcuts() if not k.isEmpty()]
            if keys and not action.isSeparator():
                what = action.statusTip() or action.text().replace("&", "")     # Undo and Redo: not their edit
                rows.append((top.text().replace("&", ""), " or ".join(keys), what))
    return rows


def _with_close_button(dialog: QDialog, body, width: int, height: int) -> None:
    """Lay out `body` above a Close button, at width x height."""
    buttons = QDialogButtonBox(QDialogButtonBox.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(body)
    layout.addWidget(buttons)
    dialog.resize(width, height)


class ShortcutsDialog(QDialog):
    def __init__(self, menu_bar: QMenuBar, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        rows = shortcut_rows(menu_bar) + list(TIMELINE_KEYS)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Where", "Keys", "What"])
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        _with_close_button(self, self.table, 640, 560)


class GuideWindow(QDialog):
    """The user guide, rendered from docs/guide.md with its pictures (Qt reads Markdown); a link
    to a section scrolls to its heading, a link out of the guide opens in the system's browser."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("AVI-Talking Studio: user guide")
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)                 # links are followed here (Markdown headings have no anchors)
        self.browser.anchorClicked.connect(self.follow)
        self.browser.setSource(QUrl.fromLocalFile(str(GUIDE)), QTextDocument.MarkdownResource)
        self._fit_pictures(PICTURE_WIDTH)
        _with_close_button(self, self.browser, 1000, 760)

    def follow(self, url: QUrl) -> None:
        """A link to a section ("#exporting") scrolls to its heading; any other opens outside."""
        if url.isRelative() and url.hasFragment() and not url.path():
            wanted = url.fragment()
            block = self.browser.document().begin()
            while block.isValid():
                if block.blockFormat().headingLevel() and slug(block.text()) == wanted:
                    cursor = QTextCursor(block)
                    self.browser.setTextCursor(cursor)
                    self.browser.verticalScrollBar().setValue(int(self.browser.document().documentLayout()
                                                                  .blockBoundingRect(block).top()))
                    return
                block = block.next()
            return
        QDesktopServices.openUrl(self.browser.source().resolved(url))

    def _fit_pictures(self, width: int) -> None:
        """The screenshots are 1400 pixels wide: shown at `width`, so the text column needs no
        sideways scrolling."""
        document = self.browser.document()
        cursor = QTextCursor(document)
        block = document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                image = fragment.charFormat().toImageFormat() if fragment.charFormat().isImageFormat() else None
                if image is not None:
                    data = self.browser.loadResource(QTextDocument.ImageResource,
                                                     self.browser.source().resolved(QUrl(image.name())))
                    picture = QImage.fromData(data) if data is not None else QImage()
                    if not picture.isNull() and picture.width() > width:
                        image.setWidth(width)
                        image.setHeight(picture.height() * width / picture.width())
                        cursor.setPosition(fragment.position())
                        cursor.setPosition(fragment.position() + fragment.length(), QTextCursor.KeepAnchor)
                        cursor.setCharFormat(image)
                it += 1
            block = block.next()


def slug(heading: str) -> str:
    """A heading as a Markdown link names it: "Playback and the viewport" -> "playback-and-the-viewport"."""
    kept = "".join(c for c in heading.lower().strip() if c.isalnum() or c in " -_")
    return "-".join(kept.split())


def guide_problem() -> str | None:
    """Why the guide cannot be shown, or None."""
    if not GUIDE.is_file():
        return f"The user guide is not installed here (looked for {GUIDE})."
    return None
