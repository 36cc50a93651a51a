"""Varied wordings of an instruction, so the motion model learns language, not one template.

    canonical = compose("angry", 0.7, phrases)            # what the teacher reads
    text = paraphrase("angry", 0.7, phrases, seed=12)     # what the model reads
    # e.g. "The speaker is furious, brows lowered hard and lips pressed together."

A paraphrase says the same thing as the canonical text: the same emotion, an intensity word of
the same level (INTENSITY_ADVERBS has five levels; each level has several words here), the same
facial actions with degree words of the same level. It varies:
- the emotion word (synonyms by level: "furious" only for strong anger, "annoyed" only for mild);
- the degree words, and whether a mid-level degree is said at all;
- the part and verb words of each facial action ("eyebrows pulled down", "mouth corners turned up");
- word order, inside each action phrase and in the sentence (thirty sentence frames);
- whether the emotion's prototypical actions are named: a phrase the teacher would show anyway
  (one of the emotion's first two actions at its default degree; `implied`) may be left out,
  and the prototype may be spelled out when the canonical text names no actions.

Held-out wording (style="heldout"): some sentence frames (`HELDOUT_TEMPLATES`), emotion words,
emotion nouns, intensity and degree adverbs, and action part/verb words occur only in held-out
paraphrases (the entries marked H below), so "instructions worded in ways absent from training"
(issue 4) can be measured: a held-out paraphrase always uses a held-out frame and, where one
fits, prefers held-out words. Training paraphrases (style="train") never use an H entry.
Deterministic for a given seed.
"""

from __future__ import annotations

import random
from typing import Callable, Sequence

from core.instruct.wording import VOCABULARY, Phrase, compose, level

T, H = "train", "heldout"
STYLES = (T, H)

