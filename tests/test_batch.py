"""`avitalk batch`: manifests (CSV and JSONL) of real speech lines cut from
tests/data/listen/sample.wav, run by local worker processes and by a real local Ray instance;
the projects and exports read back (ufbx, the Live Link reader), the report, resuming after a
finished, a changed or an interrupted run, and equal results however the lines are spread."""

import json
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.arkit import BLENDSHAPES
from core.batch import BatchError, BatchSettings, read_report, run_batch
from core.manifest import ManifestError, read_manifest
from core.export.livelink import read_livelink_csv
from core.face import load_rig
from core.project import load_project
from tests.test_cli import AVITALK, run
from tests.test_export_fbx import _check_with_ufbx

SAMPLE = Path(__file__).parent / "data" / "listen" / "sample.wav"
# (start, seconds) of real speech in the sample. These pieces Whisper decodes greedily; a piece
# it has to decode again by sampling (temperature above 0) comes out differently in every
# process, batch or not, so it cannot be compared between runs.
PIECES = {"s0": (5.0, 2.5), "s1": (7.5, 3.0), "s2": (10.0, 2.5), "s3": (12.5, 3.0)}
SCRIPT = "Hello. Oh, hello. I didn't know you were there."
SAD = "A person feels very sad and speaks with lip corners strongly pulled down."
SETTINGS = BatchSettings(writer="rules", threads=1, width=160, height=90)
OPTIONS = ("--writer", "rules", "--threads", "1", "--width", "160", "--height", "90")
DONE = ["greet", "angry", "told", "s3", "s3-2"]
FAILED = ["broken", "bademo", "badfmt", "noaudio"]

