"""Does stage 2 do what it is told, and does it speak in sync? Instruction adherence and lip sync.

    clf, judge = judge_from_dataset("data/motion")      # emotion classifier on teacher motion
    emo = emotion_adherence(bundle, "data/motion", clf, items=4)   # accuracy, confusion
    rows = phrase_adherence(bundle, "data/motion", items=2)        # one row per phrase family
    take = real_take()                                              # the pyannote sample, stage 1 (rules)
    sync = lip_sync(generate(...), take.labels, take.loudness_db, take.speaking)
    seeds = seed_study(bundle, take)                                # seeds 0..3: how different, how synced
    emotion_sheet(bundle, "emotions.png", speech)                   # rows = emotions, columns = times

The judge. An emotion classifier trained on TEACHER motion (the dataset's `motion` arrays of
its training items, one example per instruction segment, label = the segment's emotion), so
that generated motion is judged by what the teacher does for each emotion, not by what the
model was told. Features of a segment window (`window_features`): for each of the 55 channels
(the 52 blendshapes and head pitch, yaw, roll; nothing left out) its mean, standard deviation
and 10th and 90th percentiles over the window, 220 values; the window is the segment minus
`TRIM` frames at each end (the teacher cross-fades expressions over 0.35 s at boundaries).
The classifier is a multinomial logistic regression (torch, L-BFGS, L2) on standardised
features; it trains in a second or two. Its accuracy on held-out teacher motion (held-out
voices and sentences) is reported beside every figure it judges: a judge that cannot tell
the teacher's emotions apart is no judge. Teacher segments at the lowest intensities
("slightly": the prototype at 0.1) are nearly neutral, so accuracy is also reported for
intensity >= 0.5, the range the adherence test instructs at.

Emotion adherence. Held-out items (held-out voices and sentences); every segment is given an
instruction for one of the eight emotions worded in the held-out style
(core.synth.paraphrase, style="heldout": frames and words training never uses); the generated
motion is classified per segment. Accuracy and the 8x8 confusion matrix (rows: instructed,
columns: judged), and every misjudged segment with its text. The same run with the canonical
wording (`style="canonical"`) is the control that separates reading unseen words from
producing the expression.

Phrase families. Every facial-action phrase of the vocabulary (core.instruct.wording.ACTIONS)
that the teacher maps to ARKit channels (core.synth.expression.ACTION_ARKIT; "face relaxed"
and "gaze steady" drive none) is one family; its channels are those its pattern weights at
least half as much as its strongest. A neutral instruction without and with the phrase (at
`degree`, canonical wording) is generated on the same held-out speech; the family passes when
the mean of its channels over the segment interiors rises by at least
max(PHRASE_MIN_DELTA, PHRASE_TEACHER_SHARE x the teacher's own rise) — the teacher driven by
the same listener phones and prosody gives the rise the instruction asks for.

Lip sync (`lip_sync`), on the listener's phones (the forced aligner's on real speech):
- closure: the lip gap of the real preview rig (core.face.load_rig), the vertical distance
  between the upper and lower inner-lip centre vertices (MediaPipe landmarks 82/87, 13/14,
  312/317, averaged; the rig is linear, so the gap is linear in the weights: 0 at rest,
  36 mm at jawOpen 1). A frame is closed when the gap is below CLOSED_MM = 3 mm, a twelfth of
  the full jaw opening. (The teacher's bilabial target is jawOpen 0 with mouthPress, but
  coarticulation with neighbouring open vowels leaves its lips 1.9-3.3 mm apart at /P B M/,
  10th-90th percentile, on eSpeak's own phone times; this rig's mouthPress does not move the
  lip centres.) Reported: the share of closed frames inside /P B M/ and inside vowels, the
  median gaps, and the share of /P B M/ phones with at least one closed frame (within one
  frame of the phone, for the aligner's timing).
- jaw follows loudness: Pearson r between jawOpen and the listener's loudness (dB relative to
  the speaker) over frames with speech activity, at lag 0 and at the best lag in
  -max_lag..max_lag frames (positive: the jaw follows the sound by that many frames).
The procedural teacher driven by the same aligner phones and prosody (`teacher_for_take`) is
the reference for both.

Seeds (`seed_study`): the same instructions with seeds 0..3. Difference: per pair of seeds the
mean absolute difference of the upper-face weights (eyes, brows, cheek squint, nose sneer),
the mean (and 95th percentile) distance of the upper-face vertices of the rig in mm, and the
mean head-rotation difference in degrees, beside the teacher's own seed-to-seed difference
(its blinks, gaze and head gestures are seeded) for scale; the lip-sync figures of each seed
show whether they stay equally well synced.

Contact sheet (`emotion_sheet`): one take under each of the eight emotions (canonical wording,
`compose(emotion, intensity)`: the prototype's facial actions), frames at fixed times rendered
by the offscreen renderer (core.render), rows = emotions (labelled), columns = times.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from core.arkit import BLENDSHAPES, CHANNELS, INDEX, NUM_BLENDSHAPES, NUM_CHANNELS
from core.instruct.wording import ACTIONS, Phrase, compose
from core.motion.features import PHONES
from core.synth.dataset import EMOTION_LIST, load_item
from core.synth.expression import ACTION_ARKIT
from core.synth.paraphrase import paraphrase

EMOTIONS: tuple[str, ...] = EMOTION_LIST
FPS = 30.0
TRIM = 6                              # frames left out at each end of a segment window (cross-fades)
MIN_WINDOW = 12                       # frames; shorter windows are not classified
STATS = ("mean", "std", "p10", "p90")
NUM_WINDOW_FEATURES = NUM_CHANNELS * len(STATS)

BILABIALS = ("P", "B", "M")
VOWELS = ("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW")
LIP_PAIRS = ((82, 87), (13, 14), (312, 317))   # inner upper / lower lip centre landmarks
CLOSED_MM = 3.0
MM_PER_RIG_UNIT = 10.0                          # the rig is in centimetres

PHRASE_DEGREE = 0.9                             # "extremely"
PHRASE_MIN_DELTA = 0.03
PHRASE_TEACHER_SHARE = 0.4

UPPER_CHANNELS = np.array([i for i, n in enumerate(BLENDSHAPES)
                           if n.startswith(("eye", "brow", "cheekSquint", "noseSneer"))])
HEAD = slice(NUM_BLENDSHAPES, NUM_CHANNELS)

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "listen"


# --- the judge: an emotion classifier trained on teacher motion --------------------------------

def window(start: int, end: int, trim: int = TRIM) -> tuple[int, int]:
    """The classified part of a segment [start, end): `trim` frames off each end, less when short."""
    n = end - start
    t = min(trim, max(0, (n - MIN_WINDOW) // 2))
    return start + t, end - t


def window_features(motion: np.ndarray, start: int, end: int, trim: int = TRIM) -> np.ndarray:
    """(220,) mean, std, 10th and 90th percentile of each of the 55 channels over the window."""
    a, b = window(start, end, trim)
    x = np.asarray(motion, np.float64)[a:b]
    if len(x) == 0:
        raise ValueError(f"empty window [{start}, {end})")
    p10, p90 = np.percentile(x, [10, 90], axis=0)
    return np.concatenate([x.mean(0), x.std(0), p10, p90]).astype(np.float32)


def feature_names() -> list[str]:
    return [f"{c}.{s}" for s in STATS for c in CHANNELS]


@dataclass
class Example:
    """One classified window: features, the true emotion and where it came from."""
    features: np.ndarray
    emotion: str
    intensity: float = float("nan")
    source: str = ""


def examples_from(motion: np.ndarray, bounds: Iterable[Sequence[int]], emotions: Sequence[str],
                  intensities: Sequence[float] | None = None, source: str = "") -> list[Example]:
    """One Example per segment long enough to classify."""
    out = []
    intensities = list(intensities) if intensities is not None else [float("nan")] * len(emotions)
    for (a, b), emo, k in zip(bounds, emotions, intensities):
        if int(b) - int(a) >= MIN_WINDOW:
            out.append(Example(window_features(motion, int(a), int(b)), emo, float(k), source))
    return out


def read_index(folder: str | os.PathLike) -> dict:
    path = Path(folder) / "index.json"
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: no index.json (is the dataset built?)")
    return json.loads(path.read_text("utf-8"))


def dataset_examples(folder: str | os.PathLike, split: str, limit: int | None = None) -> list[Example]:
    """Teacher-motion examples of a dataset split ("train" or "heldout"), one per segment."""
    out: list[Example] = []
    entries = [e for e in read_index(folder)["items"] if e["split"] == split][:limit]
    for e in entries:
        with np.load(Path(folder) / e["file"]) as data:
            motion = data["motion"]
        segs = e["segments"]
        out += examples_from(motion, [(s["start"], s["end"]) for s in segs], [s["emotion"] for s in segs],
                             [s["intensity"] for s in segs], source=e["file"])
    return out


@dataclass
class EmotionClassifier:
    """Multinomial logistic regression on standardised window features."""
    mean: np.ndarray
    scale: np.ndarray
    weight: np.ndarray            # (features, classes)
    bias: np.ndarray              # (classes,)
    emotions: tuple[str, ...] = EMOTIONS

    def logits(self, features: np.ndarray) -> np.ndarray:
        x = (np.atleast_2d(np.asarray(features, np.float64)) - self.mean) / self.scale
        return x @ self.weight + self.bias

    def predict(self, features: np.ndarray) -> list[str]:
        return [self.emotions[i] for i in self.logits(features).argmax(1)]

    def classify(self, motion: np.ndarray, bounds: Iterable[Sequence[int]]) -> list[str | None]:
        """The judged emotion of each segment of a track (None for one too short to judge)."""
        out: list[str | None] = []
        for a, b in bounds:
            out.append(self.predict(window_features(motion, int(a), int(b)))[0]
                       if int(b) - int(a) >= MIN_WINDOW else None)
        return out


def train_classifier(examples: Sequence[Example], l2: float = 1e-3, iterations: int = 200,
                     seed: int = 0) -> EmotionClassifier:
    """Fit the judge (full-batch L-BFGS on the cross-entropy plus l2 * |W|^2)."""
    import torch

    if not examples:
        raise ValueError("no examples to train the emotion classifier on")
    x = np.stack([e.features for e in examples]).astype(np.float64)
    y = np.array([EMOTIONS.index(e.emotion) for e in examples])
    mean = x.mean(0)
    scale = x.std(0) + 1e-4
    xs = torch.tensor((x - mean) / scale, dtype=torch.float64)
    yt = torch.tensor(y)
    torch.manual_seed(seed)
    w = torch.zeros(x.shape[1], len(EMOTIONS), dtype=torch.float64, requires_grad=True)
    b = torch.zeros(len(EMOTIONS), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=iterations, history_size=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xs @ w + b, yt) + l2 * (w * w).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return EmotionClassifier(mean, scale, w.detach().numpy(), b.detach().numpy())


def confusion(truth: Sequence[str], judged: Sequence[str], labels: Sequence[str] = EMOTIONS) -> np.ndarray:
    """(classes, classes) counts; rows: the true (instructed) emotion, columns: the judged one."""
    m = np.zeros((len(labels), len(labels)), np.int64)
    for t, j in zip(truth, judged):
        if j is not None:
            m[labels.index(t), labels.index(j)] += 1
    return m


def accuracy(matrix: np.ndarray) -> float:
    total = matrix.sum()
    return float(np.trace(matrix) / total) if total else float("nan")


def evaluate_classifier(clf: EmotionClassifier, examples: Sequence[Example], min_intensity: float = 0.0) -> dict:
    """Accuracy and confusion of the judge on examples (optionally only those at >= min_intensity)."""
    chosen = [e for e in examples if not (e.intensity < min_intensity)]
    if not chosen:
        return {"n": 0, "accuracy": float("nan"), "confusion": confusion([], []).tolist()}
    judged = clf.predict(np.stack([e.features for e in chosen]))
    m = confusion([e.emotion for e in chosen], judged)
    return {"n": len(chosen), "accuracy": accuracy(m), "confusion": m.tolist()}


def judge_from_dataset(folder: str | os.PathLike, train_limit: int | None = None) -> tuple[EmotionClassifier, dict]:
    """The judge trained on the training items' teacher motion, and its held-out report."""
    train = dataset_examples(folder, "train", train_limit)
    held = dataset_examples(folder, "heldout")
    clf = train_classifier(train)
    report = {"train_segments": len(train), "heldout_segments": len(held),
              "train_accuracy": evaluate_classifier(clf, train)["accuracy"],
              "heldout": evaluate_classifier(clf, held),
              "heldout_intensity_0.5": evaluate_classifier(clf, held, min_intensity=0.5)}
    return clf, report


