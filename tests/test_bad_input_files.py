"""Bad input files (issue 14): audio that is not a regular file, WAV data chunk sizes, very quiet
speech, Live Link Face CSVs whose timecodes jump, broken GLB heads, and property-based fuzz tests
of the three loaders (WAV headers, the Live Link CSV reader, the GLB head loader).

The corpus is written here at test time from the real speech sample (tests/bad_input.py) and
from a small head written by core.export.gltf.write_glb. Cases whose point is memory or time
run the installed `avitalk` in a process of its own (bad_input.run_measured: peak memory and
wall time); the others run it in-process. A refused input gets one line, `avitalk: error:
<file>: <problem>`, exit status 2, and leaves every file saved before readable.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import threading
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings, strategies as st

from core.arkit import BLENDSHAPES, INDEX, NUM_BLENDSHAPES, NUM_CHANNELS
from core.audio import MAX_DURATION, Audio, AudioError, load_audio
from core.export.gltf import MAX_VERTICES, GltfError, load_glb_head, write_glb
from core.export.livelink import HEADER, LiveLinkError, format_timecode, read_livelink_csv
from core.face.rig import FaceRig
from core.project import load_project, save_project
from core.track import FaceTrack
from tests import bad_input
from tests.test_bad_input import assert_refused, avitalk, warnings_of

LIMIT_MB = 1500          # peak memory for any input under 10 MB
LIMIT_S = 60


def saved_before(folder: Path) -> tuple[Path, bytes]:
    """A project saved before the bad input is tried, under the name the command would write."""
    path = folder / "saved.avtp"
    save_project(bad_input.make_project(seconds=0.5), path)
    return path, path.read_bytes()


def still_readable(saved: tuple[Path, bytes]) -> None:
    path, data = saved
    assert path.read_bytes() == data
    load_project(path)


@contextlib.contextmanager
def fifo(path: Path, unblock_after: float = 20.0):
    """A FIFO nobody writes to. Should a reader open it anyway, a writer comes after
    `unblock_after` seconds and closes at once (the reader then sees an empty file), so a
    regression fails the test instead of hanging it."""
    os.mkfifo(path)
    done = threading.Event()

    def unblock():
        if not done.wait(unblock_after):
            with contextlib.suppress(OSError):      # ENXIO: nobody is reading, nothing to unblock
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    guard = threading.Thread(target=unblock, daemon=True)
    guard.start()
    try:
        yield path
    finally:
        done.set()
        guard.join()


def speech_wav(seconds: float = 3.5, gain_db: float | None = None, subtype: str = "PCM_16") -> bytes:
    """The real speech cut (its first `seconds`), as WAV bytes; `gain_db` sets its peak."""
    x = bad_input.speech()[:int(seconds * 16000)]
    if gain_db is not None:
        x = (x / np.abs(x).max() * 10 ** (gain_db / 20)).astype(np.float32)
    buf = io.BytesIO()
    sf.write(buf, x, 16000, format="WAV", subtype=subtype)
    return buf.getvalue()


def with_data_size(wav: bytes, size: int) -> bytes:
    """`wav` with its data chunk's size field replaced."""
    i = wav.index(b"data")
    return wav[:i + 4] + struct.pack("<I", size) + wav[i + 8:]


def listen(capsys, path: Path) -> tuple[int, dict | None, list[str]]:
    """`avitalk listen PATH --writer rules`: status, `avitalk info --json` of the project, stderr."""
    out = path.with_suffix(".avtp")
    code, stdout, err = avitalk(capsys, "listen", path, "-o", out, "--writer", "rules")
    if code != 0:
        return code, None, err
    code_info, text, info_err = avitalk(capsys, "info", out, "--json")
    assert code_info == 0 and not info_err
    return code, json.loads(text), err


# --- audio: only regular files ------------------------------------------------------------

def test_dev_zero_as_audio_is_refused_at_once(tmp_path):
    saved = saved_before(tmp_path)
    run = bad_input.run_measured("listen", "/dev/zero", "-o", saved[0], "--writer", "rules", timeout=LIMIT_S)
    assert_refused(run.code, run.err, "/dev/zero: not a regular file (a device, FIFO or socket); give an audio file")
    assert run.peak_mb < LIMIT_MB and run.seconds < LIMIT_S, (run.peak_mb, run.seconds)
    still_readable(saved)


