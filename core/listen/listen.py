"""`listen()`: speech activity, words, phones and prosody of a take."""

from __future__ import annotations

import difflib
import re
import time

import numpy as np

from core.audio import Audio
from core.listen import align as aligner
from core.listen import asr, language, phonemize, prosody, vad
from core.listen.g2p import words_for
from core.listen.types import Analysis, ListenSettings, Word

RATE = 16000
LOW_CONFIDENCE = 0.5      # mean word probability below which the transcript is flagged
CHECK_LANGUAGE = 0.75     # below this, a chosen language is checked against what Whisper hears
CHECK_DETECTION = 0.7     # a detection of another language below this is checked against English
CHOOSE = '--language {} on the command line, Edit > Settings > "Imports are spoken in" in the studio'
QUICK_ENGLISH_S = 10.0    # takes with at most this much speech try the English model before detecting


def listen(audio: Audio, script: str | None = None, settings: ListenSettings | None = None) -> Analysis:
    """Analyse a take. Never raises on odd audio (silence, noise, music, one word, foreign speech,
    telephone bandwidth): the result then carries warnings. Raises ListenError only when a model
    package is missing. If `script` is given (the text the speaker read), its words are aligned
    instead of the recognised ones; the recogniser is still used to place them roughly."""
    s = settings or ListenSettings()
    x = np.asarray(audio.mono16k, dtype=np.float32)
    duration = len(x) / RATE
    result = Analysis(duration=duration)
    warn = result.warnings
    clock = time.perf_counter

    t = clock()
    silent = audio.is_silent or len(x) < int(0.1 * RATE)
    probs = np.zeros(0, np.float32) if silent else vad.speech_probabilities(x)
    regions = vad.regions(probs, duration, s) if not silent else []
    result.timings["vad"] = clock() - t

    t = clock()
    n = prosody.frame_count(len(x))
    energy = prosody.energy_db(x)
    f0 = prosody.f0_track(x, s) if regions else np.zeros(n, np.float32)
    result.timings["prosody"] = clock() - t        # pitch and loudness: prosody's, needed here first
    regions = vad.with_missed_voice(regions, probs, energy, f0, duration, s)
    result.vad = regions
    if silent:
        warn.append("the take is silent (or shorter than 0.1 s): no speech to listen to")
    elif not regions:
        warn.append("no speech was detected in the take (music, noise or silence?)")

    code, heard = _choose_language(x, regions, s, result)
    result.language = code

    t = clock()
    words: list[Word] = []
    if code in heard:
        words, result.sounds, w = heard[code]
        warn += w
    elif regions:
        words, sounds, w = asr.transcribe(x, regions, s, code)
        result.sounds = sounds
        warn += w
        result.timings["asr"] = result.timings.get("asr", 0.0) + clock() - t
    if words:
        result.transcript_source = "asr"
        mean_p = _confidence(words)
        other = _other_language(x, regions, code) if s.language != language.AUTO and mean_p < CHECK_LANGUAGE else None
        if other:
            warn.append(f"the speech sounds like {language.name(other[0])} (probability {other[1]:.2f}), not "
                        f"{language.name(code)} as chosen: choose {language.name(other[0])} "
                        f"({CHOOSE.format(other[0])}) or automatic detection")
        elif len(words) >= 3 and mean_p < LOW_CONFIDENCE:
            warn.append(f"the transcript is unreliable (mean word confidence {mean_p:.2f}): the speech may be noisy "
                        f"or sung, or not in {language.name(code)}; the script of what is said (--script on "
                        "the command line) gives a better lip sync")
    elif regions:
        warn.append("speech-like sound was detected but no words were recognised")
    if words and code != "en" and s.translate:
        t = clock()
        result.translation = asr.translate(x, regions, s, code)
        result.timings["translation"] = clock() - t

    if script is not None and script.strip():
        placed, w = place_script(script, words, regions, duration, code)
        warn += w
        if placed:
            words = placed
            result.transcript_source = "script"

    t = clock()
    phones = []
    if words:
        lexicon = None if code == "en" else foreign_lexicon(x, words, regions, duration, code, s)
        phones, result.phone_source, w = aligner.align(x, words, duration, s, lexicon)
        phones = aligner.within_speech(phones, regions, duration)
        warn += w
    elif regions and s.allphone_fallback:
        phones = aligner.allphone(x, regions, duration, s)
        result.phone_source = "allphone"
    else:
        phones = aligner.tile([], duration)
    result.words, result.phones = words, phones
    result.timings["alignment"] = clock() - t

    t = clock()
    speech = vad.frame_mask(regions, n)
    f0, voiced = prosody.clean_voicing(f0, energy, speech)
    result.f0, result.voiced, result.energy_db, result.speech = f0, voiced, energy, speech
    result.speaker = prosody.speaker_stats(f0, voiced, energy, speech, phones, result.speech_seconds)
    result.timings["prosody"] = result.timings.get("prosody", 0.0) + clock() - t
    result.timings["total"] = sum(result.timings.values())
    return result


