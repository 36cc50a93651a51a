"""The take-level decision of stage 1: joint decoding, calibration, the baseline, the calm wording."""

from __future__ import annotations

import numpy as np
import pytest

from core.instruct import Baseline, compose, make_writer, parse
from core.instruct.decode import FAMILY, posteriors, switch_costs, viterbi
from core.instruct.evidence import SegmentCues, decide, detected_sounds, intensity_for, voice_arousal, why_text
from core.instruct.scoring import Line, Written, family_hits, is_strong, neighbour_agreement, strong_share
from core.listen.asr import keep_segment, sound_kind
from core.project import EMOTIONS


def _scores(rows):
    out = np.zeros((len(rows), len(EMOTIONS)))
    for i, (emotion, value) in enumerate(rows):
        out[i, EMOTIONS.index(emotion)] = value
    return out


def test_viterbi_smooths_a_lone_flip_but_keeps_a_real_change():
    cost = switch_costs(2.0, 1.0)
    weak_flip = _scores([("happy", 3), ("happy", 3), ("angry", 1.0), ("happy", 3), ("happy", 3)])
    assert [EMOTIONS[k] for k in viterbi(weak_flip, cost)] == ["happy"] * 5
    change = _scores([("happy", 3), ("happy", 3), ("sad", 4), ("sad", 4), ("sad", 4)])
    assert [EMOTIONS[k] for k in viterbi(change, cost)] == ["happy", "happy", "sad", "sad", "sad"]
    post = posteriors(change, cost)
    assert np.allclose(post.sum(axis=1), 1.0) and post[0, EMOTIONS.index("happy")] > 0.5
    assert viterbi(np.zeros((0, 8)), cost) == []
    with pytest.raises(ValueError):
        viterbi(np.zeros((3, 5)), cost)


def test_within_family_changes_cost_less():
    cost = switch_costs(2.0, 1.0)
    a, c, h = EMOTIONS.index("angry"), EMOTIONS.index("contempt"), EMOTIONS.index("happy")
    assert FAMILY["angry"] == FAMILY["contempt"] and cost[a, c] < cost[a, h] and cost[a, a] == 0


def test_a_segment_without_evidence_follows_its_neighbours():
    words = np.full(8, 0.02)
    words[EMOTIONS.index("happy")] = 0.86
    loud = 1.5
    cues = [SegmentCues("Brilliant!", words, loud), SegmentCues("", None, None, ["laughter"]),
            SegmentCues("Excellent!", words, loud)]
    out = decide([{"kind": "speech"}, {"kind": "nonverbal"}, {"kind": "speech"}], cues)
    assert [d.emotion for d in out] == ["happy"] * 3
    assert out[0].intensity > out[1].intensity          # words and voice agree: stronger
    assert "words read happy" in why_text(out[0].reasons)
    # an emotion the words lean away from says how much of the words it has
    assert why_text({"emotion": "angry", "words": {"emotion": "sad", "p": 0.39, "p_chosen": 0.21}}) == \
        "words read sad (0.39; angry 0.21)"


def test_intensity_is_mild_unless_words_and_voice_agree():
    angry = np.full(8, 0.01)
    angry[EMOTIONS.index("angry")] = 0.93
    calm_voice = intensity_for("angry", SegmentCues("I hate this.", angry, -0.5), True, 0.9)
    loud_voice = intensity_for("angry", SegmentCues("I hate this!", angry, 2.0), True, 0.9)
    assert calm_voice < 0.3 <= loud_voice                # a calm voice saying angry words: mildly so
    assert intensity_for("neutral", SegmentCues("ok", None, 0.0), True, 0.9) <= 0.2
    assert intensity_for("angry", SegmentCues("", angry, 2.0), True, 0.4) <= 0.4    # the baseline's cap


def test_baseline_parse_and_effect():
    assert Baseline.parse(None).name == "auto" and Baseline.parse("calm").cap == 0.5
    assert Baseline.parse("mild").cap < 0.4 and Baseline.parse("joyful").emotion == "happy"
    with pytest.raises(ValueError, match="unknown baseline"):
        Baseline.parse("purple")
    w = make_writer("minilm")
    plain = [{"text": "Okay, see you tomorrow.", "prosody": {}}]
    assert w.write(plain)[0].emotion == "neutral"
    assert w.write(plain, "happy")[0].emotion == "happy"     # the take's default emotion
    assert w.reasons[0]["baseline"] == "happy"


def test_calm_reads_naturally_and_round_trips():
    text = compose("neutral", 0.2, None)
    assert text.startswith("A person feels calm and speaks with") and "neutral" not in text
    emotion, intensity, phrases = parse(text)
    assert emotion == "neutral" and compose(emotion, intensity, phrases) == text
    assert parse("A person feels mildly neutral.")[0] == "neutral"          # older projects still read


