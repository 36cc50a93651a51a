"""Quality metrics of stage 2 on held-out synthetic data, and the baselines they are read against.

    rig = load_rig()
    lve = lip_vertex_error(rig, pred, target)                  # mm², lower is better
    fdd = upper_face_dynamics_deviation(rig, pred, target)      # mm, signed (target - prediction)
    base = teacher_from_aligner(speech, [(f0, f1, canonical), ...], seed=1)
    bank = build_neighbour_bank(training_items); nn = nearest_neighbour(bank, speech, emb, bounds)

Vertices come from the real preview rig (core.face.load_rig): the neutral mesh plus the
blendshape deltas times the weights, the same linear model as FaceRig.evaluate. Head rotation
is left out of the vertex metrics (face-local vertices, as FaceFormer and CodeTalker measure
on VOCASET/BIWI meshes without head pose); the rig is in centimetres, figures are in mm.

- LVE (FaceFormer, Fan et al. 2022): per frame the largest squared L2 error over the lip
  vertices, averaged over frames, in mm². Lip vertices: the skin vertices the rig paints at
  least half lip-red (build.py colours skin SKIN_RGB*(1-m) + LIP_RGB*m with the harmonic lip
  mask m, 1 on the red of the lips), below the nose tip (about 1170 vertices, the lip red and
  a rim of up to 4 mm around it). This leaves out the lip-tinted eyelid margins (above the
  nose) and the mouth bag's inner rim (a darker tint, weight about 1.75, hidden inside the lips).
- FDD (CodeTalker, Xing et al. 2023): for each upper-face vertex, dyn = the standard
  deviation over time of the length of its displacement from the neutral mesh; FDD = mean
  over those vertices of dyn(target) - dyn(prediction), in mm. Positive: the prediction's
  upper face moves less than the target's. CodeTalker reports the signed mean over a test set
  (its released script uses the squared length; we use the length, as the paper writes it);
  `absolute=True` gives the mean of |difference| per vertex, which cannot cancel between
  vertices. Upper face: skin, eyeball and iris vertices above the nose tip that some
  blendshape moves by at least 0.5 mm (forehead, brows, lids, eyes, nose bridge, upper
  cheeks; about 4500 vertices; the static back of the head is left out so it does not
  dilute the mean).

Baselines:
- teacher_from_aligner: the procedural teacher (the target's own generator) driven by what the
  model sees at use time: the listener's phones and prosody, decoded exactly from the 48 speech
  features (or taken from a real core.listen Analysis), and the segments' canonical
  instruction texts. It differs from the target only through the listener's phones (vs
  eSpeak's) and the random gesture seed.
- nearest_neighbour: frame-wise retrieval from the training set (speech context + instruction).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import combinations
from typing import Sequence

import numpy as np

from core.arkit import BLENDSHAPES, NUM_BLENDSHAPES, NUM_CHANNELS
from core.face.rig import FaceRig
from core.track import FaceTrack

MM_PER_RIG_UNIT = 10.0           # the rig is in centimetres
LIP_COLOUR_MIN = 0.5
UPPER_MOVE_MIN_MM = 0.5

# Upper-face channels (eyes, brows, cheek squint, nose sneer) for the seed comparison.
UPPER_CHANNELS = np.array([i for i, n in enumerate(BLENDSHAPES)
                           if n.startswith(("eye", "brow", "cheekSquint", "noseSneer"))])
MOUTH_CHANNELS = np.array([i for i, n in enumerate(BLENDSHAPES) if n.startswith(("jaw", "mouth"))])
HEAD_CHANNELS = np.arange(NUM_BLENDSHAPES, NUM_CHANNELS)


# --------------------------------------------------------------------------- regions

@dataclass(frozen=True)
class Regions:
    lip: np.ndarray       # vertex indices
    upper: np.ndarray


_regions: dict[int, tuple[FaceRig, Regions]] = {}


def _lip_colour_weight(rig: FaceRig) -> np.ndarray:
    from core.face.palette import LIP_RGB, SKIN_RGB
    d = LIP_RGB - SKIN_RGB
    return (rig.colors.astype(np.float64) - SKIN_RGB) @ d / (d @ d)


def regions(rig: FaceRig) -> Regions:
    """The lip and upper-face vertex sets of `rig` (cached per rig object)."""
    hit = _regions.get(id(rig))
    if hit is not None and hit[0] is rig:
        return hit[1]
    from core.face import landmarks as lm
    from core.face.rig import PART_NAMES
    v = rig.vertices
    nose_y = float(v[lm.NOSE_TIP, 1])          # the first vertices are the canonical landmarks
    skin = rig.parts == PART_NAMES.index("skin")
    m = _lip_colour_weight(rig)
    # the red of the lips: lip-coloured skin below the nose, on the front of the head (the hair
    # fading into the skin at the nape is about as far from the skin colour)
    lip = np.flatnonzero(skin & (m >= LIP_COLOUR_MIN) & (m <= 1.05) & (v[:, 1] < nose_y) & (v[:, 2] > 0.0))
    eyes = np.isin(rig.parts, [PART_NAMES.index("eye"), PART_NAMES.index("iris")])
    moves = np.linalg.norm(rig.deltas, axis=2).max(0) * MM_PER_RIG_UNIT >= UPPER_MOVE_MIN_MM
    upper = np.flatnonzero((skin | eyes) & (v[:, 1] > nose_y) & moves)
    out = Regions(lip=lip, upper=upper)
    _regions[id(rig)] = (rig, out)
    return out


def _weights(track) -> np.ndarray:
    data = track.data if isinstance(track, FaceTrack) else np.asarray(track)
    if data.ndim != 2 or data.shape[1] < NUM_BLENDSHAPES:
        raise ValueError(f"expected (frames, 52+) weights, got {data.shape}")
    return np.asarray(data[:, :NUM_BLENDSHAPES], np.float32)


def displacements(rig: FaceRig, track, vertices: np.ndarray) -> np.ndarray:
    """(frames, len(vertices), 3) offsets from the neutral mesh in mm, blendshapes only
    (FaceRig.evaluate minus the neutral vertices, restricted to `vertices`)."""
    w = _weights(track)
    basis = rig.deltas[:, vertices, :].reshape(NUM_BLENDSHAPES, -1)
    return (w @ basis).reshape(len(w), len(vertices), 3) * MM_PER_RIG_UNIT


def _pair(pred, target) -> tuple[np.ndarray, np.ndarray]:
    p, t = _weights(pred), _weights(target)
    if len(p) != len(t):
        raise ValueError(f"prediction has {len(p)} frames, target {len(t)}")
    if len(p) == 0:
        raise ValueError("empty tracks")
    return p, t


def lip_vertex_error(rig: FaceRig, pred, target) -> float:
    """FaceFormer's LVE in mm²: mean over frames of the max over lip vertices of |pred - target|²."""
    p, t = _pair(pred, target)
    lip = regions(rig).lip
    err = displacements(rig, p - t, lip)          # linear in the weights: the vertex error itself
    return float(np.mean(np.max(np.sum(err.astype(np.float64) ** 2, axis=2), axis=1)))


