"""Bad input as a new user meets it: every case of the corpus in tests/bad_input.py through the
real entry points (`avitalk` run in-process through core.cli.main, the installed console script
twice, core.project.load_project), and a fuzz test of the project loader.

A refused input gets one line, `avitalk: error: <file>: <problem>`, exit status 2 and no
traceback; an accepted odd input gets a result and `avitalk: warning: ...` lines.
docs/bad-input.md is the table of these cases and what each gets.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from core.audio import MAX_DURATION, load_audio
from core.cli import main
from core.project import FORMAT_VERSION, Project, ProjectError, load_project, save_project
from tests import bad_input

AVITALK = Path(sys.executable).with_name("avitalk")


def avitalk(capsys, *args) -> tuple[int, str, list[str]]:
    """Run `avitalk ARGS` in this process: exit status, stdout, stderr lines."""
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err.splitlines()


def assert_refused(code: int, err: list[str], *parts: str) -> None:
    """One error line naming what `parts` name, exit status 2."""
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("avitalk: error: "), err
    for part in parts:
        assert part in err[0], (part, err[0])


def warnings_of(err: list[str]) -> list[str]:
    assert all(line.startswith("avitalk: warning: ") for line in err), err
    return [line.removeprefix("avitalk: warning: ") for line in err]


def info(capsys, project: Path) -> dict:
    code, out, err = avitalk(capsys, "info", project, "--json")
    assert code == 0 and not err
    return json.loads(out)


def listen(capsys, audio: Path, *options) -> tuple[int, dict | None, list[str]]:
    """`avitalk listen AUDIO -o ... --writer rules OPTIONS`: status, the project's summary, stderr."""
    out = audio.with_suffix(".avtp")
    code, stdout, err = avitalk(capsys, "listen", audio, "-o", out, "--writer", "rules", *options)
    if code != 0:
        return code, None, err
    assert stdout.startswith(f"wrote {out}")
    return code, info(capsys, out), err


# --- audio ----------------------------------------------------------------------------------

def test_truncated_wav_keeps_what_is_there_and_says_so(tmp_path, capsys):
    code, project, err = listen(capsys, bad_input.write_truncated_wav(tmp_path))
    assert code == 0
    assert warnings_of(err) == ["truncated.wav: the file is cut short: its header announces 3.50 s of audio "
                                "but it holds 1.75 s; only what is there is used"]
    assert project["audio"]["duration"] == pytest.approx(1.75, abs=0.01)
    assert project["segments"][-1]["end"] == pytest.approx(1.75, abs=0.01)


def test_wav_cut_inside_its_header_is_refused(tmp_path, capsys):
    code, _, err = listen(capsys, bad_input.write_truncated_header(tmp_path))
    assert_refused(code, err, "header_only.wav: not a readable audio file (")


def test_wrong_extension_is_read_by_content(tmp_path, capsys):
    path = bad_input.write_wrong_extension(tmp_path)
    code, project, err = listen(capsys, path)
    assert code == 0 and not err
    assert project["audio"] == {"name": "really_flac.wav", "sample_rate": 16000, "channels": 1, "duration": 3.5}
    assert load_project(path.with_suffix(".avtp")).audio.data == path.read_bytes()   # kept as it came
    assert "hello" in " ".join(s["evidence"].get("text", "") for s in project["segments"]).lower()


def test_text_named_wav_is_refused(tmp_path, capsys):
    code, _, err = listen(capsys, bad_input.write_text_as_wav(tmp_path))
    assert_refused(code, err, "notes.wav: not a readable audio file (Format not recognised.)")


def test_recording_given_where_a_project_is_expected(tmp_path, capsys):
    path = bad_input.write_speech(tmp_path)
    code, _, err = avitalk(capsys, "info", path)
    assert_refused(code, err, f"{path}: not an AVI-Talking project (not a zip archive)")


def test_empty_audio_file_is_refused(tmp_path, capsys):
    path = bad_input.write_empty(tmp_path)
    code, _, err = listen(capsys, path)
    assert_refused(code, err, "empty.wav: the file is empty (0 bytes)")
    code, _, err = avitalk(capsys, "generate", path, "-o", tmp_path / "g.avtp", "--writer", "rules")
    assert_refused(code, err, "empty.wav: the file is empty (0 bytes)")