def test_sounds_and_voice_cues():
    assert sound_kind("(laughs)") == "laughter" and sound_kind("[sighs]") == "sigh" and sound_kind("[Music]") is None
    assert "laughter" in detected_sounds({"text": "Ha ha ha!", "prosody": {}})
    assert "laughter" in detected_sounds({"sounds": [{"kind": "laughter", "start": 0, "end": 1}]})
    assert "shout" in detected_sounds({"text": "Hey", "prosody": {"loudness_peak_db": 16.0, "pitch_level_st": 4.0}})
    assert "shout" not in detected_sounds({"text": "Hey", "prosody": {"loudness_peak_db": 10.0, "pitch_level_st": 0.0}})
    assert voice_arousal({"kind": "silence", "prosody": {}}) is None
    calm = voice_arousal({"prosody": {"loudness_db": 0.0, "loudness_peak_db": 10.0, "pitch_level_st": 0.0,
                                      "pitch_range_st": 9.0}})
    loud = voice_arousal({"prosody": {"loudness_db": 6.0, "loudness_peak_db": 15.0, "pitch_level_st": 4.0,
                                      "pitch_range_st": 14.0}})
    assert abs(calm) < 0.3 < 1.0 < loud


def test_whisper_segments_kept_when_their_words_are_clear():
    assert keep_segment(0.76, -0.9, [0.9, 0.8])          # a short, loud, acted line
    assert not keep_segment(0.76, -0.9, [0.2, 0.3])      # uncertain words on noise
    assert keep_segment(0.1, -2.0, [])


def test_scoring_measures():
    lines = [Line(0, 2, "calm"), Line(2.5, 4, "calm")]
    w = [Written(0, 2.2, "angry", 0.5), Written(2.2, 4.2, "neutral", 0.2)]
    strong, total = strong_share(w, lines)
    assert strong == pytest.approx(2.0) and total == pytest.approx(3.5)
    assert neighbour_agreement(w, lines) == (0, 1)
    assert family_hits(w, [Line(0, 2, "hostile"), Line(2.5, 4, "calm")]) == (2, 2)
    assert is_strong("sad", 0.3) and not is_strong("happy", 0.5) and is_strong("surprised", 0.6)


def test_a_fragment_is_read_with_its_neighbours_words():
    """A segment of a few words is a piece of a sentence: the text model also reads it with the
    words either side; a whole sentence stands on its own, so a real change still shows."""
    from core.instruct.evidence import gather
    from core.instruct.text_emotion import text_emotion_probabilities

    def seg(text, previous="", following=""):
        return {"kind": "speech", "text": text, "context": {"previous": previous, "next": following}}
    threat = ["I'm going to find you and", "the team", "will pay for what you did to us!"]
    cues = gather([seg(threat[0], "", "the team will pay"), seg(threat[1], threat[0], threat[2]),
                   seg(threat[2], "the team", "")], True)
    alone = text_emotion_probabilities(["the team"])[0]
    angry = EMOTIONS.index("angry")
    assert cues[1].with_neighbours and cues[1].words[angry] > 2 * alone[angry]
    assert "with the neighbours' words" in why_text(decide([seg(t) for t in threat], cues)[1].reasons)
    happy = "We won the whole championship, this is the best day of my life!"
    angry_line = "How dare you lie to me, get out of my house right now!"
    cues = gather([seg(happy, "", angry_line), seg(angry_line, happy, "")], True)
    assert not cues[0].with_neighbours and not cues[1].with_neighbours
    assert [d.emotion for d in decide([seg(happy), seg(angry_line)], cues)] == ["happy", "angry"]


def test_letters_digits_and_function_words_say_no_emotion():
    """Whisper's English for a syllable drill is letters or one small word over and over ("F, F,
    F, G", "the, the, the"), for counting digits: the text model, far from what it learned, spread
    its probability and the rarer emotions' likelihood ratios won (a calm Spanish drill read
    disgusted throughout). Such a segment is read as having no words; a word that says something
    ("No!") still counts."""
    from core.instruct.evidence import gather, says_something
    drill = ["F, F, F, F, F, G,", "G, G, G, G, G, G,", "the, the, the, the, the, the,", "1, 2, 3, 4, 5, 6,"]
    assert not any(says_something(t) for t in drill)
    assert says_something("No! No!") and says_something("ба, бе") and says_something("Ah, ah")
    evidence = [{"kind": "speech", "text": t} for t in drill]
    cues = gather(evidence, True)
    assert all(c.words is None for c in cues)
    assert [d.emotion for d in decide(evidence, cues)] == ["neutral"] * len(drill)
