"""Live Link Face CSV: read takes recorded by Epic's iPhone app, write tracks in its format.

The format, as the app writes it (verified against a real take, see Sources):

* One header row, then one row per captured ARKit frame, ``\\n`` line ends, no BOM.
* Columns: ``Timecode``, ``BlendShapeCount`` (always ``61``), the 52 ARKit shapes capitalised
  in Live Link's own order (:data:`LIVELINK_BLENDSHAPES` - note ``JawRight,JawLeft`` and
  ``MouthRight,MouthLeft``, unlike Apple's documented order), then ``HeadYaw, HeadPitch,
  HeadRoll, LeftEyeYaw, LeftEyePitch, LeftEyeRoll, RightEyeYaw, RightEyePitch, RightEyeRoll``.
  63 columns in all; values written with 10 decimals (``0.0491091609``).
* ``Timecode`` is ``HH:MM:SS:FF.fff``: ``FF`` counts frames at the timecode rate (60 in the
  app's default; ``FF`` runs 00..59) and ``.fff`` is the *sub-frame* fraction in thousandths of
  a frame - not milliseconds. In the real take consecutive rows read ``00:32:09:07.867``,
  ``08.868``, ``09.868`` ... ``59.898``, ``00:32:10:00.899``: the capture clock runs about
  0.06 % slower than the timecode, so the fraction creeps up by ~0.0006 frame per row. Time of
  a row = ``HH*3600 + MM*60 + SS + (FF + fff/1000) / rate``. It is time of day (it wraps at
  midnight) and a take starts wherever the clock stood.
* Angles are radians. Evidence: in the real take ``LeftEyePitch`` = 0.610 x
  (``EyeLookDownLeft`` - ``EyeLookUpLeft``) with correlation 0.99998, i.e. a full look-down is
  0.61 rad = 35 deg (as degrees/180, the -1..1 mapping of UE's old ARKit plugin, it would be
  110 deg, impossible for an eye). Signs, from the same take: positive pitch looks *down*,
  positive yaw looks towards the subject's *right* (``LeftEyeYaw`` rises with
  ``EyeLookInLeft``, ``RightEyeYaw`` with ``EyeLookOutRight``). That is what UE's ARKit
  conversion produces in its mirrored mode (``FQuat(-q.z, q.x, q.y, -q.w)`` into UE's
  left-handed frame, then ``FRotator``): pitch keeps ARKit's sign, yaw and roll are negated.
  Head and eyes go through the same conversion, so relative to this project's right-handed
  Y-up, Z-to-viewer angles (``core.face.rig.head_rotation``)::

      HeadPitch = pitch      HeadYaw = -yaw      HeadRoll = -roll

  The head sign mapping for yaw/roll is derived (eye data + UE's conversion code); the take we
  found has head rotation switched off (all zeros), so it could not be checked on head data.

Quirks seen in the wild and tolerated by the reader: a ``BlendshapeCount`` spelling, camelCase
names in another order (tools that stream the app's UDP packets), rows whose count is ``0``
with the weights missing (dropped frames, reported by the polyvox/flutter_filament importer),
BOM, CRLF, trailing commas, and timecodes with dropped, duplicated or out-of-order frames (out
of order by one frame at most), and one wrap past midnight. Refused, with one LiveLinkError
naming the file (and the line): anything but a regular UTF-8 text file, timecodes that go back
by more than a frame or span more than core.audio.MAX_DURATION (3 hours), values beyond
core.limits.CAPTURE_VALUE, more than MAX_ROWS rows or a line over MAX_LINE_CHARS; the file is
read row by row into compact arrays, so memory follows the take, not the file's claims.

Sources (public repositories, read through the search index):

* Real take ``Blender/Blender Example Files/MySlate_3_Jason_Millers_iPhone.csv`` in
  github.com/JMTechArt/Pipeline-Examples (327 rows, 60 fps timecode, head rotation zero).
* Header order also in JimWest/PyLiveLinkFace based Blender add-ons and in a test asserting
  "byte-for-byte from a real LiveLinkFace capture's own header row" (spelled BlendshapeCount).
* UE's ``AppleARKitFaceSupport`` ``ToBlendShapeMap`` and ``FAppleARKitConversion``
  (quaternion conversion, mirrored/non-mirrored sign flips).
* aronamao/Maya-Live-Link-CSV-Import (keys frames at 60 fps, FF wraps after 59).
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from array import array
from dataclasses import dataclass

import numpy as np

from core.arkit import BLENDSHAPES, INDEX, NUM_CHANNELS
from core.audio import MAX_DURATION
from core.fileio import NotReadable, atomic_write, check_regular
from core.limits import CAPTURE_VALUE, FPS, check_number
from core.track import FaceTrack

# The 52 shapes in the column order of the app's CSV (and of its UDP packets).
LIVELINK_BLENDSHAPES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft",
    "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight",
    "JawForward", "JawRight", "JawLeft", "JawOpen",
    "MouthClose", "MouthFunnel", "MouthPucker", "MouthRight", "MouthLeft",
    "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
    "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
    "MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight",
    "MouthUpperUpLeft", "MouthUpperUpRight",
    "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
    "CheekPuff", "CheekSquintLeft", "CheekSquintRight",
    "NoseSneerLeft", "NoseSneerRight",
    "TongueOut",
)
LIVELINK_ROTATIONS: tuple[str, ...] = (
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)
HEADER: tuple[str, ...] = ("Timecode", "BlendShapeCount") + LIVELINK_BLENDSHAPES + LIVELINK_ROTATIONS
BLENDSHAPE_COUNT = len(LIVELINK_BLENDSHAPES) + len(LIVELINK_ROTATIONS)  # 61, as the app writes
LIVELINK_ORDER = [INDEX[n[0].lower() + n[1:]] for n in LIVELINK_BLENDSHAPES]   # ARKit index of each column

assert len(HEADER) == 63 and BLENDSHAPE_COUNT == 61
assert {n.lower() for n in LIVELINK_BLENDSHAPES} == {n.lower() for n in BLENDSHAPES}

DEFAULT_TIMECODE_RATE = 60  # the app's capture and timecode rate
# Radians of eye rotation per unit of eyeLook weight, fitted to the real take (see above):
# pitch = 0.610 (lookDown - lookUp), yaw ~ 0.58..0.62 (lookIn - lookOut).
EYE_PITCH_PER_WEIGHT = 0.61
EYE_YAW_PER_WEIGHT = 0.60

_STANDARD_RATES = (24, 25, 30, 48, 50, 60, 72, 96, 100, 120)
_TIMECODE = re.compile(r"^\s*(\d{1,3}):(\d{1,2}):(\d{1,2})[:;.](\d{1,4})(?:\.(\d{1,9}))?\s*$")
_DAY = 86400.0
# Bounds on what is read: a take as long as the longest audio (MAX_DURATION, 3 hours) at the
# highest frame rate; a real row is about 700 characters.
MAX_ROWS_PER_SECOND = int(FPS.high)
MAX_ROWS = int(MAX_DURATION * MAX_ROWS_PER_SECOND)
MAX_LINE_CHARS = 65536


class LiveLinkError(ValueError):
    """A Live Link Face CSV that cannot be read; the message names the file and the problem."""


@dataclass
class LiveLinkTake:
    """A take as recorded: one row per captured frame, before resampling."""

    times: np.ndarray          # (N,) float64 seconds from the first row, strictly increasing
    data: np.ndarray           # (N, 55) float32 in FaceTrack channel order
    capture_rate: float        # rows per second, from the median row interval
    timecode_rate: int         # what FF counts (frames per second of the timecode)
    start: float               # time of day of the first row, seconds
    columns: tuple[str, ...]   # ARKit channels found in the file (FaceTrack names)

    def to_track(self, fps: float) -> FaceTrack:
        """Resample linearly onto a regular grid at `fps`, starting at the first row."""
        fps = check_number("the frame rate", fps, FPS)
        span = float(self.times[-1]) if len(self.times) else 0.0
        n = int(math.floor(span * fps + 1e-6)) + 1
        dst = np.arange(n, dtype=np.float64) / fps
        out = np.empty((n, NUM_CHANNELS), np.float32)
        for c in range(NUM_CHANNELS):
            out[:, c] = np.interp(dst, self.times, self.data[:, c])
        return FaceTrack(fps, out)


def _norm(name: str) -> str:
    return name.strip().strip('"').strip().lower()


def _parse_timecode(text: str) -> tuple[int, int, int, float] | None:
    m = _TIMECODE.match(text)
    if not m:
        return None
    h, mi, s, ff = (int(m.group(i)) for i in range(1, 5))
    sub = float("0." + m.group(5)) if m.group(5) else 0.0
    if mi > 59 or s > 59:
        return None
    return h, mi, s, ff + sub


def _infer_timecode_rate(secs: np.ndarray, frames: np.ndarray) -> int:
    """What FF counts: from the frame numbers either side of each second boundary (`secs`: the
    whole seconds of each row's timecode, `frames`: its FF.fff)."""
    max_ff = int(frames.max()) if len(frames) else 0
    same = np.diff(secs) == 0
    steps = np.diff(frames)[same]
    steps = steps[steps > 0]
    estimates: list[float] = []
    if len(steps):
        step = float(np.median(steps))
        wrap = np.flatnonzero(np.diff(secs) == 1)
        estimates = [frames[i] + step - frames[i + 1] for i in wrap]
    if estimates:
        est = float(np.median(estimates))
        best = min(_STANDARD_RATES, key=lambda r: abs(r - est))
        rate = best if abs(best - est) <= 0.5 else int(round(est))
        if rate > max_ff:
            return rate
    if max_ff < DEFAULT_TIMECODE_RATE:
        return DEFAULT_TIMECODE_RATE
    for r in _STANDARD_RATES:
        if r > max_ff:
            return r
    return max_ff + 1


def _open_text(path: str | os.PathLike, where: str) -> io.TextIOWrapper:
    """The file as UTF-8 text (a BOM dropped), once it is known to be a regular file holding
    no binary data. stat comes before open: opening a FIFO blocks until a writer comes, and a
    device such as /dev/zero reads forever."""
    try:
        check_regular(path, "a Live Link Face CSV")
        f = open(path, "rb")
    except NotReadable as e:
        raise LiveLinkError(f"{where}: {e}") from None
    except OSError as e:
        raise LiveLinkError(f"{where}: cannot read the file ({e.strerror or e})") from e
    if b"\x00" in f.read(65536):
        f.close()
        raise LiveLinkError(f"{where}: not a CSV file (binary data)")
    f.seek(0)
    return io.TextIOWrapper(f, encoding="utf-8-sig", newline="")


def _lines(text: io.TextIOWrapper, where: str):
    """The file's lines, each read with a bound: a file with no line ends is not read whole."""
    number = 0
    while True:
        line = text.readline(MAX_LINE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise LiveLinkError(f"{where}: line {number} is longer than {MAX_LINE_CHARS} characters; "
                                f"not a Live Link Face CSV")
        yield line


def parse_livelink_csv(path: str | os.PathLike, *, timecode_rate: int | None = None) -> LiveLinkTake:
    """Read a Live Link Face CSV into its rows (times from the timecode, no resampling).

    `timecode_rate` says what the FF field counts; by default it is inferred from the file
    (60 when the file cannot tell, the app's default). The file is read row by row, into
    compact arrays, so memory follows the number of rows (at most MAX_ROWS); a take whose
    timecodes go back by more than a frame, or span more than MAX_DURATION, is refused
    naming the line, before anything the size of the take is allocated.
    """
    where = os.fspath(path)
    with _open_text(path, where) as text:
        try:
            return _parse(_numbered_rows(csv.reader(_lines(text, where))), where, timecode_rate)
        except UnicodeDecodeError:
            raise LiveLinkError(f"{where}: not a CSV file (not UTF-8 text)") from None
        except csv.Error as e:
            raise LiveLinkError(f"{where}: not a CSV file ({e})") from None


def _parse(rows, where: str, timecode_rate: int | None) -> LiveLinkTake:
    first = next(rows, None)
    if first is None:
        raise LiveLinkError(f"{where}: empty file, no header row")
    header_line, header = first
    names = [_norm(h) for h in header]
    if len(header) < 2 or "timecode" not in names:
        raise LiveLinkError(f"{where}: not a Live Link Face CSV (no Timecode column in the header "
                            f"on line {header_line})")
    col: dict[str, int] = {}
    for i, n in enumerate(names):
        if n and n not in col:
            col[n] = i
    tc_col = col["timecode"]
    count_col = col.get("blendshapecount")
    # FaceTrack channel -> CSV column, and the sign for head angles (see module doc).
    sources: list[tuple[int, int, float]] = []
    for name in BLENDSHAPES:
        if name.lower() in col:
            sources.append((INDEX[name], col[name.lower()], 1.0))
    n_shapes = len(sources)
    if n_shapes == 0:
        raise LiveLinkError(f"{where}: no ARKit blendshape columns in the header "
                            f"(expected names such as EyeBlinkLeft, JawOpen)")
    for ours, theirs, sign in (("headPitch", "headpitch", 1.0), ("headYaw", "headyaw", -1.0),
                               ("headRoll", "headroll", -1.0)):
        if theirs in col:
            sources.append((INDEX[ours], col[theirs], sign))
    needed = max(c for _, c, _ in sources)
    found = tuple(name for name in BLENDSHAPES + ("headPitch", "headYaw", "headRoll")
                  if name.lower() in col)

    # Compact columns (a Python list of 55 floats per row would take 30 times the memory).
    secs, frames, lines = array("q"), array("d"), array("q")
    values = array("f")
    count = 0
    for line, row in rows:
        count += 1
        if count > MAX_ROWS:
            raise LiveLinkError(f"{where}: more than {MAX_ROWS} rows ({MAX_DURATION / 3600:.0f} hours at "
                                f"{MAX_ROWS_PER_SECOND} rows a second); not a take this program reads")
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        tc_text = cells[tc_col] if tc_col < len(cells) else ""
        stamp = _parse_timecode(tc_text)
        if stamp is None:
            raise LiveLinkError(f"{where}: bad timecode {tc_text[:40]!r} at line {line} "
                                f"(expected HH:MM:SS:FF.fff)")
        # A timecode (and a count of 0) with no values: a frame the app failed to capture.
        if all(not c for i, c in enumerate(cells) if i not in (tc_col, count_col)):
            continue
        if len(cells) <= needed:
            raise LiveLinkError(f"{where}: line {line} has {len(cells)} fields, the header "
                                f"names {len(header)}")
        vals = [0.0] * NUM_CHANNELS
        for ours, c, sign in sources:
            cell = cells[c]
            try:
                v = float(cell) if cell else 0.0
            except ValueError:
                raise LiveLinkError(f"{where}: bad number {cell[:40]!r} in column {header[c].strip()[:40]} "
                                    f"at line {line}") from None
            if not math.isfinite(v):
                raise LiveLinkError(f"{where}: {cell[:40]} (not a finite number) in column "
                                    f"{header[c].strip()[:40]} at line {line}")
            if not CAPTURE_VALUE.low <= v <= CAPTURE_VALUE.high:
                try:
                    check_number(f"the value in column {header[c].strip()[:40]} at line {line}", v, CAPTURE_VALUE)
                except ValueError as e:
                    raise LiveLinkError(f"{where}: {e}") from None
            vals[ours] = sign * v
        h, m, s, f = stamp
        secs.append(h * 3600 + m * 60 + s)
        frames.append(f)
        lines.append(line)
        values.extend(vals)
    if not lines:
        raise LiveLinkError(f"{where}: no data rows after the header")

    sec = np.frombuffer(secs, np.int64)
    ff = np.frombuffer(frames, np.float64)
    rate = int(timecode_rate) if timecode_rate else _infer_timecode_rate(sec, ff)
    t = sec + ff / rate
    # Time of day wraps at midnight: a jump back of more than half a day is the next day.
    jumps = np.diff(t)
    t = t + np.concatenate([[0.0], np.cumsum(np.where(jumps < -_DAY / 2, _DAY, 0.0))])
    _check_times(t, np.frombuffer(lines, np.int64), rate, where)
    data = np.frombuffer(values, np.float32).reshape(-1, NUM_CHANNELS)
    # Rows out of order (by a frame at most) are put in time order; duplicated timestamps keep the last row.
    if np.any(np.diff(t) < 0):
        order = np.argsort(t, kind="stable")
        t, data = t[order], data[order]
    keep = np.ones(len(t), bool)
    keep[:-1] = np.diff(t) > 1e-7
    t, data = t[keep], data[keep]
    start = float(t[0])
    t = t - start
    intervals = np.diff(t)
    capture = float(1.0 / np.median(intervals)) if len(intervals) else float(rate)
    return LiveLinkTake(t, np.ascontiguousarray(data), capture, rate, start % _DAY, found)


def _check_times(t: np.ndarray, lines: np.ndarray, rate: int, where: str) -> None:
    """Refuse timecodes that go back by more than a frame, or that span more than MAX_DURATION:
    a take is recorded forward in time, and one that seems to last for days is damaged (it
    would otherwise be resampled into an array of that length)."""
    back = np.flatnonzero(np.diff(t) < -(1.0 / rate + 1e-6))
    if len(back):
        i = int(back[0]) + 1
        raise LiveLinkError(
            f"{where}: line {lines[i]}: timecode {format_timecode(t[i] % _DAY, rate)} goes back "
            f"{t[i - 1] - t[i]:.3f} s from line {lines[i - 1]} ({format_timecode(t[i - 1] % _DAY, rate)}); "
            f"a take's timecodes run forward (rows may be out of order by one frame at most)")
    far = np.flatnonzero(t - t[0] > MAX_DURATION)
    if len(far):
        i = int(far[0])
        raise LiveLinkError(
            f"{where}: line {lines[i]}: timecode {format_timecode(t[i] % _DAY, rate)} is "
            f"{(t[i] - t[0]) / 3600:.1f} hours after the first row's ({format_timecode(t[0] % _DAY, rate)}); "
            f"a take may last {MAX_DURATION / 3600:.0f} hours at most")


def _numbered_rows(reader):
    for row in reader:
        if row and any(c.strip() for c in row):
            yield reader.line_num, row


def read_livelink_csv(path: str | os.PathLike, fps: float = 30.0, *,
                      timecode_rate: int | None = None) -> FaceTrack:
    """A Live Link Face CSV as a FaceTrack at `fps` (linear resampling from the capture times).

    Columns are matched by name, case-insensitively; blendshape columns absent from the file
    read as zero, and so does head rotation (eye rotations are not part of a FaceTrack). Head
    angles are converted to this project's convention: pitch = HeadPitch, yaw = -HeadYaw,
    roll = -HeadRoll, radians. Raises LiveLinkError for anything unreadable.
    """
    return parse_livelink_csv(path, timecode_rate=timecode_rate).to_track(fps)


def format_timecode(seconds: float, rate: int = DEFAULT_TIMECODE_RATE) -> str:
    """Time of day in seconds -> "HH:MM:SS:FF.fff" (FF at `rate`, .fff sub-frame thousandths)."""
    total = seconds * rate
    whole = math.floor(total + 1e-9)
    milli = int(round((total - whole) * 1000))
    if milli >= 1000:
        whole, milli = whole + 1, 0
    elif milli < 0:
        milli = 0
    ff = int(whole % rate)
    secs = int(whole // rate)
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    return f"{h % 24:02d}:{m:02d}:{s:02d}:{ff:02d}.{milli:03d}"


def eye_rotations(weights: np.ndarray) -> np.ndarray:
    """(F, 52) ARKit weights -> (F, 6) LeftEyeYaw/Pitch/Roll, RightEyeYaw/Pitch/Roll (radians).

    The app measures eye rotations directly; a generated track only has the eyeLook weights,
    so the angles are derived from them with the gains fitted to a real take (pitch positive
    looking down, yaw positive looking to the subject's right, roll zero). Importers that drive
    eye bones from these columns then agree with ones that drive eye shapes from the weights.
    """
    w = np.asarray(weights, dtype=np.float64)

    def g(name: str) -> np.ndarray:
        return w[:, INDEX[name]]

    out = np.zeros((len(w), 6))
    out[:, 0] = EYE_YAW_PER_WEIGHT * (g("eyeLookInLeft") - g("eyeLookOutLeft"))
    out[:, 1] = EYE_PITCH_PER_WEIGHT * (g("eyeLookDownLeft") - g("eyeLookUpLeft"))
    out[:, 3] = EYE_YAW_PER_WEIGHT * (g("eyeLookOutRight") - g("eyeLookInRight"))
    out[:, 4] = EYE_PITCH_PER_WEIGHT * (g("eyeLookDownRight") - g("eyeLookUpRight"))
    return out


def livelink_values(data: np.ndarray) -> np.ndarray:
    """(F, 55) frames (52 weights, head pitch, yaw, roll) -> (F, 61) values in Live Link's order:
    the 52 shapes as the app orders them, then HeadYaw, HeadPitch, HeadRoll and the eyes' yaw,
    pitch and roll (radians), as the app writes them to a CSV and sends them in its packets."""
    d = np.asarray(data, dtype=np.float64).reshape(-1, NUM_CHANNELS)
    w, head = d[:, :len(BLENDSHAPES)], d[:, len(BLENDSHAPES):]
    rot = np.empty((len(d), 9))
    rot[:, 0] = -head[:, 1]   # HeadYaw   = -yaw
    rot[:, 1] = head[:, 0]    # HeadPitch = pitch
    rot[:, 2] = -head[:, 2]   # HeadRoll  = -roll
    rot[:, 3:] = eye_rotations(w)
    return np.concatenate([w[:, LIVELINK_ORDER], rot], axis=1)


def write_livelink_csv(path: str | os.PathLike, track: FaceTrack, start_timecode: float | str = 0.0,
                       rate: float | None = None, *,
                       timecode_rate: int = DEFAULT_TIMECODE_RATE) -> None:
    """Write `track` as the app writes a take: same 63 columns, order, count and number format.

    start_timecode: time of day of the first row, in seconds or as "HH:MM:SS:FF[.fff]".
    rate: rows per second; None keeps the track's frames (the app itself records at 60, pass
    rate=60 to match it exactly; the track is then resampled linearly).
    timecode_rate: what FF counts (60 as in the app, so FF runs 00..59 whatever `rate` is).
    Eye rotation columns are derived from the eyeLook weights (see eye_rotations).
    The file appears complete or not at all (atomic write).
    """
    if rate is not None and float(rate) != track.fps:
        track = track.resampled(float(rate))
    tc_rate = int(timecode_rate)
    if tc_rate <= 0 or tc_rate != timecode_rate:
        raise ValueError(f"timecode rate must be a positive whole number, got {timecode_rate}")
    if isinstance(start_timecode, str):
        stamp = _parse_timecode(start_timecode)
        if stamp is None:
            raise ValueError(f"bad start timecode {start_timecode!r} (expected HH:MM:SS:FF.fff)")
        h, m, s, f = stamp
        start = h * 3600 + m * 60 + s + f / tc_rate
    else:
        start = float(start_timecode)
    values = livelink_values(track.data) + 0.0  # + 0.0: no "-0.0000000000"
    body = io.StringIO()
    body.write(",".join(HEADER) + "\n")
    line_fmt = ",".join(["%s", str(BLENDSHAPE_COUNT)] + ["%.10f"] * BLENDSHAPE_COUNT) + "\n"
    for i in range(track.frames):
        tc = format_timecode(start + i / track.fps, tc_rate)
        body.write(line_fmt % (tc, *values[i]))
    payload = body.getvalue().replace("-0.0000000000", "0.0000000000").encode("utf-8")
    with atomic_write(path) as f:
        f.write(payload)


__all__ = [
    "BLENDSHAPE_COUNT", "HEADER", "LIVELINK_BLENDSHAPES", "LIVELINK_ROTATIONS", "LiveLinkError",
    "LiveLinkTake", "eye_rotations", "format_timecode", "livelink_values", "parse_livelink_csv", "read_livelink_csv",
    "write_livelink_csv",
]
