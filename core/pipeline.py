"""Both stages end to end: a voice recording to instructed segments, then to a performance.

    result = listen_and_instruct(audio, script=None, writer=make_writer())
    result.segments      # project Segments: timing, instruction, evidence
    result.warnings      # what the listener or the writer had to say (fallbacks, odd audio)

    project = make_project(audio, result, fps=30.0)        # segments + the speech features
    project.tracks[MAIN_TRACK] = animate(project, bundle)  # stage 2 over the whole take
    project.tracks[MAIN_TRACK] = regenerate(project, 3, bundle)   # after segment 3 was edited

A failing instruction backend never loses the listening work: the writer falls back to the
rules per segment and says so in the warnings. Stage 2 reads the speech features stored in
the project (the listener's phones and prosody per frame), so regenerating a segment never
listens again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from core.audio import Audio
from core.limits import MAX_INSTRUCTION_CHARS
from core.instruct import Baseline, InstructionWriter, make_writer
from core.instruct.wording import parse
from core.listen import Analysis, ListenSettings, listen, segment
from core.listen.language import check_language
from core.motion.checkpoint import MotionBundle
from core.motion.features import NUM_FEATURES, speech_features
from core.motion.generate import Callback, generate, regenerate_frames
from core.motion.text import EMBEDDING_SIZE, embed
from core.project import MAIN_TRACK, Instruction, Project, Segment
from core.track import FaceTrack


@dataclass
class Stage1Result:
    segments: list[Segment]
    analysis: Analysis
    writer: str
    warnings: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)    # seconds per stage


def listen_and_instruct(audio: Audio, *, script: str | None = None, writer: InstructionWriter | None = None,
                        min_length: float = 1.5, max_length: float = 8.0, baseline: str | None = None,
                        language: str = "auto",
                        progress: Callable[[str, float], None] | None = None) -> Stage1Result:
    """Listen to `audio` (or align `script` to it) in `language` ("auto": detect it), cut it into
    segments and write their instructions, departing from the take-wide `baseline` ("auto", "calm",
    "mild" or an emotion) only where the evidence is strong. Each segment's evidence keeps why it
    got its emotion ("why")."""
    Baseline.parse(baseline)            # a bad baseline or language fails before the listening
    language = check_language(language)
    timings: dict[str, float] = {}

    def step(name: str, fraction: float) -> float:
        if progress is not None:
            progress(name, fraction)
        return time.perf_counter()

    t = step("listening", 0.0)
    analysis = listen(audio, script, ListenSettings(language=language))
    t2 = step("segmenting", 0.6)
    timings["listen"] = t2 - t
    pieces = segment(analysis, min_length, max_length)
    t3 = step("writing instructions", 0.65)
    timings["segment"] = t3 - t2
    writer = writer or make_writer()
    instructions = writer.write([p.evidence for p in pieces], baseline)
    timings["instruct"] = step("done", 1.0) - t3
    for p, why in zip(pieces, writer.reasons):
        p.evidence["why"] = why
    segments = [p.to_segment(ins) for p, ins in zip(pieces, instructions)]
    return Stage1Result(segments, analysis, writer.name, list(analysis.warnings) + list(writer.warnings), timings)


# --- stage 2 ------------------------------------------------------------------------------

def user_instruction(text: str) -> Instruction:
    """An instruction a person typed: its emotion and intensity read from the text as well as
    the wording allows (no emotion named -> neutral)."""
    text = str(text)
    if len(text) > MAX_INSTRUCTION_CHARS:       # before any work on it: a pasted book is refused at once
        raise ValueError(f"the instruction has {len(text):,} characters; an instruction is at most "
                         f"{MAX_INSTRUCTION_CHARS:,}")
    text = " ".join(text.split())
    if not text:
        raise ValueError("the instruction is empty")
    emotion, intensity, _ = parse(text)
    return Instruction(text, emotion, round(float(intensity), 3), "user")


def make_project(audio: Audio, stage1: Stage1Result, fps: float) -> Project:
    """A project holding the audio, the segments and the listener's speech features at `fps`."""
    project = Project(audio=audio, segments=list(stage1.segments))
    project.settings.fps = float(fps)
    project.speech_features = speech_features(stage1.analysis, fps)
    return project


