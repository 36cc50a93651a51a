"""Instruction wording in the style of AVI-Talking / TalkCLIP, and its parser.

    "A person feels quite angry and speaks with brows strongly lowered, lips moderately pressed."

The text is the single source of truth: the studio's emotion and intensity controls rewrite it
(`rewrite`), and stage 2 reads it. Everything here is pure Python and round-trips exactly:
`compose(*parse(text)) == text` for every text `compose` can produce.

- emotion: one of the eight MEAD emotions, written as an adjective ("contemptuous" for contempt;
  neutral as "calm", without a degree adverb: "A person feels calm and speaks with ...");
- intensity 0..1: a degree adverb before the adjective (five levels, `INTENSITY_ADVERBS`); for
  calm, the degree of the leading facial action;
- facial actions: FACS-based phrases "<part> <degree> <action>" from a fixed vocabulary
  (`ACTIONS`), each with its own degree adverb (`DEGREE_ADVERBS`).
"""

from __future__ import annotations

import re
from typing import Iterable, NamedTuple

from core.project import EMOTIONS

# Five levels each; a value v in 0..1 maps to level min(4, int(v * 5)); a level parses back to
# the middle of its bin, so compose(parse(t)) == t.
INTENSITY_ADVERBS: tuple[str, ...] = ("slightly", "mildly", "quite", "very", "extremely")
DEGREE_ADVERBS: tuple[str, ...] = ("slightly", "mildly", "moderately", "strongly", "extremely")

ADJECTIVES: dict[str, str] = {
    "neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
    "surprised": "surprised", "fearful": "fearful", "disgusted": "disgusted", "contempt": "contemptuous",
}

# Words a person may type instead of the canonical adjective (parse is lenient; compose is not).
SYNONYMS: dict[str, str] = {
    "calm": "neutral", "relaxed": "neutral", "joyful": "happy", "glad": "happy", "cheerful": "happy",
    "delighted": "happy", "excited": "happy", "unhappy": "sad", "sorrowful": "sad", "upset": "sad",
    "mad": "angry", "furious": "angry", "annoyed": "angry", "irritated": "angry", "astonished": "surprised",
    "amazed": "surprised", "shocked": "surprised", "afraid": "fearful", "scared": "fearful",
    "frightened": "fearful", "terrified": "fearful", "anxious": "fearful", "nervous": "fearful",
    "disgust": "disgusted", "revolted": "disgusted", "contempt": "contempt", "scornful": "contempt",
    "disdainful": "contempt", "dismissive": "contempt", "happiness": "happy", "sadness": "sad",
    "anger": "angry", "surprise": "surprised", "fear": "fearful",
}


class Action(NamedTuple):
    part: str          # "brows"
    verb: str          # "lowered"
    aus: str           # FACS action units it stands for (documentation and stage 2's teacher)


# key -> (part, verb, FACS AUs). Phrase text: f"{part} {adverb} {verb}".
ACTIONS: dict[str, Action] = {
    "brows_raised": Action("brows", "raised", "AU1+AU2"),
    "inner_brows_raised": Action("inner brows", "raised", "AU1"),
    "brows_lowered": Action("brows", "lowered", "AU4"),
    "brows_drawn": Action("brows", "drawn together", "AU4"),
    "eyes_widened": Action("eyes", "widened", "AU5"),
    "eyes_narrowed": Action("eyes", "narrowed", "AU7"),
    "lids_drooping": Action("eyelids", "drooping", "AU41"),
    "cheeks_lifted": Action("cheeks", "lifted", "AU6"),
    "corners_up": Action("lip corners", "pulled up", "AU12"),
    "corners_down": Action("lip corners", "pulled down", "AU15"),
    "one_corner_raised": Action("one lip corner", "raised", "R-AU12+R-AU14"),
    "lips_pressed": Action("lips", "pressed", "AU24"),
    "lips_tightened": Action("lips", "tightened", "AU23"),
    "lips_stretched": Action("lips", "stretched", "AU20"),
    "lips_pursed": Action("lips", "pursed", "AU18"),
    "lips_parted": Action("lips", "parted", "AU25"),
    "nose_wrinkled": Action("nose", "wrinkled", "AU9"),
    "upper_lip_raised": Action("upper lip", "raised", "AU10"),
    "jaw_dropped": Action("jaw", "dropped", "AU26"),
    "chin_raised": Action("chin", "raised", "AU17"),
    "face_relaxed": Action("face", "relaxed", "AU0"),
    "gaze_steady": Action("gaze", "steady", "AU0"),
}

