"""What is said: a sentence-level emotion classifier on the MiniLM embedding of a segment's words.

    probs = text_emotion_probabilities(["Take that, you fool!", "Please hold."])   # (2, 8), EMOTIONS order

A multinomial logistic regression over the 768-d instruction embedding (core.motion.text: the
sentence embedding plus the mean input word embedding of all-MiniLM-L6-v2), trained by
scripts/train_text_emotion.py on a corpus of several thousand labelled lines in many registers
(core/synth/emotion_lines.py plus real human-rated lines from VADER's corpus), calm the largest
class. The weights ship in resources/instruct/ with the config and report that made them. The
classifier's prior is the corpus's class balance; callers that combine it with other evidence
take that into account (core.instruct.evidence).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from core.project import EMOTIONS

RESOURCE = Path(__file__).resolve().parents[2] / "resources" / "instruct"
WEIGHTS = RESOURCE / "text_emotion.npz"
FORMAT = "avitalk-text-emotion"
VERSION = 1


class TextEmotionError(RuntimeError):
    """The classifier's weights are missing or do not fit the embedder."""


@dataclass
class TextEmotionModel:
    weight: np.ndarray          # (768, 8)
    bias: np.ndarray            # (8,)
    prior: np.ndarray           # (8,) class shares of the training corpus
    temperature: float = 1.0

    @classmethod
    def load(cls, path: str | Path = WEIGHTS) -> "TextEmotionModel":
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                model = cls(z["weight"].astype(np.float32), z["bias"].astype(np.float32),
                            z["prior"].astype(np.float64), float(meta.get("temperature", 1.0)))
        except (OSError, KeyError, ValueError) as exc:
            raise TextEmotionError(f"{path}: cannot read the text emotion classifier ({exc})") from exc
        if meta.get("format") != FORMAT or int(meta.get("version", 0)) > VERSION:
            raise TextEmotionError(f"{path}: not a text emotion classifier of version <= {VERSION}")
        if list(meta.get("emotions", [])) != list(EMOTIONS) or model.weight.shape[1] != len(EMOTIONS):
            raise TextEmotionError(f"{path}: its emotions are not {', '.join(EMOTIONS)}")
        return model

    def save(self, path: str | Path, config: dict) -> None:
        meta = {"format": FORMAT, "version": VERSION, "emotions": list(EMOTIONS),
                "temperature": self.temperature, "config": config}
        from core.fileio import atomic_write
        with atomic_write(path) as f:
            np.savez(f, weight=self.weight.astype(np.float32), bias=self.bias.astype(np.float32),
                     prior=self.prior, meta=np.array(json.dumps(meta)))

    def logits(self, embeddings: np.ndarray) -> np.ndarray:
        return (np.asarray(embeddings, np.float32) @ self.weight + self.bias) / self.temperature

    def probabilities(self, embeddings: np.ndarray) -> np.ndarray:
        z = self.logits(embeddings)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)


_model: TextEmotionModel | None = None
_lock = threading.Lock()


def model() -> TextEmotionModel:
    """The shipped classifier, loaded once per process."""
    global _model
    with _lock:
        if _model is None:
            _model = TextEmotionModel.load()
        return _model


def text_emotion_probabilities(texts: Sequence[str]) -> np.ndarray:
    """(N, 8) probability of each MEAD emotion (EMOTIONS order) in each text's words; a text
    without words gets the classifier's prior."""
    m = model()
    out = np.tile(m.prior, (len(texts), 1))
    idx = [i for i, t in enumerate(texts) if t and t.strip()]
    if idx:
        from core.motion.text import embed
        out[idx] = m.probabilities(embed([texts[i] for i in idx]))
    return out
