"""From a take's evidence to its emotions: what is said, how it is said, and what came before.

Every writer ends here (InstructionWriter.write): per segment, log-scores over the eight MEAD
emotions are summed from
- the words: the text emotion classifier (core.instruct.text_emotion) on the segment's words (a
  fragment's also joined with its neighbours' words), or for the rules writer its lexicon on the
  segment's words alone, as a likelihood ratio against the prior, so a text that says nothing in
  particular adds nothing;
- the voice: arousal relative to the speaker (louder, higher, wider, faster than their own usual)
  and in absolute terms (pitch range of the phrase), calibrated on real calm speech (`VOICE`), which
  favours the aroused emotions (angry, happy, surprised, fearful) or the quiet ones (sad, calm);
- sounds without words the listener heard (laughter, sighs, sobs, screams, gasps; shouts from the
  loudness), each pointing at the emotions it carries;
- the writer's own model (a language model's calibrated label scores, an endpoint's answer);
- the take-wide baseline the user chose (`Baseline`): calm by default.
The take is then decoded jointly (core.instruct.decode): an emotion persists unless a segment's
evidence outweighs the switching cost, and a segment without words or strong vocal cues follows its
neighbours. Intensity follows the strength of the evidence: mild unless the words and the voice
agree. Each segment's reasons are returned for the studio's inspector.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from core.instruct.decode import FAMILY, NEGATIVE, posteriors, switch_costs, viterbi
from core.project import EMOTIONS

HIGH_AROUSAL = {"angry": 1.0, "happy": 0.7, "surprised": 0.8, "fearful": 0.9, "disgusted": 0.2,
                "contempt": -0.1, "sad": -0.5, "neutral": -0.6}


@dataclass
class Weights:
    """How much each kind of evidence counts (log domain); tuned on the real-speech development
    set's tuning part (benchmarks/bench_instruct.py --tune), never on its held-out part."""
    text: float = 0.7           # x log(p(e | words) / prior(e))
    voice: float = 0.4          # x arousal x HIGH_AROUSAL[e]
    sounds: float = 0.8         # per detected sound
    model: float = 0.25         # x the writer's own scores (the language model's head, log p/prior)
    calm_prior: float = 0.5     # added to neutral in every segment
    switch: float = 3.0         # cost of changing family between neighbouring segments
    switch_within: float = 1.0  # cost of changing emotion inside a family


WEIGHTS = Weights()

# Voice arousal: z = sum(weight * (feature - calm median) / calm spread) / sum(weight), from the
# listener's prosody (relative features are already relative to the speaker's own take).
VOICE = {
    # feature: (calm median, calm spread, weight); measured on the 153 calm segments of the tuning
    # part (spread = interquartile range / 1.35); the acted lines' medians are given for contrast
    "loudness_db": (-0.3, 3.2, 0.2),          # acted 0.0 (relative to the speaker, as calm)
    "loudness_peak_db": (9.9, 1.5, 0.35),     # acted 14.1: shouted peaks
    "pitch_level_st": (0.0, 1.5, 0.2),        # acted 0.0
    "pitch_range_st": (9.3, 2.4, 0.3),        # acted 10.5
    "rate_relative": (1.0, 0.15, 0.1),        # acted 1.0
}

FRAGMENT_WORDS = 6      # a segment of fewer words is read with its neighbours' words too
# Words that say nothing of an emotion on their own: a segment of only these and single letters
# ("B, B, K, C", "the, the, the": a spelled word, a syllable drill as Whisper writes it) is read
# as having no words, since the text model, far from anything it learned, spreads its probability
# and the rarer emotions' likelihood ratios win (a calm drill read disgusted throughout).
FUNCTION_WORDS = frozenset("""a an the of to in on at by for from with and or but if so as is are was were be been
it its this that these those here there he she we they you i me him her us them my your his our their""".split())

SHOUT_PEAK_DB = 14.4     # the calm median peak + 3 calm spreads