def ensure_features(project: Project) -> np.ndarray:
    """The project's speech features at its frame rate, listening to its audio once if it has
    none yet (older or imported projects)."""
    fps = project.settings.fps
    feats = project.speech_features
    # features of another shape (an older listener, a damaged project) are listened for again
    if feats is not None and project.audio is not None and feats.shape == (_frames(project), NUM_FEATURES):
        return feats
    if project.audio is None:
        raise ValueError("the project has no audio to animate")
    project.speech_features = speech_features(listen(project.audio), fps)
    return project.speech_features


def _frames(project: Project) -> int:
    return int(round(project.audio.duration * project.settings.fps)) if project.audio is not None else 0


def segment_bounds(segments: list[Segment], fps: float, frames: int) -> np.ndarray:
    """(S, 2) int32 [start, end) frame ranges of the segments, clipped to the take."""
    b = np.array([[round(s.start * fps), round(s.end * fps)] for s in segments], np.int64).reshape(-1, 2)
    return np.clip(b, 0, frames).astype(np.int32)


def instruction_embeddings(segments: list[Segment]) -> np.ndarray:
    """(S, 768) MiniLM embeddings of the segments' instruction texts."""
    if not segments:
        return np.zeros((0, EMBEDDING_SIZE), np.float32)
    return embed([s.instruction.text for s in segments])


def _check_rate(project: Project, bundle: MotionBundle) -> None:
    if abs(project.settings.fps - bundle.fps) > 1e-6:
        raise ValueError(f"the project runs at {project.settings.fps:g} fps and the motion model at "
                         f"{bundle.fps:g} fps; set the project's frame rate to {bundle.fps:g}")


def animate(project: Project, bundle: MotionBundle, *, seed: int = 0, callback: Callback | None = None) -> FaceTrack:
    """Stage 2 over the whole take: a new performance from the speech and every segment's
    instruction (settings.sampling_steps, settings.guidance)."""
    _check_rate(project, bundle)
    feats = ensure_features(project)
    bounds = segment_bounds(project.segments, project.settings.fps, len(feats))
    return generate(bundle, feats, instruction_embeddings(project.segments), bounds,
                    steps=project.settings.sampling_steps, guidance=project.settings.guidance, seed=seed,
                    callback=callback)


def regenerate(project: Project, index: int, bundle: MotionBundle, *, callback: Callback | None = None) -> FaceTrack:
    """The performance with only segment `index` regenerated from its current instruction and
    seed; every frame outside it is kept bit for bit. A project without a performance yet is
    animated whole."""
    if not 0 <= index < len(project.segments):
        raise IndexError(f"no segment {index}; the project has {len(project.segments)} (0..{len(project.segments) - 1})")
    seg = project.segments[index]
    return regenerate_span(project, seg.start, seg.end, seg.seed, bundle, callback=callback)


def regenerate_span(project: Project, start: float, end: float, seed: int, bundle: MotionBundle, *,
                    callback: Callback | None = None) -> FaceTrack:
    """The performance with only the frames of [start, end) seconds regenerated under the
    segments' current instructions (the studio's unit of work: an edited segment, or the
    stretch a retimed or deleted segment leaves)."""
    track = project.tracks.get(MAIN_TRACK)
    feats = ensure_features(project)
    if track is None or track.frames != len(feats):
        return animate(project, bundle, callback=callback)
    _check_rate(project, bundle)
    fps = project.settings.fps
    bounds = segment_bounds(project.segments, fps, len(feats))
    return regenerate_frames(bundle, track, feats, instruction_embeddings(project.segments), bounds,
                             round(start * fps), round(end * fps), seed=seed, steps=project.settings.sampling_steps,
                             guidance=project.settings.guidance, callback=callback)