# --- held-out takes -------------------------------------------------------------------------

@dataclass
class Take:
    """What generation needs, plus what the measures read: the listener's phone per frame,
    loudness (dB vs the speaker) and speech activity."""
    name: str
    speech: np.ndarray                     # (T, 48)
    bounds: np.ndarray                     # (S, 2) int32
    texts: list[str] = field(default_factory=list)      # the segments' own instructions
    labels: np.ndarray | None = None       # (T,) phone per frame
    loudness_db: np.ndarray | None = None
    speaking: np.ndarray | None = None
    motion: np.ndarray | None = None       # the teacher's, for dataset items
    emotions: list[str] = field(default_factory=list)
    analysis: object = None

    @property
    def frames(self) -> int:
        return len(self.speech)


def phone_labels(speech: np.ndarray) -> np.ndarray:
    """(T,) the phone of each frame from the 48 speech features' one-hot."""
    return np.array(PHONES, dtype=object)[np.asarray(speech)[:, :len(PHONES)].argmax(1)]


def phone_runs(labels: np.ndarray, fps: float = FPS) -> list[tuple[str, float, float]]:
    """[(phone, start s, end s)] runs of equal labels."""
    out = []
    start = 0
    for i in range(1, len(labels) + 1):
        if i == len(labels) or labels[i] != labels[start]:
            out.append((str(labels[start]), start / fps, i / fps))
            start = i
    return out


