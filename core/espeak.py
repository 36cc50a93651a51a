"""eSpeak NG through ctypes (libespeak-ng, synchronous mode): speech with phoneme timings (the
training data and the demo), and the pronunciation of words as IPA (the listener, any language).

    speaker = Espeak()
    utterance = speaker.say("Hello there", voice="en-us+f3", rate=170, pitch=60, pitch_range=70)
    utterance.samples, utterance.sample_rate, utterance.phonemes  # [(name, start_s, end_s), ...]
    speaker.ipa(["hola", "gracias"], voice="es")                 # ["ˈola", "ɡɾˈaθjas"]

Phoneme names are eSpeak's own mnemonics (e.g. "h", "@", "l", "oU"); word events give word
boundaries. One process-wide engine: libespeak-ng is not thread-safe, so calls are serialised.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass, field

import numpy as np

AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
POS_CHARACTER = 1
CHARS_UTF8 = 1
EVENT_WORD, EVENT_SENTENCE, EVENT_END, EVENT_MSG_TERMINATED, EVENT_PHONEME = 1, 2, 5, 6, 7
PARAM_RATE, PARAM_VOLUME, PARAM_PITCH, PARAM_RANGE = 1, 2, 3, 4
PHONEMES_IPA = 0x02


class EspeakError(RuntimeError):
    """libespeak-ng is missing or refused a request."""


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _Id)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass
class Utterance:
    text: str
    samples: np.ndarray                  # float32 mono
    sample_rate: int
    phonemes: list[tuple[str, float, float]] = field(default_factory=list)   # name, start, end (s)
    words: list[tuple[str, float, float]] = field(default_factory=list)      # text, start, end (s)

    @property
    def duration(self) -> float:
        return len(self.samples) / self.sample_rate


class Espeak:
    _lock = threading.Lock()
    _lib = None
    _rate = 0

    def __init__(self) -> None:
        with Espeak._lock:
            if Espeak._lib is None:
                name = ctypes.util.find_library("espeak-ng") or "libespeak-ng.so.1"
                try:
                    lib = ctypes.CDLL(name)
                except OSError as exc:
                    raise EspeakError(f"libespeak-ng is not installed ({exc}); apt-get install espeak-ng") from exc
                rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200, None, INITIALIZE_PHONEME_EVENTS)
                if rate <= 0:
                    raise EspeakError("espeak_Initialize failed (is espeak-ng-data installed?)")
                lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
                lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
                lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
                lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int, ctypes.c_int]
                lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                             ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
                Espeak._lib, Espeak._rate = lib, rate
        self._chunks: list[np.ndarray] = []
        self._events: list[tuple[int, int, str, int, int]] = []
        self._callback = _CALLBACK(self._on_synth)     # kept alive as long as the engine uses it

    @property
    def sample_rate(self) -> int:
        return Espeak._rate

    def _on_synth(self, wav, count, events) -> int:
        if count > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(count,)).astype(np.float32) / 32768.0)
        i = 0
        while events[i].type != 0:           # espeakEVENT_LIST_TERMINATED
            e = events[i]
            if e.type == EVENT_PHONEME:
                name = bytes(e.id.string).split(b"\0", 1)[0].decode("ascii", "replace")
                self._events.append((e.type, e.audio_position, name, 0, 0))
            elif e.type in (EVENT_WORD, EVENT_END, EVENT_SENTENCE):
                self._events.append((e.type, e.audio_position, "", e.text_position, e.length))
            i += 1
        return 0

    def ipa(self, words: list[str], voice: str) -> list[str] | None:
        """Each word's pronunciation in IPA as `voice` reads it ("" for a word it cannot say);
        None if eSpeak has no such voice. A word eSpeak reads in another language comes back
        with its switches, "(en)...(cmn)"."""
        lib = Espeak._lib
        out = []
        with Espeak._lock:
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                return None
            for word in words:
                data = ctypes.create_string_buffer(word.encode("utf-8"))
                ptr = ctypes.c_void_p(ctypes.addressof(data))
                pieces = []
                while ptr.value and len(pieces) < 8:          # one clause per call; a word is one
                    got = lib.espeak_TextToPhonemes(ctypes.byref(ptr), CHARS_UTF8, PHONEMES_IPA)
                    if got:
                        pieces.append(got.decode("utf-8", "replace"))
                out.append(" ".join(pieces).strip())
        return out

    def say(self, text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50, pitch_range: int = 50,
            volume: int = 100) -> Utterance:
        """Synthesise `text`; rate in words per minute, pitch and range 0..100 (eSpeak's scales)."""
        lib = Espeak._lib
        data = text.encode("utf-8")
        with Espeak._lock:
            self._chunks, self._events = [], []
            lib.espeak_SetSynthCallback(self._callback)
            if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EspeakError(f"unknown eSpeak voice {voice!r}")
            for param, value in ((PARAM_RATE, rate), (PARAM_PITCH, pitch), (PARAM_RANGE, pitch_range),
                                 (PARAM_VOLUME, volume)):
                lib.espeak_SetParameter(param, int(value), 0)
            buf = ctypes.create_string_buffer(data)
            status = lib.espeak_Synth(buf, len(data) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
            if status != 0:
                raise EspeakError(f"espeak_Synth failed with status {status}")
            lib.espeak_Synchronize()
            chunks, events = self._chunks, self._events
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        duration = len(samples) / Espeak._rate
        return Utterance(text, samples, Espeak._rate, _phonemes(events, duration), _words(events, data, duration))


def _phonemes(events, duration: float) -> list[tuple[str, float, float]]:
    """Phoneme events give onsets in ms; each lasts until the next one (or the end)."""
    marks = [(pos / 1000.0, name) for kind, pos, name, _, _ in events if kind == EVENT_PHONEME]
    out = []
    for k, (start, name) in enumerate(marks):
        end = marks[k + 1][0] if k + 1 < len(marks) else duration
        if end > start and name.strip():
            out.append((name, start, min(end, duration)))
    return out


def _words(events, data: bytes, duration: float) -> list[tuple[str, float, float]]:
    marks = [(pos / 1000.0, tpos, length) for kind, pos, _, tpos, length in events if kind == EVENT_WORD]
    ends = [pos / 1000.0 for kind, pos, *_ in events if kind == EVENT_END]
    out = []
    for k, (start, tpos, length) in enumerate(marks):
        word = data[max(0, tpos - 1): tpos - 1 + length].decode("utf-8", "replace")   # text_position is 1-based
        end = marks[k + 1][0] if k + 1 < len(marks) else duration
        later_ends = [e for e in ends if start < e <= end]
        out.append((word, start, later_ends[0] if later_ends else end))
    return out
