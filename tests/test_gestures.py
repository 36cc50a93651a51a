"""Blinks, gaze and head motion of the teacher: plausible rates, accents move the head, seeded."""

import numpy as np

from core.arkit import INDEX
from core.synth.gestures import gestures


def test_blinks_and_head_follow_accents():
    fps, frames = 30.0, 600
    pitch = np.zeros(frames)
    loud = np.full(frames, 0.5)
    pitch[300:312] = 6.0          # a pitch accent at 10 s
    loud[300:312] = 1.0
    g = gestures(frames, fps, pitch, loud, seed=1)
    blink = g[:, INDEX["eyeBlinkLeft"]]
    onsets = np.flatnonzero((blink[1:] > 0.5) & (blink[:-1] <= 0.5))
    assert 3 <= len(onsets) <= 12                       # every 2-6 s over 20 s
    head_pitch = g[:, 52]
    assert head_pitch[295:325].max() > 3 * np.abs(head_pitch[100:200]).max() + 1e-3
    assert g[:, INDEX["browInnerUp"]][295:320].max() > 0.1
    assert np.abs(np.diff(g[:, 52:], axis=0)).max() < 0.02      # smooth head, radians per frame


def test_seeds_vary_the_motion():
    pitch, loud = np.zeros(300), np.full(300, 0.5)
    a, b = gestures(300, 30.0, pitch, loud, seed=1), gestures(300, 30.0, pitch, loud, seed=2)
    assert np.abs(a - b).mean() > 1e-3
    np.testing.assert_array_equal(a, gestures(300, 30.0, pitch, loud, seed=1))
