"""Bad input to `avitalk batch`: manifests as spreadsheets and scripts write them (quoted headers,
Unicode line breaks in JSONL, a quote left open), numbers out of the loader's ranges, rows whose
audio is a device, a FIFO or a folder, a manifest that is no file, a fuzz of the manifest
reader; and stopping a running batch (SIGTERM to the batch or its whole process group, SIGKILL)
with real worker processes on real speech (tests/bad_input.py's 3.5 s cut), through the
installed console script.

A manifest that cannot be used gets one line naming the file (and the line in it), exit status
2; a row that cannot run is a `failed` line of the report, the others run, exit status 1.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from core import limits
from core.batch import read_report
from core.limits import MAX_SCRIPT_CHARS
from core.manifest import (COLUMNS, EXPORT_FORMATS, MAX_LINES, MAX_MANIFEST_BYTES, REPORT_NAME, Manifest, ManifestError,
                           read_manifest)
from core.project import EMOTIONS, load_project
from tests import bad_input
from tests.bad_input import run_measured
from tests.test_batch import wait_for_first_line
from tests.test_cli import AVITALK

OPTIONS = ("--writer", "rules", "--threads", "1")


def write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))             # as given: no newline translation
    return path


def refused(path: Path, *parts: str) -> str:
    with pytest.raises(ManifestError) as info:
        read_manifest(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and len(message.splitlines()) == 1, message
    for part in parts:
        assert part in message, (part, message)
    return message


# --- manifests as they are written --------------------------------------------------------

def test_fully_quoted_header_as_spreadsheets_write_it(tmp_path):
    """`"id","audio","script"` (pandas with QUOTE_ALL, Excel's quoted CSV, LibreOffice), also
    with semicolons and with a space after each separator."""
    rows = [["id", "audio", "script", "seed"], ["a", "a.wav", 'He said "hi", then left.', "3"], ["b", "b.wav", "", ""]]
    for name, delimiter in (("comma.csv", ","), ("semicolon.csv", ";")):
        with open(tmp_path / name, "w", newline="", encoding="utf-8") as f:
            csv.writer(f, delimiter=delimiter, quoting=csv.QUOTE_ALL).writerows(rows)
        lines = read_manifest(tmp_path / name).lines
        assert [(x.id, x.audio, x.script, x.seed, x.problem) for x in lines] == [
            ("a", str(tmp_path / "a.wav"), 'He said "hi", then left.', 3, ""),
            ("b", str(tmp_path / "b.wav"), "", 0, "")]
        assert [x.number for x in lines] == [2, 3]
    write(tmp_path / "spaced.csv", '"id", "audio", "script"\r\n"a", "a.wav", "Yes, sir."\r\n')
    (line,) = read_manifest(tmp_path / "spaced.csv").lines
    assert (line.id, line.script, line.problem) == ("a", "Yes, sir.", "")


def test_jsonl_lines_end_at_newlines_only(tmp_path):
    """U+2028, U+2029, U+0085 and form feeds are valid inside a JSON string (unescaped, as
    ensure_ascii=False writes them) and do not end a line; \\r\\n does."""
    scripts = ["Well\u2028then.", "One\u2029two", "A\x85B", "page\x0cbreak", "tab\x0bbed"]
    text = "".join(json.dumps({"audio": f"{k}.wav", "script": s}, ensure_ascii=False) + "\r\n"
                   for k, s in enumerate(scripts))
    lines = read_manifest(write(tmp_path / "m.jsonl", text)).lines
    assert [(x.number, x.script, x.problem) for x in lines] == [(k + 1, s, "") for k, s in enumerate(scripts)]


@pytest.mark.parametrize("text, line, part", [
    # the quote of line 3 never closes: it would take in lines 4 and 5
    ('id,audio,script\na,a.wav,Hi\nb,b.wav,"Oh no\nc,c.wav,Bye\nd,d.wav,Yes\n', 3, "never closed"),
    # ... closes at a quote meant as text on line 4, followed by more of that row
    ('id,audio,script\na,a.wav,Hi\nb,b.wav,"Oh no\nc,c.wav,"Bye" she said\nd,d.wav,Yes\n', 3, "closed on line 4"),
    # ... closes at the end of line 4: valid CSV, but line 4 is a row of its own
    ('id,audio,script\na,a.wav,Hi\nb,b.wav,"Oh no\nc,c.wav,Bye"\nd,d.wav,Yes\n', 3, "rows of their own"),
    # a quote in the header
    ('"id,audio,script\na,a.wav,Hi\n', 1, "never closed"),
    # an id cell over two lines
    ('id;audio\n"a\nb";a.wav\n', 2, "the quoted 'id' runs on to line 3"),
    # a quoted cell with text after its closing quote
    ('audio,script\na.wav,"Hello" there\n', 2, "goes on after its closing quote"),
])
def test_a_quote_left_open_is_refused_by_its_line(tmp_path, text, line, part):
    refused(write(tmp_path / "m.csv", text), f"line {line}: ", part)


def test_a_quoted_script_may_run_over_lines(tmp_path):
    """What a spreadsheet writes for a cell with line breaks: kept, and the next row's number
    is its own line."""
    text = 'id,audio,script\r\na,a.wav,"First line,\r\nsecond line."\r\nb,b.wav,Bye\r\n'
    a, b = read_manifest(write(tmp_path / "m.csv", text)).lines
    assert (a.script, a.number, a.problem) == ("First line,\r\nsecond line.", 2, "")
    assert (b.id, b.number) == ("b", 4)


def test_a_cell_that_never_ends_is_refused(tmp_path):
    text = 'audio,script\na.wav,"' + "word " * 30000 + "\n" + "b.wav,hi\n" * 10
    refused(write(tmp_path / "m.csv", text), "line 2: ", "never closed")
    refused(write(tmp_path / "n.csv", 'audio,script\na.wav,"' + "x" * 200000 + '"\n'), "line 2: ", "longer than")


def test_numbers_are_held_to_the_ranges_the_loader_applies(tmp_path):
    rows = [{"audio": "a.wav", "seed": 10 ** 30}, {"audio": "b.wav", "intensity": math.nan},
            {"audio": "c.wav", "seed": -1}, {"audio": "d.wav", "seed": 2 ** 63 - 1, "intensity": 1},
            {"audio": "e.wav", "seed": 3.0}, {"audio": "f.wav", "seed": 3.5}, {"audio": "g.wav", "seed": True},
            {"audio": "h.wav", "intensity": "1e-3"}, {"audio": "i.wav", "seed": "1" * 5000},
            {"audio": "j.wav", "intensity": math.inf}]
    # NaN and Infinity as Python's json writes them
    path = write(tmp_path / "m.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    lines = read_manifest(path).lines
    seed, intensity = limits.SEED.describe(), limits.INTENSITY.describe()
    assert [x.problem for x in lines] == [
        f"seed must be {seed}, got {10 ** 30}", f"intensity must be {intensity}, got nan",
        f"seed must be {seed}, got -1", "", "", f"seed must be {seed}, got 3.5", f"seed must be {seed}, got True", "",
        f"seed must be {seed}, got '{'1' * 36}...", f"intensity must be {intensity}, got inf"]
    assert (lines[3].seed, lines[3].intensity, lines[4].seed, lines[7].intensity) == (2 ** 63 - 1, 1.0, 3, 0.001)
    text = "audio,seed,intensity\na.wav,99999999999999999999,\nb.wav,,nan\nc.wav,7,0.25\nd.wav,x,\n"
    lines = read_manifest(write(tmp_path / "m.csv", text)).lines
    assert [x.problem for x in lines] == [f"seed must be {seed}, got 99999999999999999999",
                                          f"intensity must be {intensity}, got 'nan'", "",
                                          f"seed must be {seed}, got 'x'"]
    assert (lines[2].seed, lines[2].intensity) == (7, 0.25)


def test_odd_ids_and_file_names(tmp_path):
    text = ('{"id": "report.csv", "audio": "a.wav"}\n{"audio": "bad\\u0000name.wav"}\n'
            '{"audio": "x.wav", "instruction": "' + "calm " * 500 + '"}\n'
            '{"audio": "y.wav", "script": "' + "Hello there. " * 25000 + '"}\n'
            + '{"audio": "same.wav"}\n' * 3)
    lines = read_manifest(write(tmp_path / "m.jsonl", text)).lines
    assert [x.id for x in lines] == ["report.csv-2", "bad_name", "x", "y", "same", "same-2", "same-3"]
    assert lines[0].problem == ""                      # the report's name is taken; the line runs as report.csv-2
    assert lines[1].problem == "'audio' is not a usable file name (embedded null byte)"
    assert lines[2].problem == (f"an instruction is at most {limits.MAX_INSTRUCTION_CHARS} characters, this one "
                                f"has 2499")
    assert lines[3].problem == (f"a script is at most {MAX_SCRIPT_CHARS} characters (three hours of fast speech), "
                                f"this one has 324999")


def test_a_manifest_that_is_not_a_file_is_refused_at_once(tmp_path):
    os.mkfifo(tmp_path / "fifo.csv")
    (tmp_path / "folder.csv").mkdir()
    with open(tmp_path / "huge.csv", "wb") as f:                   # sparse: nothing is written
        f.truncate(MAX_MANIFEST_BYTES + 1)
    many = write(tmp_path / "many.csv", "audio\n" + "x.wav\n" * (MAX_LINES + 1))
    for path, part in ((Path("/dev/zero"), "not a regular file"), (tmp_path / "fifo.csv", "not a regular file"),
                       (tmp_path / "folder.csv", "is a folder"), (tmp_path / "huge.csv", "larger than 64 MiB"),
                       (many, f"more than {MAX_LINES} lines")):
        refused(path, part)
    for path in (Path("/dev/zero"), tmp_path / "fifo.csv"):         # the command as a user runs it
        run = run_measured("batch", path, "-o", tmp_path / "out", *OPTIONS, timeout=60)
        assert run.code == 2 and run.err == [f"avitalk: error: {path}: not a regular file (a device, FIFO or "
                                             f"socket); give a manifest"], run.err
        assert run.seconds < 30 and run.peak_mb < 1500


# --- the manifest reader, fuzzed ----------------------------------------------------------

BREAKS = ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x00"]
CELLS = st.sampled_from([
    "", " ", "a.wav", "vo/b.WAV", "../c.flac", "~nobody/x.wav", "/dev/zero", "report.csv", "..", ".hidden",
    "Hello, there.", 'say "hi"', '"', '""', '"quoted"', "fbx;csv", "glb, mp4", "none", "obj", "angry", "Joyful",
    "furious-ish", "0.5", "1", "-1", "nan", "inf", "1e30", str(10 ** 30), "3.0", "true", "null", "[]", "{}", "\ufeff",
    "\u2028", "\x00", "é", "日本語", "\U0001f600",
]) | st.text(max_size=8)
HEADER = st.lists(st.sampled_from([*COLUMNS, "Audio", " AUDIO ", "character", "", "(cells past the header)"]),
                  min_size=1, max_size=9)


@st.composite
def csv_text(draw) -> str:
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    quote = draw(st.booleans())

    def cell(text: str) -> str:
        if quote or draw(st.integers(0, 4)) == 0:
            return '"' + text.replace('"', '""') + '"'
        return text
    names = draw(HEADER)
    if draw(st.integers(0, 3)):
        names.insert(draw(st.integers(0, len(names))), "audio")
    header = delimiter.join(cell(c) for c in names)
    rows = draw(st.lists(st.lists(CELLS, max_size=10), max_size=6))
    parts = [header] + [delimiter.join(cell(c) for c in row) for row in rows]
    return "".join(p + draw(st.sampled_from(BREAKS[:3] if draw(st.integers(0, 3)) else BREAKS)) for p in parts)


@st.composite
def jsonl_text(draw) -> str:
    values = st.none() | st.booleans() | st.integers() | st.floats() | CELLS | st.lists(CELLS, max_size=3) \
        | st.dictionaries(CELLS, CELLS, max_size=2)
    others = [c for c in COLUMNS if c != "audio"] + ["AUDIO", "x"]
    rows = draw(st.lists(st.fixed_dictionaries({"audio": CELLS}, optional=dict.fromkeys(others, values))
                         | st.dictionaries(st.sampled_from([*COLUMNS, "AUDIO", "x"]), values, max_size=8)
                         | values, max_size=6))
    ascii_only = draw(st.booleans())
    return "".join(json.dumps(r, ensure_ascii=ascii_only) + draw(st.sampled_from(BREAKS)) for r in rows)


@st.composite
def manifest_bytes(draw) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".csv", ".jsonl", ".txt", ".tsv", ""]))
    text = draw(st.one_of(csv_text(), jsonl_text(), st.text(max_size=200)))
    if draw(st.integers(0, 5)) == 0:                  # a huge field somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["x", '"', "a,", "\u2028"])) * 150_000 + text[at:]
    for _ in range(draw(st.integers(0, 2))):         # a stray character (a quote, most often)
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(['"', '"', "'", "\r", "\n", ",", "{", "\x00"])) + text[at:]
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data                  # a byte order mark, as Excel writes
    if draw(st.integers(0, 9)) == 0:
        data = data[:draw(st.integers(0, len(data)))]  # cut anywhere, inside a character too
    return suffix, data


def read_or_refuse(path: Path) -> Manifest | None:
    """A Manifest whose every line is usable or says why not in one line, or a one-line
    ManifestError naming the file. Anything else fails."""
    try:
        manifest = read_manifest(path)
    except ManifestError as exc:
        message = str(exc)
        assert message.startswith(f"{path}: ") and len(message.splitlines()) == 1 and len(message) < 1000, message
        return None
    assert manifest.lines
    ids = [line.id for line in manifest.lines]
    assert len(set(ids)) == len(ids) and REPORT_NAME not in ids
    for warning in manifest.warnings:
        assert warning.startswith(f"{path}: ") and len(warning.splitlines()) == 1 and len(warning) < 2000
    for line in manifest.lines:
        assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,130}", line.id), line.id
        assert len(line.problem.splitlines()) <= 1 and len(line.problem) < 1000, line.problem
        if line.problem:
            continue
        assert os.path.isabs(line.audio)
        assert set(line.exports) <= set(EXPORT_FORMATS) and line.emotion in ("", *EMOTIONS)
        assert len(line.instruction) <= limits.MAX_INSTRUCTION_CHARS and len(line.script) <= MAX_SCRIPT_CHARS
        limits.check_number("seed", line.seed, limits.SEED)
        if line.intensity is not None:
            limits.check_number("intensity", line.intensity, limits.INTENSITY)
    return manifest


@settings(max_examples=300, deadline=None)
@given(manifest=manifest_bytes())
def test_fuzz_manifest(tmp_path_factory, manifest):
    suffix, data = manifest
    path = tmp_path_factory.getbasetemp() / f"fuzzed{suffix}"
    path.write_bytes(data)
    t0 = time.perf_counter()
    read_or_refuse(path)
    assert time.perf_counter() - t0 < 10


def test_fuzz_finds_good_manifests_too(tmp_path):
    """The fuzz's building blocks make manifests that read (so it does not only test refusals)."""
    good = read_or_refuse(write(tmp_path / "m.csv", '"audio";"seed"\r\n"a.wav";"3"\r\n'))
    assert good and good.lines[0].seed == 3 and not good.lines[0].problem


# --- audio that is no file ----------------------------------------------------------------

def test_rows_whose_audio_is_a_device_a_fifo_or_a_folder_fail_alone(tmp_path):
    """Each such row is a failed line with the reason (the FIFO is never opened, /dev/zero
    never read); the good line beside them is done with the largest seed there is, and its
    project opens."""
    bad_input.write_speech(tmp_path)
    os.mkfifo(tmp_path / "fifo.wav")
    (tmp_path / "folder.wav").mkdir()
    write(tmp_path / "m.csv", f"id,audio,seed\nzero,/dev/zero,\nfifo,fifo.wav,\nfolder,folder.wav,\n"
                              f"good,speech.wav,{2 ** 63 - 1}\nnan,speech.wav,nan\n")
    out = tmp_path / "out"
    run = run_measured("batch", tmp_path / "m.csv", "-o", out, "--workers", "2", *OPTIONS, timeout=120)
    assert run.code == 1, run.err
    assert "1 done, 4 failed, 0 skipped of 5 lines" in run.out
    assert run.seconds < 60 and run.peak_mb < 1500, (run.seconds, run.peak_mb)
    status = {r["id"]: (r["status"], r["error"]) for r in read_report(out / REPORT_NAME)}
    assert status == {
        "zero": ("failed", "/dev/zero: not a regular file (a device, FIFO or socket); give an audio file"),
        "fifo": ("failed", f"{tmp_path / 'fifo.wav'}: not a regular file (a device, FIFO or socket); give an audio "
                           f"file"),
        "folder": ("failed", f"{tmp_path / 'folder.wav'}: is a folder, not an audio file"),
        "good": ("done", ""),
        "nan": ("failed", f"seed must be {limits.SEED.describe()}, got 'nan'")}
    project = load_project(out / "good" / "good.avtp")
    assert project.settings.extra["batch"]["seed"] == 2 ** 63 - 1 and project.main_track.frames == 105


# --- stopping a running batch -------------------------------------------------------------

def descendants(pid: int) -> set[int]:
    """The processes `pid` started, and theirs, and so on."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child in (p for p, pp in parents.items() if pp == parent and p not in found):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    """Running (a zombie, dead and not yet reaped, does not count)."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def files(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def many(tmp_path_factory) -> Path:
    """A manifest of eight lines of the 3.5 s speech."""
    folder = tmp_path_factory.mktemp("many")
    bad_input.write_speech(folder)
    return write(folder / "many.csv", "id,audio\n" + "".join(f"n{k},speech.wav\n" for k in range(8)))


@pytest.fixture
def sessions():
    """Process groups to end after the test, whatever it found (workers a failed test left)."""
    groups: list[int] = []
    yield groups
    for group in groups:
        try:
            os.killpg(group, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_and_stop(many: Path, out: Path, how, sessions: list[int], *options: str) -> tuple[subprocess.Popen, str, str,
                                                                                            set[int], float]:
    """Start the batch with two workers in a session of its own, wait for its first finished
    line (the other worker is then in the middle of one), note the processes it started,
    `how(proc)`, and wait for it to end: (the process, stdout, stderr, its processes, seconds
    from the signal to its end)."""
    proc = subprocess.Popen([str(AVITALK), "batch", str(many), "-o", str(out), "--workers", "2", *OPTIONS, *options],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    sessions.append(proc.pid)
    try:
        seen = wait_for_first_line(proc, "[1/8]", 240)
        workers = descendants(proc.pid)
        assert len(workers) >= 2, workers                 # two workers (and multiprocessing's resource tracker)
        t0 = time.monotonic()
        how(proc)
        proc.wait(timeout=30)
        seconds = time.monotonic() - t0
        assert_gone(workers)
        stdout, stderr = proc.communicate(timeout=10)    # (orphaned workers would hold the pipes open)
        return proc, stdout, seen + stderr, workers, seconds
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def assert_gone(pids: set[int], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if alive(pid)], "processes of the batch outlived it"


@pytest.mark.parametrize("target", ["batch", "group"])
def test_sigterm_stops_the_workers_and_writes_the_report(many, tmp_path, target, sessions):
    """SIGTERM to the batch (`kill PID`, docker stop) or to its whole process group (`timeout`,
    systemd): the workers are stopped at once, the report lists every line (finished ones done,
    the rest pending, none failed), nothing is written after, exit status 143 (128 + SIGTERM)."""
    out = tmp_path / "out"

    def term(proc):
        if target == "batch":
            proc.send_signal(signal.SIGTERM)
        else:
            os.killpg(proc.pid, signal.SIGTERM)
    proc, stdout, stderr, _, seconds = start_and_stop(many, out, term, sessions)
    assert proc.returncode == 143, stderr
    assert seconds < 10
    assert_stopped(out, stdout, stderr)


def assert_stopped(out: Path, stdout: str, stderr: str) -> None:
    """What a stopped batch leaves: its summary, a report of every line (finished ones done with
    their projects, the rest pending, none failed), and no writer."""
    assert "interrupted; run the same command again" in stderr and "not run" in stdout
    assert "Traceback" not in stderr
    rows = read_report(out / REPORT_NAME)
    assert [r["id"] for r in rows] == [f"n{k}" for k in range(8)]
    done = [r for r in rows if r["status"] == "done"]
    assert done and len(done) < 8 and {r["status"] for r in rows} == {"done", "pending"}
    for r in done:
        assert (out / r["id"] / "done.json").is_file()
        load_project(out / r["id"] / f"{r['id']}.avtp")
    before = files(out)
    time.sleep(2)
    assert files(out) == before                         # no worker goes on writing


def test_sigterm_stops_a_ray_batch(many, tmp_path, sessions):
    """The same through Ray (`--ray local`: ray.init sets a SIGTERM handler of its own, which
    the batch takes back): the actors and the Ray instance end with it."""
    pytest.importorskip("ray")
    out = tmp_path / "out"
    proc, stdout, stderr, processes, seconds = start_and_stop(
        many, out, lambda proc: proc.send_signal(signal.SIGTERM), sessions, "--ray", "local")
    assert "Ray: 2 workers" in stderr
    assert proc.returncode == 143, stderr
    assert len(processes) > 2 and seconds < 20
    assert_stopped(out, stdout, stderr)


def test_a_worker_killed_fails_the_lines_left(many, tmp_path, sessions):
    """One worker killed (the out-of-memory killer, say): the lines it and the pool had fail with
    the reason, the batch ends with the report complete (no line pending) and exit status 1."""
    def kill_a_worker(proc):
        workers = [pid for pid in descendants(proc.pid)
                   if b"spawn_main" in (Path("/proc") / str(pid) / "cmdline").read_bytes()]
        os.kill(workers[0], signal.SIGKILL)
    proc, stdout, stderr, _, seconds = start_and_stop(many, tmp_path / "out", kill_a_worker, sessions)
    assert proc.returncode == 1 and seconds < 10, stderr
    rows = read_report(tmp_path / "out" / REPORT_NAME)
    failed = [r for r in rows if r["status"] == "failed"]
    assert failed and {r["status"] for r in rows} == {"done", "failed"}
    assert all(r["error"].startswith("the worker process stopped (") for r in failed)
    assert "Traceback" not in stderr


def test_workers_end_when_the_batch_is_killed(many, tmp_path, sessions):
    """SIGKILL (or the out-of-memory killer) gives the batch no chance to stop its workers: they
    see it gone and end themselves."""
    proc, *_ = start_and_stop(many, tmp_path / "out", lambda proc: proc.kill(), sessions)
    assert proc.returncode == -signal.SIGKILL
    rows = read_report(tmp_path / "out" / REPORT_NAME)   # as last written: finished lines done, the rest pending
    assert {r["status"] for r in rows} == {"done", "pending"}