SOUND_EMOTIONS: dict[str, dict[str, float]] = {
    "laughter": {"happy": 1.0, "contempt": 0.2, "neutral": -0.5},
    "sigh": {"sad": 0.6, "contempt": 0.2, "neutral": 0.1},
    "sob": {"sad": 1.2, "neutral": -0.5},
    "scream": {"fearful": 1.0, "angry": 0.5, "surprised": 0.3, "neutral": -0.8},
    "shout": {"angry": 0.6, "happy": 0.2, "fearful": 0.3, "surprised": 0.2, "neutral": -0.6},
    "gasp": {"surprised": 0.8, "fearful": 0.6, "neutral": -0.4},
}


@dataclass
class Baseline:
    """The take-wide starting point the writer departs from only where the evidence is strong.

    "auto" (default): calm is the default; "calm": a calm take (a much stronger calm prior and
    intensity at most 0.5); "mild": any emotion, at most "mildly" (intensity under 0.4); an
    emotion name ("happy"): the take's default emotion instead of calm."""
    emotion: str = "neutral"
    prior: float = 0.0          # added to `emotion` in every segment, on top of the calm prior
    cap: float = 0.9            # highest intensity written
    name: str = "auto"

    @classmethod
    def parse(cls, spec: str | None) -> "Baseline":
        word = (spec or "auto").strip().lower()
        if word in ("", "auto", "default"):
            return cls()
        if word in ("calm", "neutral"):
            return cls("neutral", 2.0, 0.5, "calm")
        if word == "mild":
            return cls("neutral", 0.0, 0.39, "mild")          # at most "mildly"
        from core.instruct.base import repair_emotion, InstructError
        try:
            emotion = repair_emotion(word)
        except InstructError:
            raise ValueError(f"unknown baseline {spec!r}: give auto, calm, mild or an emotion "
                             f"({', '.join(EMOTIONS)})") from None
        if emotion == "neutral":
            return cls("neutral", 2.0, 0.5, "calm")
        return cls(emotion, 2.0, 0.9, emotion)


@dataclass
class SegmentCues:
    """What one segment's evidence says, for the decision and for the inspector."""
    text: str
    words: np.ndarray | None            # (8,) p(emotion | words), None without words
    arousal: float | None               # voice arousal z against calm speech, None without voice
    sounds: list[str] = field(default_factory=list)
    model: np.ndarray | None = None     # (8,) the writer's own log-scores
    words_prior: np.ndarray | None = None   # (8,) what `words` gives a text that says nothing
    with_neighbours: bool = False       # a fragment: its words were also read with its neighbours'


def _num(d: dict, key: str) -> float | None:
    v = d.get(key) if isinstance(d, dict) else None
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def voice_arousal(evidence: dict[str, Any]) -> float | None:
    """Arousal of the segment's voice (0 = as calm speech, 1 = one calm spread above), or None."""
    p = evidence.get("prosody") if isinstance(evidence, dict) else None
    if not isinstance(p, dict) or evidence.get("kind") == "silence":
        return None
    total, weight = 0.0, 0.0
    for key, (mean, spread, w) in VOICE.items():
        v = _num(p, key)
        if v is None:
            continue
        total += w * max(-3.0, min(3.0, (v - mean) / spread))
        weight += w
    if weight < 0.3:
        return None
    return total / weight


def detected_sounds(evidence: dict[str, Any]) -> list[str]:
    """Non-speech sounds in a segment: what the listener heard (evidence["sounds"]), laughter
    spelled out in the words, and a shout from the loudness."""
    out: list[str] = []
    for s in evidence.get("sounds") or []:
        kind = s.get("kind") if isinstance(s, dict) else s
        if kind in SOUND_EMOTIONS and kind not in out:
            out.append(kind)
    from core.instruct.base import segment_text
    text = segment_text(evidence).lower()
    if "laughter" not in out and re.search(r"\b(?:ha\s*){2,}|\b(?:ha){2,}|\bhehe|\bhihi", text):
        out.append("laughter")
    p = evidence.get("prosody") if isinstance(evidence.get("prosody"), dict) else {}
    peak, pitch = _num(p, "loudness_peak_db"), _num(p, "pitch_level_st")
    if "shout" not in out and peak is not None and peak >= SHOUT_PEAK_DB and (pitch or 0.0) >= 1.5:
        out.append("shout")
    return out


