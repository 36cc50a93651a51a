"""The rule-based writer: prosody + lexicon (VADER and emotion words), no language model.

Used when the user asks for it, and for every segment a model-based writer could not write.
Also home of the facial-action choice shared by all writers (`pick_phrases`).
"""

from __future__ import annotations

from typing import Any, Iterable

from core.instruct.base import Choice, InstructionWriter, segment_text
from core.instruct.cues import arousal, lexicon_scores, prosody_features, prosody_scores, softmax
from core.instruct.wording import VOCABULARY, Phrase
from core.project import EMOTIONS

# How much each cue counts (log-domain weights).
PROSODY_WEIGHT = 1.0
LEXICON_WEIGHT = 1.0
NEUTRAL_PRIOR = 0.3


def cue_scores(evidence: dict[str, Any]) -> dict[str, float]:
    """Combined prosody and lexicon score per emotion (log domain)."""
    pros = prosody_scores(evidence)
    lex = lexicon_scores(segment_text(evidence))
    return {e: PROSODY_WEIGHT * pros[e] + LEXICON_WEIGHT * lex[e] + (NEUTRAL_PRIOR if e == "neutral" else 0.0)
            for e in EMOTIONS}


def intensity_from(emotion: str, evidence: dict[str, Any], confidence: float) -> float:
    """0..1 from how aroused the voice is and how sure the writer is of the emotion."""
    if emotion == "neutral":
        return round(max(0.05, min(0.5, 0.5 - 0.3 * confidence)), 3)
    a = arousal(evidence)
    if emotion in ("sad", "contempt", "disgusted"):
        # low-arousal emotions: distance from calm in any direction counts, but less
        a = 0.3 + 0.7 * a
    v = 0.15 + 0.5 * a + 0.35 * confidence
    return round(max(0.05, min(0.95, v)), 3)


def pick_phrases(emotion: str, intensity: float, evidence: dict[str, Any],
                 extra: dict[str, float] | None = None) -> list[Phrase]:
    """Two facial actions (three when intense) from the emotion's vocabulary: the prototypical
    ones, shifted by the voice (shouting drops the jaw, a quiet low voice droops the lids, a high
    voice raises the brows) and by `extra` scores (e.g. a model's preference)."""
    vocab = VOCABULARY[emotion]
    f = prosody_features(evidence) or {"pitch": 0.0, "loud": 0.0, "rate": 0.0, "range": 0.0, "slope": 0.0}
    score = {k: -0.6 * i for i, k in enumerate(vocab)}
    boosts = {
        "jaw_dropped": 0.5 * f["loud"] + 0.3 * f["pitch"],
        "lips_parted": 0.3 * f["loud"] + 0.2 * f["range"],
        "lips_pressed": -0.3 * f["loud"],
        "lids_drooping": -0.4 * f["loud"] - 0.3 * f["rate"],
        "brows_raised": 0.4 * f["pitch"] + 0.3 * f["slope"],
        "inner_brows_raised": 0.2 * f["pitch"],
        "brows_lowered": -0.2 * f["pitch"],
        "eyes_widened": 0.3 * f["pitch"],
        "cheeks_lifted": 0.2 * f["range"],
    }
    for k in score:
        score[k] += max(-1.0, min(1.0, boosts.get(k, 0.0))) + (extra or {}).get(k, 0.0)
    count = 3 if intensity >= 0.75 and emotion != "neutral" else 2
    ranked = sorted(vocab, key=lambda k: (-score[k], vocab.index(k)))[:count]
    return [Phrase(k, max(0.0, min(1.0, intensity - 0.15 * i))) for i, k in enumerate(ranked)]


def rules_choice(evidence: dict[str, Any]) -> Choice:
    probs = softmax(cue_scores(evidence))
    emotion = max(EMOTIONS, key=lambda e: probs[e])
    intensity = intensity_from(emotion, evidence, probs[emotion])
    return Choice(emotion, intensity, pick_phrases(emotion, intensity, evidence), probs)


class RulesWriter(InstructionWriter):
    """Prosody and lexicon only; instant, needs no model."""

    name = "rules"

    def _write(self, segments: list[dict[str, Any]]) -> Iterable[Choice | None]:
        return [rules_choice(e) for e in segments]