def test_fifo_as_audio_is_refused_without_blocking(tmp_path):
    saved = saved_before(tmp_path)
    with fifo(tmp_path / "pipe.wav") as path:
        run = bad_input.run_measured("generate", path, "-o", saved[0], "--writer", "rules", timeout=LIMIT_S)
    assert_refused(run.code, run.err, f"{path}: not a regular file (a device, FIFO or socket); give an audio file")
    assert run.peak_mb < LIMIT_MB and run.seconds < 15, (run.peak_mb, run.seconds)
    still_readable(saved)


def test_audio_over_the_size_cap_is_refused_before_reading(tmp_path):
    """A 2 GiB + 1 byte file (sparse: it takes no disk) is refused from its size alone."""
    path = tmp_path / "huge.wav"
    path.write_bytes(speech_wav(0.5))
    os.truncate(path, 2 ** 31 + 1)
    run = bad_input.run_measured("listen", path, "-o", tmp_path / "huge.avtp", timeout=LIMIT_S)
    assert_refused(run.code, run.err, "huge.wav: the file is 2.0 GiB, more than the 2 GiB this program accepts "
                                      "for audio (3 hours of 48 kHz stereo WAV is 1.9 GiB); split or compress it first")
    assert run.peak_mb < LIMIT_MB and run.seconds < LIMIT_S, (run.peak_mb, run.seconds)
    assert not (tmp_path / "huge.avtp").exists()


def test_folder_and_symlinks_as_audio(tmp_path, capsys):
    code, _, err = avitalk(capsys, "listen", tmp_path, "-o", tmp_path / "x.avtp")
    assert_refused(code, err, f"{tmp_path}: is a folder, not an audio file")
    real = tmp_path / "real.wav"
    real.write_bytes(speech_wav(1.0))
    link = tmp_path / "link.wav"
    link.symlink_to(real)
    audio = load_audio(link)                      # a symlink to a regular file is that file
    assert audio.duration == 1.0 and audio.data == real.read_bytes() and not audio.warnings
    (tmp_path / "to_dev_zero.wav").symlink_to("/dev/zero")
    with pytest.raises(AudioError, match="to_dev_zero.wav: not a regular file"):
        load_audio(tmp_path / "to_dev_zero.wav")


def test_small_file_decoding_to_gigabytes_is_refused(tmp_path):
    """A 240 KB FLAC of 10 minutes of 8-channel digital silence decodes to 920 MB of samples (a
    decompression bomb); refused from its header, before decoding (core.audio.MAX_SAMPLES_PER_BYTE)."""
    path = tmp_path / "bomb.flac"
    with sf.SoundFile(path, "w", 48000, 8, format="FLAC", subtype="PCM_16") as f:
        block = np.zeros((48000 * 10, 8), np.float32)
        for _ in range(60):
            f.write(block)
    assert path.stat().st_size < 300_000
    run = bad_input.run_measured("listen", path, "-o", tmp_path / "bomb.avtp", timeout=LIMIT_S)
    assert_refused(run.code, run.err, "bomb.flac: the file announces 600 s of 8-channel audio at 48000 Hz (",
                   "samples per byte of its ", "more than any recording compresses to; it is damaged (or made "
                   "to fill memory)")
    assert run.peak_mb < 600 and run.seconds < LIMIT_S, (run.peak_mb, run.seconds)
    assert not (tmp_path / "bomb.avtp").exists()


# --- audio: WAV data chunk sizes ----------------------------------------------------------

def test_wav_data_size_smaller_than_the_file(tmp_path, capsys):
    """The header announces 0.5 s of the 3.5 s the file holds: read as ffmpeg reads it (0.5 s),
    and said."""
    path = tmp_path / "short_header.wav"
    path.write_bytes(with_data_size(speech_wav(), 16000))     # 8000 frames of 16 bit
    code, project, err = listen(capsys, path)
    assert code == 0
    assert warnings_of(err)[0] == ("short_header.wav: the WAV header announces 0.50 s of audio but the file holds "
                                   "3.50 s; only the announced 0.50 s are used, as other players do (the header may "
                                   "be damaged)")
    assert project["audio"]["duration"] == 0.5 and project["segments"][-1]["end"] == pytest.approx(0.5)