# Emotion adjectives: (word, lowest level, highest level, style).
EMOTION_WORDS: dict[str, tuple[tuple[str, int, int, str], ...]] = {
    "neutral": (("neutral", 0, 4, T), ("calm", 0, 4, T), ("relaxed", 0, 4, T), ("at ease", 0, 4, T),
                ("unemotional", 0, 4, T), ("collected", 0, 4, T), ("serene", 0, 3, T),
                ("even-tempered", 0, 4, T), ("unruffled", 0, 4, T), ("placid", 0, 4, T),
                ("composed", 0, 4, H), ("matter-of-fact", 0, 4, H)),
    "happy": (("happy", 0, 4, T), ("glad", 0, 2, T), ("cheerful", 0, 4, T), ("pleased", 0, 2, T),
              ("joyful", 2, 4, T), ("delighted", 3, 4, T), ("excited", 3, 4, T), ("thrilled", 3, 4, T),
              ("overjoyed", 3, 4, T), ("ecstatic", 4, 4, T), ("bright", 0, 3, T), ("jolly", 1, 4, T),
              ("satisfied", 0, 2, T),
              ("content", 0, 1, H), ("upbeat", 0, 3, H), ("elated", 3, 4, H)),
    "sad": (("sad", 0, 4, T), ("unhappy", 0, 4, T), ("down", 0, 2, T), ("upset", 1, 4, T),
            ("sorrowful", 2, 4, T), ("miserable", 3, 4, T), ("dejected", 1, 4, T), ("blue", 0, 2, T),
            ("tearful", 2, 4, T), ("despondent", 2, 4, T), ("crestfallen", 2, 4, T), ("downcast", 0, 3, T),
            ("gloomy", 0, 3, H), ("melancholy", 0, 3, H), ("heartbroken", 3, 4, H)),
    "angry": (("angry", 0, 4, T), ("annoyed", 0, 2, T), ("irritated", 0, 2, T), ("mad", 1, 4, T),
              ("furious", 3, 4, T), ("livid", 4, 4, T), ("fuming", 2, 4, T), ("outraged", 3, 4, T),
              ("incensed", 3, 4, T), ("hostile", 1, 4, T), ("frustrated", 0, 3, T), ("heated", 1, 3, T),
              ("cross", 0, 2, H), ("irate", 2, 4, H), ("enraged", 3, 4, H)),
    "surprised": (("surprised", 0, 4, T), ("amazed", 1, 4, T), ("astonished", 2, 4, T), ("shocked", 2, 4, T),
                  ("astounded", 2, 4, T), ("flabbergasted", 3, 4, T), ("caught off guard", 0, 3, T),
                  ("dumbfounded", 2, 4, T), ("in disbelief", 1, 4, T),
                  ("startled", 0, 3, H), ("stunned", 2, 4, H), ("taken aback", 0, 2, H)),
    "fearful": (("fearful", 0, 4, T), ("afraid", 0, 4, T), ("scared", 0, 4, T), ("frightened", 1, 4, T),
                ("nervous", 0, 2, T), ("anxious", 0, 2, T), ("terrified", 3, 4, T), ("worried", 0, 2, T),
                ("apprehensive", 0, 2, T), ("jittery", 0, 2, T), ("petrified", 3, 4, T), ("horrified", 3, 4, T),
                ("on edge", 0, 3, T), ("spooked", 1, 3, T),
                ("uneasy", 0, 1, H), ("alarmed", 1, 3, H), ("panicked", 3, 4, H)),
    "disgusted": (("disgusted", 0, 4, T), ("revolted", 2, 4, T), ("grossed out", 1, 3, T), ("nauseated", 2, 4, T),
                  ("appalled", 2, 4, T), ("put off", 0, 2, T), ("repelled", 1, 4, T), ("queasy", 0, 2, T),
                  ("repulsed", 2, 4, H), ("sickened", 2, 4, H)),
    "contempt": (("contemptuous", 0, 4, T), ("scornful", 0, 4, T), ("disdainful", 0, 4, T), ("dismissive", 0, 2, T),
                 ("derisive", 1, 4, T), ("mocking", 0, 4, T), ("haughty", 0, 4, T), ("smug", 0, 3, T),
                 ("snide", 0, 3, T), ("sarcastic", 0, 3, T),
                 ("sneering", 1, 4, H), ("condescending", 0, 3, H)),
}
# Emotion nouns for "with <amount> <noun>" frames.
EMOTION_NOUNS: dict[str, tuple[tuple[str, str], ...]] = {
    "neutral": (("calm", T), ("calmness", T), ("serenity", T), ("composure", H)),
    "happy": (("joy", T), ("happiness", T), ("cheer", T), ("glee", T), ("delight", H)),
    "sad": (("sadness", T), ("sorrow", T), ("despair", T), ("gloom", T), ("grief", H)),
    "angry": (("anger", T), ("rage", T), ("irritation", T), ("outrage", T), ("fury", H)),
    "surprised": (("surprise", T), ("astonishment", T), ("shock", T), ("wonder", T), ("amazement", H)),
    "fearful": (("fear", T), ("dread", T), ("anxiety", T), ("fright", T), ("terror", H)),
    "disgusted": (("disgust", T), ("distaste", T), ("repugnance", T), ("revulsion", H)),
    "contempt": (("contempt", T), ("scorn", T), ("derision", T), ("mockery", T), ("disdain", H)),
}
# Intensity words before an adjective, by level (wording.INTENSITY_ADVERBS has one per level).
INTENSITY_WORDS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("slightly", T), ("a little", T), ("a bit", T), ("faintly", H), ("a tad", H)),
    (("mildly", T), ("somewhat", T), ("kind of", H)),
    (("quite", T), ("fairly", T), ("rather", T), ("pretty", H), ("noticeably", H)),
    (("very", T), ("really", T), ("deeply", T), ("truly", H), ("seriously", H)),
    (("extremely", T), ("intensely", T), ("incredibly", T), ("utterly", H), ("overwhelmingly", H)),
)
# Amounts before an emotion noun, by level.
AMOUNT_WORDS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("a hint of", T), ("a trace of", H)),
    (("a touch of", T), ("some", T), ("a little", H)),
    (("clear", T), ("evident", H)),
    (("a lot of", T), ("strong", T), ("deep", H)),
    (("intense", T), ("overwhelming", T), ("utter", H)),
)
# Degree words of a facial action, by level (wording.DEGREE_ADVERBS has one per level).
DEGREE_WORDS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("slightly", T), ("a little", T), ("faintly", T), ("barely", H)),
    (("mildly", T), ("somewhat", T), ("gently", T), ("softly", H)),
    (("moderately", T), ("noticeably", T), ("fairly", T), ("clearly", H)),
    (("strongly", T), ("distinctly", T), ("markedly", H)),
    (("extremely", T), ("fully", T), ("intensely", T), ("completely", H)),
)
# Facial actions: (part words, verb words), each (text, style, plural).
_P = tuple[str, str, bool]
ACTION_WORDS: dict[str, tuple[tuple[_P, ...], tuple[tuple[str, str], ...]]] = {
    "brows_raised": ((("brows", T, True), ("eyebrows", T, True), ("brow", H, False)),
                     (("raised", T), ("lifted", T), ("arched", H))),
    "inner_brows_raised": ((("inner brows", T, True), ("inner eyebrows", T, True),
                            ("inner corners of the brows", H, True)),
                           (("raised", T), ("lifted", T), ("drawn up", H))),
    "brows_lowered": ((("brows", T, True), ("eyebrows", T, True), ("brow", H, False)),
                      (("lowered", T), ("pulled down", T), ("furrowed", T), ("drawn down", H))),
    "brows_drawn": ((("brows", T, True), ("eyebrows", T, True), ("brow", H, False)),
                    (("drawn together", T), ("pulled together", T), ("knitted", H))),
    "eyes_widened": ((("eyes", T, True),), (("widened", T), ("wide open", T), ("opened wide", H))),
    "eyes_narrowed": ((("eyes", T, True),), (("narrowed", T), ("squinting", T), ("tightened", H))),
    "lids_drooping": ((("eyelids", T, True), ("lids", T, True), ("upper lids", H, True)),
                      (("drooping", T), ("heavy", T), ("sagging", H))),
    "cheeks_lifted": ((("cheeks", T, True),), (("lifted", T), ("raised", T), ("pushed up", H))),
    "corners_up": ((("lip corners", T, True), ("mouth corners", T, True), ("corners of the mouth", T, True),
                    ("corners of the lips", H, True)),
                   (("pulled up", T), ("turned up", T), ("raised", T), ("curled upward", H))),
    "corners_down": ((("lip corners", T, True), ("mouth corners", T, True), ("corners of the mouth", T, True),
                      ("corners of the lips", H, True)),
                     (("pulled down", T), ("turned down", T), ("drawn downward", H))),
    "one_corner_raised": ((("one lip corner", T, False), ("one corner of the mouth", T, False),
                           ("a single mouth corner", H, False)),
                          (("raised", T), ("pulled up", T), ("hitched up", H))),
    "lips_pressed": ((("lips", T, True),), (("pressed", T), ("pressed together", T), ("compressed", H))),
    "lips_tightened": ((("lips", T, True),), (("tightened", T), ("tense", T), ("thinned", H))),
    "lips_stretched": ((("lips", T, True),), (("stretched", T), ("pulled wide", T), ("drawn back", H))),
    "lips_pursed": ((("lips", T, True),), (("pursed", T), ("puckered", T), ("pushed forward", H))),
    "lips_parted": ((("lips", T, True),), (("parted", T), ("apart", T), ("open", H))),
    "nose_wrinkled": ((("nose", T, False),), (("wrinkled", T), ("scrunched", T), ("crinkled", H))),
    "upper_lip_raised": ((("upper lip", T, False), ("top lip", H, False)),
                         (("raised", T), ("curled up", T), ("lifted", H))),
    "jaw_dropped": ((("jaw", T, False),), (("dropped", T), ("lowered", T), ("slack", H))),
    "chin_raised": ((("chin", T, False),), (("raised", T), ("pushed up", T), ("thrust up", H))),
    "face_relaxed": ((("face", T, False),), (("relaxed", T), ("at rest", T), ("loose", H))),
    "gaze_steady": ((("gaze", T, False),), (("steady", T), ("fixed", T), ("level", H))),
}


