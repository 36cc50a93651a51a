"""Instruction adherence and lip-sync measures (core.synth.adherence) on real parts: the
procedural teacher, the preview rig, the offscreen renderer and a small saved motion model."""

import numpy as np
import pytest
import torch
from PIL import Image

from core.arkit import INDEX, NUM_CHANNELS
from core.instruct.wording import ACTIONS, compose
from core.motion.checkpoint import load_motion_model, save_motion_checkpoint
from core.motion.features import NUM_FEATURES, PHONE_INDEX, PHONES
from core.motion.model import Denoiser, MotionConfig
from core.motion.text import EMBEDDING_SIZE
from core.synth import adherence as A
from core.synth.teacher import teacher_track

FPS = 30.0
CONSONANTS = ("P", "B", "M", "T", "S", "K", "N", "L", "D", "F")
VOWELS = ("AA", "AE", "AH", "EH", "IY", "OW", "UW", "AY")


def utterance(seed: int, syllables: int = 20, lead: float = 0.3):
    """Random CV syllables at a conversational rate: [(phone, start, end)] and the duration."""
    rng = np.random.default_rng(seed)
    phones, t = [("SIL", 0.0, lead)], lead
    for _ in range(syllables):
        for p, d in ((rng.choice(CONSONANTS), rng.uniform(0.07, 0.11)), (rng.choice(VOWELS), rng.uniform(0.08, 0.15))):
            phones.append((str(p), t, t + d))
            t += d
    phones.append(("SIL", t, t + 0.3))
    return phones, t + 0.3


def frame_labels(phones, frames):
    t = (np.arange(frames) + 0.5) / FPS
    labels = np.full(frames, "SIL", dtype=object)
    for p, s, e in phones:
        a, b = np.searchsorted(t, [s, e])
        labels[a:b] = p
    return labels


def teacher(phones, duration, text, seed=0):
    return teacher_track(phones, [(0.0, duration, text)], duration, fps=FPS, seed=seed).data


def test_classifier_separates_teacher_emotions_on_the_same_phones():
    examples = []
    for seed in range(3):
        phones, dur = utterance(seed)
        for k, emo in enumerate(A.EMOTIONS):
            for intensity in (0.5, 0.9):
                m = teacher(phones, dur, compose(emo, intensity), seed=10 * seed + k)
                examples += A.examples_from(m, [(0, len(m))], [emo], [intensity])
    clf = A.train_classifier(examples)
    phones, dur = utterance(99)                       # new phones, new gesture seeds
    judged = {}
    for emo in A.EMOTIONS:
        m = teacher(phones, dur, compose(emo, 0.7), seed=123)
        judged[emo] = clf.classify(m, [(0, len(m))])[0]
    assert judged["happy"] == "happy" and judged["sad"] == "sad"
    assert sum(judged[e] == e for e in A.EMOTIONS) >= 7, judged
    report = A.evaluate_classifier(clf, examples)
    assert report["accuracy"] > 0.95 and np.array(report["confusion"]).sum() == len(examples)


def test_window_features_are_the_documented_statistics():
    rng = np.random.default_rng(0)
    m = rng.uniform(size=(100, NUM_CHANNELS))
    f = A.window_features(m, 10, 90)
    assert f.shape == (A.NUM_WINDOW_FEATURES,) == (len(A.feature_names()),)
    inner = m[16:84]                                   # TRIM frames off each end
    np.testing.assert_allclose(f[:NUM_CHANNELS], inner.mean(0), rtol=1e-5)
    np.testing.assert_allclose(f[NUM_CHANNELS:2 * NUM_CHANNELS], inner.std(0), rtol=1e-5)
    assert A.window(0, 20) == (4, 16)                  # short segments keep MIN_WINDOW frames


def test_lip_gap_is_zero_at_rest_wide_with_the_jaw_and_sealed_by_mouth_close(head):
    v = np.zeros((3, NUM_CHANNELS))
    v[1, INDEX["jawOpen"]] = 1.0
    v[2, INDEX["jawOpen"]] = v[2, INDEX["mouthClose"]] = 1.0
    gap = A.lip_gap_mm(v, head)
    assert abs(gap[0]) < 0.5 and gap[1] > 20.0 and abs(gap[2]) < 1.0


def test_closure_is_high_at_bilabials_and_low_in_vowels_on_the_teacher(head):
    phones, dur = utterance(8, syllables=40)
    m = teacher(phones, dur, compose("neutral", 0.5))
    labels = frame_labels(phones, len(m))
    loud = np.where(labels != "SIL", 0.0, -40.0)
    s = A.lip_sync(m, labels, loud, labels != "SIL", rig=head)
    assert s["bilabial_frames"] > 8 and s["vowel_frames"] > 60
    assert s["bilabial_phones_closed"] >= 0.8, s
    assert s["bilabial_closed"] >= 0.6 and s["vowel_closed"] <= 0.1, s
    assert s["bilabial_gap_mm"] < A.CLOSED_MM < s["vowel_gap_mm"]
    # a mouth held open never closes
    open_mouth = m.copy()
    open_mouth[:, INDEX["jawOpen"]] = 0.3
    assert A.lip_sync(open_mouth, labels, loud, labels != "SIL", rig=head)["bilabial_closed"] == 0.0


