"""Live Link Face CSV reader/writer (core.export.livelink), against files on disk.

tests/data/livelink_sample.csv is eight consecutive rows (file lines 51-58, across the
00:32:09 -> 00:32:10 second boundary) of a real Live Link Face take,
"Blender/Blender Example Files/MySlate_3_Jason_Millers_iPhone.csv" in
github.com/JMTechArt/Pipeline-Examples: header, timecodes and all 52 weights and 6 eye angles
byte for byte. That take was recorded with head rotation off (all zeros), so the HeadYaw,
HeadPitch and HeadRoll cells were replaced by 0.0125 i, -0.02 i and 0.0075 i (row i = 1..8)
to exercise the head-angle mapping.
"""

from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

from core.arkit import BLENDSHAPES, INDEX, NUM_CHANNELS
from core.export.livelink import (
    HEADER, LIVELINK_BLENDSHAPES, LiveLinkError, format_timecode, parse_livelink_csv,
    read_livelink_csv, write_livelink_csv,
)
from core.track import FaceTrack

SAMPLE = Path(__file__).parent / "data" / "livelink_sample.csv"

# Written out independently of the module under test: the header of the real take.
REAL_HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,"
    "EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,EyeLookUpRight,"
    "EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,MouthFunnel,MouthPucker,"
    "MouthRight,MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,"
    "MouthDimpleRight,MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,"
    "MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,MouthUpperUpLeft,"
    "MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,"
    "CheekSquintLeft,CheekSquintRight,NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,"
    "LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll"
)
ROW = re.compile(r"^\d{2}:\d{2}:\d{2}:\d{2}\.\d{3},61(,-?\d+\.\d{10}){61}$")


def sample_rows() -> list[dict[str, str]]:
    with open(SAMPLE, newline="") as f:
        return list(csv.DictReader(f))


def tc_seconds(tc: str, rate: int = 60) -> float:
    h, m, s, f = tc.split(":")
    return int(h) * 3600 + int(m) * 60 + int(s) + float(f) / rate


def random_track(frames: int = 40, fps: float = 30.0, seed: int = 0) -> FaceTrack:
    rng = np.random.default_rng(seed)
    data = rng.uniform(0.0, 1.0, (frames, NUM_CHANNELS))
    data[:, 52:] = rng.uniform(-0.6, 0.6, (frames, 3))
    return FaceTrack(fps, data.astype(np.float32))


def write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def llf_lines(track_rows: list[list[str]], header: list[str] | None = None, eol: str = "\n") -> str:
    return eol.join([",".join(header or HEADER)] + [",".join(r) for r in track_rows]) + eol


# ----------------------------------------------------------------------------- format facts

def test_header_is_the_real_apps():
    assert ",".join(HEADER) == REAL_HEADER
    assert SAMPLE.read_text().split("\n")[0] == REAL_HEADER
    # Live Link's own order, not Apple's: JawRight before JawLeft, MouthRight before MouthLeft.
    assert LIVELINK_BLENDSHAPES.index("JawRight") < LIVELINK_BLENDSHAPES.index("JawLeft")
    assert LIVELINK_BLENDSHAPES.index("MouthRight") < LIVELINK_BLENDSHAPES.index("MouthLeft")


def test_format_timecode():
    assert format_timecode(0.0) == "00:00:00:00.000"
    assert format_timecode(1.0) == "00:00:01:00.000"
    assert format_timecode(59 / 60) == "00:00:00:59.000"
    assert format_timecode(1 / 120) == "00:00:00:00.500"
    assert format_timecode(3600 + 61 + 30 / 60, 60) == "01:01:01:30.000"
    assert format_timecode(86400 + 1.5, 30) == "00:00:01:15.000"  # wraps at midnight
    assert format_timecode(1929.13111666, 60) == "00:32:09:07.867"  # the real take's first row


# ----------------------------------------------------------------------------- reading