# The facial actions that fit each emotion, most prototypical first (FACS / EMFACS prototypes).
VOCABULARY: dict[str, tuple[str, ...]] = {
    "neutral": ("face_relaxed", "lips_parted", "gaze_steady"),
    "happy": ("corners_up", "cheeks_lifted", "lips_parted", "brows_raised"),
    "sad": ("inner_brows_raised", "corners_down", "lids_drooping", "chin_raised", "brows_drawn"),
    "angry": ("brows_lowered", "lips_pressed", "eyes_narrowed", "brows_drawn", "lips_tightened",
              "upper_lip_raised", "jaw_dropped"),
    "surprised": ("brows_raised", "eyes_widened", "jaw_dropped", "lips_parted"),
    "fearful": ("inner_brows_raised", "eyes_widened", "lips_stretched", "brows_drawn", "brows_raised",
                "jaw_dropped"),
    "disgusted": ("nose_wrinkled", "upper_lip_raised", "brows_lowered", "corners_down", "eyes_narrowed"),
    "contempt": ("one_corner_raised", "eyes_narrowed", "lips_pressed", "chin_raised", "lips_pursed"),
}


class Phrase(NamedTuple):
    action: str        # a key of ACTIONS
    degree: float      # 0..1

    @property
    def text(self) -> str:
        a = ACTIONS[self.action]
        return f"{a.part} {DEGREE_ADVERBS[level(self.degree)]} {a.verb}"


def level(value: float) -> int:
    """The adverb level (0..4) of a value in 0..1."""
    v = min(1.0, max(0.0, float(value)))
    return min(4, int(v * 5))


def level_value(index: int) -> float:
    """The value a level parses back to: the middle of its bin."""
    return round((index + 0.5) / 5, 2)


def quantise(value: float) -> float:
    return level_value(level(value))


def default_phrases(emotion: str, intensity: float, count: int = 2) -> list[Phrase]:
    """The most prototypical facial actions of an emotion, the first the strongest."""
    keys = VOCABULARY[emotion][:count]
    return [Phrase(k, phrase_degree(intensity, i)) for i, k in enumerate(keys)]


def phrase_degree(intensity: float, rank: int) -> float:
    # The leading action carries the emotion's intensity, later ones a little less.
    return max(0.0, min(1.0, intensity - 0.15 * rank))


def compose(emotion: str, intensity: float, phrases: Iterable[Phrase | tuple | str] | None = None) -> str:
    """The instruction sentence. `phrases` are Phrase/(action, degree) tuples, action keys (degree
    follows the intensity) or phrase texts; None picks the emotion's prototypical actions."""
    if emotion not in ADJECTIVES:
        raise ValueError(f"unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}")
    if not 0.0 <= float(intensity) <= 1.0:
        raise ValueError(f"intensity must be within 0..1, got {intensity}")
    items = default_phrases(emotion, intensity) if phrases is None else [
        _as_phrase(p, intensity, i) for i, p in enumerate(phrases)]
    # Calm reads naturally without a degree ("A person feels calm", not "mildly neutral"); its
    # facial actions carry the degree.
    head = ("A person feels calm" if emotion == "neutral"
            else f"A person feels {INTENSITY_ADVERBS[level(intensity)]} {ADJECTIVES[emotion]}")
    if not items:
        return head + "."
    return f"{head} and speaks with {', '.join(p.text for p in items)}."


def _as_phrase(p: Phrase | tuple | str, intensity: float, rank: int) -> Phrase:
    if isinstance(p, Phrase):
        phrase = p
    elif isinstance(p, tuple):
        phrase = Phrase(str(p[0]), float(p[1]))
    elif isinstance(p, str) and p in ACTIONS:
        phrase = Phrase(p, phrase_degree(intensity, rank))
    elif isinstance(p, str):
        found = _find_phrases(p)
        if len(found) != 1:
            raise ValueError(f"not a facial action phrase: {p!r}")
        phrase = found[0]
    else:
        raise ValueError(f"not a facial action phrase: {p!r}")
    if phrase.action not in ACTIONS:
        raise ValueError(f"unknown facial action {phrase.action!r}")
    if not 0.0 <= phrase.degree <= 1.0:
        raise ValueError(f"degree must be within 0..1, got {phrase.degree}")
    return phrase


# --- parsing ------------------------------------------------------------------------------