def upper_face_dynamics(rig: FaceRig, track) -> np.ndarray:
    """Per upper-face vertex: std over time of its displacement length from neutral (mm)."""
    d = displacements(rig, track, regions(rig).upper)
    return np.linalg.norm(d, axis=2).astype(np.float64).std(axis=0)


def upper_face_dynamics_deviation(rig: FaceRig, pred, target, absolute: bool = False) -> float:
    """CodeTalker's FDD in mm: mean over upper-face vertices of dyn(target) - dyn(pred)
    (absolute=True: of |dyn(target) - dyn(pred)|)."""
    p, t = _pair(pred, target)
    diff = upper_face_dynamics(rig, t) - upper_face_dynamics(rig, p)
    return float(np.mean(np.abs(diff)) if absolute else np.mean(diff))


# --------------------------------------------------------------------------- baseline 1: teacher

def aligner_inputs(speech: np.ndarray, fps: float = 30.0) -> tuple[list[tuple[str, float, float]], np.ndarray,
                                                                    np.ndarray]:
    """The listener's phones [(phone, start, end)], pitch (semitones, NaN unvoiced) and loudness
    (dB vs the speaker) decoded from the 48 speech features (core.motion.features).

    Prosody is exact. Phones: the per-frame one-hot gives the label under each frame centre and
    the position-in-phone feature gives, for a phone covering two frames or more, its exact start
    and end (a line fit of frame time against position; a drop in position splits repeated
    phones); one-frame phones span their frame. Phones too short to cover a frame centre are
    invisible to the model and are lost here too.
    """
    from core.motion.features import PHONES
    s = np.asarray(speech, np.float64)
    k = len(PHONES)
    n = len(s)
    voiced = s[:, k + 1] > 0.5
    pitch_st = np.where(voiced, s[:, k] * 12.0, np.nan)
    loudness_db = s[:, k + 2] * 20.0
    labels = np.argmax(s[:, :k], axis=1)
    pos = s[:, k + 6]
    t = (np.arange(n) + 0.5) / fps
    runs: list[list] = []                                 # [name, start, end, start fitted, end fitted]
    a = 0
    for i in range(1, n + 1):
        if i < n and labels[i] == labels[a] and pos[i] >= pos[i - 1]:
            continue
        run = [PHONES[labels[a]], a / fps, i / fps, False, False]
        if i - a >= 2 and np.ptp(pos[a:i]) > 1e-6:
            slope, intercept = np.polyfit(pos[a:i], t[a:i], 1)
            # the true edges lie between the centres of the first/last frame and their outer neighbours
            run[1] = float(np.clip(intercept, (a - 0.5) / fps, (a + 0.5) / fps))
            run[2] = float(np.clip(intercept + slope, (i - 0.5) / fps, (i + 0.5) / fps))
            run[3] = run[4] = True
        runs.append(run)
        a = i
    # Neighbours share one edge (the listener tiles the take with phones and SIL): a fitted edge wins.
    for left, right in zip(runs, runs[1:]):
        if left[4] and right[3]:
            edge = 0.5 * (left[2] + right[1])
        elif left[4] or right[3]:
            edge = left[2] if left[4] else right[1]
        else:
            edge = left[2]
        left[2] = right[1] = edge
    phones = [(name, float(s0), float(max(e0, s0))) for name, s0, e0, _, _ in runs]
    return phones, pitch_st, loudness_db


