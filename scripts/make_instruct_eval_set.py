"""Synthesise the labelled emotion set and compute each utterance's evidence.

Reads tests/data/instruct/emotion_set.csv (id, emotion, text, espeak-ng rate/pitch/amplitude,
split), speaks each line with espeak-ng (`-v en-us -s RATE -p PITCH -a AMP`), and writes
tests/data/instruct/emotion_evidence.json: per utterance the evidence dict the instruction
writers read ("text", "words" with times, "prosody" summary normalised over the whole set as
one speaker).

The prosody summary comes from core.listen when it offers `prosody_summary(samples, rate, words)`
(not yet, at the time of writing); otherwise from the minimal one here: pyworld (DIO +
StoneMask) f0 and frame RMS. Word times are spread over the voiced span by letter count; the
writers only read the words' text.

    .venv/bin/python scripts/make_instruct_eval_set.py [--wav-dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "instruct"


def synthesise(row: dict, out: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", str(row["rate"]), "-p", str(row["pitch"]),
                    "-a", str(row["amplitude"]), "-w", str(out), row["text"]], check=True)


def syllables(text: str) -> int:
    n = 0
    for word in re.findall(r"[a-z']+", text.lower()):
        groups = len(re.findall(r"[aeiouy]+", word))
        if word.endswith("e") and groups > 1 and not word.endswith(("le", "ee")):
            groups -= 1
        n += max(1, groups)
    return n


def _import_pyworld():
    from core.listen.models import pyworld   # the listener's import, which copes with pyworld 0.3.5
    return pyworld()


def raw_prosody(x: np.ndarray, rate: int, text: str) -> dict:
    pyworld = _import_pyworld()
    x = x.astype(np.float64)
    f0, t = pyworld.dio(x, rate, frame_period=10.0)
    f0 = pyworld.stonemask(x, f0, t, rate)
    hop = int(rate * 0.01)
    frames = len(f0)
    rms = np.array([np.sqrt(np.mean(x[i * hop:(i + 1) * hop] ** 2) + 1e-12) for i in range(frames)])
    db = 20 * np.log10(rms + 1e-9)
    speech = db > db.max() - 35
    idx = np.flatnonzero(speech)
    start, end = (idx[0], idx[-1] + 1) if len(idx) else (0, frames)
    voiced = f0 > 0
    st = 12 * np.log2(np.where(voiced, f0, 1.0) / 100.0)
    vst = st[voiced]
    vt = t[voiced]
    slope = float(np.polyfit(vt, vst, 1)[0]) if len(vst) > 3 else 0.0
    dur = max(0.2, (end - start) * 0.01)
    return {
        "pitch_median_st": float(np.median(vst)) if len(vst) else 0.0,
        "pitch_range_st": float(np.percentile(vst, 95) - np.percentile(vst, 5)) if len(vst) else 0.0,
        "pitch_slope": slope,
        "loudness_db": float(np.mean(db[speech])) if speech.any() else -60.0,
        "rate_sps": syllables(text) / dur,
        "start": start * 0.01, "end": end * 0.01,
    }


def words_with_times(text: str, start: float, end: float) -> list[dict]:
    words = text.split()
    weights = np.array([max(1, len(re.sub(r"\W", "", w))) for w in words], float)
    edges = start + (end - start) * np.concatenate([[0], np.cumsum(weights) / weights.sum()])
    return [{"word": w, "start": round(float(a), 3), "end": round(float(b), 3)}
            for w, a, b in zip(words, edges[:-1], edges[1:])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wav-dir", type=Path, default=None, help="keep the wav files here")
    args = ap.parse_args(argv)
    rows = list(csv.DictReader(open(DATA / "emotion_set.csv", newline="")))
    wav_dir = args.wav_dir or Path(tempfile.mkdtemp(prefix="avitalk-emotion-set-"))
    wav_dir.mkdir(parents=True, exist_ok=True)
    raws = []
    for row in rows:
        wav = wav_dir / f"{row['id']}.wav"
        synthesise(row, wav)
        x, rate = sf.read(wav, dtype="float32")
        raws.append(raw_prosody(x, rate, row["text"]))
    # Normalise against the "speaker" = the whole set (one espeak voice).
    med_pitch = float(np.median([r["pitch_median_st"] for r in raws]))
    med_loud = float(np.median([r["loudness_db"] for r in raws]))
    med_rate = float(np.median([r["rate_sps"] for r in raws]))
    items = []
    for row, r in zip(rows, raws):
        evidence = {
            "kind": "speech",
            "text": row["text"],
            "words": words_with_times(row["text"], r["start"], r["end"]),
            "prosody": {
                "pitch_level_st": round(r["pitch_median_st"] - med_pitch, 3),
                "pitch_range_st": round(r["pitch_range_st"], 3),
                "pitch_trend_st_per_s": round(r["pitch_slope"], 3),
                "loudness_db": round(r["loudness_db"] - med_loud, 3),
                "syllables_per_s": round(r["rate_sps"], 3),
                "rate_relative": round(r["rate_sps"] / med_rate, 3),
                "pause_before_s": None, "pause_after_s": None,
            },
        }
        items.append({"id": row["id"], "emotion": row["emotion"], "split": row["split"], "evidence": evidence})
    out = DATA / "emotion_evidence.json"
    out.write_text(json.dumps({"source": "scripts/make_instruct_eval_set.py (pyworld f0 + RMS; espeak-ng en-us)",
                               "items": items}, indent=1))
    print(f"{len(items)} utterances -> {out} (wavs in {wav_dir})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
