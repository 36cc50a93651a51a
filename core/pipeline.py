"""Stage 1 end to end: a voice recording to instructed segments (listen, segment, instruct).

    result = listen_and_instruct(audio, script=None, writer=make_writer())
    result.segments      # project Segments: timing, instruction, evidence
    result.warnings      # what the listener or the writer had to say (fallbacks, odd audio)

A failing instruction backend never loses the listening work: the writer falls back to the
rules per segment and says so in the warnings.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from core.audio import Audio
from core.instruct import InstructionWriter, make_writer
from core.listen import Analysis, listen, segment
from core.project import Segment


@dataclass
class Stage1Result:
    segments: list[Segment]
    analysis: Analysis
    writer: str
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)    # seconds per stage


def listen_and_instruct(audio: Audio, *, script: str | None = None, writer: InstructionWriter | None = None,
                        min_length: float = 1.5, max_length: float = 8.0,
                        progress: Callable[[str, float], None] | None = None) -> Stage1Result:
    """Listen to `audio` (or align `script` to it), cut it into segments and write their instructions."""
    timings: dict[str, float] = {}

    def step(name: str, fraction: float) -> float:
        if progress is not None:
            progress(name, fraction)
        return time.perf_counter()

    t = step("listening", 0.0)
    analysis = listen(audio, script)
    t2 = step("segmenting", 0.6)
    timings["listen"] = t2 - t
    pieces = segment(analysis, min_length, max_length)
    t3 = step("writing instructions", 0.65)
    timings["segment"] = t3 - t2
    writer = writer or make_writer()
    instructions = writer.write([p.evidence for p in pieces])
    timings["instruct"] = step("done", 1.0) - t3
    segments = [p.to_segment(ins) for p, ins in zip(pieces, instructions)]
    return Stage1Result(segments, analysis, writer.name, list(analysis.warnings) + list(writer.warnings), timings)
