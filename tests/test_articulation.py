"""Blinks on a person's schedule and lips that seal on /p b m/ (core.motion.articulation), on made-up
speech features with known pauses and phones, on the built-in head, and on real speech through the
shipped model."""

import numpy as np
import pytest

from core.arkit import INDEX, NUM_CHANNELS
from core.audio import load_audio
from core.instruct import make_writer
from core.motion import articulation as A
from core.motion.features import NUM_FEATURES, PHONE_INDEX, PHONES
from core.pipeline import animate, listen_and_instruct, make_project
from core.synth.adherence import BILABIALS, VOWELS, blinks, lip_gap_basis, lip_gap_mm, lip_sync
from tests.conftest import cut_speech

FPS = 30.0
BLINK = [INDEX["eyeBlinkLeft"], INDEX["eyeBlinkRight"]]


def features(seconds: float = 60.0, phrase_s: float = 3.0, pause_s: float = 0.6, phones=("AA", "M", "IY", "B")):
    """Speech features of a take of phrases and pauses, each phrase cycling through `phones`."""
    n = int(seconds * FPS)
    x = np.zeros((n, NUM_FEATURES), np.float32)
    period = int((phrase_s + pause_s) * FPS)
    labels = []
    for i in range(n):
        speaking = i % period < phrase_s * FPS
        phone = phones[(i // 3) % len(phones)] if speaking else "SIL"
        x[i, PHONE_INDEX[phone]] = 1.0
        x[i, A.SPEECH_COLUMN] = float(speaking)
        labels.append(phone)
    return x, np.array(labels, object)


def test_blinks_come_as_a_speaking_persons_do():
    speech, _ = features()
    closure = A.take_blinks(speech, FPS)
    found = blinks(closure)
    assert 12 <= len(found) <= 26                                  # a minute of speech
    assert all(closure[p] == 1.0 for _, p, _ in found)             # the lids close fully
    lengths = [(b - a) / FPS for a, _, b in found]
    assert 0.1 <= min(lengths) and max(lengths) <= 0.4, lengths
    closing = sum(p - a for a, p, _ in found)
    opening = sum(b - p for _, p, b in found)
    assert closing < opening                                        # fast close, slower open
    # more at pauses: most pause onsets have a blink within 0.3 s
    pauses = A.pause_onsets(speech[:, A.SPEECH_COLUMN], FPS)
    near = [any(0 <= (a / FPS) - t <= 0.3 for a, _, _ in found) for t in pauses]
    assert np.mean(near) >= 0.5
    np.testing.assert_array_equal(closure, A.take_blinks(speech, FPS))      # a property of the take


def test_blinks_replace_the_models_own_and_keep_its_eyelid_level():
    speech, _ = features(20.0)
    rows = np.zeros((len(speech), NUM_CHANNELS), np.float32)
    rows[:, BLINK] = 0.3                                          # a droop, as "eyelids drooping" gives
    rows[100:104, BLINK] = 1.0                                    # a blink of the model's own
    out = A.articulate(rows, speech, FPS)
    np.testing.assert_array_equal(out[:, BLINK[0]], out[:, BLINK[1]])       # both eyes together
    closure = A.take_blinks(speech, FPS)
    calm = closure < 1e-6
    np.testing.assert_allclose(out[calm, BLINK[0]], 0.3, atol=1e-6)         # the droop stays, its blink goes
    assert out[closure == 1.0, BLINK[0]].min() == pytest.approx(1.0)


def test_regenerated_rows_get_the_same_blinks_as_the_whole_take():
    speech, _ = features(20.0)
    rows = np.full((len(speech), NUM_CHANNELS), 0.1, np.float32)
    whole = A.articulate(rows, speech, FPS)
    part = A.articulate(rows[200:400], speech, FPS, start=200)
    np.testing.assert_allclose(part, whole[200:400], atol=1e-7)


def test_lips_meet_on_bilabials_whatever_the_model_did(head):
    speech, labels = features(10.0)
    rows = np.zeros((len(speech), NUM_CHANNELS), np.float32)
    for name, value in (("jawOpen", 0.45), ("mouthFunnel", 0.4), ("mouthLowerDownLeft", 0.5),
                        ("mouthLowerDownRight", 0.5), ("mouthUpperUpLeft", 0.3), ("mouthUpperUpRight", 0.3)):
        rows[:, INDEX[name]] = value
    out = A.articulate(rows, speech, FPS)
    gap = lip_gap_mm(out, basis=lip_gap_basis(head))
    bilabial = np.isin(labels, BILABIALS)
    assert bilabial.sum() > 50 and gap[bilabial].max() < 0.5
    assert gap[np.isin(labels, ("AA", "IY"))].min() > 10                   # vowels stay open
    np.testing.assert_array_equal(out[:, INDEX["jawOpen"]], rows[:, INDEX["jawOpen"]])   # the jaw is the model's


@pytest.fixture(scope="module")
def real(shipped_model, tmp_path_factory):
    """30 s of real telephone speech animated by the shipped model, with the aligner's phones per frame."""
    audio = load_audio(cut_speech(tmp_path_factory.mktemp("speech"), 30))
    project = make_project(audio, listen_and_instruct(audio, writer=make_writer("rules")), shipped_model.fps)
    track = animate(project, shipped_model)
    labels = np.array(PHONES, object)[np.argmax(project.speech_features[:, :len(PHONES)], axis=1)]
    return track, project.speech_features, labels


def test_on_real_speech_blinks_and_lips_are_a_persons(real, head):
    track, speech, labels = real
    found = blinks(track.data[:, BLINK].mean(axis=1))
    assert all(0.1 <= (b - a) / FPS <= 0.4 for a, _, b in found)
    loud = speech[:, len(PHONES) + 2] * 20.0
    s = lip_sync(track.data, labels, loud, speech[:, A.SPEECH_COLUMN] > 0.5, rig=head)
    assert s["bilabial_frames"] >= 10 and np.isin(labels, VOWELS).sum() > 200
    assert s["bilabial_closed"] >= 0.9 and s["vowel_closed"] <= 0.1, s
    assert s["jaw_loudness_r"] >= 0.5, s
    assert 12 <= s["blinks_per_minute"] <= 26, s