@pytest.mark.parametrize("size,shown", [(0, "0"), (0xFFFFFFFF, "0xFFFFFFFF")])
def test_wav_data_size_left_open_reads_the_whole_file(tmp_path, capsys, size, shown):
    """A streaming writer's header (data size 0 or 0xFFFFFFFF): all 3.5 s are used, the words
    are heard, and the project keeps the file byte for byte."""
    path = tmp_path / "streamed.wav"
    path.write_bytes(with_data_size(speech_wav(), size))
    code, project, err = listen(capsys, path)
    assert code == 0
    assert warnings_of(err) == [f"streamed.wav: the WAV header leaves the length of the audio open (data size "
                                f"{shown}, as a recorder writes it before it knows the length); all 3.50 s the file "
                                f"holds are used"]
    assert project["audio"]["duration"] == 3.5
    words = " ".join(w["text"] for s in project["segments"] for w in s["evidence"].get("words", [])).lower()
    assert "hello" in words
    assert load_project(path.with_suffix(".avtp")).audio.data == path.read_bytes()


def test_wav_followed_by_chunks_gets_no_warning(tmp_path):
    """A data chunk followed by a LIST chunk (as many writers add) is not 'more than announced'."""
    wav = speech_wav(1.0)
    info = b"INFOISFT" + struct.pack("<I", 6) + b"avitk\x00"
    data = wav + b"LIST" + struct.pack("<I", len(info)) + info
    data = data[:4] + struct.pack("<I", len(data) - 8) + data[8:]
    (tmp_path / "tagged.wav").write_bytes(data)
    audio = load_audio(tmp_path / "tagged.wav")
    assert audio.duration == 1.0 and not audio.warnings


# --- audio: very quiet speech -------------------------------------------------------------

@pytest.mark.parametrize("peak_db", [-60, -70])
def test_very_quiet_speech_is_listened_to(tmp_path, capsys, peak_db):
    """Real speech at a -60 (and -70) dBFS peak, 16 bit: not silence. It is amplified for
    analysis, said, and its words are recognised; the project keeps the file as it came. At -70
    dBFS (a few bits left) Silero misses the first "Hello?", the listener adds it back as a
    missed voice, and its phones can only be spread over the words, which it says."""
    path = tmp_path / "quiet.wav"
    path.write_bytes(speech_wav(gain_db=peak_db))
    code, project, err = listen(capsys, path)
    assert code == 0
    warning, *others = warnings_of(err)
    assert all(w.startswith("the lip sync is approximate over ") for w in others), others
    peak = round(load_audio(path).peak_dbfs)
    assert warning == (f"quiet.wav: the recording is very quiet (its peak is {peak} dBFS); it is amplified by "
                       f"{-10 - peak} dB for listening (the audio itself is unchanged)")
    words = [w["text"].lower() for s in project["segments"] for w in s["evidence"].get("words", [])]
    assert "hello" in " ".join(words) and len(words) >= 5, words
    assert load_project(path.with_suffix(".avtp")).audio.data == path.read_bytes()


def test_digital_silence_is_still_silent():
    quiet = Audio(np.full((16000, 1), 10 ** (-85 / 20), np.float32), 16000)
    silent = Audio(np.zeros((16000, 1), np.float32), 16000)
    assert not quiet.is_silent and quiet.analysis_gain > 1
    assert silent.is_silent and silent.analysis_gain == 1.0


# --- Live Link Face CSV: time spans -------------------------------------------------------

def livelink_rows(timecodes: list[str], value: str = "0.1") -> str:
    lines = [",".join(HEADER)] + [",".join([tc, "61"] + [value] * 61) for tc in timecodes]
    return "\n".join(lines) + "\n"


