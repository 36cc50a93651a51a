"""Export options (frame rate, time range, video size) and `export_file`, the one writer by suffix.

The command line (`avitalk export`, `render`, `generate`) and the studio's File > Export both
call `export_file`, so a take is cut, resampled and written the same way whoever asks. A range
[start, end) is cut at the take's own frames (from the first frame at or after `start` to the
last one before `end`), then resampled to the chosen rate by `FaceTrack.resampled`; the sound of
an MP4 is cut at the same frame times, so picture and sound stay in sync.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from core import limits
from core.audio import Audio
from core.limits import check_number
from core.track import FaceTrack

EXPORT_SUFFIXES = (".fbx", ".glb", ".csv", ".mp4")
_ON_FRAME = 1e-6            # a range edge this close (in frames) to a frame's time is on that frame


@dataclass
class ExportOptions:
    """How a take is exported. None keeps the take's own frame rate, start or end."""

    fps: float | None = None
    start: float | None = None      # seconds into the take, inclusive
    end: float | None = None        # seconds into the take, exclusive
    width: int = 1280               # video only (an odd size is rounded up to even by the writer)
    height: int = 720
    antialias: bool = False         # video only: smoothed edges, about 40 % slower

    def __post_init__(self) -> None:
        if self.fps is not None:
            self.fps = check_number("the frame rate", self.fps, limits.FPS)
        if self.start is not None:
            self.start = check_number("the range start", self.start, limits.TAKE_TIME)
        if self.end is not None:
            self.end = check_number("the range end", self.end, limits.TAKE_TIME)
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"the range end ({self.end:g} s) must come after its start ({self.start:g} s)")
        self.width = check_number("the video width", self.width, limits.VIDEO_SIZE)
        self.height = check_number("the video height", self.height, limits.VIDEO_SIZE)


@dataclass
class Excerpt:
    """What an export writes: the motion at the export's rate, its sound, and where it starts in the take."""

    track: FaceTrack
    audio: Audio | None
    start: float                    # seconds into the take of the first frame


def excerpt(track: FaceTrack, audio: Audio | None, options: ExportOptions) -> Excerpt:
    """The part of the take `options` name, at their frame rate (ValueError for a range outside
    the take or one that holds no frame of it)."""
    first, stop = _frame_span(track, options.start, options.end)
    part = FaceTrack(track.fps, track.data[first:stop])
    if (first, stop) != (0, track.frames) and audio is not None:
        rate = audio.sample_rate
        a, b = round(first / track.fps * rate), round(stop / track.fps * rate)
        audio = Audio(audio.samples[a:b], rate, audio.name)
    if options.fps is not None:
        part = part.resampled(options.fps)
    return Excerpt(part, audio, first / track.fps)


def _frame_span(track: FaceTrack, start: float | None, end: float | None) -> tuple[int, int]:
    """The take's frames [first, stop) whose times lie in [start, end)."""
    duration = track.duration
    if start is None and end is None:
        return 0, track.frames
    if start is not None and start >= duration:
        raise ValueError(f"the range starts at {start:g} s, past the end of the take ({duration:.3f} s)")
    # a segment may end at the sound's last sample, a fraction of a frame past the last frame
    if end is not None and end > duration + 1 / track.fps:
        raise ValueError(f"the range ends at {end:g} s, past the end of the take ({duration:.3f} s)")
    first = 0 if start is None else math.ceil(start * track.fps - _ON_FRAME)
    stop = track.frames if end is None else min(track.frames, math.ceil(end * track.fps - _ON_FRAME))
    if stop <= first:
        raise ValueError(f"the range {start or 0:g}-{duration if end is None else end:g} s holds no frame of "
                         f"the take (one every {1 / track.fps:.4f} s)")
    return first, stop


def export_file(path: str | os.PathLike, track: FaceTrack, audio: Audio | None,
                options: ExportOptions | None = None,
                progress: Callable[[float], None] | None = None) -> Excerpt:
    """Write the take to `path` in the format its suffix names (.fbx, .glb, .csv or .mp4 with the
    sound), cut and resampled as `options` say; each writer writes atomically. A CSV's timecodes
    count from the range's start in the take. Returns what was written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise ValueError(f"{path}: unknown export format {suffix or '(no suffix)'}; use .fbx, .glb, .csv or .mp4")
    options = options or ExportOptions()
    part = excerpt(track, audio, options)
    if suffix == ".csv":
        from core.export.livelink import write_livelink_csv
        write_livelink_csv(path, part.track, start_timecode=part.start)
        return part
    from core.face import load_rig
    if suffix == ".fbx":
        from core.export.fbx import write_fbx
        write_fbx(path, load_rig(), part.track, progress=progress)
    elif suffix == ".glb":
        from core.export.gltf import write_glb
        write_glb(path, load_rig(), part.track, progress=progress)
    else:
        from core.export.video import write_video
        write_video(path, load_rig(), part.track, part.audio, width=options.width, height=options.height,
                    antialias=options.antialias, progress=progress)
    return part