def dataset_take(folder: str | os.PathLike, entry: dict) -> Take:
    arrays = load_item(folder, entry)
    speech = arrays["speech"]
    k = len(PHONES)
    return Take(name=entry["file"], speech=speech, bounds=arrays["seg_bounds"].astype(np.int32),
                texts=[s["text"] for s in entry["segments"]], labels=phone_labels(speech),
                loudness_db=speech[:, k + 2] * 20.0, speaking=speech[:, k + 5] > 0.5, motion=arrays["motion"],
                emotions=[s["emotion"] for s in entry["segments"]])


def heldout_takes(folder: str | os.PathLike, count: int, min_frames: int = 60) -> list[Take]:
    """The first `count` held-out items (held-out voices and sentences) of a dataset."""
    entries = [e for e in read_index(folder)["items"] if e["split"] == "heldout" and e["frames"] >= min_frames]
    return [dataset_take(folder, e) for e in entries[:count]]


def generate_motion(bundle, take: Take, texts: Sequence[str], seed: int, steps: int, guidance: float) -> np.ndarray:
    from core.motion.generate import generate
    from core.motion.text import embed

    return generate(bundle, take.speech, embed(list(texts)), take.bounds, steps=steps, guidance=guidance,
                    seed=seed).data


# --- emotion adherence ------------------------------------------------------------------------

def heldout_instruction(emotion: str, intensity: float, seed: int, style: str = "heldout") -> str:
    """An instruction for `emotion` worded in the held-out style (absent from training); style
    "train" gives a training-style paraphrase, "canonical" the composed text (controls)."""
    if style == "canonical":
        return compose(emotion, intensity)
    return paraphrase(emotion, intensity, None, seed=seed, style=style)


