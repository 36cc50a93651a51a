"""Prosody evidence in plain words, for the language model's prompt and the studio's tooltips.

All values are relative to the speaker's own take (semitones from their median pitch, dB from
their median loudness, rate relative to their average), so "high" means high for this speaker.
"""

from __future__ import annotations

from typing import Any

# thresholds (relative units): pitch in semitones, loudness in dB, rate as a ratio
PITCH_HIGH, PITCH_VERY_HIGH = 2.0, 4.0
RANGE_WIDE, RANGE_FLAT = 9.0, 3.0
TREND = 4.0                      # semitones per second at the end of the segment
LOUD, VERY_LOUD = 3.0, 6.0
FAST, VERY_FAST = 1.12, 1.3
PAUSE_SHORT, PAUSE_LONG = 0.3, 1.0


def _num(d: dict, key: str) -> float | None:
    v = d.get(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _band(value: float, very_low: float, low: float, high: float, very_high: float,
          words: tuple[str, str, str, str, str]) -> str:
    """The word for `value` on a five-step scale (thresholds inclusive at the extremes)."""
    if value >= very_high:
        return words[4]
    if value >= high:
        return words[3]
    if value <= very_low:
        return words[0]
    if value <= low:
        return words[1]
    return words[2]


def describe_prosody(evidence: dict[str, Any]) -> str:
    """E.g. "pitch high and rising, lively, loud, fast, short pause before".

    `evidence` is a segment's evidence dict (as made by `segment()`), or just its "prosody" dict.
    """
    p = evidence.get("prosody", evidence) if isinstance(evidence, dict) else {}
    if not isinstance(p, dict):
        return "no prosody information"
    kind = evidence.get("kind") if isinstance(evidence, dict) else None
    if kind == "silence":
        return "silence, no speech"
    parts: list[str] = []
    level = _num(p, "pitch_level_st")
    trend = _num(p, "pitch_trend_st_per_s")
    if level is None:
        parts.append("no clear pitch")
    else:
        word = _band(level, -PITCH_VERY_HIGH, -PITCH_HIGH, PITCH_HIGH, PITCH_VERY_HIGH,
                     ("pitch very low", "pitch low", "pitch normal", "pitch high", "pitch very high"))
        if trend is not None and trend >= TREND:
            word += " and rising"
        elif trend is not None and trend <= -TREND:
            word += " and falling"
        parts.append(word)
        rng = _num(p, "pitch_range_st")
        if rng is not None and rng >= RANGE_WIDE:
            parts.append("lively intonation")
        elif rng is not None and rng <= RANGE_FLAT:
            parts.append("flat intonation")
    loud = _num(p, "loudness_db")
    if loud is not None:
        parts.append(_band(loud, -VERY_LOUD, -LOUD, LOUD, VERY_LOUD,
                           ("very quiet", "quiet", "normal loudness", "loud", "very loud")))
    rate = _num(p, "rate_relative")
    if rate is not None:
        parts.append(_band(rate, 1 / VERY_FAST, 1 / FAST, FAST, VERY_FAST,
                           ("very slow", "slow", "normal pace", "fast", "very fast")))
    for key, where in (("pause_before_s", "before"), ("pause_after_s", "after")):
        gap = _num(p, key)
        if gap is not None and gap >= PAUSE_LONG:
            parts.append(f"long pause {where}")
        elif gap is not None and gap >= PAUSE_SHORT:
            parts.append(f"short pause {where}")
    inside = _num(p, "pauses_inside") or 0
    if inside >= 2:
        parts.append(f"hesitant ({int(inside)} pauses)")
    elif inside == 1:
        parts.append("one pause inside")
    if kind == "nonverbal":
        parts.insert(0, "sound without words")
    return ", ".join(parts)