def _choose_language(x: np.ndarray, regions: list[tuple[float, float]], s: ListenSettings,
                     result: Analysis) -> tuple[str, dict[str, tuple]]:
    """The language to transcribe the take in, and the whole-take transcripts made while deciding
    (by language), with the detection's probability, timings and warnings put on `result`.

    A chosen language is taken as it is. A short take the English model hears confidently is
    English (a line of a dialogue database: Whisper base's detection would cost more than the
    line's transcript); otherwise Whisper base names the language from the first 30 s of speech.
    An unsure detection of another language (under CHECK_DETECTION) is checked against English:
    short, shouted, sung or processed English lines are often named Japanese or German at 0.3-0.6
    (real Spanish, French, Italian and Russian prompts are named at 0.94-1.0), so the detected
    speech is transcribed in both and English is kept if its transcript is the more confident."""
    warn, clock = result.warnings, time.perf_counter
    heard: dict[str, tuple] = {}
    if s.language != language.AUTO:
        return s.language, heard
    if not regions:
        return "en", heard
    if sum(b - a for a, b in regions) <= QUICK_ENGLISH_S:
        t = clock()
        heard["en"] = asr.transcribe(x, regions, s, "en")
        result.timings["asr"] = clock() - t
        if _confidence(heard["en"][0]) >= CHECK_LANGUAGE:
            return "en", heard
    t = clock()
    code, p, english = language.detect(x, regions)
    result.language_probability = p
    result.timings["language"] = clock() - t
    if code != "en" and p < CHECK_DETECTION:
        sample = language.first_regions(regions)
        whole = sample == regions           # a take of at most 30 s of speech: its transcripts are kept
        t = clock()
        trial = {lang: heard[lang] if lang in heard else asr.transcribe(x, sample, s, lang)
                 for lang in ("en", code)}             # heard: the quick path's whole (short) take
        result.timings["asr"] = result.timings.get("asr", 0.0) + clock() - t
        if whole:
            heard.update(trial)
        if _confidence(trial["en"][0]) > _confidence(trial[code][0]):
            warn.append(f"the language is uncertain ({language.name(code)}, probability {p:.2f}, but the "
                        "English transcript is more confident): listened to as English; if it is "
                        f"{language.name(code)}, choose it ({CHOOSE.format(code)})")
            result.language_probability = english
            return "en", heard
    if p < language.UNSURE:
        warn.append(f"the language is uncertain ({language.name(code)}, probability {p:.2f}); "
                    f"if that is wrong, choose the language ({CHOOSE.format('<code>')})")
    return code, heard


def _other_language(x: np.ndarray, regions: list[tuple[float, float]], chosen: str) -> tuple[str, float] | None:
    """The language Whisper clearly hears when it is not the one chosen (None if it agrees or is unsure)."""
    code, p, _ = language.detect(x, regions)
    return (code, p) if code != chosen and p >= 0.8 else None


def foreign_lexicon(x: np.ndarray, words: list[Word], regions: list[tuple[float, float]], duration: float,
                    code: str, s: ListenSettings) -> list[list[str]]:
    """Each word's phones in language `code`: eSpeak NG's pronunciation, or, for a word it cannot
    read, what the phone loop hears inside the word's time."""
    lexicon = phonemize.pronunciations([spoken_text(w.text) for w in words], code)
    if all(lexicon):
        return lexicon
    heard = [p for p in aligner.allphone(x, regions, duration, s) if p.phone != "SIL"]
    for i, w in enumerate(words):
        if not lexicon[i]:
            lexicon[i] = [p.phone for p in heard if w.start <= (p.start + p.end) / 2 < w.end] or ["AH"]
    return lexicon