MANIFEST = f"""\
id,audio,script,instruction,emotion,intensity,seed,exports,character
greet,audio/s1.wav,"{SCRIPT}",,,,,fbx;csv,Ann
angry,audio/s0.wav,,,angry,0.9,3,csv,Bob
told,audio/s2.wav,,{SAD},,,,mp4,Ann
broken,audio/broken.wav,,,,,,csv,Bob
,audio/s3.wav,,,,,,,Ann
,audio/s3.wav,,,Joyful,,7,,Ann
bademo,audio/s0.wav,,,furious-ish,,,,Bob
badfmt,audio/s0.wav,,,,,,fbx;obj,Bob
noaudio,,,,,,,,Bob
"""
ROWS = [
    {"id": "greet", "audio": "audio/s1.wav", "script": SCRIPT, "exports": ["fbx", "csv"], "character": "Ann"},
    {"id": "angry", "audio": "audio/s0.wav", "emotion": "angry", "intensity": 0.9, "seed": 3, "exports": "csv"},
    {"id": "told", "audio": "audio/s2.wav", "instruction": SAD, "exports": "mp4"},
    {"id": "broken", "audio": "audio/broken.wav", "exports": "csv"},
    {"audio": "audio/s3.wav"},
    {"audio": "audio/s3.wav", "emotion": "Joyful", "seed": 7},
    {"id": "bademo", "audio": "audio/s0.wav", "emotion": "furious-ish"},
    {"id": "badfmt", "audio": "audio/s0.wav", "exports": "fbx;obj"},
    {"id": "noaudio"},
]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """lines.csv, lines.jsonl and reversed.csv (the same nine lines) beside audio/: four pieces
    of real speech and a damaged WAV file."""
    folder = tmp_path_factory.mktemp("batch")
    (folder / "audio").mkdir()
    x, rate = sf.read(SAMPLE)
    for name, (start, seconds) in PIECES.items():
        sf.write(folder / "audio" / f"{name}.wav", x[int(start * rate):int((start + seconds) * rate)], rate)
    (folder / "audio" / "broken.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt junk that is no audio")
    (folder / "lines.csv").write_text(MANIFEST, encoding="utf-8")
    (folder / "lines.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    given = MANIFEST.replace("\n,audio/s3.wav,,,,", "\ns3,audio/s3.wav,,,,").replace("\n,audio/s3.wav", "\ns3-2,audio/s3.wav")
    header, *rows = given.splitlines()
    (folder / "reversed.csv").write_text("\n".join([header, *rows[::-1]]) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def two_workers(data):
    """The command as a user runs it: two worker processes."""
    out = data / "out2"
    return out, run("batch", data / "lines.csv", "-o", out, "--workers", "2", *OPTIONS, ok=False)


@pytest.fixture(scope="module")
def one_worker(data):
    """The same lines in this process's hands with one worker, in the opposite order (so each
    line follows another line than in the other runs)."""
    out = data / "out1"
    return out, run_batch(data / "reversed.csv", out, SETTINGS, workers=1)


def project_of(out: Path, ident: str):
    return load_project(out / ident / f"{ident}.avtp")


def assert_same_lines(a: Path, b: Path) -> None:
    """Every finished line's project is the same: segments, speech features and motion, bit for bit."""
    for ident in DONE:
        p, q = project_of(a, ident), project_of(b, ident)
        assert [asdict(s) for s in p.segments] == [asdict(s) for s in q.segments], ident
        np.testing.assert_array_equal(p.speech_features, q.speech_features, err_msg=ident)
        np.testing.assert_array_equal(p.main_track.data, q.main_track.data, err_msg=ident)


# --- the manifest -------------------------------------------------------------------------

def test_csv_and_jsonl_manifests_read_alike(data):
    a, b = read_manifest(data / "lines.csv"), read_manifest(data / "lines.jsonl")
    fields = lambda m: [{k: v for k, v in asdict(line).items() if k != "number"} for line in m.lines]  # noqa: E731
    assert fields(a) == fields(b)
    lines = {line.id: line for line in a.lines}
    assert list(lines) == DONE[:3] + ["broken", "s3", "s3-2", "bademo", "badfmt", "noaudio"]
    greet = lines["greet"]
    assert greet.audio == str(data / "audio" / "s1.wav") and greet.script == SCRIPT and greet.exports == ("fbx", "csv")
    assert (lines["angry"].emotion, lines["angry"].intensity, lines["angry"].seed) == ("angry", 0.9, 3)
    assert lines["told"].instruction == SAD and lines["told"].number == 4
    assert lines["s3-2"].emotion == "happy" and lines["s3-2"].seed == 7 and lines["s3"].exports == ()
    assert not any(lines[i].problem for i in DONE + ["broken"])
    assert lines["bademo"].problem.startswith("unknown emotion 'furious-ish'; expected one of neutral")
    assert lines["badfmt"].problem.startswith("unknown export format 'obj'")
    assert lines["noaudio"].problem.startswith("no audio file given")
    assert a.warnings == [f"{data / 'lines.csv'}: field 'character' is not used (the fields are id, audio, script, "
                          f"instruction, emotion, intensity, seed, exports, language)"]


def test_bad_rows_are_reported_one_by_one(tmp_path):
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text('{"id": "a", "audio": "a.wav", "seed": "x"}\n'
                     '{"id": "b", "audio": "b.wav", "intensity": 2}\n'
                     '{"id": "a", "audio": "c.wav"}\n'
                     '{"audio": "d.wav", "exports": "none"}\n'
                     '{"audio": "e.wav"\n'
                     '["f.wav"]\n'
                     '{"audio": 5}\n'
                     '{"AUDIO": "g.wav"}\n', encoding="utf-8")
    lines = read_manifest(jsonl, default_exports=("glb",)).lines
    assert [line.id for line in lines] == ["a", "b", "a-2", "d", "line5", "line6", "line7", "g"]
    assert [line.problem.split(" (")[0] for line in lines] == [
        "seed must be a whole number from 0 to 9223372036854775807, got 'x'",
        "intensity must be a number from 0 to 1, got 2",
        "id 'a' is used by an earlier line", "", "not valid JSON", "a JSONL line must be an object, got list",
        "'audio' must be text, got 5", ""]
    assert lines[3].exports == () and lines[7].exports == ("glb",) and lines[7].audio == str(tmp_path / "g.wav")

    csv = tmp_path / "m.csv"       # semicolons, an unquoted separator inside the script
    csv.write_text("Audio;Script\nx.wav;Hello\ny.wav;Hello; there\n", encoding="utf-8")
    ok, extra = read_manifest(csv).lines
    assert ok.script == "Hello" and not ok.problem
    assert extra.problem.startswith("the row has more cells than the header has columns")


def test_an_unreadable_manifest_is_a_one_line_error(tmp_path):
    (tmp_path / "empty.csv").write_text("  \n")
    (tmp_path / "noaudio.csv").write_text("file,script\nx.wav,hi\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x01audio")
    for name, message in (("missing.csv", "no such file"), ("empty.csv", "the manifest is empty"),
                          ("noaudio.csv", "with at least 'audio'"), ("binary.csv", "not a text file in UTF-8")):
        with pytest.raises(ManifestError, match=message):
            read_manifest(tmp_path / name)
    result = run("batch", tmp_path / "noaudio.csv", "-o", tmp_path / "out", ok=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"avitalk: error: {tmp_path / 'noaudio.csv'}: the first row must be a header")
    result = run("batch", tmp_path / "noaudio.csv", "-o", tmp_path / "out", "--exports", "fbx,max", ok=False)
    assert result.returncode == 2 and "--exports: unknown export format 'max'" in result.stderr


# --- running ------------------------------------------------------------------------------

def test_each_line_becomes_a_project_with_its_exports(data, two_workers):
    out, result = two_workers
    assert result.returncode == 1, result.stderr          # some lines failed
    assert "5 done, 4 failed, 0 skipped of 9 lines in" in result.stdout and "lines/min" in result.stdout
    assert "field 'character' is not used" in result.stderr and "[6/6]" in result.stderr

    angry = project_of(out, "angry")
    assert {(s.instruction.emotion, s.instruction.intensity) for s in angry.segments} == {("angry", 0.9)}
    assert angry.settings.extra["batch"]["seed"] == 3
    told = project_of(out, "told")
    assert {s.instruction.text for s in told.segments} == {SAD}
    assert {s.instruction.emotion for s in project_of(out, "s3-2").segments} == {"happy"}
    greet = project_of(out, "greet")
    assert greet.settings.extra["stage1"]["script"] is True
    words = [w["text"] for s in greet.segments for w in s.evidence["words"]]
    assert " ".join(words) == SCRIPT
    for ident, seconds in (("greet", 3.0), ("angry", 2.5), ("told", 2.5)):
        track = project_of(out, ident).main_track
        assert track.frames == round(seconds * 30) and track.fps == 30.0
        assert np.ptp(track.weights[:, BLENDSHAPES.index("jawOpen")]) > 0.05      # it speaks

    track = greet.main_track
    rig = load_rig()
    sample = np.unique(np.r_[np.linspace(0, rig.num_vertices - 1, 200).astype(int),
                             np.flatnonzero(np.abs(rig.deltas[BLENDSHAPES.index("jawOpen")]).max(1) > 0)[:100]])
    _check_with_ufbx(out / "greet" / "greet.fbx", rig, track, vertex_sample=sample)
    for ident in ("greet", "angry"):
        np.testing.assert_allclose(read_livelink_csv(out / ident / f"{ident}.csv").data,
                                   project_of(out, ident).main_track.data, atol=2e-3)
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,width,height:format=duration",
                            "-of", "json", str(out / "told" / "told.mp4")], capture_output=True, text=True, check=True)
    info = json.loads(probe.stdout)
    assert float(info["format"]["duration"]) == pytest.approx(2.5, abs=0.1)
    assert {(st["codec_type"], st.get("width")) for st in info["streams"]} == {("video", 160), ("audio", None)}
    assert sorted(p.name for p in (out / "told").iterdir()) == ["done.json", "told.avtp", "told.mp4"]
    assert not (out / "broken").exists() or not (out / "broken" / "done.json").exists()


