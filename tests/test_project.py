"""Project files: round trips, atomic saves, and clear errors on broken or foreign files."""

import io
import json
import zipfile

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings, strategies as st

from core.audio import decode_audio
from core.project import (EMOTIONS, FORMAT_VERSION, MAIN_TRACK, Instruction, Project, ProjectError, Segment,
                          Settings, load_project, save_project)
from core.track import FaceTrack


def wav_bytes(seconds=0.5, rate=22050, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None].repeat(channels, axis=1)
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def sample_project():
    rng = np.random.default_rng(1)
    data = rng.random((45, 55)).astype(np.float32)
    return Project(
        audio=decode_audio(wav_bytes(), "take one.wav"),
        segments=[Segment(0.0, 1.2, Instruction("A person feels quite happy and smiles.", "happy", 0.7, "rules"),
                          seed=3, evidence={"words": [{"word": "hello", "start": 0.1, "end": 0.4}]}),
                  Segment(1.2, 1.5, Instruction("Calm.", "neutral", 0.2))],
        tracks={MAIN_TRACK: FaceTrack(30.0, data)},
        settings=Settings(fps=30.0, sampling_steps=6, guidance=1.5, extra={"llm": "embedded"}),
        speech_features=rng.random((45, 48)).astype(np.float32),
    )


def assert_same(a: Project, b: Project):
    assert a.segments == b.segments
    assert a.settings == b.settings
    assert a.tracks.keys() == b.tracks.keys()
    for k in a.tracks:
        assert a.tracks[k].fps == b.tracks[k].fps
        np.testing.assert_array_equal(a.tracks[k].data, b.tracks[k].data)
    if a.speech_features is None:
        assert b.speech_features is None
    else:
        np.testing.assert_array_equal(a.speech_features, b.speech_features)
    if a.audio is None:
        assert b.audio is None
    else:
        assert (a.audio.name, a.audio.sample_rate, a.audio.data) == (b.audio.name, b.audio.sample_rate, b.audio.data)
        np.testing.assert_array_equal(a.audio.samples, b.audio.samples)


def test_round_trip(tmp_path):
    p = sample_project()
    save_project(p, tmp_path / "a.avtp")
    assert_same(p, load_project(tmp_path / "a.avtp"))


def test_save_keeps_the_original_audio_bytes(tmp_path):
    p = sample_project()
    save_project(p, tmp_path / "a.avtp")
    with zipfile.ZipFile(tmp_path / "a.avtp") as z:
        doc = json.loads(z.read("project.json"))
        assert z.read(doc["audio"]["member"]) == p.audio.data


instructions = st.builds(Instruction, st.text(max_size=80), st.sampled_from(EMOTIONS),
                         st.floats(0, 1), st.sampled_from(["user", "rules", "smollm2"]))
segments = st.builds(lambda a, d, i, seed: Segment(a, a + d, i, seed),
                     st.floats(0, 600, allow_nan=False), st.floats(0.01, 30), instructions, st.integers(0, 2**31))


@settings(max_examples=30, deadline=None)
@given(st.lists(segments, max_size=6), st.integers(0, 40), st.floats(1, 120), st.booleans())
def test_round_trip_property(tmp_path_factory, segs, frames, fps, with_audio):
    rng = np.random.default_rng(frames)
    p = Project(audio=decode_audio(wav_bytes(0.2, 8000, 2), "x.wav") if with_audio else None,
                segments=segs, tracks={MAIN_TRACK: FaceTrack(fps, rng.normal(size=(frames, 55)))},
                settings=Settings(fps=fps))
    path = tmp_path_factory.mktemp("rt") / "p.avtp"
    save_project(p, path)
    assert_same(p, load_project(path))


def test_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "a.avtp"
    save_project(sample_project(), path)
    before = path.read_bytes()
    broken = sample_project()
    broken.settings.extra = {"bad": float("nan")}   # not valid JSON: the save must fail
    with pytest.raises(ValueError):
        save_project(broken, path)
    assert path.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["a.avtp"]


