"""The studio's editing as a creator meets it (issue 16): gaps regenerated with their neighbours,
several segments edited in one undo step, Undo that names what it undoes, one status line that
says what runs, a lost sound device that stays said, and settings that refuse a writer they could
not use. Driven through the window with the shipped model on real speech."""

import re
from dataclasses import replace

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

from PySide6.QtCore import QPoint, Qt, QUrl  # noqa: E402
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox  # noqa: E402

from core.project import load_project  # noqa: E402
from tests.test_studio import close, make_window, picture  # noqa: E402


def settle(w, qtbot):
    qtbot.waitUntil(lambda: not w.doc.stale and not w.worker.busy and not w._regen_timer.isActive(), timeout=60000)


def click_segment(w, qtbot, index, modifier=Qt.NoModifier):
    seg = w.doc.project.segments[index]
    qtbot.mouseClick(w.timeline.plot.viewport(), Qt.LeftButton, modifier,
                     pos=w.timeline.point_at((seg.start + seg.end) / 2, "lane"))


def test_a_gap_follows_its_nearest_segment_and_is_regenerated_with_it(qtbot, tmp_path, take):
    project = load_project(take)
    s1 = project.segments[1]
    project.segments[1] = replace(s1, start=s1.start + 1.0)          # a 1 s gap after the first segment
    w = make_window(qtbot, tmp_path, project)
    seg0, seg1 = w.doc.project.segments[:2]
    mid = (seg0.end + seg1.start) / 2
    before = w.doc.track.data.copy()
    w.playback.seek((seg0.end + mid) / 2)                # the playhead in the gap, on the first segment's side
    qtbot.waitUntil(lambda: not w._track_dirty, timeout=2000)
    qtbot.wait(100)
    shown = picture(w.viewport)
    click_segment(w, qtbot, 0)
    combo = w.inspector.emotion
    combo.setCurrentIndex(combo.findText("surprised" if seg0.instruction.emotion != "surprised" else "sad"))
    qtbot.waitUntil(lambda: w.doc.stale and w.doc.stale[0] in {j.span for j in w._regenerations()}, timeout=5000)
    drawn_before_result = w.viewport.frames_drawn
    settle(w, qtbot)
    fps = w.doc.fps
    a, m, b = round(seg0.end * fps), round(mid * fps), round(seg1.start * fps)
    after = w.doc.track.data
    assert np.abs(after[a:m] - before[a:m]).mean() > 1e-3                 # its half of the gap: new motion
    np.testing.assert_array_equal(after[m + 15:b], before[m + 15:b])     # the other half: untouched
    # the paused viewport painted the new pose by itself (not only when asked for a picture)
    qtbot.waitUntil(lambda: np.array_equal(w.viewport.values, w.doc.track.frame_at(w.playback.position)),
                    timeout=2000)
    qtbot.waitUntil(lambda: w.viewport.frames_drawn > drawn_before_result, timeout=2000)
    assert np.abs(picture(w.viewport) - shown).mean() > 0.05
    close(w, qtbot)


