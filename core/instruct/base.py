"""The InstructionWriter interface, validation, and the per-segment fallback to the rules.

A writer turns the evidence of each segment of a take (what the listener found: "text", "words",
"prosody", ...) into one Instruction per segment. Its backend (a language model, an endpoint)
contributes per-segment scores or answers; the take is then decided jointly from those and the
cues of every segment (core.instruct.evidence), so all writers share one calibration, one
baseline and one smoothing. Writers never raise for a bad answer of their model: what fails
validation is repaired where it can be, else retried, else left to the cues for that segment
(credited to the rules); `Instruction.writer` says who wrote each, the writer's `warnings` list
(reset by every `write`) says what went wrong, and `reasons` why each segment got its emotion.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from core.instruct.evidence import Baseline, decide, gather
from core.instruct.wording import ACTIONS, VOCABULARY, Phrase, SYNONYMS, compose, phrase_degree
from core.project import EMOTIONS, Instruction

log = logging.getLogger(__name__)


class InstructError(ValueError):
    """A model's answer could not be turned into a valid instruction."""


@dataclass
class Choice:
    """What a backend contributes for one segment, before the take is decided jointly.

    `model`: the backend's own log-scores over EMOTIONS (a language model's calibrated label
    scores), or None; `emotion`/`intensity`/`phrases`: an answer the backend gave outright (an
    endpoint), or None; its emotion counts as strong evidence and its phrases are kept when the
    take's decision agrees (their degrees, like every intensity, follow the take's decision)."""
    model: list[float] | None = None
    emotion: str | None = None
    intensity: float | None = None
    phrases: list[Phrase] = field(default_factory=list)

    def scores(self) -> np.ndarray | None:
        if self.model is not None:
            return np.asarray(self.model, float)
        if self.emotion is not None:
            return np.array([ANSWER_WEIGHT if e == self.emotion else 0.0 for e in EMOTIONS])
        return None


ANSWER_WEIGHT = 3.0      # an endpoint's outright answer, in log-domain units before Weights.model


def segment_text(evidence: dict[str, Any]) -> str:
    """The words of a segment (its "text", else its "words" joined)."""
    if not isinstance(evidence, dict):
        return ""
    text = evidence.get("text")
    if isinstance(text, str) and text.strip():
        return " ".join(text.split())
    words = evidence.get("words")
    if isinstance(words, list):
        return " ".join(str(w.get("text", w.get("word", ""))).strip() for w in words if isinstance(w, dict)).strip()
    return ""


