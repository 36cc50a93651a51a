"""Phones for words in any language: eSpeak NG's pronunciation (IPA) mapped to the model's phones.

eSpeak NG knows the spelling rules of 100+ languages. Each word goes through
`espeak_TextToPhonemes` with the language's voice and comes back as IPA; every IPA segment is then
mapped to the nearest of the 39 ARPAbet phones the motion model is conditioned on, by what the face
shows: where the lips close (p b m; the approximant of Spanish b/v between vowels, [β], narrows
them without closing and reads as V), the lip-teeth contact (f v), rounding (y, ø and œ read as
the rounded UW, OW and AO), vowel height and frontness, and the tongue-tip and back consonants,
which show little. Stress, length, tone, nasalisation and
palatalisation marks do not change the mouth shape much and are dropped.

Chinese characters go through their pinyin (pypinyin's dictionary, MIT) to eSpeak NG's pinyin
voice, `cmn-latn-pinyin`: Debian's eSpeak NG has no dictionary of the characters themselves.
Japanese goes through its kana pronunciation (fugashi's MeCab with the UniDic-lite dictionary,
MIT and BSD: 今日は -> キョーワ) to eSpeak NG's Japanese voice, which reads kana but not kanji.
"""

from __future__ import annotations

import re
import unicodedata

from core.listen.errors import ListenError

# IPA segment -> ARPAbet phones (longest match first when reading).
IPA_TO_ARPABET: dict[str, tuple[str, ...]] = {
    # diphthongs and affricates that map to one phone
    "aɪ": ("AY",), "aɪ̯": ("AY",), "ai": ("AY",), "aʊ": ("AW",), "au": ("AW",), "eɪ": ("EY",), "ei": ("EY",),
    "oʊ": ("OW",), "əʊ": ("OW",), "ɔɪ": ("OY",), "oi": ("OY",),
    "tʃ": ("CH",), "t͡ʃ": ("CH",), "dʒ": ("JH",), "d͡ʒ": ("JH",), "tɕ": ("CH",), "t͡ɕ": ("CH",), "dʑ": ("JH",),
    "ts": ("T", "S"), "t͡s": ("T", "S"), "dz": ("D", "Z"), "d͡z": ("D", "Z"), "tʂ": ("CH",), "dʐ": ("JH",),
    "ɚ": ("ER",), "ɝ": ("ER",), "ɜː": ("ER",),
    # vowels: height, frontness and rounding
    "i": ("IY",), "y": ("UW",), "ɪ": ("IH",), "ʏ": ("UH",), "ɨ": ("IH",), "ʉ": ("UW",), "e": ("EY",),
    "ø": ("OW",), "ɛ": ("EH",), "œ": ("AO",), "æ": ("AE",), "a": ("AA",), "ä": ("AA",), "ɐ": ("AH",),
    "ɑ": ("AA",), "ɒ": ("AO",), "ɔ": ("AO",), "o": ("OW",), "ɤ": ("AH",), "ʊ": ("UH",), "u": ("UW",),
    "ɯ": ("UW",), "ə": ("AH",), "ɘ": ("AH",), "ɵ": ("AH",), "ɜ": ("ER",), "ʌ": ("AH",), "ɞ": ("AO",),
    "ᵻ": ("IH",), "ɶ": ("AO",),
    # lips
    "p": ("P",), "b": ("B",), "m": ("M",), "ɱ": ("M",), "β": ("V",), "ɸ": ("F",), "f": ("F",), "v": ("V",),
    "ʋ": ("V",), "w": ("W",), "ɥ": ("W",), "ʍ": ("W",),
    # tongue tip and blade
    "θ": ("TH",), "ð": ("DH",), "t": ("T",), "d": ("D",), "n": ("N",), "l": ("L",), "ɫ": ("L",), "s": ("S",),
    "z": ("Z",), "ɾ": ("D",), "r": ("D",), "ɹ": ("R",), "ɻ": ("R",), "ɽ": ("D",), "ʈ": ("T",), "ɖ": ("D",),
    "ɳ": ("N",), "ɭ": ("L",), "ɬ": ("L",), "ʃ": ("SH",), "ʒ": ("ZH",), "ɕ": ("SH",), "ʑ": ("ZH",),
    "ʂ": ("SH",), "ʐ": ("ZH",),
    # palate and back of the mouth
    "j": ("Y",), "ʝ": ("Y",), "ʎ": ("L",), "ɲ": ("N",), "ç": ("HH",), "c": ("K",), "ɟ": ("G",), "k": ("K",),
    "g": ("G",), "ɡ": ("G",), "ŋ": ("NG",), "x": ("HH",), "ɣ": ("G",), "ɰ": ("W",), "χ": ("HH",),
    "ʁ": ("HH",), "ʀ": ("HH",), "q": ("K",), "ɢ": ("G",), "ħ": ("HH",), "ʕ": ("HH",), "h": ("HH",),
    "ɦ": ("HH",), "ʔ": (),
}
_LONGEST = max(len(k) for k in IPA_TO_ARPABET)
# marks that do not change the mouth shape: stress, length, syllable, tie, tone, nasal, palatal ...
_DROP = set("ˈˌːˑ.‿|‖-_ʲʷˠˤ̩̯̪̺̻̥̬̞̝̟̠̃͜͡˥˦˧˨˩0123456789")

