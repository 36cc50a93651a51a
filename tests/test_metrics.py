"""Stage 2's quality metrics and baselines (core.synth.metrics) on the real preview rig, with
tracks whose answers are known: LVE and FDD of identical and of deliberately changed tracks,
the listener's phones decoded back from the speech features, the teacher baseline, the
nearest-neighbour baseline returning a training item's own motion, and the seed comparison."""

import numpy as np
import pytest
import torch

from core.arkit import INDEX, NUM_BLENDSHAPES
from core.face import landmarks as lm
from core.listen import Analysis, Phone, Word
from core.motion.checkpoint import load_motion_model, save_motion_checkpoint
from core.motion.features import PHONES, speech_features
from core.motion.model import Denoiser, MotionConfig
from core.motion.text import EMBEDDING_SIZE
from core.synth import metrics
from core.synth.teacher import teacher_track
from core.track import FaceTrack

FPS = 30.0


def still(frames: int = 40, **weights: float) -> np.ndarray:
    data = np.zeros((frames, 55), np.float32)
    for name, w in weights.items():
        data[:, INDEX[name]] = w
    return data


def blinking(frames: int = 60) -> np.ndarray:
    data = still(frames)
    data[::10, INDEX["eyeBlinkLeft"]] = data[::10, INDEX["eyeBlinkRight"]] = 1.0
    data[5::10, INDEX["browInnerUp"]] = 0.5
    return data


def test_regions_are_the_lips_and_the_upper_face(head):
    r = metrics.regions(head)
    v = head.vertices
    nose_y = v[lm.NOSE_TIP, 1]
    assert 500 < len(r.lip) < 3000 and 1000 < len(r.upper) < 8000
    assert not set(r.lip) & set(r.upper)
    outer = v[list(lm.LIPS_OUTER_UPPER + lm.LIPS_OUTER_LOWER)]
    lips = v[r.lip]
    # the red of the lips: the outer lip contour plus the half-painted rim just outside it (< 5 mm)
    assert (lips[:, 0] > outer[:, 0].min() - 0.5).all() and (lips[:, 0] < outer[:, 0].max() + 0.5).all()
    assert (lips[:, 1] > outer[:, 1].min() - 0.5).all() and (lips[:, 1] < outer[:, 1].max() + 0.5).all()
    assert (v[r.upper, 1] > nose_y).all()
    # the lips are what the jaw moves most: every lip vertex moves with jawOpen or mouthClose
    moved = np.linalg.norm(head.deltas[[INDEX["jawOpen"], INDEX["mouthClose"], INDEX["mouthFunnel"]]][:, r.lip], axis=2)
    assert (moved.max(0) > 0.02).all()
    assert metrics.regions(head) is r                          # cached


def test_displacements_match_the_rig(head):
    data = blinking(6)
    data[:, INDEX["jawOpen"]] = np.linspace(0, 1, 6)
    idx = metrics.regions(head).lip[::50]
    mine = metrics.displacements(head, data, idx)
    ref = (head.evaluate(data[:, :NUM_BLENDSHAPES]) - head.vertices)[:, idx] * 10.0
    np.testing.assert_allclose(mine, ref, atol=1e-4)


def test_lve_zero_for_identical_and_known_for_an_opened_mouth(head):
    target = blinking()
    target[:, INDEX["jawOpen"]] = 0.2 * (1 + np.sin(np.arange(len(target)) / 3))
    assert metrics.lip_vertex_error(head, target, target) == 0.0
    pred = target.copy()
    pred[:, INDEX["jawOpen"]] += 0.3                         # mouth opened more on every frame
    lve = metrics.lip_vertex_error(head, FaceTrack(FPS, pred), FaceTrack(FPS, target))
    lip = metrics.regions(head).lip
    expected = np.max(np.sum((0.3 * head.deltas[INDEX["jawOpen"], lip].astype(np.float64) * 10) ** 2, axis=1))
    assert lve == pytest.approx(expected, rel=1e-4)
    assert lve > 10.0                                        # mm²: a 0.3 jaw opening moves the lips by centimetres
    # the head does not count; opening it more only on half the frames halves it
    pred[:, NUM_BLENDSHAPES:] = 0.3
    pred[::2, INDEX["jawOpen"]] = target[::2, INDEX["jawOpen"]]
    assert metrics.lip_vertex_error(head, pred, target) == pytest.approx(expected / 2, rel=1e-4)
    with pytest.raises(ValueError):
        metrics.lip_vertex_error(head, pred[:-1], target)