def test_reads_real_sample():
    rows = sample_rows()
    take = parse_livelink_csv(SAMPLE)
    assert take.timecode_rate == 60
    assert len(take.times) == 8
    assert take.start == pytest.approx(tc_seconds(rows[0]["Timecode"]), abs=1e-9)
    expected_t = [tc_seconds(r["Timecode"]) - tc_seconds(rows[0]["Timecode"]) for r in rows]
    np.testing.assert_allclose(take.times, expected_t, atol=1e-9)
    assert take.capture_rate == pytest.approx(60 / 1.0006, rel=1e-3)  # 59.96 Hz, as the app records
    for i, r in enumerate(rows):
        for col, value in r.items():
            if col in ("Timecode", "BlendShapeCount") or "Eye" in col and col[0] in "LR":
                continue
            if col == "HeadYaw":
                ours, sign = "headYaw", -1.0
            elif col == "HeadPitch":
                ours, sign = "headPitch", 1.0
            elif col == "HeadRoll":
                ours, sign = "headRoll", -1.0
            else:
                ours, sign = col[0].lower() + col[1:], 1.0
            assert take.data[i, INDEX[ours]] == pytest.approx(sign * float(value), abs=1e-7), (i, col)
    # The Live Link order swap lands on the right channels.
    assert take.data[0, INDEX["jawRight"]] == pytest.approx(float(rows[0]["JawRight"]), abs=1e-7)
    assert take.data[0, INDEX["mouthLeft"]] == pytest.approx(float(rows[0]["MouthLeft"]), abs=1e-7)


def test_read_resamples_sample_to_requested_rate():
    take = parse_livelink_csv(SAMPLE)
    track = read_livelink_csv(SAMPLE, fps=30.0)
    assert track.fps == 30.0
    assert track.frames == int(math.floor(take.times[-1] * 30 + 1e-6)) + 1 == 4
    for i in range(track.frames):
        t = i / 30.0
        for c in range(NUM_CHANNELS):
            assert track.data[i, c] == pytest.approx(np.interp(t, take.times, take.data[:, c]), abs=1e-6)


def test_round_trip(tmp_path):
    track = random_track(frames=45)
    path = tmp_path / "take.csv"
    write_livelink_csv(path, track)
    back = read_livelink_csv(path, fps=track.fps)
    assert back.frames == track.frames
    np.testing.assert_allclose(back.data, track.data, atol=2e-7)


def test_written_file_is_in_the_apps_format(tmp_path):
    track = random_track(frames=130)  # past one second: FF wraps at 60
    path = tmp_path / "take.csv"
    write_livelink_csv(path, track, start_timecode="10:20:30:40")
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode().split("\n")[:-1]
    assert lines[0] == REAL_HEADER
    assert len(lines) == 1 + track.frames
    for line in lines[1:]:
        assert ROW.match(line), line
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["Timecode"] == "10:20:30:40.000"
    assert rows[1]["Timecode"] == "10:20:30:42.000"        # 30 fps rows on a 60 fps timecode
    assert rows[10]["Timecode"] == "10:20:31:00.000"
    assert max(int(r["Timecode"][9:11]) for r in rows) == 58
    for i in (0, 77):
        assert float(rows[i]["HeadYaw"]) == pytest.approx(-track.head[i, 1], abs=1e-9)
        assert float(rows[i]["HeadPitch"]) == pytest.approx(track.head[i, 0], abs=1e-9)
        assert float(rows[i]["HeadRoll"]) == pytest.approx(-track.head[i, 2], abs=1e-9)
        assert float(rows[i]["JawLeft"]) == pytest.approx(track.weights[i, INDEX["jawLeft"]], abs=1e-9)
        # Eye angles follow the eyeLook weights: looking down is positive pitch.
        w = track.weights[i]
        down = w[INDEX["eyeLookDownLeft"]] - w[INDEX["eyeLookUpLeft"]]
        assert np.sign(float(rows[i]["LeftEyePitch"])) == np.sign(down)
        assert float(rows[i]["LeftEyeRoll"]) == 0.0


