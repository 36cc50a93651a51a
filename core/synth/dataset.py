"""Stage 2's synthetic training data: eSpeak speech, the listener's features, teacher motion.

    build_dataset("/tmp/avitalk-data", count=300, seed=0, workers=2)

Each item (an utterance of 1-3 corpus sentences, 1-3 instruction segments cut at sentence
boundaries) is made like this:
1. plan (deterministic from the build seed and the item number): split, voice, speaker
   prosody, sentences, and per segment an emotion, intensity and facial-action phrases;
2. speech: each segment is synthesised by eSpeak NG with the voice and the emotion's prosody
   (acoustic correlates, scaled by intensity: happy / angry / surprised / fearful higher, wider
   and faster, angry and happy louder; sad lower, narrower, slower, quieter; disgust and
   contempt lower and slower), the pieces joined with short pauses, some silence before and
   after and a faint noise floor;
3. targets: the procedural teacher (core.synth.teacher) driven by eSpeak's own phonemes
   (ARPAbet), the canonical instruction text of each segment (wording.compose), and the
   listener's prosody at 30 fps (semitones, loudness);
4. inputs: what the model sees at use time — listen(audio, script=text) and
   speech_features(analysis, 30.0) from that same listener (not eSpeak's phonemes); each
   segment's instruction as the model reads it (a paraphrase, sometimes the canonical text),
   embedded by all-MiniLM-L6-v2 (core.motion.text).

Held-out split (about `heldout_fraction` of the items): held-out voices (every voice of the
HELDOUT_BASES accents and every voice with a HELDOUT_VARIANTS variant, ~17% of the voices) and
held-out sentences (core.synth.corpus, ~10%) appear only there; half of the held-out segments
are worded in the held-out style (core.synth.paraphrase), which training never uses.

Dataset folder layout (the trainer reads exactly this):
    index.json  {"version": 1, "fps": 30.0, "features": 48, "items": [{"file": "items/000001.npz",
                 "frames": T, "split": "train"|"heldout", "voice": ..., "sentence_ids": [...],
                 "segments": [{"start": f0, "end": f1, "emotion": ..., "intensity": ...,
                 "text": model text, "canonical": compose text, "wording": "train"|"heldout"|
                 "canonical"}], "seed": ...}, ...], plus "config" and "splits" (documentation)}
    items/NNNNNN.npz  speech (T, 48) float32, motion (T, 55) float32 (FaceTrack.data),
                      seg_embeddings (S, 768) float32, seg_bounds (S, 2) int32 [start, end) frames,
                      seg_alternatives (S, 6, 768) float32: other wordings of the same
                      instructions (the canonical text and paraphrases), read by the trainer
    items/NNNNNN.json the item's index entry (so an interrupted build resumes without redoing it)
Every file is written atomically; a build resumes by skipping items already written.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import random
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from core.fileio import atomic_write
from core.instruct.wording import VOCABULARY, Phrase, compose, level_value
from core.synth.corpus import SENTENCES, split_ids
from core.synth.paraphrase import paraphrase

VERSION = 1
FPS = 30.0
FEATURES = 48
EMOTION_LIST = ("neutral", "happy", "sad", "angry", "surprised", "fearful", "disgusted", "contempt")
# How often each emotion is drawn for a segment. Calm segments come 2.5x as often as each other
# emotion because they carry the facial actions on their own ("a calm person with brows
# raised"), which the rarest phrase families otherwise see only a handful of times.
EMOTION_WEIGHTS = tuple(2.5 if e == "neutral" else 1.0 for e in EMOTION_LIST)

# eSpeak NG voices: an accent and a voice variant. ("en" is British English; "en-gb" is no voice name.)
BASES = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc", "en-029")
VARIANTS = ("", "+f1", "+f2", "+f3", "+f4", "+f5", "+m1", "+m2", "+m3", "+m4", "+m5", "+m6", "+m7",
            "+klatt", "+klatt3", "+croak", "+Annie", "+Andy", "+linda", "+max")
HELDOUT_BASES = ("en-029",)
HELDOUT_VARIANTS = ("+f4",)


def voices(split: str) -> list[str]:
    """eSpeak voice names of a split ('train' or 'heldout')."""
    out = []
    for base in BASES:
        for var in VARIANTS:
            held = base in HELDOUT_BASES or var in HELDOUT_VARIANTS
            if held == (split == "heldout"):
                out.append(base + var)
    return out


# Emotional prosody at full intensity: pitch and pitch-range offsets (eSpeak's 0..100 scales),
# rate factor, volume offset (eSpeak's 0..200, 100 normal). Sources: the acoustic correlates
# surveyed by Scherer (2003) and Juslin & Laukka (2003).
PROSODY: dict[str, tuple[float, float, float, float]] = {
    "neutral": (0, 0, 1.00, 0),
    "happy": (10, 25, 1.08, 15),
    "angry": (6, 25, 1.10, 40),
    "surprised": (16, 30, 1.03, 20),
    "fearful": (12, 5, 1.15, 5),
    "sad": (-10, -25, 0.80, -30),
    "disgusted": (-6, -5, 0.85, 0),
    "contempt": (-5, -10, 0.88, -5),
}
# Actions that cannot share a face with each other (the second is not added when the first is there).
CONFLICTS = {("corners_up", "corners_down"), ("brows_raised", "brows_lowered"), ("eyes_widened", "eyes_narrowed"),
             ("lips_pressed", "lips_parted"), ("lips_pressed", "jaw_dropped"), ("lips_pursed", "lips_stretched"),
             ("inner_brows_raised", "brows_lowered"), ("face_relaxed", "brows_lowered")}


def _conflict(a: str, b: str) -> bool:
    return (a, b) in CONFLICTS or (b, a) in CONFLICTS


@dataclass
class SegmentPlan:
    sentences: list[int]
    emotion: str
    intensity: float
    phrases: list[tuple[str, float]]
    canonical: str
    text: str
    wording: str
    pitch: int
    pitch_range: int
    rate: int
    volume: int


@dataclass
class ItemPlan:
    index: int
    seed: int
    split: str
    voice: str
    language: str = "en"            # the sentences' language (core.synth.corpus_languages for others)
    segments: list[SegmentPlan] = field(default_factory=list)
    lead: float = 0.3
    gaps: list[float] = field(default_factory=list)
    tail: float = 0.3
    noise_db: float = -65.0
    gain: float = 1.0

    @property
    def sentence_ids(self) -> list[int]:
        return [i for s in self.segments for i in s.sentences]


def _item_seed(seed: int, index: int) -> int:
    return (seed * 1_000_003 + index * 7919 + 12345) % (2 ** 31 - 1)


def plan_item(index: int, seed: int = 0, heldout_fraction: float = 0.12) -> ItemPlan:
    """The recipe of item `index` (1-based) of a build with `seed`; deterministic."""
    item_seed = _item_seed(seed, index)
    rng = random.Random(item_seed)
    split = "heldout" if rng.random() < heldout_fraction else "train"
    voice = rng.choice(voices(split))
    plan = ItemPlan(index=index, seed=item_seed, split=split, voice=voice)
    # The speaker: a base pitch, range and rate for this voice in this take.
    base_pitch, base_range, base_rate = rng.uniform(30, 65), rng.uniform(30, 65), rng.uniform(145, 195)
    n_sent = rng.choices((1, 2, 3), weights=(0.35, 0.4, 0.25))[0]
    sentences = rng.sample(split_ids(split), n_sent)
    n_seg = rng.randint(1, n_sent)
    cuts = sorted(rng.sample(range(1, n_sent), n_seg - 1)) if n_seg > 1 else []
    groups = [sentences[a:b] for a, b in zip([0] + cuts, cuts + [n_sent])]
    previous = None
    for group in groups:
        emotion = rng.choices(EMOTION_LIST, weights=EMOTION_WEIGHTS)[0]
        if previous is not None and emotion == previous and rng.random() < 0.8:
            rest = [(e, w) for e, w in zip(EMOTION_LIST, EMOTION_WEIGHTS) if e != previous]
            emotion = rng.choices([e for e, _ in rest], weights=[w for _, w in rest])[0]
        previous = emotion
        intensity = level_value(rng.randrange(5))
        phrases = _sample_phrases(rng, emotion, intensity)
        canonical = compose(emotion, intensity, [Phrase(a, d) for a, d in phrases])
        text, wording = _model_text(rng, split, emotion, intensity, phrases, canonical, item_seed)
        dp, dr, fr, dv = PROSODY[emotion]
        k = intensity * rng.uniform(0.8, 1.2)
        plan.segments.append(SegmentPlan(
            sentences=group, emotion=emotion, intensity=intensity, phrases=phrases, canonical=canonical,
            text=text, wording=wording,
            pitch=int(np.clip(base_pitch + k * dp + rng.uniform(-3, 3), 5, 95)),
            pitch_range=int(np.clip(base_range + k * dr + rng.uniform(-5, 5), 5, 100)),
            rate=int(np.clip(base_rate * (1 + k * (fr - 1)) * rng.uniform(0.96, 1.04), 110, 260)),
            volume=int(np.clip(100 + k * dv, 40, 200))))
    plan.lead, plan.tail = rng.uniform(0.1, 0.5), rng.uniform(0.15, 0.5)
    plan.gaps = [rng.uniform(0.12, 0.45) for _ in range(len(groups) - 1)]
    plan.noise_db, plan.gain = rng.uniform(-75, -50), rng.uniform(0.3, 1.0)
    return plan


def plan_language_item(index: int, languages: tuple[str, ...], seed: int = 0,
                       heldout_fraction: float = 0.12) -> ItemPlan:
    """Item `index` of a multilingual build: the English plan's instructions, prosody, pauses and
    noise, spoken in one of `languages` by its eSpeak NG voice (a variant held out as in English)
    with that language's sentences of the same split; deterministic."""
    from core.listen.phonemize import voice_for
    from core.synth.corpus_languages import language_split_ids
    plan = plan_item(index, seed, heldout_fraction)
    rng = random.Random(plan.seed * 31 + 7)
    plan.language = rng.choice(sorted(languages))
    variants = [v for v in VARIANTS if (v in HELDOUT_VARIANTS) == (plan.split == "heldout")]
    plan.voice = voice_for(plan.language) + rng.choice(variants)
    ids = language_split_ids(plan.language, plan.split)
    for seg in plan.segments:
        seg.sentences = rng.sample(ids, min(len(seg.sentences), len(ids)))
    return plan