def teacher_from_aligner(speech: np.ndarray, segments: Sequence[tuple[int, int, str]], fps: float = 30.0,
                         seed: int = 0, analysis=None) -> FaceTrack:
    """The procedural teacher driven by the listener's phones and prosody (what the model sees at
    use time) instead of eSpeak's phonemes. segments: [(start_frame, end_frame, instruction
    text)], the canonical texts as the studio writes them. analysis: a core.listen Analysis of the
    same audio, used instead of decoding the features (same result up to phone edges)."""
    from core.synth.dataset import _loudness01
    from core.synth.teacher import teacher_track
    frames = len(speech)
    if analysis is not None:
        from core.listen import frames_at
        f = frames_at(analysis, fps)
        phones = [(p.phone, p.start, p.end) for p in analysis.phones]
        pitch_st = np.where(f["voiced"], f["semitones"], np.nan)
        loud_db = f["loudness_db"]
    else:
        phones, pitch_st, loud_db = aligner_inputs(speech, fps)
    timed = [(a / fps, b / fps, text) for a, b, text in segments]
    return teacher_track(phones, timed, frames / fps, fps=fps, pitch_st=pitch_st, loud=_loudness01(loud_db),
                         seed=seed)


# --------------------------------------------------------------------------- baseline 2: retrieval

CONTEXT = 4                  # frames each side of the queried frame
SPEECH_DIMS = 48             # PCA components of the weighted context window
INSTRUCTION_DIMS = 16        # PCA components of the per-frame instruction embedding
INSTRUCTION_WEIGHT = 1.5     # scale of the instruction part of the key (see build_neighbour_bank)
SMOOTH_SIGMA = 1.0           # frames, Gaussian smoothing of the copied motion