def test_resampling_60_to_30(tmp_path):
    # Piecewise-linear motion sampled at 60 fps: resampling to 30 must hit every other frame.
    frames = 121
    t = np.arange(frames) / 60.0
    data = np.zeros((frames, NUM_CHANNELS), np.float32)
    data[:, INDEX["jawOpen"]] = np.clip(t, 0, 1)
    data[:, INDEX["eyeBlinkLeft"]] = np.abs(1 - t)
    data[:, INDEX["headYaw"]] = 0.3 * t - 0.2
    track60 = FaceTrack(60.0, data)
    path = tmp_path / "sixty.csv"
    write_livelink_csv(path, track60)
    take = parse_livelink_csv(path)
    assert take.timecode_rate == 60 and take.capture_rate == pytest.approx(60.0, rel=1e-6)
    track30 = read_livelink_csv(path, fps=30.0)
    assert track30.frames == 61
    np.testing.assert_allclose(track30.data, data[::2], atol=1e-6)
    # And the other way: a 30 fps track written as 60 rows per second.
    # (FaceTrack.resampled keeps the duration, frames / fps: 61 / 30 s -> 122 rows at 60.)
    write_livelink_csv(path, track30, rate=60)
    assert parse_livelink_csv(path).times.shape == (122,)
    back = read_livelink_csv(path, fps=60.0)
    np.testing.assert_allclose(back.data[:121], data, atol=1e-6)
    np.testing.assert_allclose(back.data[121], data[120], atol=1e-6)


