"""Real performances as training data: Live Link Face captures paired with their sound.

    index = build_capture_dataset("captures/", "data/mine", writer="rules")
    # then: scripts/train_motion.py --data data/mine --out runs/mine --init resources/motion ...

A capture folder holds, per take, the Live Link Face CSV and the sound recorded with it under
the same name (`take01.csv` + `take01.wav`; .flac, .ogg, .mp3, .aiff too, any case) and,
optionally, what is said (`take01.txt`, aligned instead of the recognised words). Every pair is
listened to by stage 1 exactly as at use time (the model's inputs are the listener's phones and
prosody, so a fine-tuned model learns from what it will see later), cut into segments whose
instructions are written by `writer` (or are all `instruction`), and written in
core.synth.dataset's format with the capture's own animation as the target. The capture and
the sound may differ by a few frames (the app starts and stops them separately): the shorter
wins, and a pair more than MAX_MISMATCH_S apart is refused as a wrong pairing. Every eighth
usable take in name order (at least one of two or more: the last) is held out for the
training report's held-out loss.

Unpaired, unreadable or refused files are reported (in the returned index's "build" and as
warnings) and skipped; a folder without a single usable pair is a ValueError naming it.
"""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from core.audio import AUDIO_SUFFIXES
from core.fileio import atomic_write
from core.synth.dataset import FEATURES, VERSION, write_item

MAX_MISMATCH_S = 0.5
HELDOUT_EVERY = 8


class CaptureSkipped(UserWarning):
    """A file or pair of the capture folder was left out (the message says which and why)."""


@dataclass
class Pair:
    name: str
    csv: Path
    audio: Path
    script: Path | None = None


def find_pairs(folder: str | os.PathLike) -> tuple[list[Pair], list[str]]:
    """(CSV + audio pairs with the same stem in name order, one 'file: why' line per file left
    over). Suffixes are matched case-insensitively."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{root}: no such folder")
    files = sorted(p for p in root.iterdir() if p.is_file())
    csvs = {p.stem: p for p in files if p.suffix.lower() == ".csv"}
    scripts = {p.stem: p for p in files if p.suffix.lower() == ".txt"}
    sounds: dict[str, Path] = {}
    problems = []
    for p in files:
        if p.suffix.lower() in AUDIO_SUFFIXES:
            if p.stem in sounds:
                problems.append(f"{p.name}: another audio file for {p.stem}; {sounds[p.stem].name} is used")
            else:
                sounds[p.stem] = p
    pairs = []
    for stem, csv in csvs.items():
        if stem in sounds:
            pairs.append(Pair(stem, csv, sounds[stem], scripts.get(stem)))
        else:
            problems.append(f"{csv.name}: no audio file named {stem}.wav (or .flac, .ogg, .mp3, .aiff) beside it")
    for stem, sound in sounds.items():
        if stem not in csvs:
            problems.append(f"{sound.name}: no Live Link Face CSV named {stem}.csv beside it")
    return pairs, problems


def make_capture_item(pair: Pair, fps: float, writer, instruction=None) -> tuple[dict, dict]:
    """(arrays for the .npz, index entry without "file" and "split") of one capture, in
    core.synth.dataset's item format. `instruction`: an Instruction every segment gets."""
    from core.audio import load_audio
    from core.export.livelink import read_livelink_csv
    from core.motion.features import speech_features
    from core.motion.text import EMBEDDING_SIZE, embed
    from core.pipeline import listen_and_instruct, segment_bounds

    track = read_livelink_csv(pair.csv, fps=fps)
    audio = load_audio(pair.audio)
    if abs(track.duration - audio.duration) > MAX_MISMATCH_S:
        raise ValueError(f"{pair.csv.name} lasts {track.duration:.2f} s but {pair.audio.name} {audio.duration:.2f} s; "
                         f"a capture and its sound may differ by at most {MAX_MISMATCH_S} s")
    script = pair.script.read_text(encoding="utf-8") if pair.script else None
    result = listen_and_instruct(audio, script=script, writer=writer)
    speech = speech_features(result.analysis, fps)
    frames = min(len(speech), track.frames)
    segments = list(result.segments)
    if instruction is not None:
        for s in segments:
            s.instruction = instruction
    bounds = segment_bounds(segments, fps, frames)
    keep = bounds[:, 1] > bounds[:, 0]
    segments, bounds = [s for s, k in zip(segments, keep) if k], bounds[keep]
    texts = [s.instruction.text for s in segments]
    arrays = {"speech": speech[:frames].astype(np.float32), "motion": track.data[:frames].astype(np.float32),
              "seg_embeddings": (embed(texts) if texts else np.zeros((0, EMBEDDING_SIZE))).astype(np.float32),
              "seg_bounds": bounds.astype(np.int32).reshape(-1, 2)}
    entry = {"frames": int(frames),
             "source": {"csv": pair.csv.name, "audio": pair.audio.name,
                        "script": pair.script.name if pair.script else None,
                        "csv_frames": int(track.frames), "audio_frames": int(len(speech))},
             "segments": [{"start": int(a), "end": int(b), "emotion": s.instruction.emotion,
                           "intensity": s.instruction.intensity, "text": s.instruction.text,
                           "canonical": s.instruction.text, "wording": "capture", "writer": s.instruction.writer}
                          for s, (a, b) in zip(segments, bounds)],
             "listener": {"phone_source": result.analysis.phone_source,
                          "transcript_source": result.analysis.transcript_source,
                          "warnings": list(result.analysis.warnings)}}
    return arrays, entry


