"""The studio window under Xvfb with a real OpenGL context and the shipped model, driven as a
user drives it: play, orbit, import speech, edit a segment's emotion, undo, save, reopen,
export every format, recover after a crash."""

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

from PySide6.QtCore import QPoint, QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from core.arkit import BLENDSHAPES  # noqa: E402
from core.export.livelink import read_livelink_csv  # noqa: E402
from core.project import EMOTIONS, MAIN_TRACK, Project, load_project, save_project  # noqa: E402
from studio import autosave  # noqa: E402
from studio.app import MainWindow, configure_opengl, offer_recovery  # noqa: E402
from studio.viewport import grab_window  # noqa: E402
from tests.conftest import open_mouth_track  # noqa: E402

configure_opengl()


def make_window(qtbot, tmp_path, project=None, path=None, **kw):
    w = MainWindow(project, path, settings=QSettings(str(tmp_path / "studio.ini"), QSettings.IniFormat),
                   autosave_folder=tmp_path / "autosave", writer="rules", **kw)
    qtbot.addWidget(w, before_close_func=lambda w: (w.doc.undo_stack.setClean(), w.worker.shutdown()))
    w.show()
    w.activateWindow()
    qtbot.waitUntil(w.isActiveWindow, timeout=5000)      # shortcuts act on the active window, as for a user
    return w


def close(w, qtbot):
    w.doc.undo_stack.setClean()
    w.close()
    assert not w.worker._thread.isRunning()


@pytest.fixture
def window(qtbot, tmp_path):
    w = make_window(qtbot, tmp_path, Project(tracks={MAIN_TRACK: open_mouth_track(frames=60, open_from=0, open_to=60)}))
    yield w
    close(w, qtbot)


def picture(widget) -> np.ndarray:
    img = widget.grabFramebuffer().convertToFormat(widget.grabFramebuffer().Format.Format_RGB888)
    return np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())[:, : img.width() * 3] \
        .reshape(img.height(), img.width(), 3).astype(int)


def test_space_plays_and_the_face_is_drawn(window, qtbot):
    img = picture(window.viewport)
    h, w = img.shape[:2]
    assert img[h // 3: 2 * h // 3, w // 3: 2 * w // 3].mean() > img[:20, :20].mean() + 50   # skin on backdrop
    window.playback.duration = 2.0
    qtbot.keyClick(window, Qt.Key_Space)
    qtbot.waitUntil(lambda: window.playback.position > 0.3, timeout=3000)
    assert not window.viewport.renderer.antialias              # a moving face skips the edge filter
    qtbot.keyClick(window, Qt.Key_Space)
    stopped = window.playback.position
    qtbot.wait(200)
    assert window.playback.position == stopped
    assert window.viewport.renderer.antialias                  # and a still one gets it back
    qtbot.keyClick(window, Qt.Key_Home)
    assert window.playback.position == 0.0


def test_drag_orbits_and_r_resets(window, qtbot):
    cam = window.viewport.renderer.camera
    before = cam.eye().copy()
    vp = window.viewport.face                  # the GL window, where the mouse events land
    qtbot.mousePress(vp, Qt.LeftButton, pos=QPoint(200, 200))
    for x in range(210, 320, 10):
        qtbot.mouseMove(vp, QPoint(x, 200))
    qtbot.mouseRelease(vp, Qt.LeftButton, pos=QPoint(320, 200))
    assert not np.allclose(cam.eye(), before)
    # the GL window never takes the keyboard, so the window's shortcuts work after a click in it
    assert vp.flags() & Qt.WindowDoesNotAcceptFocus
    qtbot.keyClick(window, Qt.Key_R)
    np.testing.assert_allclose(cam.eye(), before, atol=1e-4)


def test_edit_a_segment_undo_save_reopen_and_export(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    original = w.doc.track.data.copy()
    # the user clicks the second segment in the lane and picks "angry" in the inspector
    seg = w.doc.project.segments[1]
    qtbot.mouseClick(w.timeline.plot.viewport(), Qt.LeftButton, pos=w.timeline.point_at((seg.start + seg.end) / 2, "lane"))
    assert w.doc.selected == 1
    combo = w.inspector.emotion
    combo.setCurrentIndex(combo.findText("angry"))
    assert w.doc.project.segments[1].instruction.emotion == "angry"
    assert w.windowTitle().startswith("take.avtp*")
    qtbot.waitUntil(lambda: not w.doc.stale and not w.worker.busy, timeout=60000)
    a, b = round(seg.start * 30), round(seg.end * 30)
    edited = w.doc.track.data.copy()
    np.testing.assert_array_equal(edited[:a], original[:a])
    np.testing.assert_array_equal(edited[b:], original[b:])
    assert np.abs(edited[a:b] - original[a:b]).mean() > 1e-3
    assert w.last_regeneration_s is not None and w.last_regeneration_s < 10
    grab_window(w).save(str(tmp_path / "edited.png"))

    qtbot.keyClick(w, Qt.Key_Z, Qt.ControlModifier)
    np.testing.assert_array_equal(w.doc.track.data, original)
    assert w.doc.project.segments[1].instruction.emotion != "angry"
    qtbot.keyClick(w, Qt.Key_Y, Qt.ControlModifier)
    np.testing.assert_array_equal(w.doc.track.data, edited)

    saved = tmp_path / "edited.avtp"
    assert w.save_to(saved) and not w.windowTitle().startswith("edited.avtp*")
    again = load_project(saved)
    np.testing.assert_array_equal(again.main_track.data, edited)
    assert again.segments[1].instruction.emotion == "angry" and again.speech_features is not None

    for suffix in (".fbx", ".glb", ".csv", ".mp4"):
        w.export(tmp_path / f"take{suffix}")
    qtbot.waitUntil(lambda: not w.worker.busy, timeout=120000)
    for suffix in (".fbx", ".glb", ".csv", ".mp4"):
        assert (tmp_path / f"take{suffix}").stat().st_size > 1000
    np.testing.assert_allclose(read_livelink_csv(tmp_path / "take.csv").data, edited, atol=2e-3)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(tmp_path / "take.mp4")], capture_output=True, text=True, check=True)
    assert float(probe.stdout) == pytest.approx(8.0, abs=0.15)
    close(w, qtbot)