def test_case_insensitive_and_reordered_columns(tmp_path):
    track = random_track(frames=12, seed=3)
    ref = tmp_path / "ref.csv"
    write_livelink_csv(ref, track)
    with open(ref, newline="") as f:
        rows = list(csv.reader(f))
    order = list(range(len(rows[0])))
    np.random.default_rng(7).shuffle(order)
    mixed = tmp_path / "mixed.csv"
    with open(mixed, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([rows[0][i].lower() if i % 2 else rows[0][i].upper() for i in order])
        for r in rows[1:]:
            w.writerow([r[i] for i in order])
    np.testing.assert_allclose(read_livelink_csv(mixed, fps=30).data, track.data, atol=2e-7)
    # camelCase ARKit names (as UDP-streaming tools write) work too.
    camel = tmp_path / "camel.csv"
    header = ["Timecode", "BlendshapeCount"] + list(BLENDSHAPES)
    body = [[format_timecode(i / 60)] + ["61"] + [f"{x:.6f}" for x in track.weights[i]] for i in range(12)]
    write_text(camel, llf_lines(body, header))
    got = read_livelink_csv(camel, fps=60)
    np.testing.assert_allclose(got.weights, track.weights, atol=1e-6)
    assert not got.head.any()  # no head columns: zeros


def test_tolerates_bom_crlf_trailing_commas_missing_eyes(tmp_path):
    track = random_track(frames=10, seed=5)
    header = list(HEADER[:-6]) + [""]  # no eye columns, trailing comma
    body = []
    for i in range(10):
        vals = [track.weights[i, INDEX[n[0].lower() + n[1:]]] for n in LIVELINK_BLENDSHAPES]
        vals += [-track.head[i, 1], track.head[i, 0], -track.head[i, 2]]
        body.append([format_timecode(100 + i / 30)] + ["61"] + [f"{v:.10f}" for v in vals] + [""])
    path = write_text(tmp_path / "win.csv", "\ufeff" + llf_lines(body, header, eol="\r\n") + "\r\n")
    got = read_livelink_csv(path, fps=30)
    np.testing.assert_allclose(got.data, track.data, atol=2e-7)


def test_timecode_quirks(tmp_path):
    """Dropped, duplicated and out-of-order frames, a count-0 row, and midnight."""
    def row(t: float, jaw: float) -> list[str]:
        vals = ["0"] * 61
        vals[LIVELINK_BLENDSHAPES.index("JawOpen")] = f"{jaw:.6f}"
        return [format_timecode(t)] + ["61"] + vals

    start = 86400 - 2 / 60  # two frames before midnight
    times = [start + i / 60 for i in range(8)]
    rows = [row(times[0], 0.0), row(times[1], 0.1),
            row(times[3], 0.3),                        # 2 dropped (and wraps past midnight)
            row(times[3], 0.3),                        # duplicated
            [format_timecode(times[4]), "0"],          # a frame the app failed to capture
            row(times[6], 0.6), row(times[5], 0.5),    # out of order
            row(times[7], 0.7)]
    path = write_text(tmp_path / "quirks.csv", llf_lines(rows))
    take = parse_livelink_csv(path)
    np.testing.assert_allclose(take.times, np.array([0, 1, 3, 5, 6, 7]) / 60, atol=1e-9)
    assert take.start == pytest.approx(start, abs=1e-6)
    got = read_livelink_csv(path, fps=60)
    assert got.frames == 8
    np.testing.assert_allclose(got.data[:, INDEX["jawOpen"]], np.arange(8) / 10, atol=1e-6)


def test_infers_a_30fps_timecode(tmp_path):
    # 60 rows per second on a 30 fps timecode: FF repeats with .000 / .500 sub-frames.
    rows = []
    for i in range(150):
        vals = ["0"] * 61
        vals[LIVELINK_BLENDSHAPES.index("JawOpen")] = f"{i / 150:.6f}"
        rows.append([format_timecode(5 + i / 60, 30), "61"] + vals)
    path = write_text(tmp_path / "tc30.csv", llf_lines(rows))
    take = parse_livelink_csv(path)
    assert take.timecode_rate == 30
    assert take.capture_rate == pytest.approx(60.0, rel=1e-6)
    assert read_livelink_csv(path, fps=60).frames == 150


# ----------------------------------------------------------------------------- errors

def error_for(path: Path, **kw) -> str:
    with pytest.raises(LiveLinkError) as info:
        read_livelink_csv(path, **kw)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert os.fspath(path) in message  # every message names the file
    return message


def good_row(t: float = 0.0) -> list[str]:
    return [format_timecode(t), "61"] + ["0.1"] * 61


def test_errors(tmp_path):
    assert "not a CSV" in error_for(_binary(tmp_path))
    assert "empty" in error_for(write_text(tmp_path / "empty.csv", ""))
    assert "Timecode" in error_for(write_text(tmp_path / "json.csv", '{"frames": [1, 2, 3]}\n'))
    assert "no ARKit blendshape columns" in error_for(
        write_text(tmp_path / "noshapes.csv", "Timecode,BlendShapeCount,Foo,Bar\n00:00:00:00.000,2,1,2\n"))
    assert "no data rows" in error_for(write_text(tmp_path / "header.csv", llf_lines([])))
    bad_tc = [good_row(0), good_row(1 / 60), ["00:00:0x:02.000", "61"] + ["0.1"] * 61]
    assert "bad timecode '00:00:0x:02.000' at line 4" in error_for(
        write_text(tmp_path / "badtc.csv", llf_lines(bad_tc)))
    nan = [good_row(0), good_row(1 / 60)]
    nan[1][2 + LIVELINK_BLENDSHAPES.index("JawOpen")] = "nan"
    message = error_for(write_text(tmp_path / "nan.csv", llf_lines(nan)))
    assert "nan" in message and "JawOpen" in message and "line 3" in message
    word = [good_row(0)]
    word[0][5] = "abc"
    assert "bad number 'abc' in column EyeLookOutLeft at line 2" in error_for(
        write_text(tmp_path / "word.csv", llf_lines(word)))
    short = [good_row(0), good_row(1 / 60)[:30]]
    assert "line 3 has 30 fields" in error_for(write_text(tmp_path / "short.csv", llf_lines(short)))
    assert error_for(tmp_path / "missing.csv").endswith("missing.csv: no such file")


def _binary(tmp_path: Path) -> Path:
    path = tmp_path / "binary.csv"
    path.write_bytes(b"glTF\x02\x00\x00\x00" + bytes(range(256)))
    return path


# ----------------------------------------------------------------------------- atomic writes

def test_failed_write_leaves_target_untouched(tmp_path):
    target = tmp_path / "take.csv"
    target.write_text("precious")
    with pytest.raises(ValueError):
        write_livelink_csv(target, random_track(), start_timecode="not a timecode")
    with pytest.raises(ValueError):
        write_livelink_csv(target, random_track(), timecode_rate=29.97)
    assert target.read_text() == "precious"
    # A failure at the file system (the name is taken by a directory): nothing is left behind.
    blocked = tmp_path / "blocked.csv"
    blocked.mkdir()
    with pytest.raises(OSError):
        write_livelink_csv(blocked, random_track())
    assert blocked.is_dir() and not any(blocked.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked.csv", "take.csv"]