def test_livelink_timecodes_jumping_back_and_forth(tmp_path):
    """33 KB of rows alternating between 23:00 and 01:00 (each jump back read as a new day, the
    take would last weeks): refused at the row where it passes 3 hours, in bounded memory."""
    path = tmp_path / "jumps.csv"
    path.write_text(livelink_rows(["23:00:00:00.000", "01:00:00:00.000"] * 20, "0.1234567890"))
    assert 30_000 < path.stat().st_size < 40_000
    saved = saved_before(tmp_path)
    run = bad_input.run_measured("import", path, "-o", saved[0], timeout=LIMIT_S)
    assert_refused(run.code, run.err, f"{path}: line 4: timecode 23:00:00:00.000 is 24.0 hours after the first row's "
                                      f"(23:00:00:00.000); a take may last 3 hours at most")
    assert run.peak_mb < LIMIT_MB and run.seconds < LIMIT_S, (run.peak_mb, run.seconds)
    still_readable(saved)


def test_livelink_timecodes_going_back_are_refused(tmp_path, capsys):
    path = tmp_path / "back.csv"
    path.write_text(livelink_rows(["00:10:00:00.000", "00:10:00:01.000", "00:09:00:00.000", "00:10:00:02.000"]))
    saved = saved_before(tmp_path)
    code, _, err = avitalk(capsys, "import", path, "-o", saved[0])
    assert_refused(code, err, f"{path}: line 4: timecode 00:09:00:00.000 goes back 60.017 s from line 3 "
                              f"(00:10:00:01.000); a take's timecodes run forward (rows may be out of order by one "
                              f"frame at most)")
    still_readable(saved)


def test_livelink_one_midnight_wrap_and_one_frame_back_are_read(tmp_path, capsys):
    path = tmp_path / "midnight.csv"
    path.write_text(livelink_rows(["23:59:59:58.000", "23:59:59:59.000", "00:00:00:01.000", "00:00:00:00.000",
                                   "00:00:00:02.000"]))
    out = tmp_path / "midnight.avtp"
    code, stdout, err = avitalk(capsys, "import", path, "-o", out, "--fps", 60)
    assert code == 0 and not err
    assert load_project(out).main_track.frames == 5


def test_livelink_huge_values_and_devices_are_refused(tmp_path, capsys):
    path = tmp_path / "huge.csv"
    path.write_text(livelink_rows(["00:00:00:00.000", "00:00:00:01.000"], "1e300"))
    code, _, err = avitalk(capsys, "import", path, "-o", tmp_path / "x.avtp")
    assert_refused(code, err, f"{path}: the value in column EyeBlinkLeft at line 2 must be a number from -1000 to "
                              f"1000, got 1e+300")
    code, _, err = avitalk(capsys, "import", "/dev/zero", "-o", tmp_path / "x.avtp")
    assert_refused(code, err, "/dev/zero: not a regular file (a device, FIFO or socket); give a Live Link Face CSV")
    with fifo(tmp_path / "pipe.csv") as pipe:
        t0 = time.perf_counter()
        code, _, err = avitalk(capsys, "import", pipe, "-o", tmp_path / "x.avtp")
    assert_refused(code, err, f"{pipe}: not a regular file (a device, FIFO or socket); give a Live Link Face CSV")
    assert time.perf_counter() - t0 < 5
    one_line = tmp_path / "one_line.csv"
    one_line.write_text("Timecode,JawOpen," + "0," * 100_000)
    code, _, err = avitalk(capsys, "import", one_line, "-o", tmp_path / "x.avtp")
    assert_refused(code, err, f"{one_line}: line 1 is longer than 65536 characters; not a Live Link Face CSV")
    assert not (tmp_path / "x.avtp").exists()


# --- GLB heads ----------------------------------------------------------------------------

def tiny_rig() -> FaceRig:
    """Four vertices, two triangles, 52 shapes (each moves one vertex a little)."""
    verts = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float32)
    deltas = np.zeros((NUM_BLENDSHAPES, 4, 3), np.float32)
    for k in range(NUM_BLENDSHAPES):
        deltas[k, k % 4] = [0.01 * (k + 1), 0, 0.02]
    return FaceRig(vertices=verts, triangles=np.array([[0, 1, 2], [0, 2, 3]], np.uint32),
                   uvs=verts[:, :2].copy(), colors=np.full((4, 3), 0.5, np.float32),
                   parts=np.zeros(4, np.uint8), deltas=deltas, pivot=np.array([0.5, 0, 0], np.float32))