def test_several_segments_take_one_emotion_in_one_undo_step(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    before = [s.instruction for s in w.doc.project.segments]
    click_segment(w, qtbot, 0)
    click_segment(w, qtbot, 2, Qt.ControlModifier)
    assert w.doc.selection == (0, 2)
    assert "more selected" in w.inspector.title.text()
    combo = w.inspector.emotion
    combo.setCurrentIndex(combo.findText("sad"))
    segs = w.doc.project.segments
    assert segs[0].instruction.emotion == segs[2].instruction.emotion == "sad"
    assert segs[1].instruction == before[1]
    assert w.undo_action.text() == "&Undo Change emotion of 2 segments"
    w.undo_action.trigger()
    assert [s.instruction for s in w.doc.project.segments] == before
    assert w.redo_action.text() == "&Redo Change emotion of 2 segments" and w.undo_action.text() == "&Undo"
    settle(w, qtbot)
    close(w, qtbot)


def test_the_status_line_says_what_runs_and_the_inspector_only_its_own_regeneration(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    assert w.busy_label.text() == "Ready"
    click_segment(w, qtbot, 1)
    w.export(tmp_path / "take.mp4")
    assert w.busy_label.text() == "Exporting take.mp4..."
    assert not w.inspector.busy.isVisible()              # an export is not a regeneration of this segment
    combo = w.inspector.emotion
    combo.setCurrentIndex(combo.findText("angry" if w.doc.project.segments[1].instruction.emotion != "angry"
                                         else "happy"))
    qtbot.waitUntil(lambda: not w._regen_timer.isActive(), timeout=5000)
    assert w.inspector.busy.isVisible()
    assert w.busy_label.text().startswith("Exporting take.mp4...") and "queued" in w.busy_label.text()
    settle(w, qtbot)
    assert w.busy_label.text() == "Ready" and not w.inspector.busy.isVisible()
    assert (tmp_path / "take.mp4").is_file()                    # the edit did not cancel the export
    close(w, qtbot)


def test_no_sound_stays_said(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    w.playback.device_error = "audio output failed (device unplugged); playing without sound"
    qtbot.waitUntil(lambda: "unplugged" in w.sound_label.toolTip(), timeout=2000)
    assert w.sound_label.isVisible() and w.sound_label.text() == "No sound"
    w.statusBar().showMessage("something else")          # another message does not hide it
    qtbot.wait(50)
    assert w.sound_label.isVisible()
    close(w, qtbot)


@pytest.mark.parametrize("folder", ["", "missing", "empty"])
def test_settings_refuse_a_model_folder_without_a_model(qtbot, tmp_path, monkeypatch, folder):
    from studio.settings import SettingsDialog, StudioSettings
    (tmp_path / "empty").mkdir()
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    dialog = SettingsDialog(StudioSettings())
    qtbot.addWidget(dialog)
    dialog.writer.setCurrentIndex(dialog.writer.findData("folder"))
    dialog.folder.setText(str(tmp_path / folder) if folder else "")
    dialog.show()
    qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok), Qt.LeftButton)
    assert dialog.isVisible() and len(warnings) == 1           # not accepted: said why
    assert {"": "Choose the folder", "missing": "does not exist", "empty": "no config.json"}[folder] in warnings[0]



def test_frame_steps_timecode_and_a_looped_selection(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    w.playback.seek(1.0)
    qtbot.keyClick(w, Qt.Key_Right)
    qtbot.keyClick(w, Qt.Key_Period)
    assert w.playback.position == pytest.approx(32 / 30)
    qtbot.keyClick(w, Qt.Key_Comma)
    assert w.playback.position == pytest.approx(31 / 30)
    qtbot.waitUntil(lambda: w.time_label.text().startswith("00:00:01:01"), timeout=2000)
    assert "frame 32 of" in w.time_label.text()                 # frames counted from 1
    seg = w.doc.project.segments[1]
    click_segment(w, qtbot, 1)
    qtbot.keyClick(w, Qt.Key_Space, Qt.ShiftModifier)           # loop the selection
    assert w.loop_action.isChecked() and w.playback.playing
    seen = []
    for _ in range(int((seg.end - seg.start) * 1.6 / 0.02)):    # past the end of the segment once
        qtbot.wait(20)
        seen.append(w.playback.position)
    assert all(seg.start - 1e-6 <= t <= seg.end + 0.05 for t in seen)
    assert any(b < a for a, b in zip(seen, seen[1:]))           # it came round
    qtbot.keyClick(w, Qt.Key_Space, Qt.ShiftModifier)
    assert not w.loop_action.isChecked() and w.playback.loop is None and not w.playback.playing
    qtbot.keyClick(w, Qt.Key_End)                              # the last frame, not past it
    assert w.playback.position == pytest.approx((w.doc.frames - 1) / w.doc.fps)
    qtbot.waitUntil(lambda: w.time_label.text().endswith(f"frame {w.doc.frames} of {w.doc.frames}"), timeout=2000)
    close(w, qtbot)


def test_playhead_selection_and_zoom_come_back_with_the_project(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    click_segment(w, qtbot, 0)
    click_segment(w, qtbot, 2, Qt.ControlModifier)
    w.timeline.set_view(1.0, 4.0)
    w.playback.seek(2.5)
    saved = tmp_path / "kept.avtp"
    assert w.save_to(saved)
    close(w, qtbot)
    again = make_window(qtbot, tmp_path, load_project(saved), saved)
    assert again.doc.selection == (0, 2) and again.doc.selected == 2
    assert again.playback.position == pytest.approx(2.5)
    assert again.timeline.view_range() == pytest.approx((1.0, 4.0), abs=0.01)
    assert "more selected" in again.inspector.title.text()
    close(again, qtbot)


def test_an_empty_start_says_what_to_do_and_dialogs_remember_their_folder(qtbot, tmp_path, speech8, monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    from core.project import Project
    w = make_window(qtbot, tmp_path, Project())
    assert w.start_page.isVisible() and not w.timeline.isVisible()
    assert "Drop" in w.start_page.label.text()
    asked = []

    def choose(parent, title, folder, filters):
        asked.append(folder)
        return str(speech8), filters
    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    qtbot.mouseClick(w.start_page.import_button, Qt.LeftButton)
    assert "Listening to speech.wav" in w.start_page.label.text() and not w.start_page.import_button.isEnabled()
    assert w.busy_label.text() == "Listening to speech.wav..."
    qtbot.waitUntil(lambda: w.doc.project.audio is not None, timeout=60000)
    assert w.timeline.isVisible() and not w.start_page.isVisible()
    w.doc.undo_stack.setClean()
    w.import_dialog()
    assert asked[1] == str(speech8.parent)                     # the second dialog opens where the first ended
    settle(w, qtbot)
    close(w, qtbot)


def test_menus_name_what_they_do_and_list_their_keys(qtbot, tmp_path, take):
    from studio.help import TIMELINE_KEYS, ShortcutsDialog, shortcut_rows
    w = make_window(qtbot, tmp_path, load_project(take), take)
    menus = {a.text().replace("&", ""): [x.text().replace("&", "") for x in a.menu().actions() if x.text()]
             for a in w.menuBar().actions()}
    assert "Delete Selected Segments" not in menus["Edit"] and "Settings..." in menus["Edit"]
    assert "Delete Selected Segments" in menus["Segment"]
    assert {"Keyboard Shortcuts", "User Guide", "About"} <= set(menus["Help"])
    rows = shortcut_rows(w.menuBar())
    assert ("Segment", "S", "Split at Playhead") in rows and ("Playback", "Left or ,", "Previous Frame") in rows
    dialog = ShortcutsDialog(w.menuBar(), w)
    assert dialog.table.rowCount() == len(rows) + len(TIMELINE_KEYS)
    assert ("Edit", "Ctrl+Z", "Undo the last edit") in rows
    dialog.close()
    close(w, qtbot)


def test_a_split_shows_each_half_with_its_own_words(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    k = next(i for i, s in enumerate(w.doc.project.segments) if len(s.evidence.get("words", [])) >= 2)
    words = w.doc.project.segments[k].evidence["words"]
    cut = (words[0]["end"] + words[1]["start"]) / 2
    click_segment(w, qtbot, k)
    w.playback.seek(cut)
    qtbot.keyClick(w, Qt.Key_S)                          # Segment > Split at Playhead
    assert w.undo_action.text() == f"&Undo Split segment {k + 1}"
    shown = []
    for half in (k, k + 1):
        click_segment(w, qtbot, half)
        shown.append(w.inspector.words.text())
    plain = [re.sub(r"<[^>]+>", " ", text).split() for text in shown]
    assert plain[0] == [words[0]["text"].strip()]                          # the first word alone
    assert plain[1] == [x["text"].strip() for x in words[1:]]               # and the rest
    close(w, qtbot)


def test_keys_go_to_the_focused_control_before_the_window_shortcuts(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    click_segment(w, qtbot, 1)
    seg = w.doc.project.segments[1]
    w.playback.seek((seg.start + seg.end) / 2)              # S here would split segment 2
    n = len(w.doc.project.segments)
    combo = w.inspector.emotion
    combo.setFocus()
    qtbot.waitUntil(combo.hasFocus, timeout=2000)
    qtbot.keyClick(combo, Qt.Key_S, Qt.NoModifier, delay=-1)  # type-ahead: "sad" (or "surprised")
    assert len(w.doc.project.segments) == n
    assert w.doc.project.segments[1].instruction.emotion in ("sad", "surprised")
    slider = w.inspector.intensity
    slider.setFocus()
    qtbot.waitUntil(slider.hasFocus, timeout=2000)
    before, at = slider.value(), w.playback.position
    qtbot.keyClick(slider, Qt.Key_Left if before > 0 else Qt.Key_Right)
    assert slider.value() != before and w.playback.position == at     # the slider moved, not the playhead
    assert w.doc.undo_stack.count() == 2                               # the emotion, then the intensity
    qtbot.keyClick(slider, Qt.Key_Z, Qt.ControlModifier)              # Ctrl keys stay the window's: undo
    assert w.doc.undo_stack.index() == 1 and w.redo_action.isEnabled()
    settle(w, qtbot)
    close(w, qtbot)


def test_recovered_work_cannot_be_undone_into_looking_saved(qtbot, tmp_path, take, monkeypatch):
    from studio import autosave
    from studio.app import offer_recovery
    project = load_project(take)
    autosave.write(project, None, tmp_path / "autosave")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    w = make_window(qtbot, tmp_path)
    offer_recovery(w)
    assert w.windowTitle().startswith("untitled*") and not w.undo_action.isEnabled()
    qtbot.keyClick(w, Qt.Key_Z, Qt.ControlModifier)
    assert w.windowTitle().startswith("untitled*")
    left = autosave.pending(tmp_path / "autosave")        # kept once, under this run's name: offered once
    assert [r.path for r in left] == [autosave.slot(None, tmp_path / "autosave")]
    close(w, qtbot)


def test_export_offers_the_span_of_several_selected_segments(qtbot, tmp_path, take, monkeypatch):
    from PySide6.QtWidgets import QFileDialog
    from studio.export_dialog import ExportOptionsDialog
    w = make_window(qtbot, tmp_path, load_project(take), take)
    click_segment(w, qtbot, 0)
    click_segment(w, qtbot, 2, Qt.ShiftModifier)
    seen = {}

    def ask(parent, title, path, filters, selected):
        seen["filter"] = selected
        return "", ""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    w.settings.setValue("export/suffix", ".csv")
    w.export_dialog()
    assert seen["filter"] == "Live Link Face CSV (*.csv)"                 # the type offered is the last one used
    segs = w.doc.project.segments
    dialog = ExportOptionsDialog(tmp_path / "t.csv", 30.0, 8.0, ("segments 1-3", segs[0].start, segs[2].end),
                                 w.settings, w)
    texts = [dialog.range.itemText(i) for i in range(dialog.range.count())]
    assert f"Selected segments 1-3 ({segs[0].start:.2f}-{segs[2].end:.2f} s)" in texts
    dialog.range.setCurrentIndex(1)
    assert (dialog.options().start, dialog.options().end) == (segs[0].start, segs[2].end)
    close(w, qtbot)


def test_the_user_guide_opens_in_its_own_window_with_its_pictures(qtbot, tmp_path):
    from core.project import Project
    w = make_window(qtbot, tmp_path, Project())
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Help")
    next(a for a in help_menu.actions() if a.text() == "User &Guide").trigger()
    qtbot.waitUntil(lambda: w.guide.isVisible(), timeout=5000)
    document = w.guide.browser.document()
    assert "Getting started" in document.toPlainText()
    images = re.findall(r'<img[^>]*src="([^"]+)"', document.toHtml())
    assert "images/main-window.png" in images
    from PySide6.QtGui import QImage, QTextDocument
    data = w.guide.browser.loadResource(QTextDocument.ResourceType.ImageResource,
                                        w.guide.browser.source().resolved(images[0]))
    assert not QImage.fromData(data).isNull()                             # the picture is found and reads
    w.guide.follow(QUrl("#exporting"))                                    # the table of contents' link
    top = w.guide.browser.cursorForPosition(QPoint(5, 5)).block()
    assert w.guide.browser.verticalScrollBar().value() > 0
    assert w.guide.browser.textCursor().block().text() == "Exporting" and top.text() in ("Exporting", "")
    w.guide.close()
    close(w, qtbot)
