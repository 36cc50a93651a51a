"""The expression teacher: instructions drive the right ARKit shapes, and change smoothly."""

import numpy as np
import pytest

from core.arkit import INDEX
from core.instruct.wording import compose
from core.synth.expression import ACTION_ARKIT, expression_vector, expression_weights
from core.instruct.wording import ACTIONS


def w(vec, name):
    return vec[INDEX[name]]


def test_every_action_has_an_arkit_pattern():
    assert set(ACTION_ARKIT) == set(ACTIONS)


@pytest.mark.parametrize("emotion,shape", [("happy", "mouthSmileLeft"), ("sad", "browInnerUp"),
                                           ("angry", "browDownLeft"), ("surprised", "eyeWideRight"),
                                           ("disgusted", "noseSneerLeft"), ("contempt", "mouthDimpleRight"),
                                           ("fearful", "eyeWideLeft")])
def test_emotions_drive_their_prototype(emotion, shape):
    strong, _ = expression_vector(compose(emotion, 0.9))
    weak, _ = expression_vector(compose(emotion, 0.1))
    assert w(strong, shape) > 0.4 and w(strong, shape) > 2 * w(weak, shape)


def test_named_phrases_add_their_action():
    vec, _ = expression_vector("A person feels mildly neutral and speaks with brows strongly raised.")
    assert w(vec, "browOuterUpLeft") > 0.5 and w(vec, "mouthSmileLeft") == 0
    plain, _ = expression_vector("A person feels mildly neutral.")
    assert w(plain, "browOuterUpLeft") == 0


def test_segments_cross_fade_without_jumps():
    fps = 30.0
    segs = [(0.0, 2.0, compose("happy", 0.9)), (2.0, 4.0, compose("angry", 0.9))]
    weights, pitch = expression_weights(segs, 120, fps)
    smile, frown_brow = weights[:, INDEX["mouthSmileLeft"]], weights[:, INDEX["browDownLeft"]]
    assert smile[30] > 0.6 and smile[90] < 0.05
    assert frown_brow[90] > 0.6 and frown_brow[30] < 0.05
    assert np.abs(np.diff(weights, axis=0)).max() < 0.15    # eased, never a jump
    assert weights.max() <= 1.0 and pitch[90] > pitch[30]   # angry tips the head down