def test_a_dropped_recording_is_listened_to_and_animated_in_the_background(qtbot, tmp_path, speech8):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent
    w = make_window(qtbot, tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(speech8))])
    w.dropEvent(QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    qtbot.waitUntil(lambda: w.doc.project.audio is not None, timeout=60000)
    assert len(w.doc.project.segments) >= 1 and len(w.timeline.segments) == len(w.doc.project.segments)
    qtbot.waitUntil(lambda: w.doc.track is not None and not w.worker.busy, timeout=60000)
    assert w.doc.track.frames == 240 and w.doc.track.weights[:, 17].max() > 0.1      # the jaw moves
    close(w, qtbot)


def test_unsaved_work_is_recovered_after_a_crash(qtbot, tmp_path, take, monkeypatch):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    w.doc.split(0, (w.doc.project.segments[0].start + w.doc.project.segments[0].end) / 2)
    w.autosave()
    segments = copy.deepcopy(w.doc.project.segments)
    w.worker.shutdown()                       # the process "dies": no clean close, the autosave stays
    assert autosave.pending(tmp_path / "autosave")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    w2 = make_window(qtbot, tmp_path)
    offer_recovery(w2)
    assert w2.doc.project.segments == segments and w2.windowTitle().startswith("take.avtp*")
    close(w2, qtbot)


def test_screenshot_command(tmp_path, take):
    out = tmp_path / "studio.png"
    exe = Path(sys.executable).with_name("avitalk-studio")
    subprocess.run([str(exe), str(take), "--screenshot", str(out)], check=True, timeout=180,
                   env={**__import__("os").environ, "AVITALK_CACHE": str(tmp_path)})
    img = np.asarray(Image.open(out).convert("RGB")).astype(int)
    assert img.shape[0] > 300 and img.std() > 10


def test_viewport_draws_after_offscreen_rendering_in_the_same_thread(qtbot, head, tmp_path):
    # An EGL context left current on the GUI thread once blanked every QOpenGLWidget.
    from core.render.offscreen import OffscreenRenderer
    with OffscreenRenderer(head, 64, 36) as r:
        r.render(np.zeros(55, np.float32))
    w = make_window(qtbot, tmp_path, Project(tracks={MAIN_TRACK: open_mouth_track(frames=10)}))
    img = picture(w.viewport)
    assert w.viewport.renderer is not None and img.std() > 10
    close(w, qtbot)


def test_settings_change_sampling_and_the_preview_head(qtbot, tmp_path, take, monkeypatch):
    from core.export.gltf import write_glb
    from core.face import load_rig
    from studio.settings import SettingsDialog
    w = make_window(qtbot, tmp_path, load_project(take), take)
    before = w.doc.track.data.copy()
    dialog = SettingsDialog(w.current_settings(), w)
    dialog.steps.setValue(4)
    dialog.writer.setCurrentIndex(dialog.writer.findData("rules"))
    dialog.baseline.setCurrentIndex(dialog.baseline.findData("calm"))
    head = tmp_path / "head.glb"
    write_glb(head, load_rig(), None)
    dialog.head.setText(str(head))
    w.apply_settings(dialog.result_settings())
    assert w.writer == "rules" and w.doc.project.settings.sampling_steps == 4 and w.baseline == "calm"
    assert w.settings.value("studio/baseline") == "calm"                # remembered for the next start
    assert w.viewport.rig is not load_rig() and w.viewport.rig.vertices.shape == load_rig().vertices.shape
    qtbot.waitUntil(lambda: not w.worker.busy and not np.array_equal(w.doc.track.data, before), timeout=60000)
    assert w.doc.track.frames == len(before)
    img = picture(w.viewport)
    assert img.std() > 10                                          # the user's head is drawn
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    w.apply_settings(type(dialog.result_settings())(head=str(tmp_path / "missing.glb"), sampling_steps=4))
    assert warnings and "missing.glb" in warnings[0] and w.head == str(head)      # the old head stays
    close(w, qtbot)


def test_a_cancelled_export_leaves_no_file(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    target = tmp_path / "take.mp4"
    w.export(target)
    job, dialog = next(iter(w._export_dialogs.items()))
    qtbot.waitUntil(lambda: dialog.value() > 0, timeout=30000)       # rendering has started
    from PySide6.QtWidgets import QPushButton
    with qtbot.waitSignal(w.worker.cancelled, timeout=30000):
        qtbot.mouseClick(dialog.findChild(QPushButton), Qt.LeftButton)       # the user presses Cancel
    qtbot.waitUntil(lambda: not w.worker.busy, timeout=30000)
    assert not target.exists() and not list(tmp_path.glob("*.mp4*"))
    assert job not in w._export_dialogs and "cancelled; nothing was written" in w.statusBar().currentMessage()
    close(w, qtbot)


def test_the_curves_follow_the_timeline_zoom(qtbot, tmp_path, take):
    from tests.test_timeline import wheel
    w = make_window(qtbot, tmp_path, load_project(take), take)
    tl = w.timeline
    qtbot.waitUntil(lambda: tl.view_range()[1] > 7.0)
    wheel(tl, tl.point_at(4.0), 3)                          # the mouse wheel zooms in around 4 s
    t0, t1 = tl.view_range()
    assert t1 - t0 < 6.0 and t0 < 4.0 < t1
    assert w.curves.view() == pytest.approx((t0, t1), abs=1e-6)
    close(w, qtbot)


def test_importing_a_clipped_recording_says_so_without_blocking(qtbot, tmp_path):
    from tests.bad_input import write_clipping_noise
    w = make_window(qtbot, tmp_path)
    w.import_audio(write_clipping_noise(tmp_path))
    qtbot.waitUntil(lambda: w.import_warnings is not None, timeout=60000)
    box = w.import_warnings
    assert box.isVisible() and "clipped" in box.text() and "clipping_noise.wav" in box.text()
    # the take is animated all the same (listening and generating are two jobs: wait for the track)
    qtbot.waitUntil(lambda: w.doc.track is not None and not w.worker.busy, timeout=60000)
    box.close()
    close(w, qtbot)


def test_the_plotted_channels_are_remembered(qtbot, tmp_path):
    from tests.test_curves import click_channel
    w = make_window(qtbot, tmp_path, Project(tracks={MAIN_TRACK: open_mouth_track(frames=30)}))
    w._docks["Curves"].raise_()
    click_channel(qtbot, w.curves, "mouthFunnel")
    chosen = w.curves.channels()
    assert "mouthFunnel" in chosen
    close(w, qtbot)
    again = make_window(qtbot, tmp_path, Project(tracks={MAIN_TRACK: open_mouth_track(frames=30)}))
    assert again.curves.channels() == chosen
    close(again, qtbot)


def test_a_dropped_live_link_capture_opens_with_its_sound(qtbot, tmp_path, speech8):
    import shutil
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent
    from core.export.livelink import write_livelink_csv
    capture = tmp_path / "take01.csv"
    write_livelink_csv(capture, open_mouth_track(frames=240, open_from=30, open_to=60))
    shutil.copy(speech8, tmp_path / "take01.wav")
    w = make_window(qtbot, tmp_path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(capture))])
    w.dropEvent(QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert w.doc.project.audio is not None and w.doc.project.audio.duration == pytest.approx(8.0, abs=0.01)
    assert w.doc.track.frames == 240 and w.doc.track.weights[45, 17] > 0.9
    assert not w.worker.busy                             # a capture is played as it is, nothing is generated
    close(w, qtbot)


def test_split_and_merge_act_on_the_segment_under_the_playhead_when_none_is_selected(qtbot, tmp_path, take):
    w = make_window(qtbot, tmp_path, load_project(take), take)
    w.doc.select(-1)
    seg = w.doc.project.segments[0]
    n = len(w.doc.project.segments)
    w.playback.seek((seg.start + seg.end) / 2)
    qtbot.wait(100)                                      # a tick of the clock moves the playhead there
    qtbot.keyClick(w, Qt.Key_S)
    assert len(w.doc.project.segments) == n + 1
    qtbot.keyClick(w, Qt.Key_M)                          # the playhead is now in the second half: merge it on
    assert len(w.doc.project.segments) == n
    qtbot.keyClick(w, Qt.Key_Delete)                     # deleting needs a selection
    assert len(w.doc.project.segments) == n
    close(w, qtbot)


def test_settings_are_remembered_and_a_failed_rewrite_says_why(qtbot, tmp_path, take):
    from studio.settings import StudioSettings
    from tests.bad_input import closed_port_url
    w = make_window(qtbot, tmp_path, load_project(take), take)
    url = closed_port_url()
    w.apply_settings(StudioSettings(writer="rules", llm_url=url, llm_model="big"))
    w.rewrite_with_language_model(0)
    qtbot.waitUntil(lambda: "unreachable" in w.statusBar().currentMessage(), timeout=60000)
    assert w.doc.project.segments[0].instruction.writer == "rules"     # the rules stood in
    w.apply_settings(StudioSettings(writer="rules"))
    w.statusBar().clearMessage()
    w.rewrite_with_language_model(0)                   # the rules again on the same evidence: the same text
    qtbot.waitUntil(lambda: w.statusBar().currentMessage() != "", timeout=60000)
    assert w.statusBar().currentMessage() == "Rewrite: rules wrote the same instruction again for segment 1"
    w.apply_settings(StudioSettings(writer="rules", llm_url=url, llm_model="big"))
    close(w, qtbot)
    again = MainWindow(load_project(take), take, settings=QSettings(str(tmp_path / "studio.ini"), QSettings.IniFormat),
                       autosave_folder=tmp_path / "autosave")
    qtbot.addWidget(again, before_close_func=lambda w: (w.doc.undo_stack.setClean(), w.worker.shutdown()))
    assert (again.writer, again.llm_url, again.llm_model) == ("rules", url, "big")
    close(again, qtbot)


def test_an_import_starts_from_the_chosen_baseline_and_the_inspector_says_why(qtbot, tmp_path):
    from studio.settings import StudioSettings
    w = make_window(qtbot, tmp_path)
    w.apply_settings(StudioSettings(writer="rules", baseline="calm"))
    w.import_audio(Path(__file__).parent / "data" / "instruct" / "real" / "classic_hostile.flac")
    qtbot.waitUntil(lambda: w.doc.track is not None and not w.worker.busy, timeout=90000)
    segments = w.doc.project.segments
    assert segments and all(s.evidence["why"]["baseline"] == "calm" for s in segments)
    assert all(s.instruction.intensity <= 0.5 for s in segments)           # a calm take: nothing strong
    w.inspector.show_segment(0, segments[0])
    assert "baseline calm" in w.inspector.why.text()
    close(w, qtbot)


def test_an_import_in_another_language_shows_its_words_and_their_translation(qtbot, tmp_path):
    """Settings > "Imports are spoken in": chosen from the dialog, remembered, used by the import;
    the inspector shows the French words and the English the writer read."""
    from studio.settings import SettingsDialog
    w = make_window(qtbot, tmp_path)
    dialog = SettingsDialog(w.current_settings(), w)
    assert dialog.language.currentData() == "auto"
    assert dialog.language.count() == 1 + 100                  # "Detect it" and Whisper's languages
    dialog.language.setCurrentIndex(dialog.language.findText("French (fr)"))
    dialog.writer.setCurrentIndex(dialog.writer.findData("rules"))
    w.apply_settings(dialog.result_settings())
    assert w.language == "fr" and w.settings.value("studio/language") == "fr"
    said = []
    w.statusBar().messageChanged.connect(said.append)
    w.import_audio(Path(__file__).parent / "data" / "languages" / "fr-conf-onlyperson.wav")
    qtbot.waitUntil(lambda: w.doc.track is not None and not w.worker.busy, timeout=90000)
    assert any(m.startswith("fr-conf-onlyperson.wav: ") and m.endswith("heard in French") for m in said), said
    k, seg = next((i, s) for i, s in enumerate(w.doc.project.segments) if s.evidence.get("original"))
    assert seg.evidence["language"] == "fr"
    w.inspector.show_segment(k, seg)
    shown = w.inspector.words.text()
    assert "conférence" in shown and "French; in English:" in shown and "conference" in shown.split("English:")[1]
    close(w, qtbot)


def test_saving_over_a_file_another_program_changed_asks_first(qtbot, tmp_path, take, monkeypatch):
    """A project open in the studio while `avitalk regen` (or another studio) rewrites the file:
    Ctrl+S asks before overwriting the other program's edit; Cancel keeps it."""
    path = tmp_path / "shared.avtp"
    path.write_bytes(take.read_bytes())
    w = make_window(qtbot, tmp_path, load_project(path), path)
    other = load_project(path)
    other.segments[0].seed = 77                 # the other program's edit
    save_project(other, path)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.Cancel)
    qtbot.keyClick(w, Qt.Key_S, Qt.ControlModifier)
    assert len(asked) == 1 and "was changed by another program since it was opened here" in asked[0]
    assert load_project(path).segments[0].seed == 77
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.Save)
    qtbot.keyClick(w, Qt.Key_S, Qt.ControlModifier)
    assert len(asked) == 2 and load_project(path).segments[0].seed == w.doc.project.segments[0].seed != 77
    qtbot.keyClick(w, Qt.Key_S, Qt.ControlModifier)    # its own file now: no question
    assert len(asked) == 2
    close(w, qtbot)