def emotion_adherence(bundle, folder: str | os.PathLike, classifier: EmotionClassifier, items: int = 4,
                      intensity: float = 0.7, steps: int = 8, guidance: float = 2.0, seed: int = 0,
                      takes: Sequence[Take] | None = None, style: str = "heldout") -> dict:
    """Generate every held-out take under each emotion (held-out wording, every segment), judge
    each segment: accuracy, confusion (rows instructed, columns judged), examples of the texts
    and every misjudged segment with its text; for a model with an emotion reader, how often the
    reader reads the instructed emotion from the texts (`reader_accuracy`) and, per error, what
    it read (`read`)."""
    takes = list(takes) if takes is not None else heldout_takes(folder, items)
    truth, judged, texts, errors, instructed = [], [], {}, [], []
    for n, take in enumerate(takes):
        for e, emotion in enumerate(EMOTIONS):
            words = [heldout_instruction(emotion, intensity, 1000 * n + 10 * e + s, style)
                     for s in range(len(take.bounds))]
            texts.setdefault(emotion, words[0])
            instructed += [(emotion, w) for w in words]
            motion = generate_motion(bundle, take, words, seed, steps, guidance)
            for k, j in enumerate(classifier.classify(motion, take.bounds)):
                if j is not None:
                    truth.append(emotion)
                    judged.append(j)
                    if j != emotion:
                        errors.append({"take": take.name, "segment": k, "instructed": emotion, "judged": j,
                                       "text": words[k]})
    m = confusion(truth, judged)
    per = {emo: (float(m[i, i] / m[i].sum()) if m[i].sum() else float("nan")) for i, emo in enumerate(EMOTIONS)}
    reader = None
    if getattr(bundle.config, "emotion_classes", 0):
        read = dict(zip((w for _, w in instructed), reader_reads(bundle, [w for _, w in instructed])))
        reader = float(np.mean([read[w] == emo for emo, w in instructed]))
        for err in errors:
            err["read"] = read[err["text"]]
    return {"takes": [t.name for t in takes], "segments": int(m.sum()), "intensity": intensity, "style": style,
            "accuracy": accuracy(m), "confusion": m.tolist(), "per_emotion": per, "example_texts": texts,
            "errors": errors, "reader_accuracy": reader}


def reader_reads(bundle, texts: Sequence[str]) -> list[str]:
    """The emotion the model's emotion reader reads from each text."""
    import torch

    from core.motion.text import embed

    logits = torch.from_numpy(embed(list(texts))) @ bundle.model.emotion_reader.float().T
    return [EMOTIONS[i] for i in logits.argmax(1).tolist()]


# --- phrase families -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Family:
    action: str
    phrase: str                       # the canonical phrase at PHRASE_DEGREE
    channels: tuple[str, ...]


def phrase_families(degree: float = PHRASE_DEGREE) -> list[Family]:
    """Every facial-action phrase that drives ARKit channels, with its main channels."""
    out = []
    for action in ACTIONS:
        pattern = ACTION_ARKIT.get(action, {})
        if not pattern:
            continue
        top = max(pattern.values())
        chans = tuple(n for n, w in pattern.items() if w >= 0.5 * top)
        out.append(Family(action, Phrase(action, degree).text, chans))
    return out


def decoded_teacher(take: Take, texts: Sequence[str], fps: float = FPS, seed: int = 1) -> np.ndarray:
    """The procedural teacher driven by the listener's phones and prosody as the model sees them
    (decoded from the 48 speech features), for the instruction texts per segment."""
    from core.synth.teacher import teacher_track

    k = len(PHONES)
    s = take.speech
    voiced = s[:, k + 1] > 0.5
    pitch = np.where(voiced, s[:, k] * 12.0, np.nan)
    loud = np.clip(0.5 + s[:, k + 2] * 20.0 / 24.0, 0.0, 1.0)      # as the dataset's teacher: 0 dB -> 0.5
    segs = [(a / fps, b / fps, t) for (a, b), t in zip(take.bounds, texts)]
    return teacher_track(phone_runs(take.labels, fps), segs, take.frames / fps, fps=fps, pitch_st=pitch,
                         loud=loud, seed=seed).data


def _interior_mean(motion: np.ndarray, bounds: np.ndarray, channels: Sequence[int]) -> float:
    vals = [np.asarray(motion)[slice(*window(int(a), int(b))), channels].mean() for a, b in bounds
            if int(b) - int(a) >= MIN_WINDOW]
    return float(np.mean(vals)) if vals else float("nan")