def test_fdd_properties(head):
    moving, static = blinking(), still(60)
    assert metrics.upper_face_dynamics_deviation(head, moving, moving) == 0.0
    dyn = metrics.upper_face_dynamics(head, moving)
    # a prediction that does not move its upper face: FDD = the target's mean dynamics, > 0
    fdd = metrics.upper_face_dynamics_deviation(head, static, moving)
    assert fdd == pytest.approx(dyn.mean(), rel=1e-6) and fdd > 0.1
    assert metrics.upper_face_dynamics_deviation(head, moving, static) == pytest.approx(-fdd, rel=1e-6)
    assert metrics.upper_face_dynamics_deviation(head, moving, static, absolute=True) == pytest.approx(fdd, rel=1e-6)
    # dynamics, not pose: brows held raised all along deviate by nothing
    assert metrics.upper_face_dynamics_deviation(head, still(60, browInnerUp=0.8), static) == pytest.approx(0, abs=1e-9)
    # the mouth hardly reaches the upper face; a blink mistimed by a few frames has the same dynamics
    talking = still(60)
    talking[:, INDEX["jawOpen"]] = 0.5 * (1 + np.sin(np.arange(60) / 2))
    assert abs(metrics.upper_face_dynamics_deviation(head, talking, static)) < 0.01 * fdd
    assert metrics.upper_face_dynamics_deviation(head, np.roll(moving, 3, axis=0), moving) == pytest.approx(0, abs=1e-6)
    # sign cancels between vertices, the absolute form does not
    brows, eyes = still(60), still(60)
    brows[::10, INDEX["browInnerUp"]] = 1.0
    eyes[::10, INDEX["eyeBlinkLeft"]] = 1.0
    signed = metrics.upper_face_dynamics_deviation(head, brows, eyes)
    assert metrics.upper_face_dynamics_deviation(head, brows, eyes, absolute=True) > abs(signed)


# --------------------------------------------------------------------------- the listener's inputs

def synthetic_analysis(seed: int, duration: float = 3.0) -> Analysis:
    """A listener's analysis with known phones (tiling the take, SIL in pauses) and prosody at 100 Hz."""
    rng = np.random.default_rng(seed)
    sounds = [p for p in PHONES if p != "SIL"]
    phones, words = [Phone("SIL", 0.0, 0.3)], []
    t = 0.3
    while t < duration - 0.4:
        if rng.random() < 0.08:
            end = t + rng.uniform(0.15, 0.3)
            phones.append(Phone("SIL", t, end))
        else:
            end = t + rng.uniform(0.025, 0.16)
            phones.append(Phone(str(rng.choice(sounds)), t, end, word=len(words)))
            if rng.random() < 0.25:
                words.append(Word("w", t, end))
        t = end
    phones.append(Phone("SIL", t, duration))
    n = int(duration * 100)
    sounding = np.zeros(n, bool)
    for p in phones:
        if p.phone != "SIL":
            sounding[int(p.start * 100):int(p.end * 100)] = True
    voiced = sounding & (rng.random(n) < 0.8)
    f0 = np.where(voiced, 150 * 2 ** (rng.normal(0, 3, n) / 12), 0.0).astype(np.float32)
    energy = np.where(sounding, -25 + rng.normal(0, 4, n), -60 + rng.normal(0, 3, n)).astype(np.float32)
    return Analysis(duration=duration, words=words, phones=phones, f0=f0, voiced=voiced, energy_db=energy,
                    speech=sounding, speaker={"median_f0_hz": 150.0, "median_energy_db": -25.0})


def test_aligner_inputs_decode_the_listeners_phones_and_prosody():
    a = synthetic_analysis(3)
    speech = speech_features(a, FPS)
    phones, pitch, loud = metrics.aligner_inputs(speech, FPS)
    t = (np.arange(len(speech)) + 0.5) / FPS
    visible = [p for p in a.phones if ((t >= p.start) & (t < p.end)).any()]
    merged = []                                    # the features cannot split neighbouring SILs
    for p in visible:
        if merged and p.phone == "SIL" and merged[-1].phone == "SIL":
            merged[-1] = Phone("SIL", merged[-1].start, p.end)
        else:
            merged.append(p)
    assert [p[0] for p in phones] == [p.phone for p in merged]
    for (name, s, e), p in zip(phones, merged):
        covered = int(((t >= p.start) & (t < p.end)).sum())
        tol = 1e-3 if covered >= 2 else 1.0 / FPS
        assert abs(s - p.start) < tol or p is merged[0]
        assert abs(e - p.end) < tol or p is merged[-1]
    ref = np.nan_to_num(a.semitones(), nan=0.0)[np.clip((t * 100).astype(int), 0, a.frames - 1)]
    v = ~np.isnan(pitch)
    assert v.any() and np.allclose(pitch[v], ref[v], atol=1e-4)
    assert np.allclose(loud, np.clip(a.energy_db[(t * 100).astype(int)] + 25.0, -60, 20), atol=1e-4)


