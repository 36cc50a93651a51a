"""Cutting a take into instruction segments, each with the evidence it was cut on.

Segments tile the take: the first starts at 0, each starts where the previous ends, the last
ends at the take's end. Silence is never a segment of its own when it can be a margin: a
boundary between two stretches of speech is placed in the middle of the pause between them.
Boundaries are chosen by dynamic programming over candidate points, maximising the sum of
boundary strengths (pause length, sentence and clause punctuation, a change in pitch level or
loudness across the point) minus a cost per segment and a mild cost for long segments, subject
to min_length <= length <= max_length. Weak fallback candidates (every 0.25 s inside long
speech, every 0.5 s inside long silences) keep the lengths satisfiable; a pause longer than the
margins can absorb therefore yields a "silence" segment. A take shorter than min_length, or one
without any speech, is one segment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.listen.describe import describe_prosody
from core.listen.prosody import VOWELS
from core.listen.types import Analysis

SEGMENT_COST = 1.0
LONG_AFTER = 5.0            # seconds; longer segments pay LONG_COST per second squared beyond
LONG_COST = 0.05
PAUSE = 0.25                # gaps at least this long count as pauses inside a segment
CONTEXT_WORDS = 16


@dataclass
class SegmentEvidence:
    start: float
    end: float
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_segment(self, instruction, seed: int = 0):
        """A project Segment carrying this evidence."""
        from core.project import Segment
        return Segment(start=self.start, end=self.end, instruction=instruction, seed=seed, evidence=self.evidence)


def _speech_intervals(a: Analysis) -> list[tuple[float, float]]:
    spans = [(w.start, w.end) for w in a.words]
    if a.words:
        # speech-like sound the recogniser had no words for (laughs, sighs, foreign words)
        starts = np.array([w.start for w in a.words])
        ends = np.array([w.end for w in a.words])
        for s, e in a.vad:
            if not np.any((starts < e + 0.1) & (ends > s - 0.1)):
                spans.append((s, e))
    elif a.phones and a.phone_source == "allphone":
        spans = [(p.start, p.end) for p in a.phones if p.phone != "SIL"]
        if not spans:
            spans = list(a.vad)
    else:
        spans = list(a.vad)
    spans.sort()
    merged: list[list[float]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1] + 0.02:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged if e > s]


def _pause_strength(gap: float) -> float:
    if gap >= 0.15:
        return 1.0 + 2.0 * min(gap, 1.0)
    return 4.0 * max(gap, 0.0)


def _punctuation_strength(text: str) -> float:
    t = text.rstrip("\"')]»”")
    if t.endswith((".", "?", "!", "…")):
        return 1.5
    if t.endswith((",", ";", ":", "—", "-")):
        return 0.5
    return 0.0


class _Frames:
    def __init__(self, a: Analysis):
        self.a = a
        self.rate = a.frame_rate
        self.st = a.semitones()
        self.loud = a.energy_db - a.speaker.get("median_energy_db", 0.0)

    def idx(self, t: float) -> int:
        return int(np.clip(round(t * self.rate), 0, len(self.st)))

    def window(self, t0: float, t1: float):
        i, j = self.idx(t0), self.idx(t1)
        st = self.st[i:j]
        voiced = st[~np.isnan(st)]
        speech = self.a.speech[i:j]
        loud = self.loud[i:j][speech] if speech.any() else self.loud[i:j][:0]
        return voiced, loud

    def change(self, t: float, span: float = 1.5) -> float:
        """Strength of a prosody change across t (pitch level and loudness)."""
        v1, l1 = self.window(t - span, t)
        v2, l2 = self.window(t, t + span)
        if len(v1) < 20 or len(v2) < 20:
            return 0.0
        d = abs(float(np.median(v1) - np.median(v2))) / 3.0
        if len(l1) >= 20 and len(l2) >= 20:
            d += abs(float(np.median(l1) - np.median(l2))) / 6.0
        return min(1.5, max(0.0, d - 0.3))


def _candidates(a: Analysis, spans: list[tuple[float, float]], frames: _Frames) -> tuple[np.ndarray, np.ndarray]:
    T = a.duration
    points: dict[float, float] = {}

    def add(t: float, score: float) -> None:
        if 0.0 < t < T:
            t = round(t, 3)
            points[t] = max(points.get(t, -np.inf), score)

    word_end_text = {}
    for w in a.words:
        word_end_text[round(w.end, 3)] = w.text
    edges = [(0.0, 0.0)] + spans + [(T, T)]
    for (s0, e0), (s1, e1) in zip(edges, edges[1:]):
        gap = s1 - e0
        if gap > 1.0:                       # long silence: neutral cut points inside
            for t in np.arange(e0 + 0.25, s1 - 0.2, 0.5):
                add(float(t), 0.0)
        if e0 <= 0.0 or s1 >= T:
            continue                        # leading/trailing silence: margin only
        mid = e0 + gap / 2
        score = _pause_strength(gap) + _punctuation_strength(word_end_text.get(round(e0, 3), ""))
        score += frames.change(mid)
        add(mid, score)
    for s, e in spans:
        # inside speech: every word boundary is a weak point, and a fallback grid in long spans
        if e - s > 1.0:
            for t in np.arange(s + 0.25, e - 0.2, 0.25):
                add(float(t), -1.5)
    for w, nxt in zip(a.words, a.words[1:]):
        if nxt.start - w.end < 0.02:        # abutting words (no gap found above)
            t = (w.end + nxt.start) / 2
            add(t, _pause_strength(0.0) + _punctuation_strength(w.text) + frames.change(t) - 0.5)
    keys = sorted(points)
    return np.array(keys, float), np.array([points[k] for k in keys], float)


def _best_cuts(T: float, pts: np.ndarray, scores: np.ndarray, lo: float, hi: float) -> list[float] | None:
    P = np.concatenate([[0.0], pts, [T]])
    S = np.concatenate([[0.0], scores, [0.0]])
    n = len(P)
    best = np.full(n, -np.inf)
    back = np.full(n, -1, int)
    best[0] = 0.0
    first = 0
    for j in range(1, n):
        while P[j] - P[first] > hi + 1e-9:
            first += 1
        for i in range(first, j):
            length = P[j] - P[i]
            if length < lo - 1e-9:
                break
            if best[i] == -np.inf:
                continue
            value = best[i] - SEGMENT_COST + (S[j] if j < n - 1 else 0.0)
            if length > LONG_AFTER:
                value -= LONG_COST * (length - LONG_AFTER) ** 2
            if value > best[j]:
                best[j], back[j] = value, i
    if best[-1] == -np.inf:
        return None
    cuts, j = [], n - 1
    while j > 0:
        cuts.append(float(P[j]))
        j = back[j]
    return [0.0] + cuts[::-1]


def check_lengths(min_length: float, max_length: float) -> None:
    """The rule the cut needs (a segment longer than max_length can always be split in two of
    at least min_length), as a ValueError in the command line's words."""
    if not (0 < min_length and 2 * min_length <= max_length):
        raise ValueError(f"--max-segment must be at least twice --min-segment, got {min_length:g} and {max_length:g}")


