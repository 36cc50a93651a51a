"""Speech + per-segment instructions -> FaceTrack, and regenerating one segment by inpainting.

    bundle = load_motion_model("resources/motion/model.safetensors")
    track = generate(bundle, speech, seg_embeddings, seg_bounds, steps=8, guidance=2.0, seed=0)
    track = regenerate_segment(bundle, track, speech, new_embeddings, seg_bounds, index=2, seed=7)

speech is (T, 48) from core.motion.features at the model's fps; seg_embeddings (S, 768) are
the MiniLM embeddings of each segment's instruction and seg_bounds (S, 2) their frame ranges
[start, end). `callback(step, steps)` is the sampler's: progress, and cancellation by raising.
Sampled motion gets the take's blinks and sealed bilabials (core.motion.articulation).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from core.arkit import NUM_BLENDSHAPES
from core.motion.articulation import articulate
from core.motion.checkpoint import MotionBundle
from core.motion.conditioning import instruction_frames
from core.motion.sampler import sample
from core.motion.text import EMBEDDING_SIZE, SENTENCE_SIZE, sentence_part
from core.track import FaceTrack

Callback = Callable[[int, int], None]


def instruction_track(bundle: MotionBundle, seg_embeddings: np.ndarray, seg_bounds: np.ndarray,
                      frames: int) -> np.ndarray:
    """(frames, E) per-frame instruction embedding, cross-faded at segment boundaries."""
    if len(seg_embeddings) == 0:
        return np.broadcast_to(bundle.null_instruction, (frames, bundle.null_instruction.shape[0])).copy()
    seg_embeddings = np.asarray(seg_embeddings, np.float32)
    wanted = bundle.config.instruction_features
    if seg_embeddings.shape[1] != wanted:
        if wanted != SENTENCE_SIZE or seg_embeddings.shape[1] != EMBEDDING_SIZE:
            raise ValueError(f"the motion model reads {wanted}-d instruction embeddings, "
                             f"got {seg_embeddings.shape[1]}-d")
        seg_embeddings = sentence_part(seg_embeddings)      # a model trained before the word half
    return np.asarray(instruction_frames(seg_embeddings, np.asarray(seg_bounds), frames, bundle.fps), np.float32)


def finish_motion(data: np.ndarray) -> np.ndarray:
    data = np.array(data, np.float32)
    data[:, :NUM_BLENDSHAPES] = np.clip(data[:, :NUM_BLENDSHAPES], 0.0, 1.0)
    return data


def generate(bundle: MotionBundle, speech: np.ndarray, seg_embeddings: np.ndarray, seg_bounds: np.ndarray, *,
             steps: int = 8, guidance: float = 2.0, seed: int = 0, callback: Callback | None = None) -> FaceTrack:
    """A whole take: one sampler run over every frame."""
    speech = np.asarray(speech, np.float32)
    instruction = instruction_track(bundle, seg_embeddings, seg_bounds, len(speech))
    motion = sample(bundle.model, speech, instruction, bundle.null_instruction, steps=steps, guidance=guidance,
                    seed=seed, callback=callback)
    return FaceTrack(bundle.fps, articulate(finish_motion(bundle.normalisation.denormalise(motion)), speech, bundle.fps))


def join_edges(inner: np.ndarray, before: np.ndarray, after: np.ndarray, blend: int) -> np.ndarray:
    """Offset the regenerated frames `inner` so they continue the kept motion at both edges.

    before: up to two kept frames just before the segment (oldest first), after: up to two
    just after it (nearest first). The first regenerated frame is moved onto the linear
    continuation of `before`, the last onto that of `after`; each offset fades out over
    `blend` frames inside the segment (smoothstep), so the edge steps are the kept motion's
    own frame-to-frame steps. With a well-trained model the offsets are small.
    """
    out = np.array(inner, np.float32)
    n = len(out)
    if n == 0 or (len(before) == 0 and len(after) == 0):
        return out
    span = max(1, min(blend, n))
    u = np.clip(np.arange(n) / span, 0.0, 1.0)
    a = (1.0 - u * u * (3.0 - 2.0 * u)).astype(np.float32)   # 1 at the first frame, 0 from `span` on
    b = a[::-1].copy()                                         # 1 at the last frame
    target_l = 2 * before[-1] - before[-2] if len(before) >= 2 else before[-1] if len(before) else None
    target_r = 2 * after[0] - after[1] if len(after) >= 2 else after[0] if len(after) else None
    if target_l is not None and target_r is not None:
        if n == 1:
            out[0] = 0.5 * (target_l + target_r)
            return out
        rl, rr = target_l - out[0], target_r - out[-1]
        det = 1.0 - b[0] * a[-1]
        dl = (rl - b[0] * rr) / det
        dr = (rr - a[-1] * rl) / det
        return out + a[:, None] * dl + b[:, None] * dr
    if target_l is not None:
        return out + a[:, None] * (target_l - out[0])
    return out + b[:, None] * (target_r - out[-1])


def regenerate_segment(bundle: MotionBundle, track: FaceTrack, speech: np.ndarray, seg_embeddings: np.ndarray,
                       seg_bounds: np.ndarray, index: int, **kw) -> FaceTrack:
    """A new track where only frames [start, end) of segment `index` changed (see regenerate_frames)."""
    start, end = (int(v) for v in np.asarray(seg_bounds)[index])
    return regenerate_frames(bundle, track, speech, seg_embeddings, seg_bounds, start, end, **kw)


def regenerate_frames(bundle: MotionBundle, track: FaceTrack, speech: np.ndarray, seg_embeddings: np.ndarray,
                      seg_bounds: np.ndarray, start: int, end: int, *, seed: int = 0, steps: int = 8,
                      guidance: float = 2.0, margin_s: float = 0.5, blend_s: float = 0.5,
                      callback: Callback | None = None) -> FaceTrack:
    """A new track where only frames [start, end) changed, under the segments' instructions.

    The sampler runs on [start - margin, end + margin) only, with the frames outside the range
    held to the current track (inpainting), so the model sees the motion it must join; frames
    outside the range are copied, bitwise, from `track`.
    """
    speech = np.asarray(speech, np.float32)
    frames = track.frames
    if len(speech) != frames:
        raise ValueError(f"speech has {len(speech)} frames, the track {frames}")
    if abs(track.fps - bundle.fps) > 1e-6:
        raise ValueError(f"the track runs at {track.fps} fps, the model at {bundle.fps}")
    start, end = max(0, int(start)), min(frames, int(end))
    if end <= start:
        return FaceTrack(track.fps, track.data.copy())
    margin = int(round(margin_s * bundle.fps))
    lo, hi = max(0, start - margin), min(frames, end + margin)
    instruction = instruction_track(bundle, seg_embeddings, seg_bounds, frames)[lo:hi]
    keep = np.ones(hi - lo, bool)
    keep[start - lo:end - lo] = False
    known = bundle.normalisation.normalise(track.data[lo:hi])
    motion = sample(bundle.model, speech[lo:hi], instruction, bundle.null_instruction, steps=steps,
                    guidance=guidance, seed=seed, known=known, keep=keep, callback=callback)
    inner = articulate(finish_motion(bundle.normalisation.denormalise(motion[start - lo:end - lo])), speech, bundle.fps,
                       start)
    # joined after the blinks and lip seals, so the edges continue the kept frames whatever they hold
    inner = join_edges(inner, track.data[max(0, start - 2):start], track.data[end:end + 2],
                       int(round(blend_s * bundle.fps)))
    data = track.data.copy()
    data[start:end] = finish_motion(inner)
    return FaceTrack(track.fps, data)