def phrase_adherence(bundle, folder: str | os.PathLike, items: int = 2, intensity: float = 0.5,
                     degree: float = PHRASE_DEGREE, steps: int = 8, guidance: float = 2.0, seed: int = 0,
                     takes: Sequence[Take] | None = None, families: Sequence[Family] | None = None) -> list[dict]:
    """One row per phrase family: mean of its channels without / with the phrase (model and
    teacher) on held-out takes, and whether the model moved them up by the margin."""
    takes = list(takes) if takes is not None else heldout_takes(folder, items)
    families = list(families) if families is not None else phrase_families(degree)
    base_text = compose("neutral", intensity, [])
    base = {t.name: generate_motion(bundle, t, [base_text] * len(t.bounds), seed, steps, guidance) for t in takes}
    base_teacher = {t.name: decoded_teacher(t, [base_text] * len(t.bounds)) for t in takes}
    rows = []
    for fam in families:
        text = compose("neutral", intensity, [Phrase(fam.action, degree)])
        idx = [INDEX[c] for c in fam.channels]
        without, with_, t_without, t_with = [], [], [], []
        for t in takes:
            motion = generate_motion(bundle, t, [text] * len(t.bounds), seed, steps, guidance)
            teacher = decoded_teacher(t, [text] * len(t.bounds))
            without.append(_interior_mean(base[t.name], t.bounds, idx))
            with_.append(_interior_mean(motion, t.bounds, idx))
            t_without.append(_interior_mean(base_teacher[t.name], t.bounds, idx))
            t_with.append(_interior_mean(teacher, t.bounds, idx))
        m0, m1, tw0, tw1 = (float(np.nanmean(v)) for v in (without, with_, t_without, t_with))
        need = max(PHRASE_MIN_DELTA, PHRASE_TEACHER_SHARE * (tw1 - tw0))
        rows.append({"action": fam.action, "phrase": fam.phrase, "channels": list(fam.channels),
                     "without": m0, "with": m1, "delta": m1 - m0, "teacher_without": tw0, "teacher_with": tw1,
                     "teacher_delta": tw1 - tw0, "needed": need, "pass": bool(m1 - m0 >= need), "text": text})
    return rows


# --- lip sync ------------------------------------------------------------------------------------

def lip_gap_basis(rig=None) -> tuple[float, np.ndarray]:
    """(gap at rest in mm, (52,) mm per unit weight) of the rig's inner-lip centre gap."""
    if rig is None:
        from core.face import load_rig
        rig = load_rig()
    up = [a for a, _ in LIP_PAIRS]
    lo = [b for _, b in LIP_PAIRS]
    g0 = float((rig.vertices[up, 1] - rig.vertices[lo, 1]).mean()) * MM_PER_RIG_UNIT
    dg = (rig.deltas[:, up, 1] - rig.deltas[:, lo, 1]).mean(1) * MM_PER_RIG_UNIT
    return g0, dg.astype(np.float64)


def lip_gap_mm(motion: np.ndarray, rig=None, basis: tuple[float, np.ndarray] | None = None) -> np.ndarray:
    """(T,) vertical gap between the inner-lip centres of the rig, mm (0 = lips meet)."""
    g0, dg = basis or lip_gap_basis(rig)
    return g0 + np.asarray(motion, np.float64)[:, :NUM_BLENDSHAPES] @ dg


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 3 or a.std() < 1e-9 or b.std() < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def lagged_correlation(jaw: np.ndarray, loud: np.ndarray, mask: np.ndarray, max_lag: int = 5) -> dict[int, float]:
    """{lag: r} of jaw[t + lag] against loud[t] over frames t (and t + lag) inside `mask`."""
    n = len(jaw)
    out = {}
    for lag in range(-max_lag, max_lag + 1):
        t = np.arange(max(0, -lag), min(n, n - lag))
        keep = mask[t] & mask[t + lag]
        out[lag] = pearson(jaw[t + lag][keep], loud[t][keep])
    return out


def blinks(closure: np.ndarray) -> list[tuple[int, int, int]]:
    """(first frame at 0.2 or more, the peak, first frame below 0.2 again) of each blink in a
    per-frame eyelid closure: a run at 0.2 or more that closes the lids at least half way (a
    lower one is a squint or a droop)."""
    closure = np.asarray(closure, np.float64)
    out, i = [], 0
    while i < len(closure):
        if closure[i] >= 0.2:
            j = i
            while j < len(closure) and closure[j] >= 0.2:
                j += 1
            if closure[i:j].max() >= 0.5:
                out.append((i, i + int(np.argmax(closure[i:j])), j))
            i = j
        else:
            i += 1
    return out


def blink_stats(motion: np.ndarray, fps: float = FPS) -> dict:
    """Blinks a minute and their median length (ms, from 0.2 closure to below it again)."""
    found = blinks(np.asarray(motion)[:, [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]].mean(axis=1))
    minutes = len(motion) / fps / 60
    lengths = [(b - a) / fps * 1000 for a, _, b in found]
    return {"blinks": len(found), "minutes": minutes, "blinks_per_minute": len(found) / minutes if minutes else float("nan"),
            "blink_ms_median": float(np.median(lengths)) if lengths else float("nan")}


