"""Cues that need no model: the prosody's scaled features and words, and a lexicon.

- Prosody: the listener's per-segment summary (evidence["prosody"], normalised per speaker:
  keys as core.listen writes them: pitch_level_st, pitch_range_st, pitch_trend_st_per_s,
  loudness_db, rate_relative, pause_before_s (the older names pitch_slope, rate_rel, pause_before
  are read too)) as scaled features (the facial-action choice leans on them) and in words for
  a language model's prompt. The emotion evidence of the voice is core.instruct.evidence's.
- Lexicon: VADER's valence (vaderSentiment) plus a small list of words that name or typically
  carry each emotion, and punctuation (!, ?): a score per MEAD emotion (log domain), the rules
  writer's reading of the words.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from typing import Any

from core.project import EMOTIONS

# --- prosody ------------------------------------------------------------------------------

# Feature scales (what counts as "one unit" away from the speaker's norm).
_SCALE = {"pitch": 2.5, "range": 3.0, "loud": 3.0, "rate": 0.15, "slope": 4.0}
_NORMAL_RANGE_ST = 6.0   # typical pitch range of a phrase when the speaker's own is unknown


def prosody_features(evidence: dict[str, Any]) -> dict[str, float] | None:
    """Scaled prosody features of a segment, or None when it has no usable prosody."""
    p = evidence.get("prosody") if isinstance(evidence, dict) else None
    if not isinstance(p, dict) or not p:
        return None

    def num(key: str, default: float | None = None) -> float | None:
        v = p.get(key, default)
        try:
            v = float(v)
        except (TypeError, ValueError):
            return default
        return v if math.isfinite(v) else default

    rate_rel = num("rate_relative", num("rate_rel"))
    if rate_rel is not None and rate_rel > 0.2:        # a ratio (1.0 = the speaker's usual rate)
        rate = rate_rel - 1.0
    elif rate_rel is not None:                         # already a relative difference
        rate = rate_rel
    else:
        rate = 0.0
    rng = num("pitch_range_st")
    return {
        "pitch": (num("pitch_level_st", 0.0) or 0.0) / _SCALE["pitch"],
        "range": ((rng - _NORMAL_RANGE_ST) if rng is not None else 0.0) / _SCALE["range"],
        "loud": (num("loudness_db", 0.0) or 0.0) / _SCALE["loud"],
        "rate": rate / _SCALE["rate"],
        "slope": (num("pitch_trend_st_per_s", num("pitch_slope", 0.0)) or 0.0) / _SCALE["slope"],
    }


def prosody_text(evidence: dict[str, Any]) -> str:
    """The prosody in words for the prompt: the listener's text, or its describer on the numbers."""
    given = evidence.get("prosody_text") if isinstance(evidence, dict) else None
    if isinstance(given, str) and given.strip():
        return given.strip()
    from core.listen.describe import describe_prosody
    return describe_prosody(evidence if isinstance(evidence, dict) else {})


# --- lexicon ------------------------------------------------------------------------------

# Words that name an emotion or typically carry it in speech (stems; matched at word starts).
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "happy": ("happy", "happi", "glad", "wonderful", "great", "love", "lovely", "delight", "joy",
              "fantastic", "amazing", "yay", "hooray", "excit", "thrill", "celebrat", "best", "fun",
              "congratulat", "perfect", "brilliant", "smil", "laugh"),
    "sad": ("sad", "miss", "lost", "lonely", "alone", "cry", "cried", "tears", "sorry", "grief",
            "griev", "died", "dead", "death", "funeral", "gone", "hurt", "heartbr", "empty",
            "unhappy", "depress", "hopeless", "never again", "goodbye", "wish"),
    "angry": ("angry", "furious", "mad", "hate", "damn", "stupid", "idiot", "how dare", "enough",
              "shut up", "sick of", "fed up", "unacceptable", "ridiculous", "liar", "lied", "get out",
              "never", "again", "told you"),
    "surprised": ("wow", "what", "really", "surpris", "unbelievable", "can't believe", "no way",
                  "oh my", "whoa", "suddenly", "didn't expect", "shock", "seriously", "amaz"),
    "fearful": ("afraid", "scared", "scary", "fear", "terrif", "frighten", "help", "danger", "run",
                "hide", "someone", "dark", "noise", "please don't", "worried", "nervous", "panic",
                "what if", "hear that", "coming"),
    "disgusted": ("disgust", "gross", "yuck", "ugh", "eww", "rotten", "vomit", "sick", "smell",
                  "stink", "filth", "nasty", "revolting", "slime", "mold", "mould", "rancid", "foul"),
    "contempt": ("pathetic", "whatever", "beneath", "amateur", "typical", "obviously", "clearly",
                 "joke", "cute", "of course", "so-called", "little", "please", "honestly", "really think",
                 "bother", "waste", "mediocre", "sure you"),
}


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    return SentimentIntensityAnalyzer()


def valence(text: str) -> float:
    """VADER's compound valence, -1..1."""
    if not text.strip():
        return 0.0
    return float(_vader().polarity_scores(text)["compound"])


def _keyword_hits(text: str) -> dict[str, float]:
    low = " " + re.sub(r"\s+", " ", text.lower().replace("’", "'")) + " "
    hits = {e: 0.0 for e in EMOTIONS}
    for e, words in _KEYWORDS.items():
        for w in words:
            if re.search(r"(?<![a-z'])" + re.escape(w), low):
                hits[e] += 1.0
    return hits


def lexicon_scores(text: str) -> dict[str, float]:
    """Log-domain score per emotion from the words (all near zero for an empty text)."""
    v = valence(text)
    hits = _keyword_hits(text)
    out = {}
    for e in EMOTIONS:
        s = 0.8 * min(hits[e], 3.0)
        if e == "happy":
            s += 2.0 * v
        elif e == "surprised":
            s += 0.5 * v
        elif e == "neutral":
            s += 0.6 - 1.5 * abs(v) - 0.4 * sum(min(h, 2.0) for h in hits.values())
        else:
            s += -1.2 * v
        out[e] = s
    bangs = text.count("!")
    if bangs:
        for e, w in (("angry", 0.4), ("surprised", 0.4), ("happy", 0.2), ("fearful", 0.2), ("neutral", -0.6)):
            out[e] += w * min(bangs, 2)
    if text.rstrip().endswith("?"):
        out["surprised"] += 0.4
        out["fearful"] += 0.1
    return out


def softmax(scores: dict[str, float]) -> dict[str, float]:
    m = max(scores.values())
    ex = {k: math.exp(v - m) for k, v in scores.items()}
    z = sum(ex.values())
    return {k: v / z for k, v in ex.items()}