def gather(evidence: Sequence[dict[str, Any]], use_text_model: bool) -> list[SegmentCues]:
    from core.instruct.base import neighbours, segment_text
    texts = [segment_text(e) for e in evidence]
    texts = [t if says_something(t) else "" for t in texts]
    probs: np.ndarray | None = None
    fragment: list[int] = []
    prior = np.full(len(EMOTIONS), 1.0 / len(EMOTIONS))
    if use_text_model and any(t.strip() for t in texts):
        from core.instruct.text_emotion import model, text_emotion_probabilities
        # A segment is often a piece of a sentence ("the team", "son? Oh, it's on now."): a
        # fragment's words are also read together with its neighbours' words, and the two readings
        # are averaged (geometric mean); a segment of FRAGMENT_WORDS words or more stands on its own,
        # so a real change of emotion between two sentences is not blurred.
        own = text_emotion_probabilities(texts)
        around = neighbours(evidence)
        fragment = [i for i, t in enumerate(texts)
                    if 0 < len(t.split()) < FRAGMENT_WORDS and "".join(around[i]).strip()]
        probs = own.copy()
        if fragment:
            joined = [" ".join(f"{around[i][0]} {texts[i]} {around[i][1]}".split()) for i in fragment]
            both = np.sqrt(own[fragment] * text_emotion_probabilities(joined))
            probs[fragment] = both / both.sum(axis=1, keepdims=True)
        prior = model().prior
    elif not use_text_model:
        prior = lexicon_probabilities("")
    out = []
    for i, e in enumerate(evidence):
        words = None
        if texts[i].strip():
            words = probs[i] if probs is not None else lexicon_probabilities(texts[i])
        out.append(SegmentCues(texts[i], words, voice_arousal(e), detected_sounds(e), words_prior=prior,
                               with_neighbours=i in fragment))
    return out


def says_something(text: str) -> bool:
    """Whether `text` has a word that is neither a single letter nor a function word."""
    return any(len(w) > 1 and w not in FUNCTION_WORDS for w in re.findall(r"[^\W\d_]+", text.lower()))


def lexicon_probabilities(text: str) -> np.ndarray:
    """The rules' stand-in for the text model: VADER and the emotion word lists, as probabilities."""
    from core.instruct.cues import lexicon_scores, softmax
    s = softmax(lexicon_scores(text))
    return np.array([s[e] for e in EMOTIONS])


def segment_scores(c: SegmentCues, w: Weights, baseline: Baseline) -> np.ndarray:
    s = np.zeros(len(EMOTIONS))
    neutral = EMOTIONS.index("neutral")
    s[neutral] += w.calm_prior
    if c.words is not None:
        prior = c.words_prior if c.words_prior is not None else np.full(len(EMOTIONS), 1.0 / len(EMOTIONS))
        s += w.text * (np.log(np.clip(c.words, 1e-6, 1.0)) - np.log(prior))
    if c.arousal is not None:
        s += w.voice * c.arousal * np.array([HIGH_AROUSAL[e] for e in EMOTIONS])
    for kind in c.sounds:
        for e, v in SOUND_EMOTIONS[kind].items():
            s[EMOTIONS.index(e)] += w.sounds * v
    if c.model is not None:
        s += w.model * np.asarray(c.model, float)
    b = EMOTIONS.index(baseline.emotion)
    if b != neutral:
        # The take's default state is the baseline emotion: what would read as calm (no emotion in
        # the words, a plain voice) reads as it instead; calm itself needs evidence of its own.
        s[b] = max(s[b], s[neutral])
        s[neutral] -= w.calm_prior
    s[b] += baseline.prior
    return s


@dataclass
class Decision:
    emotion: str
    intensity: float
    reasons: dict[str, Any]


def intensity_for(emotion: str, c: SegmentCues, own: bool, cap: float) -> float:
    """Mild unless the words and the voice agree; calm speech is written calm."""
    if emotion == "neutral":
        return round(min(cap, 0.2), 3)
    words = float(c.words[EMOTIONS.index(emotion)]) if c.words is not None else 0.0
    sign = HIGH_AROUSAL[emotion]
    voice = 0.5 if c.arousal is None else 1.0 / (1.0 + math.exp(-2.0 * c.arousal * (1.0 if sign >= 0 else -1.0)))
    if abs(sign) < 0.3:
        voice = 0.5 + 0.5 * (voice - 0.5)
    sound = 0.15 if any(emotion in {e for e, v in SOUND_EMOTIONS[k].items() if v > 0.5} for k in c.sounds) else 0.0
    v = 0.12 + 0.3 * words + 0.15 * voice + 0.35 * words * voice + sound
    agree = words >= 0.5 and voice >= 0.55
    if not agree:
        v = min(v, 0.38)
    if emotion in NEGATIVE and voice < 0.55 and not sound:
        v = min(v, 0.28)                     # a calm voice saying sad or hostile words: mildly so
    if not own:
        v = min(v, 0.3)                      # no evidence of its own: follows its neighbours, mildly
    return round(max(0.1, min(cap, v)), 3)


