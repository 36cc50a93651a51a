"""The expression part of the procedural teacher: instructions to FACS action units to ARKit.

Each facial-action phrase of the instruction vocabulary (core.instruct.wording.ACTIONS, keyed
by its FACS action units) has an ARKit pattern at full degree; an instruction's emotion adds
its prototypical actions (wording.VOCABULARY) at its intensity, and the phrases it names add
theirs at their own degree. Over a segment the expression rises (onset), holds (apex) and
eases into the next segment's, so instructions change smoothly across boundaries.
"""

from __future__ import annotations

import numpy as np

from core.arkit import INDEX, NUM_BLENDSHAPES
from core.instruct.wording import VOCABULARY, parse
from core.motion.conditioning import ramp

BOTH = ("Left", "Right")


def _sym(**weights: float) -> dict[str, float]:
    """Expand names ending in '_' to their Left and Right channels."""
    out: dict[str, float] = {}
    for name, w in weights.items():
        if name.endswith("_"):
            for side in BOTH:
                out[name[:-1] + side] = w
        else:
            out[name] = w
    return out


# ARKit weights of each facial action at full degree (FACS action unit -> ARKit shapes).
ACTION_ARKIT: dict[str, dict[str, float]] = {
    "brows_raised": _sym(browInnerUp=0.8, browOuterUp_=0.8),                      # AU1+AU2
    "inner_brows_raised": _sym(browInnerUp=0.9, browOuterUp_=0.1),               # AU1
    "brows_lowered": _sym(browDown_=0.8),                                        # AU4
    "brows_drawn": _sym(browDown_=0.5, browInnerUp=0.25),                        # AU4 (knit)
    "eyes_widened": _sym(eyeWide_=0.8),                                          # AU5
    "eyes_narrowed": _sym(eyeSquint_=0.7, cheekSquint_=0.15),                    # AU7
    "lids_drooping": _sym(eyeBlink_=0.35, eyeLookDown_=0.15),                    # AU41/43
    "cheeks_lifted": _sym(cheekSquint_=0.7, eyeSquint_=0.25),                    # AU6
    "corners_up": _sym(mouthSmile_=0.8),                                         # AU12
    "corners_down": _sym(mouthFrown_=0.8),                                       # AU15
    "one_corner_raised": {"mouthSmileRight": 0.45, "mouthDimpleRight": 0.55},   # R-AU12+R-AU14
    "lips_pressed": _sym(mouthPress_=0.8),                                       # AU24
    "lips_tightened": _sym(mouthPress_=0.35, mouthRollLower=0.2, mouthRollUpper=0.2),  # AU23
    "lips_stretched": _sym(mouthStretch_=0.8),                                   # AU20
    "lips_pursed": _sym(mouthPucker=0.7),                                        # AU18
    "lips_parted": _sym(jawOpen=0.06, mouthLowerDown_=0.2),                      # AU25
    "nose_wrinkled": _sym(noseSneer_=0.8, cheekSquint_=0.2),                     # AU9
    "upper_lip_raised": _sym(mouthUpperUp_=0.7),                                 # AU10
    "jaw_dropped": _sym(jawOpen=0.3),                                            # AU26
    "chin_raised": _sym(mouthShrugLower=0.7, mouthShrugUpper=0.2),               # AU17
    "face_relaxed": {},
    "gaze_steady": {},
}
# Head posture per emotion: pitch (down +), radians, at full intensity.
HEAD_PITCH = {"neutral": 0.0, "happy": -0.03, "sad": 0.12, "angry": 0.05, "surprised": -0.08,
              "fearful": 0.04, "disgusted": -0.02, "contempt": -0.06}


def expression_vector(instruction: str) -> tuple[np.ndarray, float]:
    """52 ARKit weights and a head pitch offset for one instruction text."""
    emotion, intensity, phrases = parse(instruction)
    vec = np.zeros(NUM_BLENDSHAPES, np.float64)
    named = {p.action for p in phrases}
    # The emotion's prototype (its two most typical actions), unless the text names them.
    for rank, action in enumerate(VOCABULARY[emotion][:2]):
        if action not in named:
            _add(vec, action, max(0.0, intensity - 0.15 * rank))
    for p in phrases:
        _add(vec, p.action, p.degree)
    return np.clip(vec, 0.0, 1.0), HEAD_PITCH[emotion] * intensity


def _add(vec: np.ndarray, action: str, degree: float) -> None:
    for name, w in ACTION_ARKIT[action].items():
        vec[INDEX[name]] = max(vec[INDEX[name]], w * degree)


def expression_weights(segments: list[tuple[float, float, str]], frames: int, fps: float,
                       ease: float = 0.35) -> tuple[np.ndarray, np.ndarray]:
    """(frames, 52) expression weights and (frames,) head pitch offsets for timed instructions.

    segments: [(start, end, instruction text)] tiling the take. Between neighbours the
    expression cross-fades over `ease` seconds around the boundary; the first rises from
    neutral and the last returns to it.
    """
    t = (np.arange(frames) + 0.5) / fps
    weights = np.zeros((frames, NUM_BLENDSHAPES), np.float64)
    pitch = np.zeros(frames)
    cover = np.zeros(frames)
    for k, (start, end, text) in enumerate(segments):
        vec, head = expression_vector(text)
        rise = ramp(t, start - ease / 2, start + ease / 2) if k > 0 else ramp(t, start, start + ease)
        fall = 1 - ramp(t, end - ease / 2, end + ease / 2) if k < len(segments) - 1 else 1 - ramp(t, end - ease, end)
        env = rise * fall
        weights += env[:, None] * vec[None, :]
        pitch += env * head
        cover += env
    # Where neighbours overlap their envelopes sum to one; elsewhere the face eases to rest.
    scale = np.maximum(cover, 1.0)
    return (weights / scale[:, None]).astype(np.float32), (pitch / scale).astype(np.float32)
