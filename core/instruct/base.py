"""The InstructionWriter interface, validation, and the per-segment fallback to the rules.

A writer turns the evidence of each segment of a take (what the listener found: "text", "words",
"prosody", ...) into one Instruction per segment. Writers never raise for a bad answer of their
model: what fails validation is repaired where it can be, else retried, else written by the
rule-based writer for that segment; `Instruction.writer` says who wrote each, and the writer's
`warnings` list (reset by every `write`) says what went wrong.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from core.instruct.wording import ACTIONS, VOCABULARY, Phrase, SYNONYMS, compose
from core.project import EMOTIONS, Instruction

log = logging.getLogger(__name__)


class InstructError(ValueError):
    """A model's answer could not be turned into a valid instruction."""


@dataclass
class Choice:
    """What a backend decided for one segment, before it is worded."""
    emotion: str
    intensity: float
    phrases: list[Phrase]
    scores: dict[str, float] = field(default_factory=dict)     # per-emotion probabilities, if any

    def instruction(self, writer: str) -> Instruction:
        text = compose(self.emotion, self.intensity, self.phrases)
        return Instruction(text=text, emotion=self.emotion, intensity=round(float(self.intensity), 3), writer=writer)


def segment_text(evidence: dict[str, Any]) -> str:
    """The words of a segment (its "text", else its "words" joined)."""
    if not isinstance(evidence, dict):
        return ""
    text = evidence.get("text")
    if isinstance(text, str) and text.strip():
        return " ".join(text.split())
    words = evidence.get("words")
    if isinstance(words, list):
        return " ".join(str(w.get("word", "")).strip() for w in words if isinstance(w, dict)).strip()
    return ""


class InstructionWriter:
    """Base of all writers. Subclasses implement `_write` (a list of Choice or None per segment;
    None = this segment failed, the rules take it over)."""

    name = "writer"

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def write(self, segments_evidence: Sequence[dict[str, Any]]) -> list[Instruction]:
        self.warnings = []
        segments = [e if isinstance(e, dict) else {} for e in segments_evidence]
        if not segments:
            return []
        try:
            choices = list(self._write(segments))
            if len(choices) != len(segments):
                raise InstructError(f"{self.name} returned {len(choices)} answers for {len(segments)} segments")
        except Exception as exc:  # noqa: BLE001 - a failing backend must not lose the take
            self.warn(f"{self.name} failed for the whole take ({type(exc).__name__}: {exc}); "
                      f"the rule-based writer wrote all {len(segments)} instructions")
            choices = [None] * len(segments)
        out: list[Instruction | None] = []
        for i, c in enumerate(choices):
            if c is None:
                out.append(None)
                continue
            try:
                out.append(c.instruction(self.name))
            except ValueError as exc:
                self.warn(f"segment {i}: invalid instruction from {self.name} ({exc}); the rules wrote it")
                out.append(None)
        missing = [i for i, ins in enumerate(out) if ins is None]
        if missing:
            from core.instruct.rules import RulesWriter
            for i, ins in zip(missing, RulesWriter().write([segments[i] for i in missing])):
                out[i] = ins
        return out  # type: ignore[return-value]

    def _write(self, segments: list[dict[str, Any]]) -> Iterable[Choice | None]:
        raise NotImplementedError

    def warn(self, message: str) -> None:
        log.info(message)   # returned in .warnings; callers decide how to show it
        self.warnings.append(message)


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
    rank = [Phrase(p.action, max(0.0, min(1.0, intensity - 0.15 * i))) for i, p in enumerate(out[:3])]
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
    return Choice(emotion, intensity, phrases)
