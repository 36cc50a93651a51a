"""The project: audio, instruction segments, face tracks and settings, saved as one `.avtp` file.

An `.avtp` file is a zip archive a user can copy or mail:
    project.json          format name, version, settings, segments, track and audio metadata
    audio/<file name>     the original audio file, byte for byte
    tracks/<name>.npy     one FaceTrack each (frames x 55 float32)
    analysis/speech.npy   optional: the listener's per-frame speech features at the project's
                          frame rate (what the motion model reads), so a segment can be
                          regenerated without listening to the audio again
Saving is atomic (temporary file, then rename). Loading checks everything and raises
ProjectError naming the file and the problem: empty, not a zip, truncated, foreign, a newer
format version (which one, and that a newer AVI-Talking Studio is needed), a bad field.
"""

from __future__ import annotations

import contextlib
import io
import json
import lzma
import math
import os
import re
import time
import zipfile
import zlib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterator

try:
    import fcntl
except ImportError:                 # Windows: no advisory locks; saves still refuse a changed file
    fcntl = None

import numpy as np

from core.arkit import BLENDSHAPES, NUM_CHANNELS
from core.audio import Audio, AudioError, decode_audio
from core import limits
from core.fileio import NotReadable, atomic_write, check_regular, real_target
from core.limits import (MAX_INFLATED_UNCHECKED, MAX_INSTRUCTION_CHARS, MAX_MEMBER_BYTES, MAX_MEMBER_RATIO,
                         MAX_PROJECT_JSON, check_number)
from core.track import DEFAULT_FPS, FaceTrack

FORMAT_NAME = "avi-talking-studio-project"
FORMAT_VERSION = 1
SUFFIX = ".avtp"

# The eight emotions of the MEAD corpus, which AVI-Talking's instructions use.
EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "surprised", "fearful", "disgusted", "contempt")

# The name of the track the studio plays and exports.
MAIN_TRACK = "performance"


class ProjectError(ValueError):
    """A project file could not be read; the message names the file and the problem."""


class ProjectChanged(ProjectError):
    """The project file changed on disk since it was read: saving over it would lose that change."""


@dataclass(frozen=True)
class FileStamp:
    """Which file a path held when a project was read from it (a save replaces the file, so a new
    save, by this program or another, gives a new inode and time)."""
    device: int
    inode: int
    size: int
    mtime_ns: int

    @staticmethod
    def of(path: str | os.PathLike) -> FileStamp | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return FileStamp(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


# What reading a damaged zip archive raises: bad headers, CRC, sizes, a compression method or
# encryption flag turned on by damage, a deflate (or bzip2, lzma) stream that does not decode.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, RuntimeError,
               zlib.error, lzma.LZMAError)


@dataclass
class Instruction:
    text: str
    emotion: str = "neutral"
    intensity: float = 0.5          # 0 (barely) .. 1 (extremely)
    writer: str = "user"            # who wrote it: "user", a language model's name, "rules"

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        if not isinstance(self.text, str) or not isinstance(self.writer, str):
            raise ValueError(f"an instruction's text and writer are strings, got {_brief(self.text)} and "
                             f"{_brief(self.writer)}")
        if len(self.text) > MAX_INSTRUCTION_CHARS:
            raise ValueError(f"an instruction is at most {MAX_INSTRUCTION_CHARS} characters, this one has "
                             f"{len(self.text)}")
        if self.emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {_brief(self.emotion)}; expected one of {', '.join(EMOTIONS)}")
        check_number("intensity", self.intensity, limits.INTENSITY)


@dataclass
class Segment:
    start: float                    # seconds, inclusive
    end: float                      # seconds, exclusive
    instruction: Instruction
    seed: int = 0
    evidence: dict[str, Any] = field(default_factory=dict)   # what the listener found (JSON-able)

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        if not (_is_number(self.start) and _is_number(self.end) and 0 <= self.start < self.end):
            raise ValueError(f"a segment needs 0 <= start < end, got [{_brief(self.start)}, {_brief(self.end)})")
        check_number("seed", self.seed, limits.SEED)
        if not isinstance(self.evidence, dict):
            raise ValueError(f"a segment's evidence is an object, got {type(self.evidence).__name__}")
        self.instruction.check()


@dataclass
class Settings:
    fps: float = DEFAULT_FPS
    sampling_steps: int = 8
    guidance: float = 2.0
    extra: dict[str, Any] = field(default_factory=dict)      # settings of later stages, kept as-is

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        check_number("settings: fps", self.fps, limits.FPS)
        check_number("settings: sampling_steps", self.sampling_steps, limits.STEPS)
        check_number("settings: guidance", self.guidance, limits.GUIDANCE)
        if not isinstance(self.extra, dict):
            raise ValueError(f"settings: extra must be an object, got {type(self.extra).__name__}")