_ADVERB_ALIASES = {
    # lenient: what people type, mapped to a level
    "barely": 0, "a bit": 0, "a little": 0, "somewhat": 1, "fairly": 2, "rather": 2, "moderately": 2,
    "quite": 2, "really": 3, "very": 3, "strongly": 3, "deeply": 3, "highly": 3, "intensely": 4,
    "extremely": 4, "fully": 4, "completely": 4, "slightly": 0, "mildly": 1,
}
_ADV_RE = "|".join(sorted((re.escape(a) for a in _ADVERB_ALIASES), key=len, reverse=True))
_FEEL_RE = re.compile(r"\bfeels?\s+(?:(?P<adv>" + _ADV_RE + r")\s+)?(?P<adj>[a-z]+)", re.I)


def _phrase_patterns() -> list[tuple[re.Pattern, str]]:
    out = []
    # longer parts first so "inner brows raised" is not read as "brows raised"
    for key, a in sorted(ACTIONS.items(), key=lambda kv: -len(kv[1].part)):
        part = re.escape(a.part).replace(r"\ ", r"\s+")
        verb = re.escape(a.verb).replace(r"\ ", r"\s+")
        pat = re.compile(r"(?<![a-z])" + part + r"\s+(?:(?P<adv>" + _ADV_RE + r")\s+)?" + verb + r"(?![a-z])", re.I)
        out.append((pat, key))
    return out


_PHRASE_PATTERNS = _phrase_patterns()


def _find_phrases(text: str) -> list[Phrase]:
    hits: list[tuple[int, int, Phrase]] = []
    taken: list[tuple[int, int]] = []
    for pat, key in _PHRASE_PATTERNS:
        for m in pat.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            adv = (m.group("adv") or "").lower()
            lvl = _ADVERB_ALIASES.get(adv, 2) if adv else 2
            taken.append((m.start(), m.end()))
            hits.append((m.start(), m.end(), Phrase(key, level_value(lvl))))
    hits.sort()
    return [h[2] for h in hits]


def parse(text: str, strict: bool = False) -> tuple[str, float, list[Phrase]]:
    """(emotion, intensity, phrases) of an instruction text.

    Lenient by default: a text a person edited by hand is read as well as it can be (synonyms,
    other adverbs; no emotion found -> neutral 0.5). strict=True raises ValueError unless the
    text is exactly in the composed form."""
    emotion, intensity = None, 0.5
    for m in _FEEL_RE.finditer(text or ""):
        adj = m.group("adj").lower()
        emo = next((e for e, a in ADJECTIVES.items() if a == adj), None) or SYNONYMS.get(adj)
        if emo:
            emotion = emo
            if m.group("adv"):
                intensity = level_value(_ADVERB_ALIASES[m.group("adv").lower()])
            break
    if emotion is None:  # any emotion word anywhere, with the degree adverb just before it
        words = re.findall(r"[a-z]+", (text or "").lower())
        for i, word in enumerate(words):
            emo = next((e for e, a in ADJECTIVES.items() if a == word), None) or SYNONYMS.get(word)
            if emo:
                emotion = emo
                if i > 0 and words[i - 1] in _ADVERB_ALIASES:
                    intensity = level_value(_ADVERB_ALIASES[words[i - 1]])
                break
    phrases = _find_phrases(text or "")
    if emotion == "neutral" and intensity == 0.5 and phrases and not re.search(
            r"\bfeels?\s+(?:" + _ADV_RE + r")\s+", text or "", re.I):
        intensity = phrases[0].degree            # "feels calm": the leading action carries the degree
    if strict:
        if emotion is None:
            raise ValueError(f"no emotion in instruction {text!r}")
        if compose(emotion, intensity, phrases) != text:
            raise ValueError(f"instruction is not in the composed form: {text!r}")
    return emotion or "neutral", intensity, phrases


def rewrite(text: str, emotion: str | None = None, intensity: float | None = None) -> str:
    """The text after the studio's emotion or intensity control changed. A new emotion brings its
    own prototypical actions; a new intensity rescales the actions' degrees with it."""
    old_emotion, old_intensity, phrases = parse(text)
    new_emotion = emotion or old_emotion
    new_intensity = old_intensity if intensity is None else float(intensity)
    if new_emotion != old_emotion or not phrases:
        phrases = default_phrases(new_emotion, new_intensity, max(2, len(phrases)))
    elif intensity is not None:
        shift = new_intensity - old_intensity
        phrases = [Phrase(p.action, min(1.0, max(0.0, p.degree + shift))) for p in phrases]
    return compose(new_emotion, new_intensity, phrases)


def is_instruction(text: str) -> bool:
    try:
        parse(text, strict=True)
        return True
    except ValueError:
        return False