def lip_sync(motion: np.ndarray, labels: np.ndarray, loudness_db: np.ndarray, speaking: np.ndarray,
             closed_mm: float = CLOSED_MM, max_lag: int = 5, rig=None,
             basis: tuple[float, np.ndarray] | None = None) -> dict:
    """Bilabial closure and jaw-loudness figures of a track against the listener's phones."""
    motion = np.asarray(motion)
    n = min(len(motion), len(labels))
    motion, labels = motion[:n], np.asarray(labels)[:n]
    gap = lip_gap_mm(motion, rig, basis)
    closed = gap < closed_mm
    bil = np.isin(labels, BILABIALS)
    vow = np.isin(labels, VOWELS)
    # per bilabial phone: any closed frame within one frame of it
    runs, hit = 0, 0
    i = 0
    while i < n:
        if bil[i]:
            j = i
            while j < n and bil[j] and labels[j] == labels[i]:
                j += 1
            runs += 1
            hit += bool(closed[max(0, i - 1):min(n, j + 1)].any())
            i = j
        else:
            i += 1
    mask = np.asarray(speaking[:n], bool)
    corr = lagged_correlation(motion[:, INDEX["jawOpen"]], np.asarray(loudness_db[:n], np.float64), mask, max_lag)
    finite = {k: v for k, v in corr.items() if np.isfinite(v)}
    best = max(finite, key=finite.get) if finite else 0
    return {
        "bilabial_frames": int(bil.sum()), "vowel_frames": int(vow.sum()),
        "bilabial_closed": float(closed[bil].mean()) if bil.any() else float("nan"),
        "vowel_closed": float(closed[vow].mean()) if vow.any() else float("nan"),
        "bilabial_gap_mm": float(np.median(gap[bil])) if bil.any() else float("nan"),
        "vowel_gap_mm": float(np.median(gap[vow])) if vow.any() else float("nan"),
        "bilabial_phones": runs, "bilabial_phones_closed": hit / runs if runs else float("nan"),
        "jaw_loudness_r": corr.get(0, float("nan")), "best_lag": int(best),
        "jaw_loudness_r_best": finite.get(best, float("nan")), "speech_frames": int(mask.sum()),
        **blink_stats(motion),
    }


def pool_lip_sync(figures: list[dict]) -> dict:
    """Frame-weighted shares and means over several takes' lip_sync figures (r: mean)."""
    if not figures:
        return {}
    out = dict(figures[0])
    bf = np.array([f["bilabial_frames"] for f in figures], float)
    vf = np.array([f["vowel_frames"] for f in figures], float)
    ph = np.array([f["bilabial_phones"] for f in figures], float)

    def wmean(key, w):
        v = np.array([f[key] for f in figures], float)
        ok = np.isfinite(v) & (w > 0)
        return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")

    out.update(bilabial_frames=int(bf.sum()), vowel_frames=int(vf.sum()), bilabial_phones=int(ph.sum()),
               bilabial_closed=wmean("bilabial_closed", bf), vowel_closed=wmean("vowel_closed", vf),
               bilabial_gap_mm=wmean("bilabial_gap_mm", bf), vowel_gap_mm=wmean("vowel_gap_mm", vf),
               bilabial_phones_closed=wmean("bilabial_phones_closed", ph),
               jaw_loudness_r=float(np.nanmean([f["jaw_loudness_r"] for f in figures])),
               jaw_loudness_r_best=float(np.nanmean([f["jaw_loudness_r_best"] for f in figures])),
               best_lag=int(round(np.median([f["best_lag"] for f in figures]))),
               blinks=int(sum(f["blinks"] for f in figures)), minutes=float(sum(f["minutes"] for f in figures)))
    out["blinks_per_minute"] = out["blinks"] / out["minutes"] if out["minutes"] else float("nan")
    out["blink_ms_median"] = float(np.nanmedian([f["blink_ms_median"] for f in figures]))
    return out


# --- real speech: the pyannote sample ----------------------------------------------------------

def read_stm(path: str | os.PathLike) -> list[tuple[float, float, str]]:
    rows = []
    for line in Path(path).read_text().splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6:
            rows.append((float(parts[3]), float(parts[4]), parts[5]))
    return rows


def real_take(wav: str | os.PathLike = DATA / "sample.wav", stm: str | os.PathLike | None = None,
              writer: str = "rules", fps: float = FPS) -> Take:
    """The real pipeline on real speech: load_audio -> listen_and_instruct(script=transcript,
    writer) -> speech_features; the segments' instructions and the aligner's phones per frame."""
    from core.audio import load_audio
    from core.instruct import make_writer
    from core.listen import frames_at
    from core.motion.features import speech_features
    from core.pipeline import listen_and_instruct, segment_bounds

    wav = Path(wav)
    stm = Path(stm) if stm is not None else wav.with_suffix(".stm")
    script = " ".join(t for _, _, t in read_stm(stm)) if stm.is_file() else None
    audio = load_audio(wav)
    result = listen_and_instruct(audio, script=script, writer=make_writer(writer))
    speech = speech_features(result.analysis, fps)
    f = frames_at(result.analysis, fps)
    return Take(name=wav.name, speech=speech, bounds=segment_bounds(result.segments, fps, len(speech)),
                texts=[s.instruction.text for s in result.segments], labels=np.asarray(f["phone"], object),
                loudness_db=np.asarray(f["loudness_db"], np.float64), speaking=np.asarray(f["speech"], bool),
                emotions=[s.instruction.emotion for s in result.segments], analysis=result.analysis)


def teacher_for_take(take: Take, fps: float = FPS, seed: int = 1) -> np.ndarray:
    """The procedural teacher on a real take: the aligner's phones, the listener's prosody, the
    segments' instruction texts (the reference for the lip-sync figures)."""
    from core.listen import frames_at
    from core.synth.teacher import teacher_track

    if take.analysis is None:
        return decoded_teacher(take, take.texts, fps, seed)
    a = take.analysis
    f = frames_at(a, fps)
    pitch = np.where(f["voiced"], f["semitones"], np.nan)
    loud = np.clip(0.5 + np.asarray(f["loudness_db"], float) / 24.0, 0.0, 1.0)
    phones = [(p.phone, p.start, p.end) for p in a.phones]
    segs = [(s / fps, e / fps, t) for (s, e), t in zip(take.bounds, take.texts)]
    return teacher_track(phones, segs, take.frames / fps, fps=fps, pitch_st=pitch, loud=loud, seed=seed).data