def _is_number(value: Any) -> bool:
    """A finite int or float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass
class Project:
    audio: Audio | None = None
    segments: list[Segment] = field(default_factory=list)
    tracks: dict[str, FaceTrack] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)
    speech_features: np.ndarray | None = None    # (frames, F) float32 at settings.fps, or None

    @property
    def main_track(self) -> FaceTrack | None:
        return self.tracks.get(MAIN_TRACK)

    def summary(self) -> dict[str, Any]:
        """The project as plain JSON-able data (for `avitalk info --json`)."""
        out: dict[str, Any] = {"format": FORMAT_NAME, "version": FORMAT_VERSION}
        if self.audio is not None:
            a = self.audio
            out["audio"] = {"name": a.name, "sample_rate": a.sample_rate, "channels": a.channels,
                            "duration": round(a.duration, 6)}
        else:
            out["audio"] = None
        out["segments"] = [_segment_json(s) for s in self.segments]
        out["tracks"] = {}
        for name, t in self.tracks.items():
            w = t.weights
            active = [n for n, v in zip(BLENDSHAPES, w.max(axis=0) if t.frames else []) if v > 0.05]
            out["tracks"][name] = {
                "fps": t.fps, "frames": t.frames, "duration": round(t.duration, 6),
                "active_blendshapes": active,
                "head_range_deg": [round(float(np.degrees(np.ptp(t.head[:, i]))), 3) if t.frames else 0.0
                                   for i in range(3)],
            }
        out["settings"] = asdict(self.settings)
        return out


def _segment_json(s: Segment) -> dict[str, Any]:
    return {"start": s.start, "end": s.end, "seed": s.seed, "instruction": asdict(s.instruction),
            "evidence": s.evidence}


# --- saving -------------------------------------------------------------------------------

def check_project(project: Project) -> None:
    """Apply the loader's rules to a project in memory (ValueError naming the part), so that no
    project is saved that the loader would refuse."""
    if not isinstance(project.settings, Settings):
        raise ValueError("settings must be a Settings")
    project.settings.check()
    for i, seg in enumerate(project.segments):
        try:
            seg.check()
        except ValueError as exc:
            raise ValueError(f"segment {i}: {exc}") from None
    for name, track in project.tracks.items():
        if not isinstance(name, str) or not isinstance(track, FaceTrack):
            raise ValueError(f"track {_brief(name)} is not a face track")
        check_number(f"track {name!r}: fps", track.fps, limits.FPS)
    if project.speech_features is not None and np.ndim(project.speech_features) != 2:
        raise ValueError("the speech features must be frames x features")


@contextlib.contextmanager
def locked_project(path: str | os.PathLike, wait: float = 600.0) -> Iterator[FileStamp | None]:
    """Hold the project file at `path` for a read-modify-write: a second holder of the same file
    (another `avitalk regen`) waits until this one has saved, then reads what it saved. Yields the
    stamp of the file as locked, for `save_project(..., unchanged_since=...)`; None (and no lock)
    where the file cannot be opened, so that reading it gives the loader's own message.

    A save replaces the file, so the lock is on the file the path names when it is taken: a waiter
    that wakes to find the path naming a newer file locks that one instead."""
    target = real_target(path)
    give_up = time.monotonic() + wait
    while True:
        try:
            fd = os.open(target, os.O_RDONLY)
        except OSError:
            fd = None
        if fd is None:
            yield None
            return
        try:
            if fcntl is not None:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > give_up:
                            raise ProjectError(f"{path}: another program has held the project for over "
                                               f"{wait:g} s; try again when it is done") from None
                        time.sleep(0.05)
            held, now = os.fstat(fd), FileStamp.of(target)
            if now is not None and (held.st_dev, held.st_ino) == (now.device, now.inode):
                yield now
                return
        finally:
            os.close(fd)            # closing releases the lock


def save_project(project: Project, path: str | os.PathLike,
                 unchanged_since: FileStamp | None = None) -> FileStamp:
    """Write the project atomically: an existing file is replaced only by a complete one. Nothing
    is written if the project breaks a rule the loader applies. With `unchanged_since` (the stamp
    of the file when the project was read from it) the save is refused with ProjectChanged if the
    file has been replaced since, by another program or another `avitalk`: its edit is kept, ours
    is not written. Returns the stamp of the file written."""
    try:
        check_project(project)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ProjectError(f"{path}: not saved: {_short(exc)}") from exc
    doc: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "settings": asdict(project.settings),
        "segments": [_segment_json(s) for s in project.segments],
        "tracks": {},
        "audio": None,
    }
    members: list[tuple[str, bytes]] = []
    if project.audio is not None:
        a = project.audio
        member = f"audio/{_safe_name(a.name or 'audio.wav')}"
        doc["audio"] = {"name": a.name, "member": member, "sample_rate": a.sample_rate,
                        "channels": a.channels, "frames": a.frames}
        data = a.data or _encode_wav(a)
        members.append((member, data))
    for i, (name, track) in enumerate(project.tracks.items()):
        member = f"tracks/{i:03d}.npy"
        doc["tracks"][name] = {"member": member, "fps": track.fps, "frames": track.frames}
        buf = io.BytesIO()
        np.save(buf, track.data, allow_pickle=False)
        members.append((member, buf.getvalue()))
    if project.speech_features is not None:
        features = np.ascontiguousarray(project.speech_features, np.float32)
        doc["speech_features"] = {"member": "analysis/speech.npy", "fps": project.settings.fps,
                                  "shape": list(features.shape)}
        buf = io.BytesIO()
        np.save(buf, features, allow_pickle=False)
        members.append(("analysis/speech.npy", buf.getvalue()))
    try:
        text = json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False)
    except (ValueError, TypeError) as exc:       # NaN or a foreign object in the evidence or extra settings
        raise ProjectError(f"{path}: not saved: {_short(exc)}") from exc

    def still_unchanged(target: Path) -> None:
        now = FileStamp.of(target)
        if unchanged_since is not None and now != unchanged_since:
            raise ProjectChanged(f"{path}: the file was changed by another program since it was read, so this "
                                 f"edit was not saved over it; open it again and redo the edit, or save under "
                                 f"another name")
    with atomic_write(path, still_unchanged) as f, zipfile.ZipFile(f, "w") as z:
        z.writestr("project.json", text, compress_type=zipfile.ZIP_DEFLATED)
        for member, data in members:
            # Audio is stored as it came (usually already compressed); tracks deflate well.
            method = zipfile.ZIP_STORED if member.startswith("audio/") else zipfile.ZIP_DEFLATED
            z.writestr(member, data, compress_type=method)
    return FileStamp.of(path)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", Path(name).name) or "audio"


def _encode_wav(audio: Audio) -> bytes:
    import soundfile as sf
    buf = io.BytesIO()
    sf.write(buf, audio.samples, audio.sample_rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


# --- loading ------------------------------------------------------------------------------

def load_project(path: str | os.PathLike) -> Project:
    p = Path(path)
    try:
        st = check_regular(p, "a project file")
    except NotReadable as exc:
        raise ProjectError(f"{p}: {exc}") from None
    if st.st_size == 0:
        raise ProjectError(f"{p}: the file is empty (0 bytes)")
    if not zipfile.is_zipfile(p):
        with open(p, "rb") as f:
            starts_as_zip = f.read(4) == b"PK\x03\x04"
        if starts_as_zip:
            raise ProjectError(f"{p}: the project file is truncated or damaged (the end of the archive, "
                               f"its table of contents, is missing)")
        raise ProjectError(f"{p}: not an AVI-Talking project (not a zip archive)")
    try:
        with zipfile.ZipFile(p) as z:
            return _read(z, p)
    except ProjectError:
        raise
    except _ZIP_ERRORS as exc:
        raise ProjectError(f"{p}: the archive is damaged or truncated ({_short(exc)})") from exc


def _read(z: zipfile.ZipFile, p: Path) -> Project:
    def blob(member: str) -> bytes:
        try:
            info = z.getinfo(member)
        except KeyError:
            raise ProjectError(f"{p}: {member} is missing from the archive") from None
        problem = _size_problem(info)
        if problem:
            raise ProjectError(f"{p}: {problem}")
        try:
            return z.read(info)
        except _ZIP_ERRORS as exc:                       # CRC, truncated or undecodable member
            raise ProjectError(f"{p}: {member} is damaged ({_short(exc)})") from exc

    text = blob("project.json")
    try:
        doc = json.loads(text.decode("utf-8"))
    except (ValueError, RecursionError) as exc:   # bad UTF-8 or JSON, a number too long, nesting too deep
        raise ProjectError(f"{p}: project.json is not valid JSON ({_short(exc)})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT_NAME:
        fmt = doc.get("format") if isinstance(doc, dict) else None
        raise ProjectError(f"{p}: not an AVI-Talking project (format is {_brief(fmt)})")
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ProjectError(f"{p}: bad format version {_brief(version)}")
    if version > FORMAT_VERSION:
        raise ProjectError(
            f"{p}: saved by a newer AVI-Talking Studio (project format {version}); this version reads "
            f"format {FORMAT_VERSION} and older, so a newer AVI-Talking Studio is needed to open it"
        )
    try:
        settings = _dataclass_from(Settings, doc.get("settings", {}), "settings")
        segments = [_segment_from(s, i) for i, s in enumerate(_require(doc, "segments", list))]
        tracks = {}
        for name, meta in _require(doc, "tracks", dict).items():
            data = _load_npy(blob(_require(meta, "member", str)), f"track {name!r}")
            try:
                tracks[name] = FaceTrack(float(_require(meta, "fps", (int, float))), data)
            except ValueError as exc:
                raise ValueError(f"track {name!r}: {exc}") from exc
        features = None
        if doc.get("speech_features") is not None:
            meta = _require(doc, "speech_features", dict)
            features = _load_npy(blob(_require(meta, "member", str)), "the speech features", columns=None)
        audio = None
        if doc.get("audio") is not None:
            meta = _require(doc, "audio", dict)
            audio = decode_audio(blob(_require(meta, "member", str)), _require(meta, "name", str))
    except ProjectError:
        raise                                     # already names the file (a member's own problem)
    except AudioError as exc:
        raise ProjectError(f"{p}: the embedded audio is unusable: {exc}") from exc
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise ProjectError(f"{p}: {_short(exc)}") from exc
    return Project(audio=audio, segments=segments, tracks=tracks, settings=settings, speech_features=features)


def _size_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a member is refused by the sizes the archive declares, before any of it is inflated
    (zipfile never inflates past the declared size)."""
    what, size = info.filename, info.file_size
    cap = MAX_PROJECT_JSON if what == "project.json" else MAX_MEMBER_BYTES
    if size > cap:
        return f"{what} is {size / 2 ** 20:,.0f} MB; a project holds at most {cap / 2 ** 20:,.0f} MB there"
    if size > MAX_INFLATED_UNCHECKED and size > MAX_MEMBER_RATIO * max(info.compress_size, 1):
        return (f"{what} would inflate from {info.compress_size:,} to {size:,} bytes, more than "
                f"{MAX_MEMBER_RATIO} times; the archive is not one this program wrote")
    return None


