"""The studio's colours: each emotion's colour (the timeline and the inspector use these) and
the timeline's palette. Qt-free: colours are "#rrggbb" strings, which QColor reads.
"""

from __future__ import annotations

from core.project import EMOTIONS

# Okabe & Ito's palette (distinguishable with the common colour-vision deficiencies); neutral
# is a plain grey. The lane also writes each emotion's name, so colour is never the only cue.
EMOTION_COLOURS: dict[str, str] = {
    "neutral": "#9da3ab",
    "happy": "#f0e442",
    "sad": "#0072b2",
    "angry": "#d55e00",
    "surprised": "#e69f00",
    "fearful": "#cc79a7",
    "disgusted": "#009e73",
    "contempt": "#56b4e9",
}
assert set(EMOTION_COLOURS) == set(EMOTIONS)

BG = "#1b1d21"
WAVE_BG = "#15171a"
WORDS_BG = "#1f2227"
LANE_BG = "#191b1f"
OVERVIEW_BG = "#121417"
GRID = "#2a2e35"
WAVE_FILL = "#3f8fc6"
WAVE_EDGE = "#66aee0"
TEXT = "#e8eaed"
TEXT_DIM = "#9aa0a6"
PLAYHEAD = "#ff4d4d"
STALE = "#ffb000"
SNAP = "#ffd24d"
SCROLL_HANDLE = "#4a5058"
SCROLL_HANDLE_HOVER = "#646c77"
WHITE = "#ffffff"


def emotion_colour(emotion: str) -> str:
    """An emotion's colour; one the studio does not know gets neutral's grey."""
    return EMOTION_COLOURS.get(emotion, EMOTION_COLOURS["neutral"])


def blend(a: str, b: str, f: float) -> str:
    """f of colour a over (1 - f) of colour b."""
    ca = [int(a[k: k + 2], 16) for k in (1, 3, 5)]
    cb = [int(b[k: k + 2], 16) for k in (1, 3, 5)]
    return "#" + "".join(f"{round(x * f + y * (1 - f)):02x}" for x, y in zip(ca, cb))
