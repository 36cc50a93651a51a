"""The rule-based writer: the lexicon (VADER and emotion words) and the voice, no model at all.

Used when the user asks for it (fast, nothing to load). Also home of the facial-action choice
shared by all writers (`pick_phrases`).
"""

from __future__ import annotations

from typing import Any

from core.instruct.base import InstructionWriter
from core.instruct.cues import prosody_features
from core.instruct.wording import VOCABULARY, Phrase, phrase_degree

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
    return [Phrase(k, phrase_degree(intensity, i)) for i, k in enumerate(ranked)]


class RulesWriter(InstructionWriter):
    """Lexicon (VADER and emotion words) and voice cues, decided jointly like every writer; instant,
    needs no model at all."""

    name = "rules"
    uses_text_model = False
    has_model = False


class TextModelWriter(InstructionWriter):
    """The text emotion classifier (MiniLM), the voice and sounds, decided jointly; no language
    model. About 0.1 s per take once MiniLM is loaded."""

    name = "minilm"
    has_model = False