def test_teacher_from_aligner_matches_the_teacher_on_the_listeners_phones(head):
    a = synthetic_analysis(5)
    speech = speech_features(a, FPS)
    segs = [(0, 45, "A person feels very happy."), (45, len(speech), "A person feels angry, eyebrows lowered.")]
    decoded = metrics.teacher_from_aligner(speech, segs, FPS, seed=2)
    direct = metrics.teacher_from_aligner(speech, segs, FPS, seed=2, analysis=a)
    assert decoded.frames == len(speech) and decoded.fps == FPS
    assert metrics.lip_vertex_error(head, decoded, direct) < 0.3       # mm²: the same phones up to one-frame edges
    # and the lips follow the phones: shifting them by 0.1 s costs far more
    shifted = teacher_track([(p.phone, p.start + 0.1, p.end + 0.1) for p in a.phones],
                            [(s / FPS, e / FPS, text) for s, e, text in segs], len(speech) / FPS, FPS, seed=2)
    assert metrics.lip_vertex_error(head, shifted, direct) > 10 * metrics.lip_vertex_error(head, decoded, direct)
    # the instruction is read: an angry second half lowers the brows there
    assert decoded.data[60:, INDEX["browDownLeft"]].mean() > decoded.data[:30, INDEX["browDownLeft"]].mean() + 0.1


# --------------------------------------------------------------------------- nearest neighbour

@pytest.fixture(scope="module")
def items():
    """Training-like items: listener features, the teacher's motion, two segment embeddings each."""
    out = []
    rng = np.random.default_rng(0)
    for seed in (11, 12, 13):
        a = synthetic_analysis(seed, duration=2.5)
        speech = speech_features(a, FPS)
        n = len(speech)
        bounds = np.array([[0, n // 2], [n // 2, n]], np.int32)
        texts = ["A person feels very happy.", "A person feels sad, mouth corners down."]
        timed = [(s / FPS, e / FPS, x) for (s, e), x in zip(bounds, texts)]
        motion = teacher_track([(p.phone, p.start, p.end) for p in a.phones], timed, n / FPS, FPS, seed=seed).data
        emb = rng.normal(size=(2, EMBEDDING_SIZE)).astype(np.float32)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        out.append({"speech": speech, "motion": motion, "seg_embeddings": emb, "seg_bounds": bounds})
    return out


def test_nearest_neighbour_returns_a_training_items_own_motion(items):
    bank = metrics.build_neighbour_bank(items, FPS, stride=1, speech_dims=432, instruction_dims=6)
    assert len(bank.keys) == sum(len(it["motion"]) for it in items)
    for it in items:
        exact = metrics.nearest_neighbour(bank, it["speech"], it["seg_embeddings"], it["seg_bounds"], smooth_sigma=0)
        np.testing.assert_array_equal(exact.data, it["motion"])
        smooth = metrics.nearest_neighbour(bank, it["speech"], it["seg_embeddings"], it["seg_bounds"])
        np.testing.assert_allclose(smooth.data, metrics.gaussian_smooth(it["motion"], metrics.SMOOTH_SIGMA), atol=1e-6)
    # a held-out-like query gets motion copied from the bank, smoothed
    other = metrics.build_neighbour_bank(items[:2], FPS, stride=2)
    q = items[2]
    track = metrics.nearest_neighbour(other, q["speech"], q["seg_embeddings"], q["seg_bounds"], smooth_sigma=0)
    rows = {r.tobytes() for r in other.motion}
    assert all(r.tobytes() in rows for r in track.data)


def test_gaussian_smooth_keeps_constants_and_lowers_jitter():
    x = np.zeros((30, 2), np.float32)
    x[:, 1] = 0.4
    x[::2, 0] = 1.0
    y = metrics.gaussian_smooth(x, 1.0)
    assert np.allclose(y[:, 1], 0.4) and np.ptp(y[5:-5, 0]) < 0.2 * np.ptp(x[:, 0])
    assert np.array_equal(metrics.gaussian_smooth(x, 0), x)


# --------------------------------------------------------------------------- seeds

def test_seed_spread(head, items, tmp_path):
    torch.manual_seed(0)
    config = MotionConfig(width=32, blocks=2, dilations=(1, 2))
    meta = {"model": config.to_json(), "fps": FPS, "null_instruction": [0.0] * EMBEDDING_SIZE,
            "normalisation": {"mean": [0.2] * 52 + [0.0] * 3, "std": [0.15] * 52 + [0.05] * 3}}
    path = save_motion_checkpoint(tmp_path / "m.safetensors", {"ema": Denoiser(config).state_dict()}, meta)
    bundle = load_motion_model(path)
    it = items[0]
    args = (bundle, it["speech"], it["seg_embeddings"], it["seg_bounds"], it["motion"], head)
    r = metrics.seed_spread(*args, seeds=(0, 1, 2), steps=2)
    assert len(r["lve"]) == 3 and all(v > 0 for v in r["lve"])
    assert r["upper_abs_diff"] > 0 and r["mouth_abs_diff"] > 0 and r["head_abs_diff_deg"] > 0
    same = metrics.seed_spread(*args, seeds=(4, 4), steps=2)
    assert same["upper_abs_diff"] == same["head_abs_diff_deg"] == 0.0 and same["lve"][0] == same["lve"][1]