def test_empty_project_file_is_refused(tmp_path, capsys):
    path = bad_input.write_empty_project(tmp_path)
    with pytest.raises(ProjectError, match="empty.avtp: the file is empty"):
        load_project(path)
    code, _, err = avitalk(capsys, "info", path)
    assert_refused(code, err, f"{path}: the file is empty (0 bytes)")


@pytest.mark.parametrize("write", [bad_input.write_rate_8k, bad_input.write_rate_8k_gsm])
def test_telephone_8k_is_listened_to(tmp_path, capsys, write):
    code, project, err = listen(capsys, write(tmp_path))
    assert code == 0 and not err
    assert project["audio"]["sample_rate"] == 8000 and project["audio"]["duration"] == pytest.approx(3.5, abs=0.05)
    words = [w["text"].lower() for s in project["segments"] for w in s["evidence"]["words"]]
    assert "hello" in " ".join(words) and len(words) >= 5


def test_96k_six_channels_generates(tmp_path, capsys):
    """Both stages on a 96 kHz 5.1 file; the project keeps the original file byte for byte."""
    path = bad_input.write_rate_96k_6ch(tmp_path)
    out = tmp_path / "surround.avtp"
    code, stdout, err = avitalk(capsys, "generate", path, "-o", out, "--writer", "rules")
    assert code == 0 and not err and stdout.startswith(f"wrote {out}: ")
    project = info(capsys, out)
    assert project["audio"] == {"name": "surround_96k.wav", "sample_rate": 96000, "channels": 6, "duration": 3.5}
    assert project["tracks"]["performance"]["frames"] == 105 and project["tracks"]["performance"]["active_blendshapes"]
    assert len(project["segments"]) >= 2
    assert load_project(out).audio.data == path.read_bytes()


def test_one_hour_file_loads_in_bounded_time_and_memory(tmp_path, capsys):
    """An hour is within MAX_DURATION, so it is accepted; listening to it is not run here (about
    4.5 min on this machine, after the measured 133 s for 30 min). What is checked is what the
    user meets first: reading it, the 16 kHz analysis copy, and a project holding it."""
    assert MAX_DURATION > 3600
    path = bad_input.write_hour(tmp_path)
    tracemalloc.start()
    try:
        t0 = time.perf_counter()
        audio = load_audio(path)
        load_s, (_, load_peak) = time.perf_counter() - t0, tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        t0 = time.perf_counter()
        analysis = audio.mono16k
        mono_s, (_, mono_peak) = time.perf_counter() - t0, tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert audio.duration == 3600 and len(analysis) == 3600 * 16000 and not audio.warnings
    # the file's bytes (57.6 MB, kept for saving) + its samples as float32 (115 MB): 202 MB here
    assert load_s < 10 and load_peak < 250e6, (load_s, load_peak)
    # + the 16 kHz copy (230 MB) and the resampler's working space: 749 MB here
    assert mono_s < 20 and mono_peak < 1e9, (mono_s, mono_peak)
    save_project(Project(audio=audio), tmp_path / "hour.avtp")
    code, out, err = avitalk(capsys, "info", tmp_path / "hour.avtp")
    assert code == 0 and "audio: hour.wav, 3600.00 s, 8000 Hz, 1 ch" in out


def test_longer_than_three_hours_is_refused_before_reading(tmp_path, capsys):
    path = bad_input.write_over_limit(tmp_path)
    t0 = time.perf_counter()
    code, _, err = listen(capsys, path)
    assert_refused(code, err, "three_hours.wav: 3.2 hours of audio is longer than the 3 hours this program "
                              "accepts; split it first")
    assert time.perf_counter() - t0 < 2


def test_silence_gets_one_neutral_segment_and_a_warning(tmp_path, capsys):
    code, project, err = listen(capsys, bad_input.write_silence(tmp_path))
    assert code == 0
    assert warnings_of(err) == ["the take is silent (or shorter than 0.1 s): no speech to listen to"]
    [segment] = project["segments"]
    assert (segment["start"], segment["end"], segment["instruction"]["emotion"]) == (0.0, 3.0, "neutral")