def _sample_phrases(rng: random.Random, emotion: str, intensity: float) -> list[tuple[str, float]]:
    """Facial actions for a canonical text: none (the prototype), some of the emotion's own,
    and often one from another emotion (so every phrase family is seen with most emotions); a
    neutral segment often gets actions of any emotion."""
    if emotion == "neutral" and rng.random() < 0.7:
        # Actions on a calm face: every phrase family must work on its own, not only inside the
        # emotion it usually comes with ("a calm person with brows raised").
        # Each action once, so an action listed under two emotions is not drawn twice as often.
        others = sorted({a for e, v in VOCABULARY.items() if e != "neutral" for a in v})
        chosen: list[str] = []
        for _ in range(rng.choices((1, 2), weights=(0.6, 0.4))[0]):
            a = rng.choice(others)
            if a not in chosen and not any(_conflict(a, c) for c in chosen):
                chosen.append(a)
        return [(a, level_value(rng.randrange(1, 5))) for a in chosen]
    if rng.random() < 0.3:
        return []
    vocab = list(VOCABULARY[emotion])
    count = rng.choices((1, 2, 3), weights=(0.4, 0.4, 0.2))[0]
    chosen: list[str] = []
    for action in vocab:                  # prototypical first, then a random few of the rest
        if len(chosen) >= count:
            break
        if rng.random() < (0.7 if action in vocab[:2] else 0.35):
            chosen.append(action)
    if rng.random() < 0.45:
        others = [a for e, v in VOCABULARY.items() if e != emotion for a in v if a not in vocab]
        extra = rng.choice(others)
        if not any(_conflict(extra, c) for c in chosen):
            chosen.append(extra)
    out = []
    for rank, action in enumerate(chosen):
        if action in vocab[:2] and rng.random() < 0.6:       # the emotion's own degree
            degree = max(0.0, intensity - 0.15 * vocab.index(action))
        else:
            degree = rng.uniform(0.1, 1.0)
        out.append((action, level_value(min(4, int(min(1.0, degree) * 5)))))
    return out