def implied(emotion: str, intensity: float, phrase: Phrase) -> bool:
    """True when the teacher would show `phrase` even if the text did not name it: it is one of
    the emotion's two prototypical actions, at (within half a level of) its default degree."""
    proto = VOCABULARY[emotion][:2]
    if phrase.action not in proto:
        return False
    default = max(0.0, float(intensity) - 0.15 * proto.index(phrase.action))
    return abs(phrase.degree - default) <= 0.1 + 1e-9


class _Picker:
    """Draws words for one paraphrase, preferring held-out entries in the held-out style."""

    def __init__(self, rng: random.Random, style: str) -> None:
        self.rng, self.style = rng, style

    def pick(self, options: Sequence, key: Callable = lambda o: o[1]):
        train = [o for o in options if key(o) == T]
        held = [o for o in options if key(o) == H]
        if self.style == H and held and self.rng.random() < 0.6:
            return self.rng.choice(held)
        return self.rng.choice(train or list(options))


def _emotion_phrase(p: _Picker, emotion: str, intensity: float) -> str:
    lvl = level(intensity)
    words = [w for w in EMOTION_WORDS[emotion] if w[1] <= lvl <= w[2]]
    word, lo, _, _ = p.pick(words, key=lambda w: w[3])
    if lo >= 3 and p.rng.random() < 0.6:          # "furious" says the level by itself
        return word
    adverb = p.pick(INTENSITY_WORDS[lvl])[0]
    return f"{adverb} {word}"


