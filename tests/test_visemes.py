"""The lip teacher: bilabials close the lips, open vowels open the jaw, motion stays smooth."""

import numpy as np

from core.arkit import INDEX
from core.espeak import Espeak
from core.synth.phonemes import to_arpabet
from core.synth.visemes import PHONES, lip_weights


def phones_of(text):
    u = Espeak().say(text, rate=150)
    phones = [(to_arpabet(n), s, e) for n, s, e in u.phonemes]
    return [p for p in phones if p[0] is not None], u.duration


def test_bilabials_close_and_vowels_open():
    phones, duration = phones_of("Bob bought a map, mama.")
    fps = 60.0
    w = lip_weights(phones, int(duration * fps), fps)
    jaw, press = w[:, INDEX["jawOpen"]], w[:, INDEX["mouthPressLeft"]]
    def centre(s, e):
        return min(int((s + e) / 2 * fps), len(w) - 1)
    bilabial = [centre(s, e) for p, s, e in phones if p in ("B", "P", "M")]
    open_vowels = [centre(s, e) for p, s, e in phones if p in ("AA", "AO", "AE")]
    assert len(bilabial) >= 5 and len(open_vowels) >= 3
    assert jaw[bilabial].max() < 0.12 and press[bilabial].min() > 0.25
    assert jaw[open_vowels].min() > 0.25
    assert 0 <= w.min() and w.max() <= 1
    assert np.abs(np.diff(w, axis=0)).max() < 0.35     # no jumps between frames at 60 fps


def test_loudness_scales_the_jaw():
    phones, duration = phones_of("Ah ha.")
    frames = int(duration * 30)
    soft = lip_weights(phones, frames, 30.0, np.zeros(frames))[:, INDEX["jawOpen"]]
    loud = lip_weights(phones, frames, 30.0, np.ones(frames))[:, INDEX["jawOpen"]]
    assert loud.max() > 1.8 * soft.max()


def test_espeak_phonemes_all_map():
    phones, _ = phones_of("Measure the vision of the azure rouge; Hawaii, orange, oil, coin, joy, bird.")
    assert all(p in PHONES for p, _, _ in phones)