# --- seeds --------------------------------------------------------------------------------------

def upper_vertices(rig, min_mm: float = 0.5) -> np.ndarray:
    """Rig vertices some upper-face channel moves by at least `min_mm` at full weight."""
    move = np.linalg.norm(rig.deltas[UPPER_CHANNELS], axis=2).max(0) * MM_PER_RIG_UNIT
    return np.flatnonzero(move >= min_mm)


def seed_study(bundle, take: Take, seeds: Sequence[int] = (0, 1, 2, 3), texts: Sequence[str] | None = None,
               steps: int = 8, guidance: float = 2.0, rig=None, reference: bool = True) -> dict:
    """The same instructions with several seeds: pairwise upper-face / head differences, and the
    lip-sync figures of each seed."""
    if rig is None:
        from core.face import load_rig
        rig = load_rig()
    texts = list(texts) if texts is not None else take.texts
    basis = lip_gap_basis(rig)
    tracks = {s: generate_motion(bundle, take, texts, s, steps, guidance) for s in seeds}
    verts = upper_vertices(rig)
    d_upper = rig.deltas[UPPER_CHANNELS][:, verts]           # (C, V, 3)
    pairs = []
    for a, b in combinations(seeds, 2):
        dw = tracks[a][:, UPPER_CHANNELS] - tracks[b][:, UPPER_CHANNELS]
        dv = np.einsum("tc,cvk->tvk", dw, d_upper)
        dist = np.linalg.norm(dv, axis=2) * MM_PER_RIG_UNIT
        pairs.append({"seeds": [a, b], "upper_weight_mad": float(np.abs(dw).mean()),
                      "upper_vertex_mm": float(dist.mean()), "upper_vertex_mm_p95": float(np.percentile(dist, 95)),
                      "head_deg": float(np.degrees(np.abs(tracks[a][:, HEAD] - tracks[b][:, HEAD]).mean()))})
    # how much the upper face moves over time within one take, for scale
    within = float(np.mean([np.abs(tracks[s][:, UPPER_CHANNELS] - tracks[s][:, UPPER_CHANNELS].mean(0)).mean()
                            for s in seeds]))
    sync = {s: lip_sync(tracks[s], take.labels, take.loudness_db, take.speaking, basis=basis) for s in seeds}
    teacher = None
    if reference:           # the teacher's own seed spread (blinks, gaze, head gestures), for scale
        t = {s: teacher_for_take(take, seed=s) for s in seeds}
        teacher = {"upper_weight_mad": float(np.mean([np.abs(t[a][:, UPPER_CHANNELS] - t[b][:, UPPER_CHANNELS]).mean()
                                                      for a, b in combinations(seeds, 2)])),
                   "head_deg": float(np.mean([np.degrees(np.abs(t[a][:, HEAD] - t[b][:, HEAD]).mean())
                                              for a, b in combinations(seeds, 2)]))}
    return {"take": take.name, "pairs": pairs, "within_take_upper_mad": within, "sync": sync, "teacher": teacher,
            "mean_upper_weight_mad": float(np.mean([p["upper_weight_mad"] for p in pairs])),
            "mean_upper_vertex_mm": float(np.mean([p["upper_vertex_mm"] for p in pairs])),
            "mean_head_deg": float(np.mean([p["head_deg"] for p in pairs]))}


# --- contact sheet --------------------------------------------------------------------------------

def sheet_times(frames: int, fps: float = FPS, columns: int = 5) -> list[float]:
    """`columns` evenly spaced times inside the take, away from its ends."""
    dur = frames / fps
    return [round(dur * (k + 1) / (columns + 1), 2) for k in range(columns)]


def sheet_size(rows: int, columns: int, tile: int) -> tuple[int, int]:
    """(width, height) of an emotion sheet in pixels."""
    label_w, head_h = _label_sizes(tile)
    return label_w + columns * tile, head_h + rows * tile


def _label_sizes(tile: int) -> tuple[int, int]:
    return max(80, int(tile * 0.75)), max(18, int(tile * 0.14))


