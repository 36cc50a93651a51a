"""How well a take's instructions fit labelled real speech (the issue-13 measures).

- strong share (calm speech): the share of speech time whose instruction is a strong emotion, i.e. a
  negative one (sad, angry, fearful, disgusted, contempt) at intensity >= 0.3, or happy or
  surprised at >= 0.6;
- neighbour agreement: the share of neighbouring speech segments with the same emotion;
- family accuracy (acted speech): the share of speech segments whose emotion family (hostile, joy,
  alarm, sad, calm; core.instruct.decode.FAMILY) is the family of the labelled line under them.
Pure functions over plain values, shared by benchmarks/bench_instruct.py and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from core.instruct.decode import FAMILY, NEGATIVE


@dataclass
class Written:
    start: float
    end: float
    emotion: str
    intensity: float


@dataclass
class Line:
    start: float
    end: float
    family: str


def is_strong(emotion: str, intensity: float) -> bool:
    if emotion in NEGATIVE:
        return intensity >= 0.3
    if emotion in ("happy", "surprised"):
        return intensity >= 0.6
    return False


def line_under(seg: Written, lines: Sequence[Line]) -> Line | None:
    """The labelled line that overlaps the segment most (None if none does)."""
    best, overlap = None, 0.0
    for line in lines:
        o = min(seg.end, line.end) - max(seg.start, line.start)
        if o > overlap:
            best, overlap = line, o
    return best


def speech_segments(written: Sequence[Written], lines: Sequence[Line]) -> list[tuple[Written, Line]]:
    out = []
    for w in written:
        line = line_under(w, lines)
        if line is not None:
            out.append((w, line))
    return out


def speech_time(w: Written, lines: Sequence[Line]) -> float:
    return sum(max(0.0, min(w.end, ln.end) - max(w.start, ln.start)) for ln in lines)


def strong_share(written: Sequence[Written], lines: Sequence[Line]) -> tuple[float, float]:
    """(strong speech seconds, all speech seconds)."""
    strong = total = 0.0
    for w in written:
        t = speech_time(w, lines)
        total += t
        if is_strong(w.emotion, w.intensity):
            strong += t
    return strong, total


def neighbour_agreement(written: Sequence[Written], lines: Sequence[Line]) -> tuple[int, int]:
    """(agreeing pairs, pairs) over neighbouring segments that both hold speech."""
    speech = [w for w, _ in speech_segments(written, lines)]
    pairs = list(zip(speech, speech[1:]))
    return sum(a.emotion == b.emotion for a, b in pairs), len(pairs)


def family_hits(written: Sequence[Written], lines: Sequence[Line]) -> tuple[int, int]:
    """(segments whose family is the labelled one, speech segments under a scored line; lines
    labelled "unclear" are not scored)."""
    pairs = [(w, line) for w, line in speech_segments(written, lines) if line.family != "unclear"]
    return sum(FAMILY[w.emotion] == line.family for w, line in pairs), len(pairs)
