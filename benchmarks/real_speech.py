"""The real-speech development set, listened to once: takes, their labelled lines, their segments.

    takes = load_takes()                     # builds data/real_speech first if it is missing
    for take in takes: take.evidence         # the listener's segment evidence (cached on disk)
    report = evaluate(writer, takes)         # the issue-13 measures per split

Listening is the slow part (about 0.15 x real time), so each take's segments are cached in
data/real_speech/evidence/ (delete the folder, or pass relisten=True, after changing the listener).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "data" / "real_speech"

from core.instruct.scoring import Line, Written, family_hits, neighbour_agreement, strong_share  # noqa: E402


@dataclass
class Take:
    name: str
    kind: str               # "calm" or "acted"
    split: str              # "tune" or "heldout"
    family: str
    duration: float
    lines: list[Line]
    bounds: list[tuple[float, float]]
    evidence: list[dict]
    listen_seconds: float


def load_takes(relisten: bool = False, data: Path = DATA) -> list[Take]:
    if not (data / "manifest.json").exists():
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_real_speech_set.py"), "--out", str(data)],
                       check=True)
    manifest = json.loads((data / "manifest.json").read_text())["takes"]
    cache = data / "evidence"
    cache.mkdir(exist_ok=True)
    takes = []
    for m in manifest:
        path = cache / f"{m['take']}.json"
        if relisten or not path.exists():
            from core.audio import load_audio
            from core.listen import listen, segment
            t = time.perf_counter()
            pieces = segment(listen(load_audio(data / m["audio"])))
            seconds = time.perf_counter() - t
            path.write_text(json.dumps({"listen_seconds": seconds, "segments": [
                {"start": p.start, "end": p.end, "evidence": p.evidence} for p in pieces]}))
        cached = json.loads(path.read_text())
        takes.append(Take(m["take"], m["kind"], m["split"], m["family"], m["duration"],
                          [Line(x["start"], x["end"], x["family"]) for x in m["lines"]],
                          [(s["start"], s["end"]) for s in cached["segments"]],
                          [s["evidence"] for s in cached["segments"]], cached["listen_seconds"]))
    return takes


@dataclass
class Scores:
    strong: float = 0.0         # calm: strong-emotion speech seconds
    calm_time: float = 0.0      # calm: speech seconds
    agree: int = 0              # calm: agreeing neighbour pairs
    pairs: int = 0
    hits: int = 0               # acted: segments of the right family
    acted: int = 0
    seconds: float = 0.0        # writing time

    def row(self) -> dict[str, float | None]:
        return {"calm strong": self.strong / self.calm_time if self.calm_time else None,
                "calm neighbours agree": self.agree / self.pairs if self.pairs else None,
                "acted family right": self.hits / self.acted if self.acted else None}


def written(take: Take, instructions) -> list[Written]:
    return [Written(a, b, i.emotion, i.intensity) for (a, b), i in zip(take.bounds, instructions)]


def evaluate(writer, takes: list[Take], baseline=None) -> dict[str, Scores]:
    """Scores per split ("tune", "heldout") of one writer over the takes."""
    return score(takes, lambda take: writer.write(take.evidence, baseline))


def score(takes: list[Take], instructions_of) -> dict[str, Scores]:
    """Scores per split of the instructions `instructions_of(take)` gives (anything with
    .emotion and .intensity per segment), timed."""
    out = {"tune": Scores(), "heldout": Scores()}
    for take in takes:
        t = time.perf_counter()
        instructions = instructions_of(take)
        s = out[take.split]
        s.seconds += time.perf_counter() - t
        w = written(take, instructions)
        if take.kind == "calm":
            strong, total = strong_share(w, take.lines)
            agree, pairs = neighbour_agreement(w, take.lines)
            s.strong += strong
            s.calm_time += total
            s.agree += agree
            s.pairs += pairs
        else:
            hits, n = family_hits(w, take.lines)
            s.hits += hits
            s.acted += n
    return out