def _model_text(rng: random.Random, split: str, emotion: str, intensity: float, phrases, canonical: str,
                item_seed: int) -> tuple[str, str]:
    """What the model reads, and which wording it is in."""
    u = rng.random()
    if u < 0.15:
        return canonical, "canonical"            # the studio writes the canonical form: the model must read it
    style = "heldout" if split == "heldout" and u < 0.6 else "train"
    ph = [Phrase(a, d) for a, d in phrases]
    return paraphrase(emotion, intensity, ph, seed=rng.randrange(2 ** 31), style=style), style


ALTERNATIVES = 6


def _alternative_texts(seg: SegmentPlan, item_seed: int) -> list[str]:
    """ALTERNATIVES more wordings of a segment's instruction: the canonical text and paraphrases
    in the segment's style (held-out wording stays held out). The trainer reads one of them or
    the segment's own text at random, so the model sees several wordings of each performance."""
    style = "heldout" if seg.wording == "heldout" else "train"
    phrases = [Phrase(a, d) for a, d in seg.phrases]
    rng = random.Random(item_seed * 7919 + seg.sentences[0])
    texts = [seg.canonical]
    while len(texts) < ALTERNATIVES:
        texts.append(paraphrase(seg.emotion, seg.intensity, phrases, seed=rng.randrange(2 ** 31), style=style))
    return texts


