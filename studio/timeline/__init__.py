"""The studio's timeline (studio.timeline.widget says what it shows and its gestures).

    widget     the Timeline widget: feeding, selection, gestures, commands
    overview   the whole take small, with the visible range to drag
    ruler      seconds or timecode ticks
    wave       the waveform band          words      the transcript band
    lane       the segment boxes          labels     what a box says, chosen to fit
    drag       a drag as data; snapping and clamping
    selection  plain, Ctrl and Shift clicks
    timecode   times as text
    theme      the emotion colours and the palette, shared with the inspector
    items      the pyqtgraph pieces

labels, drag, selection, timecode and theme are Qt-free: the widget is imported only when
`Timeline` or `SegmentView` is first asked for, so they load (and are tested) without Qt.
"""

from studio.timeline.drag import MIN_SEGMENT
from studio.timeline.theme import EMOTION_COLOURS
from studio.timeline.timecode import format_time, format_timecode

__all__ = ["EMOTION_COLOURS", "MIN_SEGMENT", "SegmentView", "Timeline", "format_time", "format_timecode"]


def __getattr__(name: str):
    if name in ("SegmentView", "Timeline"):
        from studio.timeline import widget
        return getattr(widget, name)
    raise AttributeError(f"module 'studio.timeline' has no attribute {name!r}")
