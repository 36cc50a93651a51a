"""Export options (core.export.options): frame rate, range and video size, in the library, on the
command line and in the studio's dialog; every file read back by the suite's independent readers
(the hand-written GLB decoder, the csv module, ffprobe and ffmpeg)."""

import csv
import re
from importlib.util import find_spec

import numpy as np
import pytest

from core.arkit import INDEX
from core.audio import load_audio
from core.export.livelink import read_livelink_csv
from core.export.options import ExportOptions, excerpt, export_file
from core.project import MAIN_TRACK, Instruction, Project, Segment, save_project
from core.track import FaceTrack
from tests.conftest import open_mouth_track
from tests.test_cli import run
from tests.test_export_gltf import Glb
from tests.test_export_livelink import tc_seconds
from tests.test_video import decoded_audio, probe

if find_spec("PySide6") is not None:
    # imported here, before pytest-qt makes the QApplication: it sets the OpenGL format first
    from tests.test_studio import close, make_window

JAW = INDEX["jawOpen"]


def ramp(frames=60, fps=30.0) -> FaceTrack:
    """jawOpen rising linearly with time (t / 2), head yaw with it (t / 10): every resampling is exact."""
    track = FaceTrack.zeros(frames, fps)
    t = track.times()
    track.data[:, JAW] = t / 2
    track.data[:, INDEX["headYaw"]] = t / 10
    return track


def csv_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture
def project(tmp_path, speech_like_wav):
    """1 s of sound (a burst at 0.50-0.60 s) and 30 frames with the mouth open on frames 15-17."""
    path = tmp_path / "take.avtp"
    save_project(Project(audio=load_audio(speech_like_wav), tracks={MAIN_TRACK: open_mouth_track(30, open_to=18)}),
                 path)
    return path


def test_a_24_fps_glb_of_a_range_has_its_keyframes(tmp_path):
    out = tmp_path / "range.glb"
    written = export_file(out, ramp(), None, ExportOptions(fps=24, start=0.5, end=1.5))
    assert (written.track.frames, written.track.fps, written.start) == (24, 24.0, 0.5)
    glb = Glb(out)
    (anim,) = glb.json["animations"]
    weights = next(c for c in anim["channels"] if c["target"]["path"] == "weights")
    sampler = anim["samplers"][weights["sampler"]]
    times = glb.accessor(sampler["input"])
    assert len(times) == 24 + 1                          # a key per frame and one holding the last to the end
    np.testing.assert_allclose(times[:-1], np.arange(24) / 24, atol=1e-6)
    assert times[-1] == pytest.approx(1.0)
    jaw = glb.accessor(sampler["output"]).reshape(len(times), 52)[:-1, JAW]
    np.testing.assert_allclose(jaw, (0.5 + np.arange(24) / 24) / 2, atol=1e-6)   # the take's motion from 0.5 s


def test_a_csv_of_a_range_has_its_rows_and_timecodes(tmp_path):
    track = ramp()
    out = tmp_path / "range.csv"
    export_file(out, track, None, ExportOptions(start=0.5, end=1.0))
    rows = csv_rows(out)
    assert len(rows) == 15                               # frames 15..29 of the 30 fps take
    np.testing.assert_allclose([tc_seconds(r["Timecode"]) for r in rows], 0.5 + np.arange(15) / 30, atol=1e-6)
    np.testing.assert_allclose(read_livelink_csv(out).data, track.data[15:30], atol=1e-6)
    export_file(out, track, None, ExportOptions(fps=25, start=0.5, end=1.0))
    rows = csv_rows(out)
    assert len(rows) == 12                               # 0.5 s at 25 fps
    np.testing.assert_allclose([tc_seconds(r["Timecode"]) for r in rows], 0.5 + np.arange(12) / 25, atol=1e-6)
    np.testing.assert_allclose([float(r["JawOpen"]) for r in rows], (0.5 + np.arange(12) / 25) / 2, atol=1e-6)


def test_a_range_off_the_frames_starts_at_the_next_frame_and_cuts_the_sound_there(speech_like_wav):
    audio = load_audio(speech_like_wav)
    part = excerpt(ramp(30), audio, ExportOptions(start=0.51, end=0.8))
    assert part.start == pytest.approx(16 / 30) and part.track.frames == 8          # frames 16..23
    assert part.audio.frames == round(8 / 30 * 44100)
    np.testing.assert_array_equal(part.audio.samples, audio.samples[round(16 / 30 * 44100):][:part.audio.frames])
    whole = excerpt(ramp(30), audio, ExportOptions())
    assert whole.audio is audio and whole.track.frames == 30


