"""eSpeak NG through ctypes: audio with phoneme and word timings, voice and prosody settings."""

import numpy as np
import pytest

from core.espeak import Espeak, EspeakError


@pytest.fixture(scope="module")
def speaker():
    return Espeak()


def f0_median(x, rate):
    """Median pitch by autocorrelation over voiced 40 ms frames."""
    n = int(0.04 * rate)
    lags = np.arange(int(rate / 400), int(rate / 60))
    f0 = []
    for a in range(0, len(x) - n, n):
        frame = x[a:a + n] - x[a:a + n].mean()
        if np.sqrt(np.mean(frame ** 2)) < 0.05:
            continue
        ac = np.correlate(frame, frame, "full")[n - 1:]
        lag = lags[np.argmax(ac[lags])]
        if ac[lag] > 0.5 * ac[0]:
            f0.append(rate / lag)
    return float(np.median(f0))


def test_phonemes_and_words_are_timed(speaker):
    u = speaker.say("Hello there, my friend.", voice="en-us", rate=170)
    assert u.sample_rate == 22050 and 1.0 < u.duration < 3.0 and np.abs(u.samples).max() > 0.1
    assert [w for w, *_ in u.words] == ["Hello", "there", "my", "friend"]
    starts = [s for _, s, _ in u.phonemes]
    assert starts == sorted(starts) and all(e > s for _, s, e in u.phonemes)
    # The /m/ of "my" is inside the word "my".
    _, w0, w1 = u.words[2]
    assert any(name == "m" and w0 - 0.02 <= s < w1 for name, s, _ in u.phonemes)


def test_rate_and_pitch_settings(speaker):
    text = "The quick brown fox jumps over the lazy dog."
    slow = speaker.say(text, rate=120)
    fast = speaker.say(text, rate=260)
    assert fast.duration < 0.7 * slow.duration
    low = speaker.say(text, pitch=20)
    high = speaker.say(text, pitch=80)
    assert f0_median(high.samples, high.sample_rate) > 1.2 * f0_median(low.samples, low.sample_rate)


def test_unknown_voice(speaker):
    with pytest.raises(EspeakError, match="unknown eSpeak voice"):
        speaker.say("hi", voice="no-such-voice")