def heldout_items(count: int) -> set[int]:
    """0-based numbers of the held-out items among `count`: every HELDOUT_EVERY-th, and the
    last one when that leaves none of two or more."""
    held = {n for n in range(count) if n % HELDOUT_EVERY == HELDOUT_EVERY - 1}
    return held or ({count - 1} if count >= 2 else set())


def build_capture_dataset(source_folder: str | os.PathLike, out_folder: str | os.PathLike, *, fps: float = 30.0,
                          instruction: str | None = None, writer="rules",
                          progress: Callable[[int, int, str], None] | None = None) -> dict:
    """Write a training dataset from the captures in `source_folder` into `out_folder` and
    return its index (as written to index.json; see the module doc). Its "build" holds "used"
    (the takes' names) and "skipped" ("file: why" per file or pair left out, also warned).

    writer: "rules", "smollm2", a model folder or URL (core.instruct.make_writer) or a writer;
    instruction: one text for every segment instead; progress(done, total, take name)."""
    from core.instruct import make_writer
    from core.pipeline import user_instruction

    if not fps > 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    given = user_instruction(instruction) if instruction is not None else None
    source, out = Path(source_folder), Path(out_folder)
    pairs, skipped = find_pairs(source)
    if not pairs:
        raise ValueError(f"{source}: no Live Link Face CSV with its audio file (same name) in this folder"
                         + (f" ({'; '.join(skipped)})" if skipped else ""))
    old = out / "index.json"
    if old.is_file():
        try:
            previous = json.loads(old.read_text("utf-8"))
        except (OSError, ValueError):
            previous = {}
        if "source" not in previous.get("config", {}):
            raise ValueError(f"{out} holds another dataset (not built from captures); use another folder")
    text_writer = make_writer(writer) if isinstance(writer, str) else writer
    made, used = [], []
    started = time.perf_counter()
    for n, pair in enumerate(pairs):
        if progress:
            progress(n, len(pairs), pair.name)
        try:
            made.append(make_capture_item(pair, fps, text_writer, given))
        except (OSError, ValueError, RuntimeError) as exc:    # AudioError, LiveLinkError: ValueErrors
            skipped.append(f"{pair.csv.name} + {pair.audio.name}: {exc}")
            continue
        used.append(pair.name)
    if progress:
        progress(len(pairs), len(pairs), "")
    for line in skipped:
        warnings.warn(f"{source}: skipped {line}", CaptureSkipped, stacklevel=2)
    if not made:
        raise ValueError(f"{source}: none of the {len(pairs)} captures could be used: {'; '.join(skipped)}")
    (out / "items").mkdir(parents=True, exist_ok=True)
    held = heldout_items(len(made))
    entries = [write_item(out, n + 1, arrays, {**entry, "split": "heldout" if n in held else "train"})
               for n, (arrays, entry) in enumerate(made)]
    index = {"version": VERSION, "fps": fps, "features": FEATURES, "items": entries,
             "config": {"source": str(source.resolve()), "fps": fps, "instruction": instruction,
                        "writer": getattr(text_writer, "name", str(writer))},
             "build": {"items": len(entries), "heldout": sum(e["split"] == "heldout" for e in entries),
                       "used": used, "skipped": skipped, "wall_seconds": round(time.perf_counter() - started, 1)}}
    with atomic_write(old) as fh:
        fh.write(json.dumps(index, indent=1).encode("utf-8"))
    _remove_stale(out, len(entries))
    return index


def _remove_stale(out: Path, count: int) -> None:
    """Items of an earlier, larger build of this folder (never listed in the new index)."""
    for p in (out / "items").iterdir():
        m = re.fullmatch(r"(\d{6})\.(npz|json)", p.name)
        if m and int(m.group(1)) > count:
            p.unlink(missing_ok=True)


__all__ = ["AUDIO_SUFFIXES", "MAX_MISMATCH_S", "CaptureSkipped", "Pair", "build_capture_dataset", "find_pairs",
           "heldout_items", "make_capture_item"]