def test_work_discarded_on_purpose_is_not_offered_back(qtbot, tmp_path, take, monkeypatch):
    """Closing with unsaved edits and choosing Discard removes the autosave, so the next start
    does not offer that session for recovery."""
    w = make_window(qtbot, tmp_path, load_project(take), take)
    w.doc.split(0, (w.doc.project.segments[0].start + w.doc.project.segments[0].end) / 2)
    w.autosave()
    assert autosave.pending(tmp_path / "autosave")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Discard)
    w.close()
    assert not w.isVisible() and autosave.pending(tmp_path / "autosave") == []


def test_perform_live_from_a_recording_then_edit_the_recorded_take(qtbot, tmp_path):
    """Live mode as a user drives it: pick a recording as the input, press Start (Ctrl+L), switch
    the expression while performing, watch the face move, and get the recording as a take."""
    x, rate = sf.read(Path(__file__).parent / "data" / "listen" / "sample.wav")
    speech = tmp_path / "speech.wav"
    sf.write(speech, x[6 * rate:9 * rate], rate)                       # 3 s where both speakers talk
    w = make_window(qtbot, tmp_path)
    panel = w.live
    panel.use_recording(speech)
    panel.record_path.setText(str(tmp_path / "live.avtp"))
    shown = []
    panel.frameReady.connect(lambda f: shown.append(np.array(w.viewport.values)))
    qtbot.keyClick(w, Qt.Key_L, Qt.ControlModifier)
    assert panel.running and w._docks["Live"].isVisible()
    qtbot.waitUntil(lambda: len(shown) > 20, timeout=30000)
    qtbot.mouseClick(panel.emotions.button(EMOTIONS.index("happy")), Qt.LeftButton)
    assert "happy" in panel.instruction.text()
    grab_window(w).save(str(tmp_path / "live.png"))
    with qtbot.waitSignal(panel.stopped, timeout=30000) as stopped:
        pass
    assert stopped.args[0] == tmp_path / "live.avtp"
    jaw = np.array([v[BLENDSHAPES.index("jawOpen")] for v in shown])
    assert jaw.max() > 0.1 and jaw.std() > 0.02                        # the viewport followed the speech
    # the recording is now the open take: its sound, its motion, an instruction per expression
    qtbot.waitUntil(lambda: w.doc.path == tmp_path / "live.avtp", timeout=5000)
    project = w.doc.project
    assert project.audio.duration == pytest.approx(3.0, abs=0.01) and w.doc.track.frames == 90
    assert [s.instruction.emotion for s in project.segments] == ["neutral", "happy"]
    # an ordinary take: editing a segment regenerates it
    combo = w.inspector.emotion
    w.doc.select(0)
    combo.setCurrentIndex(combo.findText("sad"))
    qtbot.waitUntil(lambda: not w.doc.stale and not w.worker.busy, timeout=60000)
    assert w.doc.project.segments[0].instruction.emotion == "sad"
    close(w, qtbot)
