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


def test_listen_writes_instructed_segments_with_evidence(tmp_path, speech_10s):
    project = tmp_path / "take.avtp"
    result = run("listen", speech_10s, "-o", project)
    assert "segments over 10.0 s" in result.stdout
    info = json.loads(run("info", project, "--json").stdout)
    segments = info["segments"]
    assert len(segments) >= 2
    assert segments[0]["start"] == 0.0 and segments[-1]["end"] == pytest.approx(10.0, abs=0.05)
    for a, b in zip(segments, segments[1:]):
        assert a["end"] == b["start"]
    words = [w for s in segments for w in s["evidence"]["words"]]
    assert len(words) >= 8 and all(s["evidence"]["prosody"] for s in segments if s["evidence"]["words"])
    assert all(w["start"] <= w["end"] for w in words)
    assert {s["instruction"]["writer"] for s in segments} <= {"minilm", "smollm2-135m", "rules"}
    assert all(s["instruction"]["text"].startswith("A person feels") for s in segments)


def test_listen_with_an_unreachable_endpoint_falls_back_to_rules(tmp_path, speech_10s):
    project = tmp_path / "take.avtp"
    result = run("listen", speech_10s, "-o", project, "--llm-url", "http://127.0.0.1:9/v1", "--writer", "rules")
    assert "warning" in result.stderr and "rule" in result.stderr
    info = json.loads(run("info", project, "--json").stdout)
    assert {s["instruction"]["writer"] for s in info["segments"]} == {"rules"}


def test_listen_to_silence(tmp_path):
    import soundfile as sf
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000 * 3, np.float32), 16000)
    result = run("listen", path, "-o", tmp_path / "s.avtp", "--writer", "rules")
    assert "warning" in result.stderr
    info = json.loads(run("info", tmp_path / "s.avtp", "--json").stdout)
    assert len(info["segments"]) == 1 and info["segments"][0]["instruction"]["emotion"] == "neutral"