def segment(analysis: Analysis, min_length: float = 1.5, max_length: float = 8.0) -> list[SegmentEvidence]:
    """Cut the take into segments (see the module text) with JSON-able evidence each."""
    check_lengths(min_length, max_length)
    T = analysis.duration
    if T <= 0:
        return []
    spans = _speech_intervals(analysis)
    frames = _Frames(analysis)
    if not spans or T <= min_length:
        bounds = [0.0, T]
    else:
        pts, scores = _candidates(analysis, spans, frames)
        bounds = _best_cuts(T, pts, scores, min_length, max_length)
        if bounds is None:                  # cannot happen with the fallback grid; stay safe anyway
            k = int(np.ceil(T / max_length))
            bounds = list(np.linspace(0.0, T, k + 1))
    bounds[-1] = T
    segs = [SegmentEvidence(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    texts = []
    for seg in segs:
        seg.evidence = _evidence(analysis, seg.start, seg.end, spans, frames)
        texts.append(seg.evidence["text"])
    for i, seg in enumerate(segs):
        prev = " ".join(" ".join(texts[:i]).split()[-CONTEXT_WORDS:])
        nxt = " ".join(" ".join(texts[i + 1:]).split()[:CONTEXT_WORDS])
        seg.evidence["context"] = {"previous": prev, "next": nxt}
        seg.evidence["index"] = i
        seg.evidence["count"] = len(segs)
        seg.evidence["prosody_text"] = describe_prosody(seg.evidence)
    return segs


def _r(v: float | None, nd: int = 2) -> float | None:
    return None if v is None or not np.isfinite(v) else round(float(v), nd)


def _evidence(a: Analysis, start: float, end: float, spans: list[tuple[float, float]], frames: _Frames) -> dict[str, Any]:
    words = [w for w in a.words if start <= (w.start + w.end) / 2 < end]
    phones = [p for p in a.phones if p.end > start and p.start < end]
    inside = [(max(s, start), min(e, end)) for s, e in spans if e > start and s < end]
    before = [min(e, start) for s, e in spans if s < start]     # speech before (clipped at the cut)
    after = [max(s, end) for s, e in spans if e > end]
    if words:
        kind = "speech"
    elif inside:
        kind = "nonverbal"
    else:
        kind = "silence"
    ev: dict[str, Any] = {
        "kind": kind,
        "text": " ".join(w.text for w in words),
        "words": [w.to_json() for w in words],
        "language": a.language,
        "phones": [[p.phone, round(max(p.start, start), 3), round(min(p.end, end), 3)] for p in phones],
        "speech": [round(inside[0][0], 3), round(inside[-1][1], 3)] if inside else None,
        "sources": {"transcript": a.transcript_source, "phones": a.phone_source},
    }
    if a.translation and words:          # another language: the writer reads the English translation
        ev["original"] = ev["text"]
        ev["text"] = translated(a.translation, start, end)
    ev["prosody"] = _summary(a, start, end, inside, before, after, phones, frames)
    sounds = [{"kind": k, "start": round(s0, 3), "end": round(e0, 3)} for k, s0, e0 in a.sounds
              if start <= (s0 + e0) / 2 < end]
    if sounds:
        ev["sounds"] = sounds
    low = [w.text for w in words if w.probability < 0.4]
    if low:
        ev["uncertain_words"] = low
    return ev


def translated(translation: list[tuple[float, float, str]], start: float, end: float) -> str:
    """The words of the translation spoken in [start, end): each translated sentence's words are
    spread evenly over its time, as its words follow the speech only sentence by sentence."""
    out = []
    for a, b, text in translation:
        if b <= start or a >= end:
            continue
        tokens = text.split()
        step = (b - a) / max(1, len(tokens))
        out += [tok for k, tok in enumerate(tokens) if start <= a + (k + 0.5) * step < end]
    return " ".join(out)


def _summary(a: Analysis, start: float, end: float, inside, before, after, phones, frames: _Frames) -> dict[str, Any]:
    talk = sum(e - s for s, e in inside)
    out: dict[str, Any] = {"speech_s": _r(talk)}
    if inside:
        first, last = inside[0][0], inside[-1][1]
        out["pause_before_s"] = _r(first - max(before)) if before else None
        out["pause_after_s"] = _r(min(after) - last) if after else None
        gaps = [s1 - e0 for (_, e0), (s1, _) in zip(inside, inside[1:]) if s1 - e0 >= PAUSE]
        out["pauses_inside"] = len(gaps)
        out["longest_pause_inside_s"] = _r(max(gaps)) if gaps else 0.0
    else:
        out["pause_before_s"] = out["pause_after_s"] = None
        out["pauses_inside"] = 0
        out["longest_pause_inside_s"] = 0.0
    i, j = frames.idx(start), frames.idx(end)
    st = frames.st[i:j]
    ok = ~np.isnan(st)
    if ok.sum() >= 10:
        v = st[ok]
        out["pitch_level_st"] = _r(np.median(v))
        out["pitch_range_st"] = _r(np.percentile(v, 90) - np.percentile(v, 10))
        out["pitch_hz"] = _r(np.median(a.f0[i:j][ok]), 1)
        # trend over the last part of the speech: least-squares slope in semitones per second
        t = (np.flatnonzero(ok) + i) / frames.rate
        tail = t >= t[-1] - max(0.4, 0.4 * (t[-1] - t[0]))
        if tail.sum() >= 8 and np.ptp(t[tail]) > 0.15:
            out["pitch_trend_st_per_s"] = _r(np.polyfit(t[tail], v[tail], 1)[0])
        else:
            out["pitch_trend_st_per_s"] = None
    else:
        out["pitch_level_st"] = out["pitch_range_st"] = out["pitch_hz"] = out["pitch_trend_st_per_s"] = None
    speech = a.speech[i:j]
    if speech.sum() >= 10:
        loud = frames.loud[i:j][speech]
        out["loudness_db"] = _r(np.median(loud), 1)
        out["loudness_peak_db"] = _r(np.percentile(loud, 95), 1)
    else:
        out["loudness_db"] = out["loudness_peak_db"] = None
    vowels = sum(1 for p in phones if p.phone in VOWELS and start <= (p.start + p.end) / 2 < end)
    sounding = sum(min(p.end, end) - max(p.start, start) for p in phones if p.phone != "SIL")
    if sounding >= 0.4 and vowels:
        rate = vowels / sounding
        out["syllables_per_s"] = _r(rate)
        ref = a.speaker.get("syllables_per_s") or 0.0
        out["rate_relative"] = _r(rate / ref) if ref > 0 else None
    else:
        out["syllables_per_s"] = out["rate_relative"] = None
    out["voiced_fraction"] = _r(ok.sum() / max(1, speech.sum())) if speech.any() else 0.0
    return out
