"""What a segment's box says, chosen to fit its width: a label never ends in a cut word and an
ellipsis ("An..."); a narrow box gets the emotion's name, then a short form, then only its
colour. Qt-free: text widths come from a `measure` function (QFontMetricsF.horizontalAdvance
in the lane).
"""

from __future__ import annotations

from typing import Callable

ELLIPSIS = "\u2026"
SEPARATOR = "  \u00b7  "


def short_name(emotion: str) -> str:
    """The emotion's first three letters ("Sur"), distinct for the eight emotions."""
    return emotion[:3].capitalize()


def segment_label(emotion: str, state: str, progress: float, width: float,
                  measure: Callable[[str], float]) -> str:
    """The first line of a box `width` wide: "Sad  ·  stale" / "Sad  ·  40 %" when it fits,
    else "Sad", else the short form, else "" (the colour alone)."""
    name = emotion.capitalize()
    choices = [name, short_name(emotion)]
    if state == "stale":
        choices.insert(0, name + SEPARATOR + "stale")
    elif state == "busy":
        choices.insert(0, name + SEPARATOR + f"{round(100 * max(0.0, min(1.0, progress)))} %")
    return next((c for c in choices if measure(c) <= width), "")


def instruction_line(text: str, width: float, measure: Callable[[str], float], min_words: int = 2) -> str:
    """The instruction on one line `width` wide: whole, or as many whole words as fit (at least
    `min_words`) and an ellipsis, or "" when not even that fits."""
    text = " ".join(text.split())
    if measure(text) <= width:
        return text
    words = text.split(" ")
    fits = ""
    for n in range(min_words, len(words)):     # a word more is never narrower: stop at the first too wide
        line = " ".join(words[:n]).rstrip(",.;:") + ELLIPSIS
        if measure(line) > width:
            break
        fits = line
    return fits