@pytest.fixture(scope="module")
def tiny_glb(tmp_path_factory) -> bytes:
    """A valid GLB of the tiny head and a 3-frame take (about 6 KB)."""
    path = tmp_path_factory.mktemp("glb") / "tiny.glb"
    data = np.zeros((3, NUM_CHANNELS), np.float32)
    data[:, INDEX["jawOpen"]] = [0, 0.5, 1]
    write_glb(path, tiny_rig(), FaceTrack(30.0, data), morph_normals=False)
    return path.read_bytes()


def glb_parts(glb: bytes) -> tuple[dict, bytes]:
    """The JSON document and the BIN chunk of a GLB."""
    json_len = struct.unpack_from("<I", glb, 12)[0]
    doc = json.loads(glb[20:20 + json_len])
    bin_len = struct.unpack_from("<I", glb, 20 + json_len)[0]
    return doc, glb[28 + json_len:28 + json_len + bin_len]


def glb_from(doc, binary: bytes) -> bytes:
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\x00" * (-len(binary) % 4)
    body = struct.pack("<I4s", len(text), b"JSON") + text + struct.pack("<I4s", len(binary), b"BIN\x00") + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def loaded_or_refused(load, path: Path, error: type, named: str, peak_bytes: float):
    """`load(path)`, or None where it raises `error` with one line starting "<named>: "; either
    way within `peak_bytes` of traced allocations (numpy's arrays included) and 10 s."""
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        result = load(path)
    except error as exc:
        message = str(exc)
        assert message.startswith(f"{named}: ") and "\n" not in message, message
        result = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < peak_bytes and time.perf_counter() - t0 < 10, (peak, time.perf_counter() - t0)
    return result


def load_head_or_refuse(path: Path) -> FaceRig | None:
    """What every file must get: a usable head, or one GltfError naming the file; in bounded
    memory (numpy's arrays are traced) and time."""
    rig = loaded_or_refused(load_glb_head, path, GltfError, str(path), 256e6)
    if rig is not None:
        assert np.isfinite(rig.vertices).all() and np.isfinite(rig.deltas).all() and np.isfinite(rig.pivot).all()
        assert rig.num_vertices <= MAX_VERTICES
        assert rig.triangles.size == 0 or int(rig.triangles.max()) < rig.num_vertices
    return rig


def test_tiny_glb_is_a_head(tiny_glb, tmp_path):
    (tmp_path / "tiny.glb").write_bytes(tiny_glb)
    rig = load_head_or_refuse(tmp_path / "tiny.glb")
    np.testing.assert_allclose(rig.deltas, tiny_rig().deltas, atol=1e-6)


def _set(path: str, value):
    def change(doc):
        target = doc
        keys = path.split(".")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        target[int(last) if last.isdigit() else last] = value
        return doc
    return change


def _chain(doc):
    """30 000 nodes, each the only child of the one before (an O(n^2) ancestor list before)."""
    base = len(doc["nodes"])
    doc["nodes"] += [{"children": [base + i + 1]} for i in range(29_999)] + [{"children": [0]}]
    doc["scenes"][0]["nodes"] = [base]
    return doc


BROKEN_GLB = {
    "accessor count of a billion": (_set("accessors.0.count", 10 ** 9),
                                    "must be a whole number 0..12582912, got 1000000000"),
    "vertex count of a billion without data": (
        lambda doc: _set("accessors.1.count", 10 ** 9)(_set("accessors.1.bufferView", None)(doc)),
        "count must be a whole number 0..1048576, got 1000000000"),
    "buffer view past its buffer": (_set("bufferViews.1.byteLength", 2 ** 31), "reads past the end of its buffer"),
    "accessor past its view": (_set("accessors.1.byteOffset", 4000), "needs"),
    "stride shorter than a vertex": (_set("bufferViews.1.byteStride", 8),
                                     "byteStride must be a whole number 12..252, got 8"),
    "index past the vertices": (None, "a triangle refers to vertex"),
    "buffer file that is a device": (_set("buffers.0.uri", "/dev/zero"), "its buffer file /dev/zero: not a regular file (a device, FIFO or socket); give a buffer file"),
    "count that is text": (_set("accessors.1.count", "many"), "count must be a whole number 0..1048576, got 'many'"),
    "matrix of 15 numbers": (_set("nodes.1.matrix", [1.0] * 15), "node 1's matrix must be a list of 16 numbers"),
    "a child that is not there": (_set("nodes.0.children", [7]), "the node index must be a whole number 0..1"),
    "30 000 nested nodes": (_chain, None),
}


