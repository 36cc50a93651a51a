"""Real performances as training data: Live Link Face captures paired with their sound.

    report = build_capture_dataset("captures/", "data/mine", writer="rules")
    # then: scripts/train_motion.py --data data/mine --init resources/motion --steps 500 ...

A capture folder holds, per take, the Live Link Face CSV and the sound recorded with it under
the same name (`take01.csv` + `take01.wav`; FLAC, OGG, MP3 and AIFF too) and, optionally, what
is said (`take01.txt`, aligned instead of the recognised words). Every pair is listened to by
stage 1, exactly as at use time (the model's inputs are the listener's phones and prosody, so
a fine-tuned model sees what it will see later), cut into segments with instructions (written
by `writer`, or `instruction` for all), and written in core.synth.dataset's format with the
capture's own animation as the target. The capture and the sound may differ by a few frames
(the app starts and stops them separately): the shorter length wins, and a pair more than
MAX_MISMATCH_S apart is refused as a wrong pairing. Every eighth take (at least one of two or
more) is held out for the training report's held-out loss.

Unpaired or unreadable files are reported and skipped; a folder without a single usable pair
is an error that says so.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from core.fileio import atomic_write
from core.synth.dataset import FEATURES, VERSION, write_item

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
MAX_MISMATCH_S = 0.5
HELDOUT_EVERY = 8


@dataclass
class Pair:
    name: str
    csv: Path
    audio: Path
    script: Path | None = None


@dataclass
class CaptureReport:
    index: dict                                   # the dataset index written to out/index.json
    used: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # "file: why"


def find_pairs(folder: str | os.PathLike) -> tuple[list[Pair], list[str]]:
    """(pairs of CSV + audio with the same stem, one 'file: why' line per file left over)."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder")
    files = sorted(p for p in root.iterdir() if p.is_file())
    csvs = {p.stem: p for p in files if p.suffix.lower() == ".csv"}
    sounds: dict[str, Path] = {}
    for p in files:
        if p.suffix.lower() in AUDIO_SUFFIXES:
            sounds.setdefault(p.stem, p)
    scripts = {p.stem: p for p in files if p.suffix.lower() == ".txt"}
    pairs, problems = [], []
    for stem, csv in csvs.items():
        if stem in sounds:
            pairs.append(Pair(stem, csv, sounds[stem], scripts.get(stem)))
        else:
            problems.append(f"{csv.name}: no audio file named {stem}.wav (or .flac, .ogg, .mp3, .aiff) beside it")
    for stem, sound in sounds.items():
        if stem not in csvs:
            problems.append(f"{sound.name}: no Live Link Face CSV named {stem}.csv beside it")
    return pairs, problems


def make_capture_item(pair: Pair, fps: float, writer, instruction: str | None) -> tuple[dict, dict]:
    """(arrays, index entry) of one capture, in core.synth.dataset's item format."""
    from core.audio import load_audio
    from core.export.livelink import read_livelink_csv
    from core.motion.features import speech_features
    from core.motion.text import embed
    from core.pipeline import listen_and_instruct, segment_bounds, user_instruction

    track = read_livelink_csv(pair.csv, fps=fps)
    audio = load_audio(pair.audio)
    if abs(track.duration - audio.duration) > MAX_MISMATCH_S:
        raise ValueError(f"{pair.csv.name} lasts {track.duration:.2f} s but {pair.audio.name} {audio.duration:.2f} s; "
                         f"a capture and its sound may differ by at most {MAX_MISMATCH_S} s")
    script = pair.script.read_text(encoding="utf-8") if pair.script else None
    result = listen_and_instruct(audio, script=script, writer=writer)
    speech = speech_features(result.analysis, fps)
    frames = min(len(speech), track.frames)
    segments = result.segments
    if instruction is not None:
        for s in segments:
            s.instruction = user_instruction(instruction)
    bounds = segment_bounds(segments, fps, frames)
    keep = bounds[:, 1] > bounds[:, 0]
    segments, bounds = [s for s, k in zip(segments, keep) if k], bounds[keep]
    texts = [s.instruction.text for s in segments]
    arrays = {"speech": speech[:frames].astype(np.float32), "motion": track.data[:frames].astype(np.float32),
              "seg_embeddings": embed(texts).astype(np.float32) if texts else np.zeros((0, 384), np.float32),
              "seg_bounds": bounds.astype(np.int32)}
    entry = {"frames": frames, "source": {"csv": pair.csv.name, "audio": pair.audio.name,
                                          "script": pair.script.name if pair.script else None},
             "segments": [{"start": int(a), "end": int(b), "emotion": s.instruction.emotion,
                           "intensity": s.instruction.intensity, "text": s.instruction.text,
                           "canonical": s.instruction.text, "wording": "capture", "writer": s.instruction.writer}
                          for s, (a, b) in zip(segments, bounds)]}
    return arrays, entry


def build_capture_dataset(source: str | os.PathLike, out: str | os.PathLike, *, fps: float = 30.0,
                          instruction: str | None = None, writer: str = "rules",
                          progress: Callable[[int, int, str], None] | None = None) -> CaptureReport:
    """Write a training dataset from the captures in `source` into `out` (see the module doc)."""
    from core.instruct import make_writer

    pairs, skipped = find_pairs(source)
    if not pairs:
        raise ValueError(f"{source}: no Live Link Face CSV with its audio file (same name) in this folder"
                         + (f" ({'; '.join(skipped)})" if skipped else ""))
    out = Path(out)
    (out / "items").mkdir(parents=True, exist_ok=True)
    text_writer = make_writer(writer)
    made, used = [], []
    started = time.perf_counter()
    for n, pair in enumerate(pairs):
        if progress:
            progress(n, len(pairs), pair.name)
        try:
            made.append(make_capture_item(pair, fps, text_writer, instruction))
        except (OSError, ValueError, RuntimeError) as exc:    # AudioError and CSV errors are ValueErrors
            skipped.append(f"{pair.csv.name} + {pair.audio.name}: {exc}")
            continue
        used.append(pair.name)
    if progress:
        progress(len(pairs), len(pairs), "")
    if not made:
        raise ValueError(f"{source}: none of the {len(pairs)} captures could be used: {'; '.join(skipped)}")
    heldout = {len(made) - 1 - k for k in range(0, len(made), HELDOUT_EVERY)} if len(made) >= 2 else set()
    entries = [write_item(out, n + 1, arrays, {**entry, "split": "heldout" if n in heldout else "train"})
               for n, (arrays, entry) in enumerate(made)]
    index = {"version": VERSION, "fps": fps, "features": FEATURES, "items": entries,
             "config": {"source": str(Path(source).resolve()), "writer": text_writer.name, "instruction": instruction},
             "build": {"items": len(entries), "skipped": skipped, "wall_seconds": round(time.perf_counter() - started, 1)}}
    with atomic_write(out / "index.json") as fh:
        fh.write(json.dumps(index, indent=1).encode("utf-8"))
    return CaptureReport(index, used, skipped)