def neighbours(segments: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(previous words, next words) of each segment: the listener's evidence["context"] where
    given, else the neighbouring segments' words."""
    texts = [segment_text(e) for e in segments]
    out = []
    for i, e in enumerate(segments):
        ctx = e.get("context") if isinstance(e.get("context"), dict) else {}
        prev = ctx.get("previous") if isinstance(ctx.get("previous"), str) else (texts[i - 1] if i > 0 else "")
        nxt = ctx.get("next") if isinstance(ctx.get("next"), str) else (texts[i + 1] if i + 1 < len(texts) else "")
        out.append((prev, nxt))
    return out


class InstructionWriter:
    """Base of all writers. Writers with a model (`has_model`) implement `_write`: a Choice per
    segment, what their model says; None = this segment failed and the cues alone decide it,
    credited to the rules. The take is then decided jointly from every segment's cues
    (core.instruct.evidence)."""

    name = "writer"
    uses_text_model = True      # the rules read the words with their lexicon instead
    has_model = True            # False: the cues alone decide (the rules, the text model)

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.reasons: list[dict[str, Any]] = []   # per segment of the last write: why (for the inspector)

    def write(self, segments_evidence: Sequence[dict[str, Any]],
              baseline: Baseline | str | None = None) -> list[Instruction]:
        self.warnings = []
        self.reasons = []
        b = baseline if isinstance(baseline, Baseline) else Baseline.parse(baseline)
        segments = [e if isinstance(e, dict) else {} for e in segments_evidence]
        if not segments:
            return []
        try:
            choices = list(self._write(segments))
            if len(choices) != len(segments):
                raise InstructError(f"{self.name} returned {len(choices)} answers for {len(segments)} segments")
        except Exception as exc:  # noqa: BLE001 - a failing backend must not lose the take
            self.warn(f"{self.name} failed for the whole take ({type(exc).__name__}: {printable(exc, 300)}); "
                      f"the rule-based writer wrote all {len(segments)} instructions")
            choices = [None] * len(segments)
        try:
            cues = gather(segments, self.uses_text_model)
        except Exception as exc:  # noqa: BLE001 - a missing text model must not lose the take
            self.warn(f"the text emotion model could not be used ({type(exc).__name__}: {exc}); "
                      f"the words were read with the lexicon")
            cues = gather(segments, False)
        for c, ch in zip(cues, choices):
            if ch is not None:
                c.model = ch.scores()
        decisions = decide(segments, cues, b)
        from core.instruct.rules import pick_phrases     # rules imports this module
        out = []
        for ev, ch, d in zip(segments, choices, decisions):
            if ch is not None and ch.emotion == d.emotion and ch.phrases:
                phrases = [Phrase(p.action, phrase_degree(d.intensity, i)) for i, p in enumerate(ch.phrases)]
            else:
                phrases = pick_phrases(d.emotion, d.intensity, ev)
            who = self.name if ch is not None or not self.has_model else "rules"
            out.append(Instruction(text=compose(d.emotion, d.intensity, phrases), emotion=d.emotion,
                                   intensity=round(float(d.intensity), 3), writer=who))
            self.reasons.append(d.reasons)
        return out

    def _write(self, segments: list[dict[str, Any]]) -> Iterable[Choice | None]:
        if self.has_model:
            raise NotImplementedError
        return [None] * len(segments)

    def warn(self, message: str) -> None:
        message = printable(message, limit=None)
        log.info(message)   # returned in .warnings; callers decide how to show it
        self.warnings.append(message)


def printable(text: object, limit: int | None = 400) -> str:
    """One line of at most `limit` characters: control characters a server or a model sent
    (NUL, CR, LF, escapes) are shown as escapes, never passed to the terminal."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return text if limit is None or len(text) <= limit else text[:limit - 3] + "..."


# --- validation and repair of a model's structured answer ---------------------------------

_LEVEL_WORDS = {"none": 0.05, "very low": 0.1, "low": 0.25, "slight": 0.1, "mild": 0.3, "medium": 0.5,
                "moderate": 0.5, "high": 0.75, "strong": 0.75, "very high": 0.9, "extreme": 0.95}


def repair_emotion(value: Any) -> str:
    if not isinstance(value, str):
        raise InstructError(f"emotion is not a string: {value!r}")
    word = value.strip().lower().strip(".!\"' ")
    if word in EMOTIONS:
        return word
    if word in SYNONYMS:
        return SYNONYMS[word]
    if word == "contemptuous":
        return "contempt"
    found = [w for w in re.findall(r"[a-z]+", word) if w in EMOTIONS or w in SYNONYMS or w == "contemptuous"]
    if len(set(found)) == 1:
        return repair_emotion(found[0])
    raise InstructError(f"unknown emotion {value!r}")


def repair_intensity(value: Any) -> float:
    if isinstance(value, bool):
        raise InstructError(f"intensity is not a number: {value!r}")
    if isinstance(value, str):
        key = value.strip().lower().rstrip("%")
        if key in _LEVEL_WORDS:
            return _LEVEL_WORDS[key]
        try:
            value = float(key) / (100.0 if value.strip().endswith("%") else 1.0)
        except ValueError:
            raise InstructError(f"intensity is not a number: {value!r}") from None
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InstructError(f"intensity is not a number: {value!r}")
    v = float(value)
    if 0.0 <= v <= 1.0:
        return v
    if 1.0 < v <= 10.0:       # a 0..10 scale
        return v / 10.0
    if 10.0 < v <= 100.0:     # a percentage
        return v / 100.0
    raise InstructError(f"intensity out of range: {value!r}")


def phrase_text(key: str) -> str:
    a = ACTIONS[key]
    return f"{a.part} {a.verb}"


def repair_phrases(value: Any, emotion: str, intensity: float) -> list[Phrase]:
    """Facial actions named in a model's answer, kept only if in the emotion's vocabulary."""
    from core.instruct.wording import _find_phrases
    items = value if isinstance(value, list) else [value] if isinstance(value, str) else []
    out: list[Phrase] = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("action") or item.get("phrase") or ""
        if not isinstance(item, str):
            continue
        key = item.strip().lower().replace(" ", "_")
        found = [Phrase(key, 0.5)] if key in ACTIONS else _find_phrases(item)
        for p in found:
            if p.action in VOCABULARY[emotion] and all(p.action != q.action for q in out):
                out.append(p)
    rank = [Phrase(p.action, phrase_degree(intensity, i)) for i, p in enumerate(out[:3])]
    return rank


def choice_from_answer(answer: Any, evidence: dict[str, Any]) -> Choice:
    """Validate (and repair) a model's JSON answer {"emotion", "intensity", "actions"}."""
    from core.instruct.rules import pick_phrases
    if not isinstance(answer, dict):
        raise InstructError(f"answer is not a JSON object: {answer!r}"[:200])
    emotion = repair_emotion(answer.get("emotion"))
    intensity = repair_intensity(answer.get("intensity", 0.5))
    phrases = repair_phrases(answer.get("actions", answer.get("facial_actions", [])), emotion, intensity)
    if not phrases:
        phrases = pick_phrases(emotion, intensity, evidence)
    return Choice(emotion=emotion, intensity=intensity, phrases=phrases)
