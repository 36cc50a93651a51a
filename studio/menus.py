"""The main window's menu bar: every command a user can reach, with its keys.

Items are grouped so that a slip cannot hurt: the segment commands (Delete among them) have a menu
of their own, away from Settings. Help > Keyboard Shortcuts lists what is built here.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMessageBox

from studio import APP


def build_menus(window) -> None:
    """The menu bar; the actions the window enables and renames are kept on it."""
    m = window.menuBar().addMenu("&File")
    add_action(window, m, "&New", window.new_project, QKeySequence.New)
    add_action(window, m, "&Open...", window.open_dialog, QKeySequence.Open)
    window.recent_menu = m.addMenu("Open &Recent")
    add_action(window, m, "&Save", window.save, QKeySequence.Save)
    add_action(window, m, "Save &As...", window.save_as, QKeySequence.SaveAs)
    m.addSeparator()
    add_action(window, m, "&Import Audio...", window.import_dialog, "Ctrl+I")
    add_action(window, m, "&Export...", window.export_dialog, "Ctrl+E")
    m.addSeparator()
    add_action(window, m, "&Quit", window.close, QKeySequence.Quit)
    m = window.menuBar().addMenu("&Edit")
    window.undo_action = add_action(window, m, "&Undo", lambda: window.doc.undo_stack.undo(), QKeySequence.Undo)
    window.redo_action = add_action(window, m, "&Redo", lambda: window.doc.undo_stack.redo(), "Ctrl+Y")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Y"), QKeySequence("Ctrl+Shift+Z")])
    window.undo_action.setStatusTip("Undo the last edit")
    window.redo_action.setStatusTip("Redo the edit undone last")
    m.addSeparator()
    add_action(window, m, "Select &All Segments", window.select_all, QKeySequence.SelectAll)
    m.addSeparator()
    add_action(window, m, "Se&ttings...", window.settings_dialog, QKeySequence.Preferences)
    m = window.menuBar().addMenu("&Segment")
    add_action(window, m, "&Split at Playhead", window.split_selected, "S")
    add_action(window, m, "&Merge with Next", window.merge_selected, "M")
    m.addSeparator()
    add_action(window, m, "&Delete Selected Segments", window.delete_selected, QKeySequence.Delete)
    m = window.menuBar().addMenu("&Playback")
    add_action(window, m, "&Play/Pause", lambda: window.playback.toggle(), "Space")
    window.loop_action = add_action(window, m, "&Loop the Selection", window.toggle_loop, "Shift+Space")
    window.loop_action.setCheckable(True)
    m.addSeparator()
    add_action(window, m, "To &Start", lambda: window.playback.seek(0.0), "Home")
    add_action(window, m, "To &End", window.to_end, "End")
    previous = add_action(window, m, "Previous &Frame", lambda: window.step_frames(-1), "Left")
    previous.setShortcuts([QKeySequence("Left"), QKeySequence(",")])
    following = add_action(window, m, "&Next Frame", lambda: window.step_frames(1), "Right")
    following.setShortcuts([QKeySequence("Right"), QKeySequence(".")])
    add_action(window, m, "Back One Second", lambda: window.playback.seek(window.playback.position - 1.0), "J")
    add_action(window, m, "Pause", lambda: window.playback.pause(), "K")
    add_action(window, m, "Play", lambda: window.playback.play(), "L")
    m.addSeparator()
    add_action(window, m, "Perform &Live", window.perform_live, "Ctrl+L")
    m = window.menuBar().addMenu("&View")
    for dock in window._docks.values():
        m.addAction(dock.toggleViewAction())
    m.addSeparator()
    add_action(window, m, "&Zoom to Selection", lambda: window.timeline.zoom_to_selection(), "Z")
    add_action(window, m, "Show the &Whole Take", lambda: window.timeline.show_whole_take())
    m.addSeparator()
    add_action(window, m, "&Wireframe",
               lambda: window.viewport.set_wireframe(not window.viewport.renderer.wireframe), "W")
    add_action(window, m, "&Reset View", window.viewport.reset_view, "R")
    m = window.menuBar().addMenu("&Help")
    add_action(window, m, "&Keyboard Shortcuts", window.show_shortcuts, QKeySequence.HelpContents)
    add_action(window, m, "User &Guide", window.show_guide)
    add_action(window, m, "&About", lambda: QMessageBox.about(
        window, APP, f"{APP}\n\nSpeech to expressive ARKit face animation (the AVI-Talking method: "
                   "Sun et al., 2024, arXiv 2402.16124)."))
    window._update_recent()

def add_action(window, menu, text, slot, shortcut=None) -> QAction:
    a = QAction(text, window)
    if shortcut is not None:
        a.setShortcut(QKeySequence(shortcut))
    a.triggered.connect(slot)
    menu.addAction(a)
    return a
