"""Speech features for the motion model, from the real listener on synthesised speech."""

import io

import numpy as np
import soundfile as sf

from core.audio import decode_audio
from core.listen import listen
from core.motion.features import NUM_FEATURES, PHONE_INDEX, PHONES, speech_features
from core.motion.model import MotionConfig
from core.espeak import Espeak


def test_features_from_the_listener():
    u = Espeak().say("Maybe we should buy more bread.", rate=150)
    buf = io.BytesIO()
    sf.write(buf, u.samples, u.sample_rate, format="WAV")
    analysis = listen(decode_audio(buf.getvalue(), "u.wav"), script="Maybe we should buy more bread.")
    x = speech_features(analysis, 30.0)
    assert x.shape == (round(analysis.duration * 30), NUM_FEATURES) == (x.shape[0], MotionConfig().speech_features)
    assert np.allclose(x[:, :len(PHONES)].sum(axis=1), 1.0)               # exactly one phone per frame
    bilabial = x[:, [PHONE_INDEX["M"], PHONE_INDEX["B"]]].sum(axis=1) > 0
    assert bilabial.sum() >= 3                                              # maybe, buy, bread
    assert x[:, len(PHONES) + 1].max() == 1.0 and x[:, len(PHONES) + 7].sum() >= 5   # voicing, word onsets
    assert np.isfinite(x).all() and np.abs(x).max() < 5