def test_truncated_file(tmp_path):
    path = tmp_path / "a.avtp"
    save_project(sample_project(), path)
    data = path.read_bytes()
    (tmp_path / "half.avtp").write_bytes(data[: len(data) // 2])
    with pytest.raises(ProjectError, match="half.avtp"):
        load_project(tmp_path / "half.avtp")


def test_foreign_and_garbage_files(tmp_path):
    (tmp_path / "text.avtp").write_text("hello")
    with pytest.raises(ProjectError, match="not a zip"):
        load_project(tmp_path / "text.avtp")
    with zipfile.ZipFile(tmp_path / "other.avtp", "w") as z:
        z.writestr("project.json", json.dumps({"format": "something-else", "version": 1}))
    with pytest.raises(ProjectError, match="not an AVI-Talking project"):
        load_project(tmp_path / "other.avtp")
    with zipfile.ZipFile(tmp_path / "nojson.avtp", "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(ProjectError, match="project.json is missing"):
        load_project(tmp_path / "nojson.avtp")
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "absent.avtp")


def test_newer_version_is_refused_by_name(tmp_path):
    with zipfile.ZipFile(tmp_path / "new.avtp", "w") as z:
        z.writestr("project.json", json.dumps({"format": "avi-talking-studio-project", "version": FORMAT_VERSION + 1,
                                               "segments": [], "tracks": {}}))
    with pytest.raises(ProjectError, match="newer"):
        load_project(tmp_path / "new.avtp")


def test_bad_fields_are_named(tmp_path):
    path = tmp_path / "a.avtp"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as z:
        doc = json.loads(z.read("project.json"))
        members = {n: z.read(n) for n in z.namelist() if n != "project.json"}

    def rewrite(mutate, name):
        d = json.loads(json.dumps(doc))
        mutate(d)
        out = tmp_path / name
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("project.json", json.dumps(d))
            for n, b in members.items():
                z.writestr(n, b)
        return out

    cases = {
        "emotion": lambda d: d["segments"][0]["instruction"].update(emotion="giddy"),
        "start < end": lambda d: d["segments"][0].update(start=5.0, end=1.0),
        "'tracks' is missing": lambda d: d.pop("tracks"),
        "unknown fields": lambda d: d["settings"].update(colour="red"),
    }
    for i, (match, mutate) in enumerate(cases.items()):
        with pytest.raises(ProjectError, match=match):
            load_project(rewrite(mutate, f"bad{i}.avtp"))


def test_damaged_track_member(tmp_path):
    path = tmp_path / "a.avtp"
    save_project(sample_project(), path)
    with zipfile.ZipFile(path) as z:
        doc = z.read("project.json")
    with zipfile.ZipFile(tmp_path / "b.avtp", "w") as z:
        z.writestr("project.json", doc)
        z.writestr("tracks/000.npy", b"\x93NUMPY garbage")
    with pytest.raises(ProjectError, match="track"):
        load_project(tmp_path / "b.avtp")


def test_summary_is_json(tmp_path):
    s = sample_project().summary()
    json.dumps(s)
    assert s["segments"][0]["instruction"]["writer"] == "rules"
    assert s["tracks"][MAIN_TRACK]["frames"] == 45


def test_playback_shows_each_frame_for_its_own_duration():
    from core.track import FaceTrack
    track = FaceTrack(30.0, np.arange(4 * 55, dtype=np.float32).reshape(4, 55))
    assert np.array_equal(track.frame_at(0.0), track.data[0])
    assert np.array_equal(track.frame_at(1 / 30 - 1e-6), track.data[0])     # frame 0 covers [0, 1/30)
    assert np.array_equal(track.frame_at(1 / 30 + 1e-6), track.data[1])
    assert np.array_equal(track.frame_at(-1.0), track.data[0]) and np.array_equal(track.frame_at(9.0), track.data[3])
    assert not FaceTrack.zeros(0, 30.0).frame_at(1.0).any()
