"""Blinks, gaze and head motion of the teacher: plausible rates, accents move the head, seeded."""

import numpy as np

from core.arkit import INDEX
from core.synth.adherence import blink_stats
from core.synth.gestures import gestures
from core.synth.teacher import teacher_track


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


def test_teacher_blinks_like_a_speaking_person():
    """Issue 15: 12-26 blinks a minute while speaking, 100-400 ms each, both eyes together, even
    on takes full of short phrases (the teacher blinked 40 a minute on the training takes before
    it shared the use-time schedule, core.motion.articulation)."""
    phones, t = [("SIL", 0.0, 0.3)], 0.3
    rng = np.random.default_rng(0)
    while t < 170.0:                                     # phrases of 1-3 s, pauses of 0.3-0.8 s
        for _ in range(int(rng.integers(4, 12))):
            phones.append(("AH", t, t + 0.2))
            t += 0.2
        pause = float(rng.uniform(0.3, 0.8))
        phones.append(("SIL", t, t + pause))
        t += pause
    track = teacher_track(phones, [(0.0, t, "A person feels calm.")], t, seed=3)
    left, right = track.data[:, INDEX["eyeBlinkLeft"]], track.data[:, INDEX["eyeBlinkRight"]]
    np.testing.assert_array_equal(left, right)
    stats = blink_stats(track.data)
    assert 12 <= stats["blinks_per_minute"] <= 26, stats
    assert 100 <= stats["blink_ms_median"] <= 400, stats