def _noun_phrase(p: _Picker, emotion: str, intensity: float) -> str:
    noun = p.pick(EMOTION_NOUNS[emotion])[0]
    amount = p.pick(AMOUNT_WORDS[level(intensity)])[0]
    return f"{amount} {noun}"


def _action(p: _Picker, phrase: Phrase, form: str) -> str:
    parts, verbs = ACTION_WORDS[phrase.action]
    part, _, plural = p.pick(parts)
    verb = p.pick(verbs)[0]
    lvl = level(phrase.degree)
    adverb = p.pick(DEGREE_WORDS[lvl])[0]
    if lvl == 2 and p.rng.random() < 0.3:         # an unqualified action reads as moderate
        adverb = ""
    adv = adverb + " " if adverb else ""
    if form == "copula":                          # "her brows are strongly lowered"
        owner = "" if part.startswith(("one ", "a single ")) else "the "
        return f"{owner}{part} {'are' if plural else 'is'} {adv}{verb}"
    if form == "pre" and " " not in verb and verb != "apart" and not part.startswith(("one ", "a single ")):
        return f"{adv}{verb} {part}"              # "strongly lowered brows"
    if form == "post" and adverb and verb.split()[0].endswith("ed"):
        return f"{part} {verb} {adverb}"          # "brows lowered strongly"
    return f"{part} {adv}{verb}"                  # "brows strongly lowered"