def test_clipping_noise_gets_one_neutral_segment_and_warnings(tmp_path, capsys):
    code, project, err = listen(capsys, bad_input.write_clipping_noise(tmp_path))
    assert code == 0
    clipped, nothing = warnings_of(err)
    assert clipped.startswith("clipping_noise.wav: ") and clipped.endswith(
        "% of the samples are at full scale: the recording is clipped (distorted), which makes the speech "
        "harder to recognise")
    assert 50 < int(clipped.split(": ")[1].split("%")[0]) < 100
    assert nothing == "no speech was detected in the take (music, noise or silence?)"
    [segment] = project["segments"]
    assert segment["instruction"]["emotion"] == "neutral" and segment["end"] == 3.0


# --- projects -------------------------------------------------------------------------------

def test_project_cut_in_half_is_refused(tmp_path, capsys):
    path = bad_input.write_project_half(tmp_path)
    message = f"{path}: the project file is truncated or damaged (the end of the archive, its table of contents, is missing)"
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    assert str(caught.value) == message
    code, _, err = avitalk(capsys, "info", path)
    assert_refused(code, err, message)


def test_project_from_a_newer_version_is_refused_by_version(tmp_path, capsys):
    path = bad_input.write_project_future(tmp_path)
    newer = FORMAT_VERSION + 1
    message = (f"{path}: saved by a newer AVI-Talking Studio (project format {newer}); this version reads "
               f"format {FORMAT_VERSION} and older, so a newer AVI-Talking Studio is needed to open it")
    with pytest.raises(ProjectError) as caught:
        load_project(path)
    assert str(caught.value) == message
    for command in (["info", path], ["regen", path, "--segment", "0"], ["export", path, "-o", tmp_path / "x.csv"]):
        code, _, err = avitalk(capsys, *command)
        assert_refused(code, err, message)