def test_the_report_lists_every_line(data, two_workers):
    out, _ = two_workers
    rows = read_report(out / "report.csv")
    assert [r["id"] for r in rows] == DONE[:3] + ["broken", "s3", "s3-2", "bademo", "badfmt", "noaudio"]
    assert [r["line"] for r in rows] == [str(n) for n in range(2, 11)]
    status = {r["id"]: r for r in rows}
    assert {i for i, r in status.items() if r["status"] == "done"} == set(DONE)
    assert {i for i, r in status.items() if r["status"] == "failed"} == set(FAILED)
    for ident in DONE:
        r = status[ident]
        assert r["error"] == "" and r["worker"] and float(r["duration_s"]) in (2.5, 3.0) and int(r["segments"]) >= 1
        stages = [float(r[f"{s}_s"]) for s in ("read", "listen", "instruct", "animate", "save", "export")]
        assert min(stages) >= 0 and stages[1] > 0 and stages[3] > 0
        assert float(r["total_s"]) == pytest.approx(sum(stages), abs=4e-3)     # each rounded to 1 ms
        assert all((out / o).is_file() for o in r["outputs"].split(";"))
    assert status["greet"]["outputs"] == "greet/greet.avtp;greet/greet.fbx;greet/greet.csv"
    assert status["broken"]["error"].startswith("broken.wav: not a readable audio file")
    assert status["broken"]["worker"] and status["broken"]["outputs"] == ""
    assert status["bademo"]["error"].startswith("unknown emotion") and status["bademo"]["worker"] == ""
    assert status["noaudio"]["error"].startswith("no audio file given")


def test_two_workers_give_what_one_gives(two_workers, one_worker):
    out1, summary = one_worker
    assert (summary.count("done"), summary.count("failed"), summary.processed) == (5, 4, 6)
    assert len({r.worker for r in summary.results if r.worker}) == 1
    assert_same_lines(two_workers[0], out1)
    for ident in ("greet", "angry"):
        assert (out1 / ident / f"{ident}.csv").read_bytes() == (two_workers[0] / ident / f"{ident}.csv").read_bytes()


