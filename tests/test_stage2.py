"""Stage 2 as a user meets it: the shipped motion model on real speech, through the pipeline and
the `avitalk generate` / `avitalk regen` commands (files read back by independent readers)."""

import copy
import json
import subprocess

import numpy as np
import pytest

from core.arkit import INDEX
from core.audio import load_audio
from core.export.livelink import read_livelink_csv
from core.instruct import make_writer
from core.motion.checkpoint import DEFAULT_MODEL
from tests.conftest import cut_speech
from core.pipeline import animate, listen_and_instruct, make_project, regenerate, segment_bounds, user_instruction
from core.project import MAIN_TRACK, load_project
from tests.test_cli import run

JAW = INDEX["jawOpen"]


@pytest.fixture(scope="module")
def bundle(shipped_model):
    return shipped_model


@pytest.fixture(scope="module")
def take(bundle, tmp_path_factory):
    """10 s of real speech, listened to (rules writer), animated by the shipped model."""
    audio = load_audio(cut_speech(tmp_path_factory.mktemp("speech"), 10))
    project = make_project(audio, listen_and_instruct(audio, writer=make_writer("rules")), bundle.fps)
    project.tracks[MAIN_TRACK] = animate(project, bundle)
    return project


def test_the_shipped_model_is_small_and_documented(bundle):
    assert DEFAULT_MODEL.is_file() and DEFAULT_MODEL.stat().st_size < 20e6
    assert (DEFAULT_MODEL.parent / "report.md").is_file()
    assert bundle.fps == 30.0 and 1e6 < bundle.model.parameters_count < 8e6


def test_the_jaw_moves_with_speech_and_rests_in_pauses(take):
    track = take.main_track
    feats = take.speech_features
    assert track.frames == len(feats) == 300
    speaking = feats[:, 40 + 5] > 0.5                      # the listener's speech-activity flag
    assert speaking.sum() > 60 and (~speaking).sum() > 10
    jaw = track.weights[:, JAW]
    assert jaw[speaking].mean() > jaw[~speaking].mean() + 0.05
    assert np.ptp(jaw[speaking]) > 0.2                     # it opens and closes, not a constant
    step = np.abs(np.diff(track.data, axis=0))
    assert np.percentile(step, 99) < 0.25                  # smooth: no frame-to-frame jumps


def test_regenerating_a_segment_changes_it_alone_and_is_reproducible(take, bundle):
    seg = 1 if len(take.segments) > 1 else 0
    before = take.main_track.data.copy()
    take.segments[seg].instruction = user_instruction(
        "A person feels extremely surprised and speaks with brows raised high and eyes wide open.")
    take.segments[seg].seed = 7
    a = regenerate(take, seg, bundle)
    b = regenerate(take, seg, bundle)
    start, end = segment_bounds(take.segments, take.settings.fps, len(before))[seg]
    np.testing.assert_array_equal(a.data[:start], before[:start])
    np.testing.assert_array_equal(a.data[end:], before[end:])
    np.testing.assert_array_equal(a.data, b.data)
    brows = [INDEX["browInnerUp"], INDEX["browOuterUpLeft"], INDEX["browOuterUpRight"]]
    assert a.weights[start:end, brows].mean() > before[start:end, brows].mean() + 0.05
    ordinary = np.abs(np.diff(before, axis=0)).max(0) + 1e-4
    for i in (start, end):
        if 0 < i < len(before):
            assert (np.abs(a.data[i] - a.data[i - 1]) <= ordinary).all()


def _mean(track, names: list[str]) -> float:
    return float(np.mean([track.weights[:, INDEX[n]].mean() for n in names]))


def test_the_shipped_model_follows_emotion_and_intensity_also_in_words_it_never_trained_on(take, bundle):
    def animated_with(text: str):
        project = copy.deepcopy(take)
        for seg in project.segments:
            seg.instruction = user_instruction(text)
        return animate(project, bundle)

    sad, smile = ["browInnerUp", "mouthFrownLeft", "mouthFrownRight"], ["mouthSmileLeft", "mouthSmileRight"]
    slightly, extremely = animated_with("A person feels slightly sad."), animated_with("A person feels extremely sad.")
    assert _mean(extremely, sad) > _mean(slightly, sad) + 0.15
    # "heartbroken" and "upbeat" are held-out words: no training instruction uses them
    heartbroken, upbeat = animated_with("They look heartbroken."), animated_with("They look really upbeat.")
    assert _mean(heartbroken, sad) > _mean(upbeat, sad) + 0.15
    assert _mean(upbeat, smile) > _mean(heartbroken, smile) + 0.15


def test_generate_and_regen_commands(tmp_path, speech_10s):
    project = tmp_path / "take.avtp"
    out = run("generate", speech_10s, "-o", project, "--writer", "rules", "--export", tmp_path / "t.fbx",
              "--export", tmp_path / "t.csv", "--video", tmp_path / "t.mp4", "--width", "160", "--height", "90")
    assert "wrote" in out.stdout and (tmp_path / "t.fbx").stat().st_size > 100_000
    info = json.loads(run("info", project, "--json").stdout)
    assert info["tracks"]["performance"]["frames"] == 300 and len(info["segments"]) >= 2
    assert "jawOpen" in info["tracks"]["performance"]["active_blendshapes"]
    csv = read_livelink_csv(tmp_path / "t.csv")
    np.testing.assert_allclose(csv.data, load_project(project).main_track.data, atol=2e-3)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                            str(tmp_path / "t.mp4")], capture_output=True, text=True, check=True)
    assert float(probe.stdout) == pytest.approx(10.0, abs=0.15)

    before = load_project(project)
    out = run("regen", project, "--segment", "0", "--emotion", "angry", "--intensity", "0.9", "--seed", "3")
    assert "segment 0" in out.stdout and "angry" in out.stdout
    after = load_project(project)
    end = round(after.segments[0].end * 30)
    np.testing.assert_array_equal(after.main_track.data[end:], before.main_track.data[end:])
    assert not np.array_equal(after.main_track.data[:end], before.main_track.data[:end])
    assert after.segments[0].instruction.emotion == "angry" and after.segments[0].seed == 3

    bad = run("regen", project, "--segment", "99", ok=False)
    assert bad.returncode == 2 and "no segment 99" in bad.stderr
    bad = run("generate", speech_10s, "-o", tmp_path / "x.avtp", "--model", tmp_path / "nothing", ok=False)
    assert bad.returncode == 2 and "motion model" in bad.stderr and "Traceback" not in bad.stderr


def test_one_instruction_for_every_segment(tmp_path, speech_10s):
    project = tmp_path / "angry.avtp"
    run("generate", speech_10s, "-o", project, "--writer", "rules", "--instruction", "Make this line very angry.")
    segments = json.loads(run("info", project, "--json").stdout)["segments"]
    assert {s["instruction"]["emotion"] for s in segments} == {"angry"}
    assert {s["instruction"]["writer"] for s in segments} == {"user"}