def decide(evidence: Sequence[dict[str, Any]], cues: list[SegmentCues], baseline: Baseline | None = None,
           weights: Weights | None = None) -> list[Decision]:
    """The emotion and intensity of every segment of a take, decoded jointly."""
    b = baseline or Baseline()
    w = weights or WEIGHTS
    if not cues:
        return []
    scores = np.stack([segment_scores(c, w, b) for c in cues])
    silent = [e.get("kind") == "silence" or (c.words is None and c.arousal is None and not c.sounds)
              for e, c in zip(evidence, cues)]
    cost = switch_costs(w.switch, w.switch_within)
    path = viterbi(scores, cost)
    post = posteriors(scores, cost)
    out = []
    for i, (c, k) in enumerate(zip(cues, path)):
        emotion = EMOTIONS[k]
        own_best = int(np.argmax(scores[i]))
        own = not silent[i] and own_best == k and scores[i][k] - np.sort(scores[i])[-2] > 0.2
        if silent[i]:
            emotion, own = "neutral", True   # silence relaxes the face
        intensity = intensity_for(emotion, c, own or emotion == "neutral", b.cap)
        reasons: dict[str, Any] = {"emotion": emotion, "baseline": b.name, "posterior": round(float(post[i][k]), 3)}
        if c.words is not None:
            top = int(np.argmax(c.words))
            reasons["words"] = {"emotion": EMOTIONS[top], "p": round(float(c.words[top]), 3),
                                "p_chosen": round(float(c.words[k]), 3), "with_neighbours": c.with_neighbours}
        if c.arousal is not None:
            reasons["voice"] = {"arousal": round(float(c.arousal), 2), "reads": _arousal_word(c.arousal)}
        if c.sounds:
            reasons["sounds"] = list(c.sounds)
        if c.model is not None:
            reasons["model"] = EMOTIONS[int(np.argmax(c.model))]
        reasons["follows_neighbours"] = bool(not own and not silent[i] and FAMILY[EMOTIONS[own_best]] != FAMILY[emotion])
        out.append(Decision(emotion, intensity, reasons))
    return out


def _arousal_word(a: float) -> str:
    if a >= 1.5:
        return "very aroused"
    if a >= 0.7:
        return "aroused"
    if a <= -0.7:
        return "subdued"
    return "calm"


def why_text(reasons: dict[str, Any]) -> str:
    """The reasons in one line for the inspector: "words: happy (0.82); voice: aroused; ..."."""
    if not isinstance(reasons, dict) or not reasons:
        return ""
    parts = []
    words = reasons.get("words")
    if isinstance(words, dict):
        also = ", with the neighbours' words" if words.get("with_neighbours") else ""
        chosen = reasons.get("emotion")
        if chosen and chosen != words.get("emotion"):
            also += f"; {chosen} {float(words.get('p_chosen', 0)):.2f}"
        parts.append(f"words read {words.get('emotion')} ({float(words.get('p', 0)):.2f}{also})")
    voice = reasons.get("voice")
    if isinstance(voice, dict):
        parts.append(f"voice {voice.get('reads')} (arousal {float(voice.get('arousal', 0)):+.1f})")
    if reasons.get("sounds"):
        parts.append("sounds: " + ", ".join(map(str, reasons["sounds"])))
    if reasons.get("model"):
        parts.append(f"language model: {reasons['model']}")
    if reasons.get("follows_neighbours"):
        parts.append("weak evidence: follows its neighbours")
    if reasons.get("baseline") not in (None, "auto"):
        parts.append(f"baseline {reasons['baseline']}")
    return "; ".join(parts)
