"""Writers driven by a local transformers causal language model (the embedded SmolLM2-135M, or any
causal LM folder the user gives).

The model's output is constrained by construction: it never generates free text. For each
segment it reads a prompt (the segment's words, its neighbours' words, the prosody in words) that
ends in "The speaker feels", and one batched forward pass gives the probability of each of the
eight MEAD emotion words as the next word (the first token of each label; they are distinct).
Those label scores are calibrated: the per-label bias the model shows on content-free prompts
(no words, plain voice; Zhao et al. 2021, "Calibrate before use") is subtracted. They are one
piece of evidence among the others (core.instruct.evidence: the text emotion model, the voice,
sounds, the neighbours), weighted by Weights.model; the take is decided jointly there.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from core.instruct.base import Choice, InstructionWriter, neighbours, segment_text
from core.instruct.cues import prosody_text
from core.instruct.models import EMBEDDED_NAME, load_causal_lm
from core.project import EMOTIONS

SYSTEM = ("You are an expert on emotional speech. You read what a person says and how their voice "
          "sounds, and name the emotion they feel.")
QUESTION = ("Which emotion does the speaker feel: neutral, happy, sad, angry, surprised, fearful, "
            "disgusted or contempt?")
ANSWER_PREFIX = "Emotion:"
# Label words as they follow ANSWER_PREFIX (" contempt" and " contemptuous" share a first token).
LABEL_WORDS = {e: e for e in EMOTIONS}

# Worked examples shown before every segment (their cost is paid once: the shared head is cached).
# Written for this prompt; none is in the evaluation set.
EXAMPLES: tuple[tuple[str, str], ...] = ()
# Measured on the tuning half of tests/data/instruct/emotion_set.csv, worked examples in the head
# made SmolLM2-135M copy the last examples' labels (0.70 with the cues vs 0.85 without), so there
# are none by default; a larger local model may be given some.

# Content-free prompts for calibration.
CALIBRATION_TEXTS = ("", "N/A", "Okay.", "The text.")

MAX_WORDS = 60          # words of the segment kept in the prompt
CONTEXT_WORDS = 8       # words of each neighbour kept
BATCH = 16


def _clip_words(text: str, n: int, keep_end: bool = False) -> str:
    words = text.split()
    if len(words) <= n:
        return text
    return ("... " + " ".join(words[-n:])) if keep_end else (" ".join(words[:n]) + " ...")


def user_prompt(evidence: dict[str, Any], before: str = "", after: str = "") -> str:
    """The segment-specific part of the prompt (the question comes before it, shared by all)."""
    text = _clip_words(segment_text(evidence), MAX_WORDS) or "(no words)"
    lines = []
    if before:
        lines.append(f'Before: "{_clip_words(before, CONTEXT_WORDS, keep_end=True)}"')
    lines.append(f'Speech: "{text}"')
    if after:
        lines.append(f'After: "{_clip_words(after, CONTEXT_WORDS)}"')
    voice = prosody_text(evidence)
    if voice:
        lines.append(f"Voice: {voice}.")
    return "\n".join(lines)


_SENTINEL = "\u2063SEGMENT\u2063"


class LabelScorer:
    """Scores the eight emotion labels as the next word after a chat prompt, batched.

    The prompt's shared head (system message, question) runs once; its key/value cache is
    reused for every segment, so each segment costs only its own words (about 40 tokens)."""

    def __init__(self, tokenizer: Any, model: Any) -> None:
        import inspect
        self.tok = tokenizer
        self.model = model
        self.label_ids = []
        for e in EMOTIONS:
            ids = tokenizer.encode(" " + LABEL_WORDS[e], add_special_tokens=False)
            self.label_ids.append(ids[0])
        if len(set(self.label_ids)) != len(self.label_ids):
            raise ValueError("this tokenizer gives two emotion labels the same first token")
        params = inspect.signature(model.forward).parameters
        self._cache_arg = "cache" if "cache" in params else "past_key_values"
        messages = [{"role": "system", "content": SYSTEM}]
        for example, label in EXAMPLES:
            messages += [{"role": "user", "content": QUESTION + "\n" + example},
                         {"role": "assistant", "content": f"{ANSWER_PREFIX} {LABEL_WORDS[label]}."}]
        messages.append({"role": "user", "content": QUESTION + "\n" + _SENTINEL})
        if getattr(tokenizer, "chat_template", None):
            full = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        else:
            full = f"{SYSTEM}\n\n{QUESTION}\n{_SENTINEL}\n\n"
        head, tail = full.split(_SENTINEL)
        self.head_ids: list[int] = tokenizer.encode(head, add_special_tokens=True)
        self.tail = tail + ANSWER_PREFIX
        self._head_cache = None
        self._bias: list[float] | None = None
        self._lock = threading.Lock()

    def _head(self):
        import torch
        if self._head_cache is None:
            out = self.model(input_ids=torch.tensor([self.head_ids]), use_cache=True)
            cache = out.get("cache") if hasattr(out, "get") else None
            self._head_cache = cache if cache is not None else out.past_key_values
        return self._head_cache

    def label_logprobs(self, users: Sequence[str]) -> list[list[float]]:
        """Per prompt, the log-probabilities of the eight labels, renormalised over the eight."""
        import copy

        import torch
        encoded = [self.tok.encode(u + self.tail, add_special_tokens=False) for u in users]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))   # little padding per batch
        result: dict[int, list[float]] = {}
        n_head = len(self.head_ids)
        with self._lock, torch.inference_mode():
            head = self._head()
            for i in range(0, len(order), BATCH):
                rows = order[i:i + BATCH]
                enc = [encoded[r] for r in rows]
                width = max(len(e) for e in enc)
                ids = torch.full((len(enc), width), self.tok.pad_token_id, dtype=torch.long)
                seg_mask = torch.zeros((len(enc), width), dtype=torch.long)
                for r, e in enumerate(enc):   # pad between the shared head and each segment's tokens
                    ids[r, width - len(e):] = torch.tensor(e)
                    seg_mask[r, width - len(e):] = 1
                mask = torch.cat([torch.ones((len(enc), n_head), dtype=torch.long), seg_mask], dim=1)
                pos = n_head + (seg_mask.cumsum(1) - 1).clamp(min=0)
                cache = copy.deepcopy(head)
                cache.batch_repeat_interleave(len(enc))
                logits = self.model(input_ids=ids, attention_mask=mask, position_ids=pos,
                                    logits_to_keep=1, **{self._cache_arg: cache}).logits[:, -1, :].float()
                lp = torch.log_softmax(logits, dim=-1)[:, self.label_ids]
                lp = lp - torch.logsumexp(lp, dim=-1, keepdim=True)
                for r, row in zip(rows, lp.tolist()):
                    result[r] = row
        return [result[i] for i in range(len(encoded))]

    def bias(self) -> list[float]:
        """Mean label log-probabilities on content-free prompts (computed once)."""
        if self._bias is None:
            users = [user_prompt({"text": t, "prosody": {"pitch_level_st": 0.0, "loudness_db": 0.0, "rate_relative": 1.0,
                                                         "pitch_range_st": 6.0, "pitch_trend_st_per_s": 0.0}})
                     for t in CALIBRATION_TEXTS]
            rows = self.label_logprobs(users)
            self._bias = [sum(r[j] for r in rows) / len(rows) for j in range(len(EMOTIONS))]
        return self._bias

    def calibrated(self, users: Sequence[str]) -> list[dict[str, float]]:
        bias = self.bias()
        return [{e: lp[j] - bias[j] for j, e in enumerate(EMOTIONS)} for lp in self.label_logprobs(users)]


_scorers: dict[int, LabelScorer] = {}
_scorers_lock = threading.Lock()


def scorer_for(tok: Any, model: Any) -> LabelScorer:
    with _scorers_lock:
        s = _scorers.get(id(model))
        if s is None:
            s = _scorers[id(model)] = LabelScorer(tok, model)
        return s


def is_silent(evidence: dict[str, Any]) -> bool:
    """A segment with nothing for a model to read (the rules make it neutral)."""
    return evidence.get("kind") == "silence" or (not segment_text(evidence) and not evidence.get("prosody"))


HEAD = Path(__file__).resolve().parents[2] / "resources" / "instruct" / "smollm2_head.npz"


def hidden_features(tok: Any, model: Any, texts: Sequence[str], batch: int = 32) -> np.ndarray:
    """(N, hidden) the mean of the model's last hidden layer over each text's tokens."""
    import torch
    rows = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch):
            part = [t if t.strip() else "." for t in texts[i:i + batch]]
            enc = tok(part, return_tensors="pt", padding=True, truncation=True, max_length=96)
            hidden = model(**enc, output_hidden_states=True).hidden_states[-1].float()
            mask = enc["attention_mask"].unsqueeze(-1).float()
            rows.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)).numpy())
    return np.concatenate(rows) if rows else np.zeros((0, 0), np.float32)


class LocalLMWriter(InstructionWriter):
    """A local causal LM by folder path (None = the embedded SmolLM2-135M-Instruct)."""

    def __init__(self, model_path: str | Path | None = None, name: str | None = None) -> None:
        super().__init__()
        self.model_path = None if model_path is None else Path(model_path)
        self.name = name or (EMBEDDED_NAME if model_path is None else f"local:{Path(model_path).name}")
        self.use_neighbours = True      # False: each segment is read alone (evaluation of lone lines)
        self._head = None

    def scorer(self) -> LabelScorer:
        tok, model = load_causal_lm(self.model_path)
        return scorer_for(tok, model)

    def model_scores(self, segments: Sequence[dict[str, Any]]) -> list[dict[str, float]]:
        """Calibrated label scores of the model alone (for evaluation)."""
        ctx = neighbours(segments) if self.use_neighbours else [("", "")] * len(segments)
        users = [user_prompt(e, b, a) for e, (b, a) in zip(segments, ctx)]
        return self.scorer().calibrated(users)

    def head(self):
        """The embedded model's emotion head (a classifier on its hidden states, trained by
        scripts/train_text_emotion.py --smollm2-head), or None for other models."""
        if self.model_path is not None or not HEAD.exists():
            return None
        from core.instruct.text_emotion import TextEmotionModel
        if self._head is None:
            self._head = TextEmotionModel.load(HEAD)
        return self._head

    def head_scores(self, segments: Sequence[dict[str, Any]]) -> list[list[float] | None]:
        """Per segment, log(p(emotion | words) / prior) from the head; None without words."""
        tok, model = load_causal_lm(self.model_path)
        head = self.head()
        texts = [segment_text(e) for e in segments]
        idx = [i for i, t in enumerate(texts) if t.strip()]
        out: list[list[float] | None] = [None] * len(segments)
        if idx:
            probs = head.probabilities(hidden_features(tok, model, [texts[i] for i in idx]))
            for i, p in zip(idx, probs):
                out[i] = list(np.log(np.clip(p, 1e-6, 1.0)) - np.log(head.prior))
        return out

    def _write(self, segments: list[dict[str, Any]]) -> Iterable[Choice | None]:
        if self.head() is not None:
            return [Choice(model=s) for s in self.head_scores(segments)]
        read = [i for i, e in enumerate(segments) if not is_silent(e)]
        scored = dict(zip(read, self.model_scores([segments[i] for i in read]) if read else []))
        out: list[Choice | None] = []
        for i in range(len(segments)):
            if i not in scored:
                out.append(Choice())                # silence: nothing for the model to read
                continue
            scores = scored[i]
            if not all(math.isfinite(v) for v in scores.values()):
                self.warn(f"{self.name}: non-finite label scores; the cues alone decided segment {i}")
                out.append(None)
                continue
            out.append(Choice(model=[scores[e] for e in EMOTIONS]))
        return out