# Whisper language codes -> eSpeak NG voices (every language both know; for the others the phones
# come from the audio: core.listen.listen.foreign_lexicon).
ESPEAK_VOICES: dict[str, str] = {
    "en": "en-us", "zh": "cmn-latn-pinyin", "de": "de", "es": "es", "ru": "ru", "ko": "ko", "fr": "fr", "ja": "ja",
    "pt": "pt", "tr": "tr", "pl": "pl", "ca": "ca", "nl": "nl", "ar": "ar", "sv": "sv", "it": "it",
    "id": "id", "hi": "hi", "fi": "fi", "vi": "vi", "he": "he", "uk": "uk", "el": "el", "ms": "ms",
    "cs": "cs", "ro": "ro", "da": "da", "hu": "hu", "ta": "ta", "no": "nb", "th": "th", "ur": "ur",
    "hr": "hr", "bg": "bg", "lt": "lt", "la": "la", "mi": "mi", "ml": "ml", "cy": "cy", "sk": "sk",
    "te": "te", "fa": "fa", "lv": "lv", "bn": "bn", "sr": "sr", "az": "az", "sl": "sl", "kn": "kn",
    "et": "et", "mk": "mk", "eu": "eu", "is": "is", "hy": "hy", "ne": "ne", "bs": "bs", "kk": "kk",
    "sq": "sq", "sw": "sw", "mr": "mr", "pa": "pa", "si": "si", "af": "af", "ka": "ka", "be": "be",
    "sd": "sd", "gu": "gu", "am": "am", "uz": "uz", "ht": "ht", "tk": "tk", "mt": "mt", "lb": "lb",
    "my": "my", "as": "as", "tt": "tt", "haw": "haw", "ba": "ba", "yue": "yue",
}


def ipa_to_arpabet(ipa: str) -> list[str]:
    """ARPAbet phones for one word's IPA ("ˈola" -> OW L AA)."""
    text = "".join(ch for ch in unicodedata.normalize("NFD", ipa) if ch not in _DROP and not ch.isspace())
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    i = 0
    while i < len(text):
        for size in range(min(_LONGEST, len(text) - i), 0, -1):
            piece = text[i:i + size]
            if piece in IPA_TO_ARPABET:
                out += IPA_TO_ARPABET[piece]
                i += size
                break
        else:
            i += 1                  # an IPA symbol the table does not know: skipped
    return [p for k, p in enumerate(out) if k == 0 or p != out[k - 1]]


def voice_for(language: str) -> str | None:
    """The eSpeak NG voice of a Whisper language code (None where eSpeak has none)."""
    return ESPEAK_VOICES.get(language)


_ASPIRATED = re.compile(r"(p|t|k|ts\.?|tɕ)h")


def pinyin(word: str) -> str:
    """The pinyin of a written Chinese word, syllables with tone numbers ("你好" -> "ni3 hao3");
    latin letters and digits are left out."""
    try:
        from pypinyin import Style, lazy_pinyin
    except ImportError as exc:
        raise ListenError("the Python package 'pypinyin' is not installed (it reads Chinese characters)") from exc
    return " ".join(lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore"))


_TAGGER = None


def kana(text: str) -> str:
    """Japanese text as it is pronounced, in katakana (今日は良い天気です -> キョーワヨイテンキデス);
    a word the dictionary does not know is kept as written."""
    global _TAGGER
    if _TAGGER is None:
        try:
            import fugashi
            _TAGGER = fugashi.Tagger()
        except (ImportError, RuntimeError) as exc:     # no fugashi, or fugashi without its dictionary
            raise ListenError("the Python packages 'fugashi' and 'unidic-lite' are not installed "
                              f"(they read Japanese kanji): {exc}") from exc
    out = []
    for token in _TAGGER(text):
        feature = token.feature
        said = getattr(feature, "pron", None) or getattr(feature, "kana", None)
        out.append(token.surface if said in (None, "*") else said)
    return "".join(out)


def ipa(words: list[str], language: str) -> list[str]:
    """eSpeak NG's IPA for each word (an empty string for a word it cannot say, and for every word
    of a language it has no voice for)."""
    voice = voice_for(language)
    if voice is None:
        return [""] * len(words)
    if language == "zh":              # its voice is eSpeak's pinyin reader
        words = [pinyin(w) for w in words]
    elif language == "ja":            # its voice reads kana, not kanji
        words = [kana(w) for w in words]
    from core.espeak import Espeak, EspeakError
    try:
        got = Espeak().ipa(words, voice)
    except EspeakError as exc:
        raise ListenError(str(exc)) from exc
    if got is None:
        return [""] * len(words)
    if language == "zh":      # the pinyin voice writes aspiration as "h" and tone 3 inside a syllable as "ɜ"
        got = [_ASPIRATED.sub(r"\1", g.replace("ɜ", "")) for g in got]
    return got


def pronunciations(words: list[str], language: str) -> list[list[str]]:
    """ARPAbet phones of each written word in `language`, through eSpeak NG's IPA; no phones for a
    word eSpeak cannot read in that language (it then switches to another one, "(en)...", as it
    does for Chinese characters without its extended dictionary, or a Latin-script word in Japanese)."""
    return [[] if "(" in p else ipa_to_arpabet(p) for p in ipa(words, language)]
