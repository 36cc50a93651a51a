"""The whole teacher on synthesised speech: lips close on bilabials, the instruction shows."""

import numpy as np

from core.arkit import INDEX
from core.instruct.wording import compose
from core.espeak import Espeak
from core.synth.phonemes import to_arpabet
from core.synth.teacher import teacher_track


def test_teacher_on_speech():
    u = Espeak().say("Maybe we should buy more bread.", rate=160)
    phones = [(to_arpabet(n), s, e) for n, s, e in u.phonemes if to_arpabet(n)]
    half = u.duration / 2
    segs = [(0.0, half, compose("happy", 0.9)), (half, u.duration, compose("surprised", 0.9))]
    track = teacher_track(phones, segs, u.duration, fps=30.0, seed=3)
    w = track.weights
    assert track.frames == round(u.duration * 30) and w.min() >= 0 and w.max() <= 1
    from core.synth.adherence import lip_gap_mm
    gap = lip_gap_mm(track.data)                      # mm between the lips on the preview rig
    for p, s, e in phones:
        if p in ("M", "B"):
            i = int((s + e) / 2 * 30)
            assert w[i, INDEX["jawOpen"]] < 0.12, (p, s)
            assert gap[i] < 1.0, (p, s, gap[i])          # the lips meet (within a millimetre)
    assert gap.max() > 8.0                            # and open between
    early, late = int(0.6 * half * 30), int((half + 0.6 * half) * 30)
    assert w[early, INDEX["mouthSmileLeft"]] > 0.5
    assert w[late, INDEX["eyeWideLeft"]] > 0.5 and w[late, INDEX["browOuterUpLeft"]] > 0.5
    assert np.isfinite(track.data).all()