@pytest.mark.parametrize("case", list(BROKEN_GLB))
def test_broken_glb_head_is_one_error(tiny_glb, tmp_path, case):
    """Declared sizes are checked before anything is allocated; a broken file is one GltfError
    naming it (what the studio's Settings shows for a head it cannot use)."""
    change, expected = BROKEN_GLB[case]
    doc, binary = glb_parts(tiny_glb)
    if change is None:        # the first index made to point past the 4 vertices
        binary = bytearray(binary)
        view = doc["bufferViews"][doc["accessors"][doc["meshes"][0]["primitives"][0]["indices"]]["bufferView"]]
        binary[view.get("byteOffset", 0):view.get("byteOffset", 0) + 2] = struct.pack("<H", 9)
        binary = bytes(binary)
    else:
        doc = change(doc)
    path = tmp_path / "broken.glb"
    path.write_bytes(glb_from(doc, binary))
    rig = load_head_or_refuse(path)
    if expected is None:
        assert rig is not None
    else:
        assert rig is None
        with pytest.raises(GltfError) as caught:
            load_glb_head(path)
        assert expected in str(caught.value), str(caught.value)


def test_glb_header_and_chunk_sizes(tiny_glb, tmp_path):
    cases = {
        "long.glb": tiny_glb[:8] + struct.pack("<I", 2 ** 31) + tiny_glb[12:],
        "chunk.glb": tiny_glb[:12] + struct.pack("<I", 2 ** 30) + tiny_glb[16:],
        "cut.glb": tiny_glb[:len(tiny_glb) // 2],
        "header.glb": tiny_glb[:10],
        "empty.glb": b"",
    }
    messages = {}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        assert load_head_or_refuse(tmp_path / name) is None
        with pytest.raises(GltfError) as caught:
            load_glb_head(tmp_path / name)
        messages[name] = str(caught.value)
    assert "announces 2147483648 bytes but the file holds" in messages["long.glb"]
    assert "a GLB chunk announces 1073741824 bytes past the end of the file" in messages["chunk.glb"]
    assert "(it is truncated)" in messages["cut.glb"]
    with pytest.raises(GltfError, match="not a regular file"):
        load_glb_head("/dev/zero")
    with fifo(tmp_path / "pipe.glb") as pipe, pytest.raises(
            GltfError, match=r"pipe.glb: not a regular file \(a device, FIFO or socket\); give a glTF/GLB file"):
        load_glb_head(pipe)


# --- fuzz: WAV headers --------------------------------------------------------------------

WAV_SUBTYPES = ["PCM_16", "PCM_U8", "PCM_24", "FLOAT", "ULAW", "IMA_ADPCM", "MS_ADPCM", "GSM610"]


@pytest.fixture(scope="module")
def small_wavs() -> dict[str, bytes]:
    """0.25 s of the speech at 8 kHz in each WAV encoding libsndfile writes (2 channels for
    PCM_16, so the channel fields matter)."""
    x = bad_input.speech(8000)[:2000]
    out = {}
    for subtype in WAV_SUBTYPES:
        buf = io.BytesIO()
        channels = np.stack([x, -x], axis=1) if subtype == "PCM_16" else x
        sf.write(buf, channels, 8000, format="WAV", subtype=subtype)
        out[subtype] = buf.getvalue()
    return out


def header_fields(wav: bytes) -> list[tuple[int, int]]:
    """(offset, width) of every header field of a WAV: RIFF size, each chunk's size, and the
    fmt chunk's fields (codec, channels, rate, byte rate, block align, bits, and the
    extension's)."""
    fields = [(4, 4)]
    pos = 12
    while pos + 8 <= len(wav):
        size = struct.unpack_from("<I", wav, pos + 4)[0]
        fields += [(pos, 4), (pos + 4, 4)]
        if wav[pos:pos + 4] == b"fmt ":
            fields += [(pos + 8, 2), (pos + 10, 2), (pos + 12, 4), (pos + 16, 4), (pos + 20, 2), (pos + 22, 2)]
            fields += [(o, 2) for o in range(pos + 24, pos + 8 + size - 1, 2)]
        if wav[pos:pos + 4] == b"data":
            break
        pos += 8 + size + (size & 1)
    return fields


INTERESTING = [0, 1, 2, 3, 4, 7, 8, 16, 255, 256, 1000, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
               0xFFFFFFFE, 0xFFFFFFFF]


def load_audio_or_refuse(path: Path) -> Audio | None:
    """An Audio, or one AudioError naming the file; in bounded memory (numpy's arrays traced,
    what libsndfile announces included) and time."""
    audio = loaded_or_refused(load_audio, path, AudioError, path.name, 600e6)
    if audio is not None:
        assert np.isfinite(audio.samples).all() and audio.frames > 0 and audio.duration <= MAX_DURATION
        assert 1000 <= audio.sample_rate <= 384000
        assert all("\n" not in w for w in audio.warnings)
        assert np.isfinite(audio.mono16k[:16000]).all()
    return audio


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subtype=st.sampled_from(WAV_SUBTYPES),
       edits=st.lists(st.tuples(st.integers(0, 10 ** 6), st.sampled_from(INTERESTING) | st.integers(0, 2 ** 32 - 1)),
                      min_size=1, max_size=3),
       cut=st.none() | st.integers(0, 200))