def test_console_script_refuses_without_a_traceback(tmp_path):
    """The installed `avitalk`, as a user runs it, on an empty recording and a cut project."""
    empty, half = bad_input.write_empty(tmp_path), bad_input.write_project_half(tmp_path)
    for args, message in ((["listen", empty, "-o", tmp_path / "x.avtp"], "empty.wav: the file is empty (0 bytes)"),
                          (["info", half], f"{half}: the project file is truncated or damaged")):
        result = subprocess.run([str(AVITALK), *map(str, args)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 2 and result.stdout == ""
        assert result.stderr.splitlines() == [result.stderr.strip()], result.stderr
        assert result.stderr.startswith(f"avitalk: error: {message}")


# --- instruction endpoints ------------------------------------------------------------------

def test_unreachable_endpoint_falls_back_to_the_rules(tmp_path, capsys):
    url = bad_input.closed_port_url()
    t0 = time.perf_counter()
    code, project, err = listen(capsys, bad_input.write_speech(tmp_path), "--llm-url", url)
    assert code == 0 and time.perf_counter() - t0 < 30
    [warning] = warnings_of(err)
    assert warning == (f"{url}/chat/completions is unreachable (Connection refused); "
                       "the rule-based writer wrote the segments it could not")
    assert len(project["segments"]) >= 2
    assert {s["instruction"]["writer"] for s in project["segments"]} == {"rules"}


def test_endpoint_answering_nonsense_falls_back_per_segment(tmp_path, capsys):
    speech = bad_input.write_speech(tmp_path)
    with bad_input.nonsense_server() as server:
        code, project, err = listen(capsys, speech, "--llm-url", server.url, "--llm-model", "junk")
    assert code == 0
    n = len(project["segments"])
    assert n >= 2 and len(server.requests) == 2 * n            # each segment asked twice, then the rules
    reply = repr(bad_input.NONSENSE)
    assert warnings_of(err) == [f"segment {i}: endpoint:junk gave no valid answer (no JSON object in the reply: "
                                f"{reply}); the rules wrote it" for i in range(n)]
    assert {s["instruction"]["writer"] for s in project["segments"]} == {"rules"}
    assert all(s["instruction"]["text"].startswith("A person feels") for s in project["segments"])


# --- fuzzing the project loader -------------------------------------------------------------

@pytest.fixture(scope="module")
def small_project(tmp_path_factory) -> bytes:
    """A valid .avtp of 0.2 s (about 10 KB), so mutations often land in its structure."""
    path = tmp_path_factory.mktemp("fuzz") / "small.avtp"
    save_project(bad_input.make_project(seconds=0.2), path)
    return path.read_bytes()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    """Where the fuzz tests write each example (over the previous one)."""
    return tmp_path_factory.mktemp("fuzzed")


def load_or_refuse(path: Path) -> None:
    """What every file must get: a project a user can inspect (`avitalk info` and its --json
    describe it), or a one-line ProjectError naming the file, which `avitalk info` prints as its
    error. Any other exception fails the test."""
    try:
        project = load_project(path)
    except ProjectError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") and "\n" not in message, message
        expected = (2, f"avitalk: error: {message}\n")
    else:
        json.dumps(project.summary())
        expected = (0, "")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["info", str(path)])
    assert (code, err.getvalue()) == expected


mutations = st.lists(st.tuples(st.sampled_from(["set", "delete", "insert"]), st.floats(0, 1),
                               st.binary(min_size=1, max_size=4)), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(cut=st.none() | st.floats(0, 1), edits=mutations)
def test_fuzz_project_bytes(small_project, fuzz_dir, cut, edits):
    """Random byte edits and truncations of a valid project file."""
    data = bytearray(small_project)
    for kind, where, chunk in edits:
        i = int(where * (len(data) - 1))
        if kind == "set":
            data[i:i + len(chunk)] = chunk
        elif kind == "delete":
            del data[i:i + len(chunk)]
        else:
            data[i:i] = chunk
    if cut is not None:
        data = data[:int(cut * len(data))]
    path = fuzz_dir / "mutated.avtp"
    path.write_bytes(bytes(data))
    load_or_refuse(path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from([10 ** 400, 2 ** 63, -1, 0, 1e308, "", "performance", "tracks/000.npy", "audio/speech.wav"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10)


def changed(value, data, depth: int = 0):
    """`value` with one thing somewhere inside it replaced by a random JSON value, deleted, or
    joined by an unknown field (where hypothesis walks down is its choice; the document itself
    is never replaced whole)."""
    keys = list(value) if isinstance(value, dict) else list(range(len(value))) if isinstance(value, list) else []
    # "format" and "version" last: hypothesis favours the first choices, and a wrong format or
    # version stops the loader before it reads anything else
    keys.sort(key=lambda k: k in ("format", "version"))
    if keys and (depth == 0 or data.draw(st.integers(0, 3)) < 3):
        key = data.draw(st.sampled_from(keys))
        copy = dict(value) if isinstance(value, dict) else list(value)
        action = data.draw(st.sampled_from(["descend", "descend", "delete", "add"]))
        if action == "delete":
            del copy[key]
        elif action == "add" and isinstance(copy, dict):
            copy[data.draw(st.text(max_size=10))] = data.draw(json_values)
        else:
            copy[key] = changed(value[key], data, depth + 1)
        return copy
    return data.draw(json_values)


def change_json(doc, data):
    """One to three changes inside the document, or (one time in five) a random document."""
    if data.draw(st.integers(0, 4)) == 4:
        return data.draw(json_values)
    for _ in range(data.draw(st.integers(1, 3))):
        doc = changed(doc, data)
    return doc


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_fuzz_project_json(small_project, fuzz_dir, data):
    """Random JSON in project.json (NaN and Infinity included, as Python's json writes them)."""
    (fuzz_dir / "small.avtp").write_bytes(small_project)
    path = bad_input.rewrite_project_json(fuzz_dir / "small.avtp", fuzz_dir / "changed.avtp",
                                          lambda doc: change_json(doc, data))
    load_or_refuse(path)


def test_fuzz_base_project_loads(small_project, tmp_path):
    """The fuzz tests start from a project that loads (so refusals are the mutations' doing)."""
    (tmp_path / "small.avtp").write_bytes(small_project)
    project = load_project(tmp_path / "small.avtp")
    assert len(project.segments) == 2 and project.audio.duration == pytest.approx(0.2)