def context_window(speech: np.ndarray, context: int = CONTEXT) -> np.ndarray:
    """(T, F * (2c+1)): each frame's features with its c neighbours each side (edges repeated),
    offset d weighted by 1 - |d|/(c+1) so the frame itself counts most."""
    s = np.asarray(speech, np.float32)
    n = len(s)
    parts = []
    for d in range(-context, context + 1):
        idx = np.clip(np.arange(n) + d, 0, n - 1)
        parts.append(s[idx] * (1.0 - abs(d) / (context + 1)))
    return np.concatenate(parts, axis=1)


@dataclass
class NeighbourBank:
    keys: np.ndarray             # (N, D) float32
    key_norms: np.ndarray        # (N,) squared norms
    motion: np.ndarray           # (N, 55)
    speech_mean: np.ndarray
    speech_proj: np.ndarray      # (F*(2c+1), SPEECH_DIMS)
    instr_mean: np.ndarray
    instr_proj: np.ndarray       # (E, INSTRUCTION_DIMS)
    context: int
    instruction_weight: float
    fps: float

    def key(self, speech: np.ndarray, instruction: np.ndarray) -> np.ndarray:
        a = (context_window(speech, self.context) - self.speech_mean) @ self.speech_proj
        b = (np.asarray(instruction, np.float32) - self.instr_mean) @ self.instr_proj
        return np.concatenate([a, self.instruction_weight * b], axis=1).astype(np.float32)


def _pca(x: np.ndarray, dims: int, rng: np.random.Generator, fit_rows: int = 20000) -> tuple[np.ndarray, np.ndarray]:
    """Mean and the top `dims` principal axes (columns), from the covariance's eigenvectors."""
    mean = x.mean(0, dtype=np.float64)
    rows = x if len(x) <= fit_rows else x[rng.choice(len(x), fit_rows, replace=False)]
    centred = rows.astype(np.float64) - mean
    values, vectors = np.linalg.eigh(centred.T @ centred)
    order = np.argsort(values)[::-1][:dims]
    return mean.astype(np.float32), vectors[:, order].astype(np.float32)


def build_neighbour_bank(items: Sequence[dict], fps: float = 30.0, stride: int = 3, context: int = CONTEXT,
                         speech_dims: int = SPEECH_DIMS, instruction_dims: int = INSTRUCTION_DIMS,
                         instruction_weight: float = INSTRUCTION_WEIGHT, seed: int = 0) -> NeighbourBank:
    """A retrieval bank from training items (dicts as core.synth.dataset.load_item returns:
    speech, motion, seg_embeddings, seg_bounds). Every `stride`-th frame is kept (the window
    around it still uses all frames). Key = PCA of the weighted speech context (the 48 features
    at +-context frames) ++ instruction_weight * PCA of the frame's instruction embedding
    (cross-faded per frame, as the model reads it). A phone mismatch at the centre frame costs
    2 in squared distance, two unit instruction embeddings at cosine 0.5 cost about
    1.5² x 1 = 2.25: the instruction counts about as much as one phone."""
    from core.motion.conditioning import instruction_frames
    rng = np.random.default_rng(seed)
    ctx, ins, mot = [], [], []
    for it in items:
        n = len(it["motion"])
        keep = np.arange(int(rng.integers(stride)) if stride > 1 else 0, n, stride)
        ctx.append(context_window(it["speech"], context)[keep])
        emb = np.asarray(instruction_frames(it["seg_embeddings"], it["seg_bounds"], n, fps), np.float32)
        ins.append(emb[keep])
        mot.append(np.asarray(it["motion"], np.float32)[keep])
    ctx, ins, mot = np.concatenate(ctx), np.concatenate(ins), np.concatenate(mot)
    s_mean, s_proj = _pca(ctx, speech_dims, rng)
    i_mean, i_proj = _pca(ins, instruction_dims, rng)
    bank = NeighbourBank(np.zeros((0, 0), np.float32), np.zeros(0, np.float32), mot, s_mean, s_proj, i_mean, i_proj,
                         context, instruction_weight, fps)
    keys = np.concatenate([(ctx - s_mean) @ s_proj, instruction_weight * ((ins - i_mean) @ i_proj)], axis=1)
    bank.keys = np.ascontiguousarray(keys, np.float32)
    bank.key_norms = np.einsum("ij,ij->i", bank.keys, bank.keys)
    return bank


