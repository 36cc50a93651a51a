"""Times as text: the ruler's seconds ("2.5s", "1:05") and timecode (HH:MM:SS:FF) at the
take's frame rate, and when the ruler shows which. Qt-free.

Timecode counts frames: frame n = floor(t * fps) is second n // base, frame n % base, where
base is the frame rate rounded to a whole number (non-drop-frame timecode, as editors write
it; at a whole frame rate it is the clock time).
"""

from __future__ import annotations

import math

FRAME_PX = 4         # the ruler shows timecode once a frame is at least this many pixels wide


def format_time(t: float, spacing: float = 1.0, long: bool = False) -> str:
    """A ruler label: "2.5s" for short takes, "1:05" / "1:05.5" / "1:02:05" for long ones."""
    decimals = 0 if spacing >= 1 else min(3, int(math.ceil(-math.log10(spacing) - 1e-9)))
    if not long:
        return f"{t:.{decimals}f}s"
    sign, t = ("-" if t < 0 else ""), abs(t)
    whole = int(math.floor(t + 1e-9))
    frac = f"{t - whole:.{decimals}f}"[1:] if decimals else ""
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    return f"{sign}{h}:{m:02d}:{s:02d}{frac}" if h else f"{sign}{m}:{s:02d}{frac}"


def timecode_base(fps: float) -> int:
    """Frames a timecode second counts: the frame rate rounded, at least 1."""
    return max(1, round(fps))


def frame_at(t: float, fps: float) -> int:
    """The frame showing time t (a time a hair before a frame's start counts as that frame)."""
    return math.floor(t * fps + 1e-6)


def format_timecode(t: float, fps: float) -> str:
    """"HH:MM:SS:FF" of time t at fps: 61.5 s at 30 fps is "00:01:01:15"."""
    sign, t = ("-" if t < 0 else ""), abs(t)
    seconds, ff = divmod(frame_at(t, fps), timecode_base(fps))
    mm, ss = divmod(seconds, 60)
    hh, mm = divmod(mm, 60)
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}"


def shows_timecode(seconds_per_pixel: float, fps: float) -> bool:
    """Whether the ruler shows timecode (zoomed in so far that frames can be told apart)."""
    return seconds_per_pixel * fps * FRAME_PX <= 1.0