# --- making an item -------------------------------------------------------------------------

def _loudness01(loudness_db: np.ndarray) -> np.ndarray:
    """The teacher's 0..1 loudness from dB relative to the speaker's median (0 dB -> 0.5)."""
    return np.clip(0.5 + np.asarray(loudness_db, float) / 24.0, 0.0, 1.0)


def make_item(plan: ItemPlan, fps: float = FPS) -> tuple[dict, dict]:
    """(arrays for the .npz, the index entry without "file") of one planned item."""
    from core.audio import Audio
    from core.listen import ListenSettings, frames_at, listen
    from core.motion.features import speech_features
    from core.motion.text import embed
    from core.espeak import Espeak
    from core.synth.corpus_languages import SENTENCES_BY_LANGUAGE
    from core.synth.phonemes import to_arpabet
    from core.synth.teacher import teacher_track

    english = plan.language == "en"
    sentences = SENTENCES if english else SENTENCES_BY_LANGUAGE[plan.language]
    speaker = Espeak()
    rate = speaker.sample_rate
    rng = np.random.default_rng(plan.seed)
    pieces = [np.zeros(int(plan.lead * rate), np.float32)]
    phones: list[tuple[str, float, float]] = [("SIL", 0.0, plan.lead)]
    spans = []                                      # speech (first, last) time of each segment
    t = plan.lead
    for k, seg in enumerate(plan.segments):
        text = " ".join(sentences[i] for i in seg.sentences)
        u = speaker.say(text, voice=plan.voice, rate=seg.rate, pitch=seg.pitch, pitch_range=seg.pitch_range,
                        volume=seg.volume)
        if english:
            seg_phones = [(to_arpabet(n), s + t, e + t) for n, s, e in u.phonemes]
            seg_phones = [(p, s, e) for p, s, e in seg_phones if p]
            sounding = [(s, e) for p, s, e in seg_phones if p != "SIL"]
            phones += seg_phones
        else:       # other languages' eSpeak mnemonics are not mapped: their phones come from the listener
            sounding = [(s + t, e + t) for n, s, e in u.phonemes if not n.startswith("_")]
        spans.append((sounding[0][0], sounding[-1][1]) if sounding else (t, t + u.duration))
        pieces.append(u.samples.astype(np.float32))
        t += u.duration
        pause = plan.gaps[k] if k < len(plan.gaps) else plan.tail
        pieces.append(np.zeros(int(pause * rate), np.float32))
        phones.append(("SIL", t, t + pause))
        t += pause
    samples = np.concatenate(pieces)
    samples = samples * plan.gain + rng.normal(0, 10 ** (plan.noise_db / 20), len(samples)).astype(np.float32)
    samples = np.clip(samples, -1.0, 1.0).astype(np.float32)
    script = " ".join(sentences[i] for i in plan.sentence_ids)

    analysis = listen(Audio(samples[:, None], rate, name=f"item{plan.index}"), script=script,
                      settings=ListenSettings(language=plan.language))
    if not english:
        # the teacher follows the listener's phones: eSpeak's pronunciations in IPA, mapped to the
        # model's phones and force-aligned, as a user's take in this language is
        phones = [(p.phone, p.start, p.end) for p in analysis.phones]
    speech = speech_features(analysis, fps)
    frames = len(speech)
    duration = frames / fps
    f = frames_at(analysis, fps)
    pitch_st = np.where(f["voiced"], f["semitones"], np.nan)
    loud = _loudness01(f["loudness_db"])

    # Segment boundaries: halfway through the pause between neighbouring segments, in frames.
    edges = [0]
    for (_, end_a), (start_b, _) in zip(spans, spans[1:]):
        edges.append(int(round(0.5 * (end_a + start_b) * fps)))
    edges.append(frames)
    bounds = np.array([[a, b] for a, b in zip(edges[:-1], edges[1:])], np.int32)
    timed = [(a / fps, b / fps, seg.canonical) for (a, b), seg in zip(bounds, plan.segments)]
    track = teacher_track(phones, timed, duration, fps=fps, pitch_st=pitch_st, loud=loud, seed=plan.seed)
    motion = track.data.astype(np.float32)
    if len(motion) != frames:                      # cannot happen (both round(duration * fps)); be safe
        motion = np.pad(motion, ((0, max(0, frames - len(motion))), (0, 0)), mode="edge")[:frames]
    embeddings = embed([seg.text for seg in plan.segments]).astype(np.float32)
    alternatives = np.stack([embed(_alternative_texts(seg, plan.seed)) for seg in plan.segments]).astype(np.float32)
    arrays = {"speech": speech.astype(np.float32), "motion": motion, "seg_embeddings": embeddings,
              "seg_bounds": bounds, "seg_alternatives": alternatives}
    entry = {
        "frames": frames, "split": plan.split, "voice": plan.voice, "sentence_ids": plan.sentence_ids,
        "segments": [{"start": int(a), "end": int(b), "emotion": seg.emotion, "intensity": seg.intensity,
                      "text": seg.text, "canonical": seg.canonical, "wording": seg.wording}
                     for (a, b), seg in zip(bounds, plan.segments)],
        "seed": plan.seed,
        "listener": {"phone_source": analysis.phone_source, "transcript_source": analysis.transcript_source,
                     "warnings": len(analysis.warnings), **(_agreement(f["phone"], phones, fps) if english else {})},
    }
    if not english:
        entry["language"] = plan.language
    return arrays, entry