_SPOKEN = re.compile(r"[^\w'’]+")


def spoken_text(text: str) -> str:
    """A written word without punctuation, as eSpeak NG should read it."""
    return _SPOKEN.sub(" ", text).strip()


_TOKEN = re.compile(r"\S+")


def _match_key(text: str, code: str) -> str:
    """What a written word is compared by: the English words it is spoken as, else its letters."""
    return " ".join(words_for(text)) if code == "en" else spoken_text(text).lower()


def place_script(script: str, recognised: list[Word], regions: list[tuple[float, float]],
                 duration: float, code: str = "en") -> tuple[list[Word], list[str]]:
    """Give the script's words rough times from the recognised words (matched by text), or spread
    them over the speech if nothing was recognised. Forced alignment refines them afterwards."""
    warnings: list[str] = []
    tokens = [tok for tok in _TOKEN.findall(script) if _match_key(tok, code)]
    if not tokens:
        warnings.append("the script holds no speakable words; it was ignored")
        return [], warnings
    if not regions:
        warnings.append("a script was given but no speech was heard; its words could not be placed")
        return [], warnings
    out = [Word(tok, 0.0, 0.0, 1.0) for tok in tokens]
    if not recognised:
        _spread(out, 0, len(out), regions)
        warnings.append("no words were recognised; the script was spread over the detected speech before alignment")
        return out, warnings
    rec = [_match_key(w.text, code) for w in recognised]
    scr = [_match_key(t, code) for t in tokens]
    known = [False] * len(out)
    ops = difflib.SequenceMatcher(None, rec, scr, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            for k in range(i2 - i1):
                out[j1 + k].start, out[j1 + k].end = recognised[i1 + k].start, recognised[i1 + k].end
                known[j1 + k] = True
        elif tag == "replace":
            a, b = recognised[i1].start, recognised[i2 - 1].end
            _even(out[j1:j2], a, b)
            for k in range(j1, j2):
                known[k] = True
    # script words the recogniser missed: between their known neighbours
    j = 0
    while j < len(out):
        if known[j]:
            j += 1
            continue
        k = j
        while k < len(out) and not known[k]:
            k += 1
        a = out[j - 1].end if j > 0 else max(0.0, (out[k].start if k < len(out) else regions[0][0]) - 0.3 * (k - j))
        b = out[k].start if k < len(out) else min(duration, a + 0.3 * (k - j))
        if b - a < 0.05 * (k - j):
            b = min(duration, a + 0.05 * (k - j))
            a = max(0.0, b - 0.05 * (k - j))
        _even(out[j:k], a, b)
        j = k
    matched = sum(1 for op in ops if op[0] == "equal" for _ in range(op[2] - op[1]))
    if matched < 0.5 * len(out):
        warnings.append(f"the script and the recognised speech differ a lot ({matched} of {len(out)} script words "
                        "recognised); check that the script belongs to this take")
    return out, warnings


def _even(words: list[Word], a: float, b: float) -> None:
    if not words:
        return
    weights = np.array([max(1, len(w.text)) for w in words], float)
    edges = a + (b - a) * np.concatenate([[0], np.cumsum(weights) / weights.sum()])
    for w, s, e in zip(words, edges[:-1], edges[1:]):
        w.start, w.end = float(s), float(max(e, s + 0.01))


def _spread(words: list[Word], j1: int, j2: int, regions: list[tuple[float, float]]) -> None:
    """Spread words over the speech regions in proportion to their letters."""
    total = sum(b - a for a, b in regions)
    weights = np.array([max(1, len(w.text)) for w in words[j1:j2]], float)
    cum = np.concatenate([[0], np.cumsum(weights) / weights.sum()]) * total

    def at(u: float) -> float:
        for a, b in regions:
            if u <= b - a:
                return a + u
            u -= b - a
        return regions[-1][1]

    for w, s, e in zip(words[j1:j2], cum[:-1], cum[1:]):
        w.start, w.end = at(s), max(at(e), at(s) + 0.01)


def _confidence(words: list[Word]) -> float:
    """Mean word probability of a transcript (0 without words)."""
    return float(np.mean([w.probability for w in words])) if words else 0.0