def test_fuzz_wav_headers(small_wavs, tmp_path, subtype, edits, cut):
    """Header fields of real WAVs (every encoding) set to edge values, and cuts in the header."""
    wav = bytearray(small_wavs[subtype])
    fields = header_fields(bytes(wav))
    for which, value in edits:
        offset, width = fields[which % len(fields)]
        wav[offset:offset + width] = (value % 256 ** width).to_bytes(width, "little")
    if cut is not None:
        wav = wav[:cut]
    path = tmp_path / "fuzzed.wav"
    path.write_bytes(bytes(wav))
    load_audio_or_refuse(path)


# --- fuzz: Live Link CSV ------------------------------------------------------------------

def read_take_or_refuse(path: Path) -> FaceTrack | None:
    track = loaded_or_refused(lambda p: read_livelink_csv(p, fps=60), path, LiveLinkError, str(path), 600e6)
    if track is not None:
        assert track.frames >= 1 and np.isfinite(track.data).all()
        assert track.duration <= MAX_DURATION + 1
    return track


no_nul = st.characters(blacklist_characters="\x00")
odd_timecodes = st.one_of(
    st.builds(lambda h, m, s, f, sub: f"{h:02d}:{m:02d}:{s:02d}:{f:02d}.{sub:03d}",
              st.integers(0, 999), st.integers(0, 59), st.integers(0, 59), st.integers(0, 9999), st.integers(0, 999)),
    st.sampled_from(["00:00:00:00.000", "23:59:59:59.999", "999:59:59:9999.999999999", "00:00:00;00", "1:2:3.4",
                     "", "nan", "00:00:00:00.000.000", "12:00:00:00"]),
    st.text(no_nul, max_size=12),
)
# steps between consecutive rows: a frame (the usual), dropped and repeated frames, one frame
# back, and jumps of an hour, half a day, a day (what a damaged or hostile file holds)
steps = st.sampled_from([1 / 60] * 60 + [0.0, 2 / 60, -1 / 60, -2 / 60, 3600.0, -3600.0, 43200.0, -43200.0, 86399.0,
                         -86399.0, 3 * 3600.0 + 1])
cells = st.one_of(
    st.floats(-2, 2).map(lambda x: f"{x:.10f}"),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "0", "1", "-0.0000000001", "1e308", "1e309", "-1e400", "nan", "inf", "NaN", "1000",
                     "1000.0001", "0x10", "1_000", " 0.5 ", '"0.5"', "61"]),
    st.text(no_nul, max_size=8),
)
column_names = st.one_of(st.sampled_from(list(HEADER) + [b.upper() for b in BLENDSHAPES[:5]] + ["", "BlendshapeCount"]),
                         st.text(no_nul, max_size=8))


