"""The time ruler over the timeline: seconds ("2.5s"; m:ss for takes of a minute or more), or
timecode (HH:MM:SS:FF at the take's frame rate) once zoomed in so far that frames can be told
apart, with a labelled tick every 90 px or more (110 px for timecode). A click seeks, a drag
pans, the wheel zooms (the timeline handles them).
"""

from __future__ import annotations

from typing import Callable

import pyqtgraph as pg

from studio.timeline import theme
from studio.timeline.items import font
from studio.timeline.timecode import FRAME_PX, format_time, format_timecode, shows_timecode, timecode_base

RULER_H = 24
LABEL_PX = 90           # at least this far apart: seconds labels
TIMECODE_LABEL_PX = 110 # timecode labels
LONG_STEPS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30,
              60, 120, 300, 600, 900, 1800, 3600, 7200]
DECIMAL_STEPS = [m * 10.0 ** e for e in range(-3, 5) for m in (1, 2, 5)]


def seconds_spacing(span: float, size: float, long: bool) -> tuple[float, float]:
    """(major, minor) tick steps in seconds for `span` seconds over `size` pixels."""
    want = span * LABEL_PX / size
    steps = LONG_STEPS if long else DECIMAL_STEPS
    major = next((s for s in steps if s >= want), steps[-1])
    i = steps.index(major)
    minor = major / 5 if major in (1, 10, 0.1, 0.01, 0.001) else steps[max(0, i - 1)]
    if major == 60:
        minor = 10
    elif major in (15, 30):
        minor = 5
    return major, minor


def timecode_spacing(span: float, size: float, fps: float) -> tuple[float, float]:
    """(major, minor) tick steps in seconds, whole numbers of frames: a frame when frames are
    8 px wide or more, else the step below the labelled one."""
    base = timecode_base(fps)
    frames = sorted({k for k in (1, 2, 5, 10) if k < base} | ({base // 2} if base % 2 == 0 else set()))
    frames += [base * k for k in (1, 2, 5, 10, 15, 30, 60)]
    want = span * TIMECODE_LABEL_PX / size * fps
    major = next((k for k in frames if k >= want), frames[-1])
    frame_px = size / (span * fps)
    minor = 1 if frame_px >= 2 * FRAME_PX else frames[max(0, frames.index(major) - 1)]
    return major / fps, minor / fps


class Ruler(pg.AxisItem):
    """The ruler; `long_take()` says whether labels are m:ss, `fps()` the take's frame rate."""

    def __init__(self, long_take: Callable[[], bool], fps: Callable[[], float],
                 on_click: Callable, on_drag: Callable, on_wheel: Callable):
        super().__init__("top")
        self._long_take, self._fps = long_take, fps
        self._on_click, self._on_drag, self._on_wheel = on_click, on_drag, on_wheel
        self._timecode = False        # the mode of the last ticks laid out (their labels follow it)
        self.setStyle(tickLength=6, tickTextOffset=3, maxTickLevel=1, maxTextLevel=0,
                      tickFont=font(11), autoExpandTextSpace=False)
        self.setPen(pg.mkPen(theme.GRID))
        self.setTextPen(pg.mkPen(theme.TEXT_DIM))
        self.setHeight(RULER_H)

    def tickSpacing(self, minVal, maxVal, size):
        span = maxVal - minVal
        if span <= 0 or size <= 0:
            return []
        self._timecode = shows_timecode(span / size, self._fps())
        if self._timecode:
            major, minor = timecode_spacing(span, size, self._fps())
        else:
            major, minor = seconds_spacing(span, size, self._long_take())
        return [(major, 0), (minor, 0)]

    def tickStrings(self, values, scale, spacing):
        if self._timecode:
            return [format_timecode(v, self._fps()) for v in values]
        long = self._long_take()
        return [format_time(v, spacing, long) for v in values]

    def mouseClickEvent(self, ev):
        self._on_click(ev, ruler=True)

    def mouseDragEvent(self, ev):
        self._on_drag(ev, ruler=True)

    def wheelEvent(self, ev):
        self._on_wheel(ev)