BILABIALS = {"P", "B", "M"}


def _agreement(listened: np.ndarray, phones: list[tuple[str, float, float]], fps: float) -> dict:
    """How well the listener's phones match eSpeak's: the share of sounding frames with the same
    phone, and the share of bilabial frames the listener also calls bilabial (quality figures;
    a trainer may filter on them)."""
    n = len(listened)
    truth = np.full(n, "SIL", dtype=object)
    t = (np.arange(n) + 0.5) / fps
    for p, s, e in phones:
        a, b = np.searchsorted(t, [s, e])
        truth[a:b] = p
    sounding = truth != "SIL"
    bil = np.isin(truth, list(BILABIALS))
    same = listened == truth
    return {"phone_agreement": round(float(same[sounding].mean()), 3) if sounding.any() else None,
            "bilabial_recall": round(float(np.isin(listened[bil], list(BILABIALS)).mean()), 3) if bil.any() else None}


def item_name(index: int) -> str:
    return f"items/{index:06d}"


def write_item(folder: Path, index: int, arrays: dict, entry: dict) -> dict:
    entry = {"file": item_name(index) + ".npz", **entry}
    with atomic_write(folder / (item_name(index) + ".npz")) as fh:
        np.savez(fh, **arrays)
    with atomic_write(folder / (item_name(index) + ".json")) as fh:     # last: marks the item done
        fh.write(json.dumps(entry).encode("utf-8"))
    return entry


def read_entry(folder: Path, index: int) -> dict | None:
    """The index entry of an item already written, or None."""
    meta, data = folder / (item_name(index) + ".json"), folder / (item_name(index) + ".npz")
    if not (meta.is_file() and data.is_file()):
        return None
    try:
        return json.loads(meta.read_text("utf-8"))
    except (OSError, ValueError):
        return None


# --- workers ----------------------------------------------------------------------------------

def _init_worker(threads: int) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        pass
    from core.listen import models
    models.cpu_threads = lambda: threads         # Whisper's CTranslate2 threads, per worker


def _work(job: tuple[str, int, int, float, float, tuple[str, ...]]) -> tuple[int, dict | None, str, float]:
    folder, index, seed, heldout_fraction, fps, languages = job
    start = time.perf_counter()
    try:
        plan = plan_language_item(index, languages, seed, heldout_fraction) if languages else \
            plan_item(index, seed, heldout_fraction)
        arrays, entry = make_item(plan, fps)
        entry = write_item(Path(folder), index, arrays, entry)
        return index, entry, "", time.perf_counter() - start
    except Exception:                                  # one bad item must not stop a build
        return index, None, traceback.format_exc(limit=6), time.perf_counter() - start