@st.composite
def livelink_text(draw) -> str:
    """A header (the app's, shuffled, cut, or random names, always with a Timecode column) and
    rows whose timecodes mostly step a frame at a time (with drops, repeats, steps back and
    jumps of hours), sometimes anything; cells mostly numbers, sometimes anything; rows of any
    length."""
    kind = draw(st.sampled_from(["app", "app", "shuffled", "random"]))
    if kind == "app":
        header = list(HEADER)
    elif kind == "shuffled":
        header = draw(st.permutations(list(HEADER)))[:draw(st.integers(2, len(HEADER)))]
    else:
        header = draw(st.lists(column_names, min_size=1, max_size=10))
    if "Timecode" not in header:
        header.insert(draw(st.integers(0, len(header))), "Timecode")
    tc = header.index("Timecode")
    t = draw(st.floats(0, 86400))
    rows = []
    for _ in range(draw(st.integers(0, 25))):
        t += draw(steps)
        timecode = format_timecode(t) if draw(st.integers(0, 19)) else draw(odd_timecodes)
        if draw(st.integers(0, 19)):
            row = [draw(st.sampled_from(["0.25", "0.5", "61"])) for _ in header]
        else:
            row = [draw(cells) for _ in range(draw(st.integers(0, len(header) + 2)))]
        if row and not draw(st.integers(0, 9)):
            row[draw(st.integers(0, len(row) - 1))] = draw(cells)
        if tc < len(row):
            row[tc] = timecode
        rows.append(row)
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    return eol.join(",".join(r) for r in [header] + rows) + eol


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=livelink_text())
def test_fuzz_livelink_csv(tmp_path, text):
    path = tmp_path / "take.csv"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    read_take_or_refuse(path)


# --- fuzz: GLB head loader ----------------------------------------------------------------

json_values = st.one_of(
    st.none(), st.booleans(), st.sampled_from([0, 1, 2, 3, 4, 5, 9, 12, 255, 5120, 5123, 5125, 5126, 10 ** 9, 2 ** 31,
                                               -1, 10 ** 30, 1e308, 0.5, "", "VEC3", "SCALAR", "MAT4", "Head",
                                               "jawOpen", "data:application/octet-stream;base64,AAAA", "../x.bin"]),
    st.integers(), st.floats(), st.text(max_size=6),
    st.lists(st.integers(-2, 10) | st.floats(), max_size=17),
)


def json_paths(value, prefix=()) -> list[tuple]:
    """Every place inside a JSON document (dict keys and list positions)."""
    out = []
    if isinstance(value, dict):
        for key, inner in value.items():
            out.append(prefix + (key,))
            out += json_paths(inner, prefix + (key,))
    elif isinstance(value, list):
        for i, inner in enumerate(value[:60]):
            out.append(prefix + (i,))
            out += json_paths(inner, prefix + (i,))
    return out


@st.composite
def mutated_glb(draw, glb: bytes) -> bytes:
    doc, binary = glb_parts(glb)
    paths = [p for p in json_paths(doc) if "targetNames" not in p]
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(paths))
        target = doc
        try:
            for key in where[:-1]:
                target = target[key]
            if draw(st.integers(0, 5)) == 0 and isinstance(target, dict):
                target.pop(where[-1], None)
            else:
                target[where[-1]] = draw(json_values)
        except (KeyError, IndexError, TypeError):
            pass          # an earlier change removed what this path went through
    data = glb_from(doc, binary)
    if draw(st.integers(0, 3)) == 0:            # and sometimes bytes edited too
        data = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i:i + 4] = draw(st.binary(min_size=1, max_size=4))
        if draw(st.booleans()):
            data = data[:draw(st.integers(0, len(data)))]
        data = bytes(data)
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_glb_head(tiny_glb, tmp_path, data):
    path = tmp_path / "fuzzed.glb"
    path.write_bytes(data.draw(mutated_glb(tiny_glb)))
    load_head_or_refuse(path)