@pytest.mark.parametrize("options,says", [
    (dict(start=1.5), "the range starts at 1.5 s, past the end of the take (1.000 s)"),
    (dict(start=0.2, end=3), "the range ends at 3 s, past the end of the take"),
    (dict(start=0.501, end=0.51), "holds no frame of the take"),
])
def test_a_range_outside_the_take_is_refused(options, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        excerpt(ramp(30), None, ExportOptions(**options))


@pytest.mark.parametrize("options,says", [
    (dict(fps=0), "the frame rate must be a number from 1 to 240 frames per second, got 0"),
    (dict(start=0.8, end=0.2), "the range end (0.2 s) must come after its start (0.8 s)"),
    (dict(start=-1), "the range start must be a number from 0 to 10800 seconds, got -1"),
    (dict(width=8), "the video width must be a whole number from 16 to 4096 pixels, got 8"),
])
def test_bad_options_are_refused(options, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        ExportOptions(**options)


def test_the_cli_renders_a_range_at_a_size_and_rate_in_sync(tmp_path, project):
    out = tmp_path / "range.mp4"
    said = run("render", project, "-o", out, "--width", "320", "--height", "180", "--fps", "25",
               "--start", "0.4", "--end", "0.8").stdout
    assert "10 frames, 0.4 s, 320x180" in said
    streams = probe(out)
    v, a = streams["video"], streams["audio"]
    assert (v["width"], v["height"], v["avg_frame_rate"], int(v["nb_frames"])) == (320, 180, "25/1", 10)
    assert float(v["duration"]) == pytest.approx(0.4, abs=0.01)
    assert float(a["duration"]) == pytest.approx(0.4, abs=0.03)
    # the burst at 0.50-0.60 s of the take is heard at 0.10-0.20 s of the video
    sound = decoded_audio(out)
    loud = np.flatnonzero(np.abs(sound) > 0.3) / 16000
    assert loud.min() == pytest.approx(0.10, abs=0.02) and loud.max() == pytest.approx(0.20, abs=0.02)


def test_the_cli_exports_a_range_at_a_rate(tmp_path, project):
    out = tmp_path / "range.csv"
    assert "wrote" in run("export", project, "-o", out, "--fps", "60", "--start", "0.5").stdout
    rows = csv_rows(out)
    assert len(rows) == 30 and tc_seconds(rows[0]["Timecode"]) == pytest.approx(0.5)
    assert [float(r["JawOpen"]) for r in rows[:5]] == [1.0] * 5      # the open mouth of frames 15-17 first


@pytest.mark.parametrize("args,says", [
    (["export", "{p}", "-o", "x.csv", "--start", "2"], "avitalk: error: the range starts at 2 s, past the end of "
                                                       "the take (1.000 s)"),
    (["render", "{p}", "-o", "x.mp4", "--start", "0.8", "--end", "0.2"], "the range end (0.2 s) must come after"),
    (["export", "{p}", "-o", "x.glb", "--fps", "0"], "argument --fps: must be a number from 1 to 240"),
    (["render", "{p}", "-o", "x.mp4", "--end", "-1"], "argument --end: must be a number from 0 to 10800 seconds"),
])
def test_the_cli_refuses_bad_ranges_in_one_line(tmp_path, project, args, says):
    result = run(*[a.format(p=project) for a in args], ok=False)
    assert result.returncode == 2 and says in result.stderr and len(result.stderr.splitlines()) == 1
    assert not list(tmp_path.glob("x.*"))


@pytest.mark.skipif(find_spec("PySide6") is None, reason="the studio extra is not installed (pip install -e .[studio])")
def test_the_studio_exports_the_selected_segment_at_the_chosen_rate(qtbot, tmp_path, speech_like_wav, monkeypatch):
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication, QDialogButtonBox, QFileDialog
    calm = Instruction("A person feels calm.", "neutral", 0.2)
    project = Project(audio=load_audio(speech_like_wav), segments=[Segment(0.0, 0.4, calm), Segment(0.4, 1.0, calm)],
                      tracks={MAIN_TRACK: ramp(30)})
    w = make_window(qtbot, tmp_path, project)
    qtbot.mouseClick(w.timeline.plot.viewport(), Qt.LeftButton, pos=w.timeline.point_at(0.7, "lane"))
    assert w.doc.selected == 1
    target = tmp_path / "segment.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), "Live Link Face CSV (*.csv)"))
    seen = {}

    def choose(rate, range_, ok):
        dialog = QApplication.activeModalWidget()
        seen.update(rate=dialog.rate.currentText(), range=dialog.range.currentText(), size=dialog.size.isEnabled())
        qtbot.keyClicks(dialog.rate, rate)             # typed into the combo, as a user picks by keyboard
        dialog.range.setCurrentIndex(dialog.range.findText(range_, Qt.MatchStartsWith))
        button = QDialogButtonBox.Ok if ok else QDialogButtonBox.Cancel
        qtbot.mouseClick(dialog.findChild(QDialogButtonBox).button(button), Qt.LeftButton)

    QTimer.singleShot(0, lambda: choose("24", "Selected segment 2", ok=True))
    qtbot.keyClick(w, Qt.Key_E, Qt.ControlModifier)
    assert seen == {"rate": "30 fps (the take's)", "range": "Whole take (0.00-1.00 s)", "size": False}
    qtbot.waitUntil(lambda: target.exists() and not w.worker.busy, timeout=30000)
    rows = csv_rows(target)
    assert len(rows) == 14                               # 0.4-1.0 s: 0.6 s at 24 fps
    assert tc_seconds(rows[0]["Timecode"]) == pytest.approx(0.4) and tc_seconds(rows[1]["Timecode"]) == \
        pytest.approx(0.4 + 1 / 24)
    np.testing.assert_allclose([float(r["JawOpen"]) for r in rows], (0.4 + np.arange(14) / 24) / 2, atol=1e-6)

    # the next export offers the last choices again, and the video size for an MP4
    video = tmp_path / "segment.mp4"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(video), "MP4 video (*.mp4)"))
    QTimer.singleShot(0, lambda: choose("", "Selected", ok=False))
    qtbot.keyClick(w, Qt.Key_E, Qt.ControlModifier)
    assert seen == {"rate": "24 fps", "range": "Selected segment 2 (0.40-1.00 s)", "size": True}
    assert not video.exists() and not w.worker.busy
    close(w, qtbot)