def test_a_rerun_skips_what_is_done_and_redoes_what_changed(data, one_worker, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(one_worker[0], out)
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.avtp")}
    again = run_batch(data / "lines.csv", out, SETTINGS, workers=1)
    status = {r.id: r.status for r in again.results}
    assert status == {**{i: "skipped" for i in DONE}, **{i: "failed" for i in FAILED}}
    assert again.processed == 1                            # the broken line is tried again
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.avtp")} == stamps
    assert {r["id"]: r["status"] for r in read_report(out / "report.csv")} == status

    (out / "greet" / "greet.fbx").unlink()                 # an output lost
    changed = (data / "lines.csv").read_text().replace("angry,0.9,3,csv", "angry,0.9,4,csv")
    (data / "changed.csv").write_text(changed)             # a row changed
    before = project_of(out, "angry").main_track.data
    third = run_batch(data / "changed.csv", out, SETTINGS, workers=1)
    status = {r.id: r.status for r in third.results}
    assert status == {"greet": "done", "angry": "done", "told": "skipped", "s3": "skipped", "s3-2": "skipped",
                      **{i: "failed" for i in FAILED}}
    assert (out / "greet" / "greet.fbx").is_file()
    angry = project_of(out, "angry")
    assert angry.settings.extra["batch"]["seed"] == 4 and not np.array_equal(angry.main_track.data, before)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.avtp") if p.parent.name in ("told", "s3", "s3-2")} == \
        {p: t for p, t in stamps.items() if p.parent.name in ("told", "s3", "s3-2")}


def wait_for_first_line(proc: subprocess.Popen, progress: str, seconds: float) -> str:
    """Read a running `avitalk batch`'s stderr until its progress line `progress` (e.g. "[1/8]":
    the first line finished), failing if it does not come within `seconds` or the batch ends;
    what was read."""
    seen = ""
    deadline = time.monotonic() + seconds
    while progress not in seen and time.monotonic() < deadline and proc.poll() is None:
        seen += proc.stderr.readline()
    assert progress in seen, seen
    return seen


def test_ctrl_c_keeps_the_finished_lines(data, tmp_path):
    manifest = tmp_path / "many.csv"
    manifest.write_text("id,audio\n" + "".join(f"n{k},{data / 'audio' / 's0.wav'}\n" for k in range(8)))
    out = tmp_path / "out"
    proc = subprocess.Popen([str(AVITALK), "batch", str(manifest), "-o", str(out), "--workers", "1", *OPTIONS],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_first_line(proc, "[1/8]", 180)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert "interrupted; run the same command again" in stderr and "not run" in stdout
    rows = read_report(out / "report.csv")
    done = [r for r in rows if r["status"] == "done"]
    assert done and len(done) < 8 and {r["status"] for r in rows} == {"done", "pending"}
    assert all((out / r["id"] / "done.json").is_file() for r in done)
    pid = int(done[0]["worker"].rsplit(":", 1)[1])         # the worker process is gone
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text() \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()


def test_ray_gives_what_the_local_run_gives(data, one_worker, tmp_path):
    import ray
    out = tmp_path / "ray"
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)   # a real local Ray instance
    try:
        address = ray.get_runtime_context().gcs_address
        result = run("batch", data / "lines.jsonl", "-o", out, "--ray", address, "--workers", "2", *OPTIONS, ok=False)
    finally:
        ray.shutdown()
    assert result.returncode == 1, result.stderr
    assert "Ray: 2 workers of 1 thread on a cluster of 2 CPUs" in result.stderr
    assert "5 done, 4 failed, 0 skipped of 9 lines" in result.stdout
    rows = read_report(out / "report.csv")
    assert {r["id"]: r["status"] for r in rows} == {r.id: r.status for r in one_worker[1].results}
    assert len({r["worker"] for r in rows if r["worker"]}) == 2          # both actors got lines at once
    assert_same_lines(one_worker[0], out)


def test_ray_missing_or_out_of_reach_is_a_clear_error(data, tmp_path, monkeypatch):
    with monkeypatch.context() as m:
        m.setitem(sys.modules, "ray", None)              # as if the batch extra were not installed
        with pytest.raises(BatchError, match=r"--ray needs the 'ray' package: pip install '[\w-]+\[batch\]'"):
            run_batch(data / "lines.csv", tmp_path / "a", SETTINGS, ray="local")
    with pytest.raises(BatchError, match="cannot reach the Ray cluster at 127.0.0.1:1 .*use --ray local"):
        run_batch(data / "lines.csv", tmp_path / "b", SETTINGS, ray="127.0.0.1:1")