def _join(p: _Picker, items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    style = p.rng.random()
    if style < 0.55:
        return ", ".join(items[:-1]) + " and " + items[-1]
    if style < 0.85:
        return ", ".join(items)
    return "; ".join(items)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# Sentence frames: f(emotion phrase, noun phrase, actions) -> text; actions may be "".
def _acts(p: _Picker, phrases: list[Phrase], form: str = "any") -> str:
    forms = ("canonical", "pre", "post") if form == "any" else (form,)
    return _join(p, [_action(p, ph, p.rng.choice(forms)) for ph in phrases])


Frame = Callable[[_Picker, str, str, list[Phrase]], str]


def _f(with_acts: str, without: str, form: str = "any") -> Frame:
    def frame(p: _Picker, emo: str, noun: str, phrases: list[Phrase]) -> str:
        if not phrases:
            return _cap(without.format(emo=emo, noun=noun))
        return _cap(with_acts.format(emo=emo, noun=noun, acts=_acts(p, phrases, form)))
    return frame


TRAIN_TEMPLATES: tuple[Frame, ...] = (
    _f("A person feels {emo} and speaks with {acts}.", "A person feels {emo}."),
    _f("With {acts}, a person feels {emo}.", "A person who feels {emo}."),
    _f("{emo}; {acts}.", "{emo}."),
    _f("The speaker is {emo}, {acts}.", "The speaker is {emo}."),
    _f("{emo} speaker: {acts}.", "{emo} speaker."),
    _f("Feeling {emo}, with {acts}.", "Feeling {emo}."),
    _f("{acts}; the person feels {emo}.", "The person feels {emo}."),
    _f("A {emo} face, {acts}.", "A {emo} face."),
    _f("Someone {emo} talking, {acts}.", "Someone {emo} talking."),
    _f("She is {emo}, and her {acts}.", "She is {emo}.", form="copula"),
    _f("He sounds {emo}; {acts}.", "He sounds {emo}.", form="copula"),
    _f("Speak as if {emo}, with {acts}.", "Speak as if {emo}."),
    _f("Speaking with {noun}, {acts}.", "Speaking with {noun}."),
    _f("{emo} in tone and face, {acts}.", "{emo} in tone and face."),
    _f("Expression: {emo}. Face: {acts}.", "Expression: {emo}."),
    _f("{acts}, feeling {emo}.", "Feeling {emo} while speaking."),
    _f("The character talks while {emo}, {acts}.", "The character talks while {emo}."),
    _f("Be {emo} here, {acts}.", "Be {emo} here."),
    _f("Acting {emo}, with {acts}.", "Acting {emo}."),
    _f("Tone: {emo}; {acts}.", "Tone: {emo}."),
    _f("A {emo} delivery with {acts}.", "A {emo} delivery."),
    _f("Voice and face both {emo}, {acts}.", "Voice and face both {emo}."),
    _f("Play this {emo}: {acts}.", "Play this {emo}."),
    _f("{emo} throughout, with {acts}.", "{emo} throughout."),
    _f("Full of {noun}, {acts}.", "Full of {noun}."),
    _f("Talking in a {emo} way, {acts}.", "Talking in a {emo} way."),
    _f("With {noun} in the voice, {acts}.", "With {noun} in the voice."),
    _f("Her face shows {noun}; {acts}.", "Her face shows {noun}."),
    _f("A {emo} reading of the line, {acts}.", "A {emo} reading of the line."),
    _f("Emotion: {emo}, {acts}.", "Emotion: {emo}."),
)
HELDOUT_TEMPLATES: tuple[Frame, ...] = (
    _f("Say it with {noun}: {acts}.", "Say it with {noun}."),
    _f("They look {emo}, showing {acts}.", "They look {emo}."),
    _f("{acts}: the face of someone {emo}.", "The face of someone {emo}."),
    _f("In a {emo} mood, talking with {acts}.", "In a {emo} mood."),
    _f("Deliver this line {emo}, where {acts}.", "Deliver this line {emo}.", form="copula"),
)


def paraphrase(emotion: str, intensity: float, phrases: Sequence[Phrase] | None = None, seed: int = 0,
               style: str = T, drop: float = 0.35, spell_out: float = 0.3) -> str:
    """One wording of (emotion, intensity, phrases), never the canonical text.

    phrases: the canonical text's facial actions (None or [] for none). Implied phrases are left
    out with probability `drop` each; with no phrases, the emotion's prototype is spelled out
    with probability `spell_out`."""
    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, not {style!r}")
    if emotion not in EMOTION_WORDS:
        raise ValueError(f"unknown emotion {emotion!r}")
    phrases = list(phrases or [])
    canonical = compose(emotion, intensity, phrases)
    rng = random.Random(f"{seed}:{style}:{canonical}")
    for _ in range(20):
        text = _one(_Picker(rng, style), emotion, intensity, phrases, drop, spell_out)
        if text != canonical:
            return text
    raise RuntimeError("no paraphrase differs from the canonical text")      # not reachable in practice


def _one(p: _Picker, emotion: str, intensity: float, phrases: list[Phrase], drop: float, spell_out: float) -> str:
    rng = p.rng
    if phrases:
        said = [ph for ph in phrases if not (implied(emotion, intensity, ph) and rng.random() < drop)]
    elif rng.random() < spell_out:
        said = [Phrase(a, max(0.0, intensity - 0.15 * r)) for r, a in enumerate(VOCABULARY[emotion][:2])
                if a not in ("face_relaxed", "gaze_steady") or rng.random() < 0.5]
        said = said[:rng.choice((1, 2))]
    else:
        said = []
    if len(said) > 1 and rng.random() < 0.3:      # the order of actions carries no meaning
        rng.shuffle(said)
    frames = HELDOUT_TEMPLATES if p.style == H else TRAIN_TEMPLATES
    frame = rng.choice(frames)
    return frame(p, _emotion_phrase(p, emotion, intensity), _noun_phrase(p, emotion, intensity), said)


def paraphrases(emotion: str, intensity: float, phrases: Sequence[Phrase] | None = None, count: int = 5,
                seed: int = 0, style: str = T) -> list[str]:
    """Up to `count` different wordings (fewer only if the space of wordings is that small)."""
    out: list[str] = []
    k = 0
    while len(out) < count and k < 50 * count:
        text = paraphrase(emotion, intensity, phrases, seed=seed * 1000003 + k, style=style)
        if text not in out:
            out.append(text)
        k += 1
    return out


def words_in_style(style: str) -> set[str]:
    """Every word list entry of a style (for checks that held-out wording stays out of training)."""
    out: set[str] = set()
    for words in EMOTION_WORDS.values():
        out |= {w for w, _, _, s in words if s == style}
    for table in (EMOTION_NOUNS,):
        for words in table.values():
            out |= {w for w, s in words if s == style}
    for table in (INTENSITY_WORDS, AMOUNT_WORDS, DEGREE_WORDS):
        for words in table:
            out |= {w for w, s in words if s == style}
    for parts, verbs in ACTION_WORDS.values():
        out |= {w for w, s, _ in parts if s == style} | {w for w, s in verbs if s == style}
    return out


__all__ = ["ACTION_WORDS", "DEGREE_WORDS", "EMOTION_NOUNS", "EMOTION_WORDS", "HELDOUT_TEMPLATES", "INTENSITY_WORDS",
           "STYLES", "TRAIN_TEMPLATES", "implied", "paraphrase", "paraphrases", "words_in_style"]