def build_dataset(folder: str | os.PathLike, count: int, seed: int = 0, workers: int = 2,
                  heldout_fraction: float = 0.12, fps: float = FPS,
                  progress: Callable[[int, int, dict], None] | None = None,
                  languages: tuple[str, ...] = ()) -> dict:
    """Build (or resume) a dataset of `count` items in `folder`; returns the index. With
    `languages` the items are spoken in those languages instead of English (plan_language_item).

    workers: processes (spawn), each loading the listener and the text model once; 0 or 1 runs
    in this process. Items already written (with the same build seed) are kept."""
    folder = Path(folder)
    (folder / "items").mkdir(parents=True, exist_ok=True)
    config = {"count": count, "seed": seed, "heldout_fraction": heldout_fraction, "fps": fps}
    if languages:
        config["languages"] = sorted(languages)
    old = folder / "index.json"
    if old.is_file():
        previous = json.loads(old.read_text("utf-8")).get("config", {})
        if previous.get("seed", seed) != seed or previous.get("fps", fps) != fps \
                or previous.get("languages", []) != sorted(languages):
            raise ValueError(f"{folder} holds a build with seed {previous.get('seed')} / fps {previous.get('fps')} / "
                             f"languages {previous.get('languages', ['en'])}; use another folder")
    entries: dict[int, dict] = {}
    todo = []
    for index in range(1, count + 1):
        entry = read_entry(folder, index)
        if entry is not None and entry.get("seed") == _item_seed(seed, index):
            entries[index] = entry
        else:
            todo.append(index)
    stats = {"done": len(entries), "skipped": len(entries), "failed": 0, "errors": [], "seconds": []}
    jobs = [(str(folder), i, seed, heldout_fraction, fps, tuple(languages)) for i in todo]
    started = time.perf_counter()

    def record(result) -> None:
        index, entry, error, seconds = result
        if entry is None:
            stats["failed"] += 1
            stats["errors"].append((index, error))
        else:
            entries[index] = entry
            stats["done"] += 1
            stats["seconds"].append(seconds)
        if progress:
            progress(stats["done"] + stats["failed"], count, stats)
        if len(entries) % 25 == 0:
            _write_index(folder, entries, config, stats, time.perf_counter() - started)

    if jobs and workers > 1:
        ctx = mp.get_context("spawn")
        threads = 1
        with ctx.Pool(workers, initializer=_init_worker, initargs=(threads,), maxtasksperchild=None) as pool:
            for result in pool.imap_unordered(_work, jobs, chunksize=1):
                record(result)
    else:
        for job in jobs:
            record(_work(job))
    return _write_index(folder, entries, config, stats, time.perf_counter() - started)


def _write_index(folder: Path, entries: dict[int, dict], config: dict, stats: dict, wall: float) -> dict:
    items = [entries[i] for i in sorted(entries)]
    index = {
        "version": VERSION, "fps": config["fps"], "features": FEATURES, "items": items,
        "config": config,
        "splits": {"heldout_voices": voices("heldout"), "heldout_sentence_ids": split_ids("heldout"),
                   "heldout_wording": "core.synth.paraphrase HELDOUT_TEMPLATES and the H word entries"},
        "build": {"items": len(items), "failed": stats["failed"], "built_now": len(stats["seconds"]),
                  "wall_seconds": round(wall, 1),
                  "mean_item_seconds": round(float(np.mean(stats["seconds"])), 3) if stats["seconds"] else None},
    }
    with atomic_write(folder / "index.json") as fh:
        fh.write(json.dumps(index, indent=1).encode("utf-8"))
    return index


def load_item(folder: str | os.PathLike, entry: dict) -> dict[str, np.ndarray]:
    """The arrays of one index entry."""
    with np.load(Path(folder) / entry["file"]) as data:
        return {k: data[k] for k in data.files}


__all__ = ["BASES", "HELDOUT_BASES", "HELDOUT_VARIANTS", "PROSODY", "VARIANTS", "ItemPlan", "SegmentPlan",
           "build_dataset", "load_item", "make_item", "plan_item", "plan_language_item", "voices"]
