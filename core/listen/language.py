"""Which language a take is spoken in: the codes the listener accepts and Whisper's own detection.

`--language auto` (the default) lets the multilingual Whisper model listen to the first 30 s of
speech (the speech regions packed end to end) and name the language; English then goes to the fast
English model, every other language to the multilingual one. A code (`en`, `es`, `ja`, ...) skips
the detection.
"""

from __future__ import annotations

import numpy as np

from core.listen import models

RATE = 16000
DETECT_S = 30.0          # seconds of speech Whisper listens to (its window)
UNSURE = 0.5             # below this probability the detection is reported as uncertain

# Whisper's languages, by code (the names the studio shows).
NAMES: dict[str, str] = {
    "en": "English", "zh": "Chinese", "de": "German", "es": "Spanish", "ru": "Russian", "ko": "Korean",
    "fr": "French", "ja": "Japanese", "pt": "Portuguese", "tr": "Turkish", "pl": "Polish", "ca": "Catalan",
    "nl": "Dutch", "ar": "Arabic", "sv": "Swedish", "it": "Italian", "id": "Indonesian", "hi": "Hindi",
    "fi": "Finnish", "vi": "Vietnamese", "he": "Hebrew", "uk": "Ukrainian", "el": "Greek", "ms": "Malay",
    "cs": "Czech", "ro": "Romanian", "da": "Danish", "hu": "Hungarian", "ta": "Tamil", "no": "Norwegian",
    "th": "Thai", "ur": "Urdu", "hr": "Croatian", "bg": "Bulgarian", "lt": "Lithuanian", "la": "Latin",
    "mi": "Maori", "ml": "Malayalam", "cy": "Welsh", "sk": "Slovak", "te": "Telugu", "fa": "Persian",
    "lv": "Latvian", "bn": "Bengali", "sr": "Serbian", "az": "Azerbaijani", "sl": "Slovenian", "kn": "Kannada",
    "et": "Estonian", "mk": "Macedonian", "br": "Breton", "eu": "Basque", "is": "Icelandic", "hy": "Armenian",
    "ne": "Nepali", "mn": "Mongolian", "bs": "Bosnian", "kk": "Kazakh", "sq": "Albanian", "sw": "Swahili",
    "gl": "Galician", "mr": "Marathi", "pa": "Punjabi", "si": "Sinhala", "km": "Khmer", "sn": "Shona",
    "yo": "Yoruba", "so": "Somali", "af": "Afrikaans", "oc": "Occitan", "ka": "Georgian", "be": "Belarusian",
    "tg": "Tajik", "sd": "Sindhi", "gu": "Gujarati", "am": "Amharic", "yi": "Yiddish", "lo": "Lao",
    "uz": "Uzbek", "fo": "Faroese", "ht": "Haitian Creole", "ps": "Pashto", "tk": "Turkmen", "nn": "Nynorsk",
    "mt": "Maltese", "sa": "Sanskrit", "lb": "Luxembourgish", "my": "Myanmar", "bo": "Tibetan",
    "tl": "Tagalog", "mg": "Malagasy", "as": "Assamese", "tt": "Tatar", "haw": "Hawaiian", "ln": "Lingala",
    "ha": "Hausa", "ba": "Bashkir", "jw": "Javanese", "su": "Sundanese", "yue": "Cantonese",
}
AUTO = "auto"


def check_language(value: str) -> str:
    """`auto` or a Whisper language code (case-insensitive); raises ValueError naming the choices."""
    code = str(value).strip().lower()
    if code == AUTO or code in NAMES:
        return code
    raise ValueError(f"unknown language {value!r}: give 'auto' or a Whisper language code such as en, es, fr, de, "
                     f"zh, ja ({len(NAMES)} are known)")


def name(code: str) -> str:
    return NAMES.get(code, code)


def described(analysis) -> str:
    """The language a take was heard in: "Spanish, detected at 0.94", or "English" when chosen or
    heard without doubt; "" for a take without words (nothing was heard in any language)."""
    if not analysis.words:
        return ""
    p = analysis.language_probability
    return name(analysis.language) + ("" if p >= 1.0 else f", detected at {p:.2f}")


def first_regions(regions: list[tuple[float, float]], seconds: float = DETECT_S) -> list[tuple[float, float]]:
    """The speech regions that hold the first `seconds` of speech (the last one cut short)."""
    out, total = [], 0.0
    for a, b in regions:
        if total >= seconds:
            break
        b = min(b, a + seconds - total)
        out.append((a, b))
        total += b - a
    return out


def speech_sample(x: np.ndarray, regions: list[tuple[float, float]], seconds: float = DETECT_S) -> np.ndarray:
    """The first `seconds` of speech, regions packed end to end."""
    pieces = [x[int(a * RATE):int(b * RATE)] for a, b in first_regions(regions, seconds)]
    return np.concatenate(pieces).astype(np.float32) if pieces else np.zeros(0, np.float32)


def detect(x: np.ndarray, regions: list[tuple[float, float]]) -> tuple[str, float, float]:
    """(code, probability, English's probability) of the language spoken in the speech regions of
    16 kHz audio `x`."""
    sample = speech_sample(x, regions)
    if len(sample) < int(0.3 * RATE):
        return "en", 0.0, 0.0
    code, probability, every = models.whisper_multilingual().detect_language(sample)
    return str(code), float(probability), float(dict(every).get("en", 0.0))