def emotion_sheet(bundle, out_png: str | os.PathLike, speech: np.ndarray, *, times: Sequence[float] | None = None,
                  intensity: float = 0.8, emotions: Sequence[str] = EMOTIONS, tile: int = 192, seed: int = 0,
                  steps: int = 8, guidance: float = 2.0, rig=None, antialias: bool = True) -> Path:
    """One take under each emotion (the whole take one segment, `compose(emotion, intensity)`),
    frames at `times` (s) rendered with the offscreen renderer: rows = emotions, columns = times."""
    from PIL import Image, ImageDraw

    from core.face.sheet import _font
    from core.motion.generate import generate
    from core.motion.text import embed
    from core.render.offscreen import OffscreenRenderer
    from core.render.renderer import default_camera

    if rig is None:
        from core.face import load_rig
        rig = load_rig()
    speech = np.asarray(speech, np.float32)
    frames = len(speech)
    fps = float(bundle.fps)
    times = list(times) if times is not None else sheet_times(frames, fps)
    idx = [min(frames - 1, max(0, int(t * fps))) for t in times]
    bounds = np.array([[0, frames]], np.int32)
    texts = [compose(e, intensity) for e in emotions]
    vectors = embed(texts)
    tracks = [generate(bundle, speech, vectors[k:k + 1], bounds, steps=steps, guidance=guidance, seed=seed).data
              for k in range(len(emotions))]
    label_w, head_h = _label_sizes(tile)
    width, height = sheet_size(len(emotions), len(times), tile)
    sheet = Image.new("RGB", (width, height), (24, 26, 30))
    draw = ImageDraw.Draw(sheet)
    font = _font(max(10, int(head_h * 0.7)))
    for c, t in enumerate(times):
        label = f"{t:.2f} s"
        box = draw.textbbox((0, 0), label, font=font)
        draw.text((label_w + c * tile + (tile - (box[2] - box[0])) / 2, (head_h - (box[3] - box[1])) / 2 - box[1]),
                  label, fill=(230, 230, 230), font=font)
    with OffscreenRenderer(rig, tile, tile, antialias=antialias) as renderer:
        camera = default_camera(rig, aspect=1.0, margin=1.02)
        for r, (emotion, track) in enumerate(zip(emotions, tracks)):
            y = head_h + r * tile
            box = draw.textbbox((0, 0), emotion, font=font)
            draw.text((8, y + (tile - (box[3] - box[1])) / 2 - box[1]), emotion, fill=(230, 230, 230), font=font)
            for c, i in enumerate(idx):
                img = renderer.render(track[i], camera)
                sheet.paste(Image.fromarray(np.ascontiguousarray(img)), (label_w + c * tile, y))
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out)
    return out


def sheet_take(folder: str | os.PathLike, min_seconds: float = 4.0, max_seconds: float = 6.0) -> Take | None:
    """A held-out item of 4-6 s for the sheet (the first one that fits; else the longest, cut to
    max_seconds), or None without a dataset."""
    try:
        entries = [e for e in read_index(folder)["items"] if e["split"] == "heldout"]
    except FileNotFoundError:
        return None
    if not entries:
        return None
    fit = [e for e in entries if min_seconds * FPS <= e["frames"] <= max_seconds * FPS]
    entry = fit[0] if fit else max(entries, key=lambda e: e["frames"])
    take = dataset_take(folder, entry)
    cut = int(max_seconds * FPS)
    if take.frames > cut:
        take.speech = take.speech[:cut]
    return take


# --- the text encoder's own ceiling -------------------------------------------------------------

def text_probe(per_emotion: int = 150, heldout_per_emotion: int = 60, seed: int = 0) -> dict:
    """How well the instruction embedding alone tells emotions apart in unseen wordings: a linear
    softmax classifier fitted on the MiniLM embeddings of training-style paraphrases, tested on
    held-out-style ones (intensities 0.3-0.9, no phrases). The motion model reads the same
    embeddings, so this is roughly the ceiling of its emotion adherence on held-out wordings."""
    import random

    import torch

    from core.motion.text import embed
    from core.synth.train import fit_softmax
    rng = random.Random(seed)

    def wordings(style: str, n: int) -> tuple[list[str], np.ndarray]:
        texts, labels = [], []
        for k, emotion in enumerate(EMOTIONS):
            for _ in range(n):
                texts.append(paraphrase(emotion, rng.choice((0.3, 0.5, 0.7, 0.9)), None,
                                        seed=rng.randrange(2 ** 30), style=style))
                labels.append(k)
        return texts, np.array(labels)

    train_texts, y_train = wordings("train", per_emotion)
    held_texts, y_held = wordings("heldout", heldout_per_emotion)
    x_train, x_held = torch.from_numpy(embed(train_texts)), torch.from_numpy(embed(held_texts))
    gen = torch.Generator().manual_seed(seed)
    w = (0.01 * torch.randn(x_train.shape[1], len(EMOTIONS), generator=gen)).requires_grad_()
    b = torch.zeros(len(EMOTIONS), requires_grad=True)
    fit_softmax(x_train, torch.from_numpy(y_train), w, b, decay=1e-4)
    with torch.no_grad():
        pred = (x_held @ w + b).argmax(1).numpy()
        train_acc = float(((x_train @ w + b).argmax(1).numpy() == y_train).mean())
    per = {e: float((pred[y_held == k] == k).mean()) for k, e in enumerate(EMOTIONS)}
    return {"train_wordings": len(train_texts), "heldout_wordings": len(held_texts), "train_accuracy": train_acc,
            "heldout_accuracy": float((pred == y_held).mean()), "per_emotion": per}


__all__ = ["text_probe", "BILABIALS", "CLOSED_MM", "EMOTIONS", "EmotionClassifier", "Example", "Family", "Take", "VOWELS",
           "accuracy", "confusion", "dataset_examples", "dataset_take", "decoded_teacher", "emotion_adherence",
           "emotion_sheet", "evaluate_classifier", "generate_motion", "examples_from", "heldout_takes", "judge_from_dataset",
           "lip_gap_mm", "lip_sync", "phone_labels", "phrase_adherence", "phrase_families", "real_take",
           "seed_study", "sheet_size", "sheet_take", "teacher_for_take", "train_classifier", "window_features"]
