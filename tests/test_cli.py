"""The `avitalk` command line, run as a user runs it (the installed console script)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.export.livelink import read_livelink_csv, write_livelink_csv
from tests.conftest import open_mouth_track

AVITALK = Path(sys.executable).with_name("avitalk")


def run(*args, ok=True):
    result = subprocess.run([str(AVITALK), *map(str, args)], capture_output=True, text=True, timeout=300)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def take_csv(tmp_path):
    path = tmp_path / "take.csv"
    write_livelink_csv(path, open_mouth_track(frames=30), rate=60)
    return path


def test_import_info_render_export(tmp_path, take_csv, speech_like_wav):
    project = tmp_path / "take.avtp"
    run("import", take_csv, "--audio", speech_like_wav, "-o", project)
    info = json.loads(run("info", project, "--json").stdout)
    assert info["audio"]["name"] == "take.wav" and info["audio"]["sample_rate"] == 44100
    assert info["tracks"]["performance"]["frames"] == 30
    assert "jawOpen" in info["tracks"]["performance"]["active_blendshapes"]
    assert info["segments"] == []
    assert "track performance: 30 frames" in run("info", project).stdout

    run("render", project, "-o", tmp_path / "a.mp4", "--width", "160", "--height", "90", "--antialias")
    run("render", take_csv, "--audio", speech_like_wav, "-o", tmp_path / "b.mp4", "--width", "160", "--height", "90")
    assert (tmp_path / "a.mp4").stat().st_size > 1000 and (tmp_path / "b.mp4").stat().st_size > 1000

    for suffix in (".fbx", ".glb", ".csv"):
        out = tmp_path / f"out{suffix}"
        assert "wrote" in run("export", project, "-o", out).stdout
        assert out.stat().st_size > 1000
    back = read_livelink_csv(tmp_path / "out.csv")
    np.testing.assert_allclose(back.data, open_mouth_track(frames=30).data, atol=1e-6)


def test_demo_renders_the_bundled_take(tmp_path):
    out = tmp_path / "demo.mp4"
    result = run("demo", "-o", out, "--width", "320", "--height", "180")
    assert "wrote" in result.stdout and out.stat().st_size > 10_000


def test_face_sheet(tmp_path):
    out = tmp_path / "sheet.png"
    run("face", "sheet", "-o", out)
    img = Image.open(out)
    assert img.width > 1000 and img.height > 1000


@pytest.mark.parametrize("args,message", [
    (["render", "missing.csv", "-o", "x.mp4"], "missing.csv"),
    (["export", "take.avtp", "-o", "x.obj"], "unknown export format .obj"),
    (["render", "take.txt", "-o", "x.mp4"], "expected a Live Link Face .csv"),
    (["info", "garbage.avtp"], "not an AVI-Talking project"),
    (["import", "garbage.csv", "-o", "x.avtp"], "garbage.csv"),
])
def test_bad_input_gets_a_clear_message(tmp_path, args, message):
    (tmp_path / "garbage.avtp").write_text("nope")
    (tmp_path / "garbage.csv").write_bytes(b"\x00\x01binary")
    (tmp_path / "take.txt").write_text("x")
    result = subprocess.run([str(AVITALK), *args], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("avitalk: error:") and message in result.stderr
    assert "Traceback" not in result.stderr


def test_render_needs_a_project_with_animation(tmp_path, speech_like_wav):
    from core.audio import load_audio
    from core.project import Project, save_project
    save_project(Project(audio=load_audio(speech_like_wav)), tmp_path / "empty.avtp")
    result = run("render", tmp_path / "empty.avtp", "-o", tmp_path / "x.mp4", ok=False)
    assert result.returncode == 2 and "no animation yet" in result.stderr