def test_jaw_loudness_correlation_finds_the_lag():
    rng = np.random.default_rng(0)
    loud = np.convolve(rng.normal(size=300), np.ones(5) / 5, mode="same")
    jaw = np.roll(loud, 2)                              # the jaw follows the sound by two frames
    corr = A.lagged_correlation(jaw, loud, np.ones(300, bool), max_lag=4)
    assert max(corr, key=corr.get) == 2 and corr[2] > 0.99 and corr[0] < corr[2]


def test_phrase_families_cover_the_vocabulary():
    families = {f.action: f for f in A.phrase_families()}
    assert set(families) == set(ACTIONS) - {"face_relaxed", "gaze_steady"}
    assert set(families["corners_up"].channels) == {"mouthSmileLeft", "mouthSmileRight"}
    assert set(families["brows_lowered"].channels) == {"browDownLeft", "browDownRight"}
    assert families["eyes_narrowed"].channels == ("eyeSquintLeft", "eyeSquintRight")
    assert families["jaw_dropped"].phrase == "jaw extremely dropped"


def test_heldout_instructions_use_wording_training_never_sees():
    from core.synth.paraphrase import paraphrases
    for emo in A.EMOTIONS:
        text = A.heldout_instruction(emo, 0.7, seed=3)
        assert text != compose(emo, 0.7)
        assert text not in paraphrases(emo, 0.7, None, count=60, seed=1, style="train")


# --- with a small saved model --------------------------------------------------------------------

@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    torch.manual_seed(0)
    config = MotionConfig(width=32, blocks=2, dilations=(1, 2))
    meta = {"model": config.to_json(), "fps": FPS, "null_instruction": [0.0] * EMBEDDING_SIZE,
            "normalisation": {"mean": [0.1] * 52 + [0.0] * 3, "std": [0.1] * 52 + [0.03] * 3}}
    path = save_motion_checkpoint(tmp_path_factory.mktemp("ckpt") / "model.safetensors",
                                  {"ema": Denoiser(config).state_dict()}, meta)
    return load_motion_model(path)


def speech_from(phones, frames):
    """The 48 speech features of a phone sequence (one-hot phones, loudness, activity)."""
    x = np.zeros((frames, NUM_FEATURES), np.float32)
    labels = frame_labels(phones, frames)
    x[np.arange(frames), [PHONE_INDEX[p] for p in labels]] = 1.0
    k = len(PHONES)
    x[:, k + 2] = np.where(labels != "SIL", 0.0, -2.0)
    x[:, k + 5] = labels != "SIL"
    return x, labels


def test_emotion_sheet_writes_a_png_of_the_expected_size(bundle, tmp_path, head):
    phones, dur = utterance(1, syllables=6)
    speech, _ = speech_from(phones, int(round(dur * FPS)))
    out = A.emotion_sheet(bundle, tmp_path / "sheet.png", speech, times=[0.5, 1.0, 1.5], tile=64, steps=2,
                          rig=head, antialias=False)
    img = Image.open(out)
    assert img.size == A.sheet_size(8, 3, 64) == (A._label_sizes(64)[0] + 3 * 64, A._label_sizes(64)[1] + 8 * 64)
    px = np.asarray(img.convert("RGB")).astype(int)
    label_w, head_h = A._label_sizes(64)
    tile = px[head_h:head_h + 64, label_w:label_w + 64]
    assert tile.std() > 10                              # a face was drawn, not an empty tile


def test_adherence_runs_end_to_end_on_a_small_model(bundle, head):
    phones, dur = utterance(2, syllables=10)
    frames = int(round(dur * FPS))
    speech, labels = speech_from(phones, frames)
    take = A.Take("synthetic", speech, np.array([[0, frames // 2], [frames // 2, frames]], np.int32),
                  texts=[compose("happy", 0.5)] * 2, labels=labels,
                  loudness_db=speech[:, len(PHONES) + 2] * 20, speaking=labels != "SIL")
    examples = []
    for k, emo in enumerate(A.EMOTIONS):
        m = teacher(phones, dur, compose(emo, 0.8), seed=k)
        examples += A.examples_from(m, take.bounds, [emo, emo])
    clf = A.train_classifier(examples)
    emo = A.emotion_adherence(bundle, None, clf, takes=[take], steps=2)
    assert emo["segments"] == 16 and np.array(emo["confusion"]).sum() == 16 and 0.0 <= emo["accuracy"] <= 1.0
    # this model's emotion reader is all zeros: it reads every text as the first emotion, neutral
    assert emo["reader_accuracy"] == 1 / 8 and all(err["read"] == "neutral" for err in emo["errors"])
    fams = [f for f in A.phrase_families() if f.action in ("corners_up", "brows_lowered")]
    rows = A.phrase_adherence(bundle, None, takes=[take], families=fams, steps=2)
    assert sorted(r["action"] for r in rows) == ["brows_lowered", "corners_up"]
    assert all(r["teacher_delta"] > 0.3 for r in rows)  # the teacher does what the phrase says
    seeds = A.seed_study(bundle, take, seeds=(0, 1), steps=2, rig=head)
    assert seeds["pairs"][0]["upper_weight_mad"] > 0 and set(seeds["sync"]) == {0, 1}


def test_the_text_probe_reads_unseen_wordings_far_above_chance():
    from core.synth.adherence import text_probe
    probe = text_probe(per_emotion=24, heldout_per_emotion=8)
    assert probe["train_wordings"] == 8 * 24 and probe["heldout_wordings"] == 8 * 8
    assert probe["train_accuracy"] > 0.95
    assert 0.5 < probe["heldout_accuracy"] <= 1.0                 # chance is 1/8
    assert set(probe["per_emotion"]) == set(A.EMOTIONS)
