"""The bundled demo project (resources/demo/demo.avtp) and the first run: what it holds, the
user's copy of it, `avitalk demo` without a display (a video), and the studio opening on it."""

import json
import os
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

from core.arkit import INDEX
from core.demo import demo_copy, demo_project
from core.instruct import compose, parse
from core.project import load_project, save_project

AVITALK = Path(sys.executable).with_name("avitalk")
PACKAGED = files("resources").joinpath("demo", "demo.avtp")


@pytest.fixture(scope="module")
def demo():
    return demo_project()


def loudness_db(project) -> np.ndarray:
    """Per frame of the main track: the speech's RMS level in dB (floored at -60)."""
    x, hop = project.audio.mono16k, 16000 / project.main_track.fps
    rms = [np.sqrt(np.mean(x[round(i * hop): round((i + 1) * hop)] ** 2)) for i in range(project.main_track.frames)]
    return np.maximum(20 * np.log10(np.asarray(rms) + 1e-9), -60.0)


def test_the_demo_holds_speech_instructions_and_generated_motion(demo):
    assert len(PACKAGED.read_bytes()) < 1.5e6
    audio = demo.audio
    assert audio is not None and 15.0 <= audio.duration <= 25.0 and not audio.is_silent
    segments = demo.segments
    assert len(segments) >= 3 and len({s.instruction.emotion for s in segments}) >= 3
    assert segments[0].start == 0.0 and all(a.end == b.start for a, b in zip(segments, segments[1:]))
    for s in segments:
        assert compose(*parse(s.instruction.text)) == s.instruction.text     # the product's wording
        assert s.evidence["words"]                                          # what the listener heard
    track = demo.main_track
    assert track.fps == 30.0 and track.frames == round(audio.duration * 30)
    assert demo.speech_features is not None and len(demo.speech_features) == track.frames
    # The motion follows the speech: the jaw opens with the voice and rests in the pauses.
    jaw = track.data[:, INDEX["jawOpen"]]
    assert np.corrcoef(jaw, loudness_db(demo))[0, 1] > 0.4
    assert jaw.max() > 0.2 and np.degrees(np.ptp(track.head, axis=0)).max() > 1.0


def test_the_users_copy_is_made_once_and_the_packaged_file_is_never_touched(tmp_path):
    packaged = PACKAGED.read_bytes()
    path = demo_copy(tmp_path / "AVI-Talking")
    assert path == tmp_path / "AVI-Talking" / "demo.avtp" and path.read_bytes() == packaged
    project = load_project(path)
    project.segments[0].seed = 7
    save_project(project, path)                      # the user edits and saves the copy
    assert demo_copy(tmp_path / "AVI-Talking") == path and load_project(path).segments[0].seed == 7
    assert PACKAGED.read_bytes() == packaged and sorted(p.name for p in path.parent.iterdir()) == ["demo.avtp"]


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name,duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


@pytest.mark.parametrize("headless", [True, False], ids=["--headless with a display", "no display"])
def test_avitalk_demo_renders_the_demo_where_the_studio_cannot_open(tmp_path, demo, headless):
    env = {**os.environ, "HOME": str(tmp_path)}
    if headless:
        env["DISPLAY"] = os.environ.get("DISPLAY") or ":99"
    else:
        env.pop("DISPLAY", None)
        env.pop("WAYLAND_DISPLAY", None)
    out = tmp_path / "x.mp4"
    args = ["demo", "-o", out, "--width", "160", "--height", "90"] + (["--headless"] if headless else [])
    result = subprocess.run([str(AVITALK), *map(str, args)], capture_output=True, text=True, timeout=300,
                            env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"wrote {out}" in result.stdout
    assert ("needs a display" in result.stdout) == (not headless)
    streams = probe(out)
    assert streams["video"]["codec_name"] == "h264" and streams["audio"]["codec_name"] == "aac"
    for kind in ("video", "audio"):
        assert float(streams[kind]["duration"]) == pytest.approx(demo.audio.duration, abs=0.1)
    assert not (tmp_path / "AVI-Talking").exists()             # nothing copied when nothing opens it


# --- the studio -----------------------------------------------------------------------------

@pytest.fixture
def studio_parts():
    pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")
    from PySide6.QtCore import QSettings
    from studio.app import _initial_project, configure_opengl
    configure_opengl()
    return QSettings, _initial_project


def test_the_first_run_opens_the_users_copy_of_the_demo_and_later_runs_do_not(tmp_path, monkeypatch, studio_parts):
    QSettings, initial_project = studio_parts
    monkeypatch.setenv("HOME", str(tmp_path))
    settings = QSettings(str(tmp_path / "studio.ini"), QSettings.IniFormat)
    no_take = type("Args", (), {"take": None, "audio": None})()
    project, path = initial_project(no_take, settings)
    assert path == str(tmp_path / "AVI-Talking" / "demo.avtp") and len(project.segments) >= 3
    settings.setValue("recent", [path])
    project, path = initial_project(no_take, settings)
    assert path is None and project.audio is None and not project.segments


def test_the_studio_shows_the_demos_segments(qtbot, tmp_path, monkeypatch, studio_parts):
    from PySide6.QtCore import Qt
    from tests.test_studio import close, make_window
    monkeypatch.setenv("HOME", str(tmp_path))
    path = demo_copy()
    project = load_project(path)
    w = make_window(qtbot, tmp_path, project, path)
    assert w.windowTitle().startswith("demo.avtp") and not w.doc.stale and not w.worker.busy
    shown = w.timeline.segments
    assert [(v.start, v.end, v.emotion, v.text) for v in shown] == \
        [(s.start, s.end, s.instruction.emotion, s.instruction.text) for s in project.segments]
    # the user clicks the third segment in the lane: the inspector shows its instruction
    seg = project.segments[2]
    qtbot.mouseClick(w.timeline.plot.viewport(), Qt.LeftButton, pos=w.timeline.point_at((seg.start + seg.end) / 2, "lane"))
    assert w.doc.selected == 2
    assert w.inspector.text.toPlainText() == seg.instruction.text
    assert w.inspector.emotion.currentText() == seg.instruction.emotion
    close(w, qtbot)