def nearest_indices(bank: NeighbourBank, queries: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Index of the nearest bank key (squared Euclidean, exact) for each query row."""
    out = np.empty(len(queries), np.int64)
    for a in range(0, len(queries), chunk):
        q = queries[a:a + chunk]
        d = bank.key_norms[None, :] - 2.0 * (q @ bank.keys.T)     # + |q|², the same for every key
        out[a:a + chunk] = np.argmin(d, axis=1)
    return out


def gaussian_smooth(data: np.ndarray, sigma: float) -> np.ndarray:
    """Per-channel Gaussian smoothing along time (edges repeated); sigma in frames, 0 = none."""
    data = np.asarray(data, np.float32)
    if sigma <= 0 or len(data) < 2:
        return data.copy()
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    padded = np.pad(data, ((r, r), (0, 0)), mode="edge")
    out = np.zeros_like(data)
    for j, w in enumerate(k):
        out += w * padded[j:j + len(data)]
    return out


def nearest_neighbour(bank: NeighbourBank, speech: np.ndarray, seg_embeddings: np.ndarray, seg_bounds: np.ndarray,
                      smooth_sigma: float = SMOOTH_SIGMA) -> FaceTrack:
    """Retrieval baseline: each frame copies the motion (55 channels) of the training frame with
    the nearest key, then the copy is smoothed with a Gaussian of `smooth_sigma` frames."""
    from core.motion.conditioning import instruction_frames
    n = len(speech)
    instruction = np.asarray(instruction_frames(np.asarray(seg_embeddings, np.float32), np.asarray(seg_bounds), n,
                                                bank.fps), np.float32)
    idx = nearest_indices(bank, bank.key(speech, instruction))
    data = gaussian_smooth(bank.motion[idx], smooth_sigma)
    data[:, :NUM_BLENDSHAPES] = np.clip(data[:, :NUM_BLENDSHAPES], 0.0, 1.0)
    return FaceTrack(bank.fps, data)


# --------------------------------------------------------------------------- seeds

def seed_spread(bundle, speech: np.ndarray, seg_embeddings: np.ndarray, seg_bounds: np.ndarray, target, rig: FaceRig,
                seeds: Sequence[int] = (0, 1, 2, 3), steps: int = 8, guidance: float = 2.0) -> dict:
    """How much samples differ between seeds while lip sync stays: the model generates the item
    once per seed; returns per-seed LVE against `target` and the mean absolute difference
    between every pair of seeds of the upper-face weights (eyes, brows, cheek squint, sneer),
    of the mouth and jaw weights, and of the head angles (degrees)."""
    from core.motion.generate import generate
    tracks, lve, seconds = [], [], []
    for s in seeds:
        t0 = time.perf_counter()
        tr = generate(bundle, speech, seg_embeddings, seg_bounds, steps=steps, guidance=guidance, seed=int(s))
        seconds.append(time.perf_counter() - t0)
        tracks.append(tr.data)
        lve.append(lip_vertex_error(rig, tr, target))
    pairs = list(combinations(range(len(tracks)), 2))

    def spread(channels: np.ndarray, scale: float = 1.0) -> float:
        if not pairs:
            return 0.0
        diffs = [np.abs(tracks[i][:, channels] - tracks[j][:, channels]).mean() for i, j in pairs]
        return float(np.mean(diffs) * scale)

    return {"seeds": [int(s) for s in seeds], "lve": lve, "upper_abs_diff": spread(UPPER_CHANNELS),
            "mouth_abs_diff": spread(MOUTH_CHANNELS), "head_abs_diff_deg": spread(HEAD_CHANNELS, 180.0 / np.pi),
            "seconds": seconds}


__all__ = ["HEAD_CHANNELS", "MM_PER_RIG_UNIT", "MOUTH_CHANNELS", "NeighbourBank", "Regions", "UPPER_CHANNELS",
           "aligner_inputs", "build_neighbour_bank", "context_window", "displacements", "gaussian_smooth",
           "lip_vertex_error", "nearest_indices", "nearest_neighbour", "regions", "seed_spread",
           "teacher_from_aligner", "upper_face_dynamics", "upper_face_dynamics_deviation"]