def _short(exc: BaseException) -> str:
    """An exception's message cut to one line of at most 300 characters."""
    text = str(exc).strip()
    text = text.splitlines()[0] if text else type(exc).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _brief(value: Any) -> str:
    """A value as Python writes it, cut to 60 characters (for messages)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _require(doc: Any, key: str, kind: type | tuple) -> Any:
    if not isinstance(doc, dict) or key not in doc:
        raise ValueError(f"field {key!r} is missing")
    value = doc[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ValueError(f"field {key!r} has the wrong type ({type(value).__name__})")
    return value


def _dataclass_from(cls: type, data: Any, what: str) -> Any:
    if not isinstance(data, dict):
        raise ValueError(f"{what} must be an object")
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"{what} has unknown fields {sorted(unknown)}")
    return cls(**data)


def _segment_from(data: Any, index: int) -> Segment:
    if not isinstance(data, dict):
        raise ValueError(f"segment {index} must be an object")
    try:
        instruction = _dataclass_from(Instruction, data.get("instruction"), "instruction")
        return Segment(start=float(_require(data, "start", (int, float))), end=float(_require(data, "end", (int, float))),
                       instruction=instruction, seed=int(data.get("seed", 0)), evidence=dict(data.get("evidence", {})))
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(f"segment {index}: {exc}") from exc


def _load_npy(data: bytes, what: str, columns: int | None = NUM_CHANNELS) -> np.ndarray:
    # The header is checked against the data first: numpy allocates what the header announces.
    buf = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(buf)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(buf)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(buf)
        else:
            raise ValueError(f"unknown .npy version {version}")
        if dtype.kind not in "biuf":
            raise ValueError(f"it holds {dtype} values, not numbers")
        needed = math.prod(shape) * dtype.itemsize
        if needed > len(data) - buf.tell():
            raise ValueError(f"the header announces {needed} bytes of data, the member holds {len(data) - buf.tell()}")
        array = np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, TypeError, OSError, EOFError) as exc:
        raise ValueError(f"{what} is damaged ({_short(exc)})") from exc
    if array.ndim != 2 or (columns is not None and array.shape[1] != columns):
        raise ValueError(f"{what} has shape {array.shape}, expected frames x {columns or 'features'}")
    return array.astype(np.float32)
