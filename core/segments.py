"""What a segment's evidence becomes when the segment is split or merged (Qt-free, plain dicts).

The listener's evidence of a segment (core.listen) holds timed parts (its words, phones, sounds
and speech span) and summaries of the whole segment (prosody, the writer's reasons). A split gives
each half the timed parts that fall in it, by their midpoints, and the words' text; a merge joins
them in order. The writer's reasons (`why`) described the segment as it was, so they are dropped;
the prosody summary is kept as the best description there is until the take is listened to again.
"""

from __future__ import annotations

from typing import Any

TIMED = ("words", "phones", "sounds")      # lists of timed items
REASONS = ("why",)                          # true of the segment as it was, not of a half or a join


def _times(item: Any) -> tuple[float, float] | None:
    """(start, end) of a timed item: a dict with start/end, or [label, start, end]."""
    try:
        if isinstance(item, dict):
            return float(item["start"]), float(item["end"])
        if isinstance(item, (list, tuple)) and len(item) >= 3:
            return float(item[1]), float(item[2])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def _text(words: list) -> str:
    return " ".join(str(w.get("text", "")).strip() for w in words if isinstance(w, dict)).strip()


def split_evidence(evidence: dict[str, Any], t: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """The evidence of the halves before and after `t` (seconds)."""
    halves: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    for key, value in evidence.items():
        if key in REASONS:
            continue
        if key in TIMED and isinstance(value, list):
            left, right = [], []
            for item in value:
                times = _times(item)
                (left if times is None or (times[0] + times[1]) / 2 < t else right).append(item)
            halves[0][key], halves[1][key] = left, right
        elif key == "speech" and _times(["", *value] if isinstance(value, list) else None):
            a, b = _times(["", *value])
            halves[0][key] = [a, min(b, t)] if a < t else None
            halves[1][key] = [max(a, t), b] if b > t else None
        else:
            halves[0][key] = halves[1][key] = value
    for half in halves:
        if half.get("speech") is None:
            half.pop("speech", None)
        if isinstance(evidence.get("words"), list):
            half["text"] = _text(half["words"])
    return halves


def merge_evidence(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """The evidence of two neighbouring segments joined (`first` comes first)."""
    out = {k: v for k, v in first.items() if k not in REASONS}
    for key in TIMED:
        a, b = first.get(key), second.get(key)
        if isinstance(a, list) or isinstance(b, list):
            out[key] = (a if isinstance(a, list) else []) + (b if isinstance(b, list) else [])
    spans = [s for s in (first.get("speech"), second.get("speech")) if _times(["", *s] if isinstance(s, list) else None)]
    if spans:
        out["speech"] = [min(s[0] for s in spans), max(s[1] for s in spans)]
    if "words" in out:
        out["text"] = _text(out["words"])
    elif first.get("text") or second.get("text"):
        out["text"] = " ".join(t for t in (first.get("text"), second.get("text")) if isinstance(t, str) and t)
    if first.get("kind") == "silence" and second.get("kind") not in (None, "silence"):
        out["kind"] = second["kind"]                 # speech in either half makes the join speech
    return out
