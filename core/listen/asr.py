"""Transcript with word times: faster-whisper over the speech regions (Whisper tiny.en for English,
the multilingual base model for the other languages, int8), and, for those, an English translation.

The speech regions are packed end to end (with 0.1 s of silence between them) so Whisper sees
few 30 s windows, and the word times are mapped back to the take's clock. Long takes go in
blocks of `asr_block` seconds of speech, so memory stays bounded. Hallucinations on non-speech
(segments Whisper itself marks as probably silent whose words are uncertain too, bracketed
"[Music]" captions, symbols) are dropped; captions that name a sound with emotion ("(laughs)",
"[sighs]") are kept as sounds.
"""

from __future__ import annotations

import re

import numpy as np

from core.listen import models
from core.listen.types import ListenSettings, Word

RATE = 16000
GAP = 0.1        # seconds of silence put between packed regions

_NON_WORD = re.compile(r"^[\W_]*$")
_CAPTION = re.compile(r"^[\[(♪*].*[\])♪*]$")


class _Packing:
    """Maps times in the packed audio back to the take."""

    def __init__(self, spans: list[tuple[float, float]]):
        self.spans = spans                         # (take start, take end) per region
        self.starts = []                           # packed start of each region
        t = GAP                                    # packed audio starts with GAP of silence
        for a, b in spans:
            self.starts.append(t)
            t += (b - a) + GAP

    def to_take(self, t: float, is_end: bool = False) -> float:
        i = int(np.searchsorted(self.starts, t, side="left" if is_end else "right")) - 1
        i = min(max(i, 0), len(self.spans) - 1)
        a, b = self.spans[i]
        return float(min(max(a + (t - self.starts[i]), a), b))


def _blocks(vad: list[tuple[float, float]], limit: float) -> list[list[tuple[float, float]]]:
    """Group speech regions into blocks of at most `limit` seconds of speech; a single region
    longer than that is cut into pieces."""
    pieces: list[tuple[float, float]] = []
    for a, b in vad:
        while b - a > limit:
            pieces.append((a, a + limit))
            a += limit
        pieces.append((a, b))
    blocks: list[list[tuple[float, float]]] = []
    total = 0.0
    for a, b in pieces:
        if not blocks or total + (b - a) > limit:
            blocks.append([])
            total = 0.0
        blocks[-1].append((a, b))
        total += b - a
    return blocks


def _fit_to_speech(words: list[Word], vad: list[tuple[float, float]]) -> None:
    """A word stretched across a pause (Whisper's times are rough at the joins) is clipped to the
    speech region holding most of it."""
    starts = np.array([a for a, _ in vad])
    for w in words:
        i = max(int(np.searchsorted(starts, w.start, side="right")) - 1, 0)
        j = max(int(np.searchsorted(starts, w.end, side="left")) - 1, 0)
        if i >= j:
            continue
        best = max(range(i, j + 1), key=lambda k: min(w.end, vad[k][1]) - max(w.start, vad[k][0]))
        a, b = vad[best]
        start, end = max(w.start, a), min(w.end, b)
        if end - start >= 0.02:
            w.start, w.end = start, end


# Captions Whisper writes for sounds without words, and the kind of sound each names.
_SOUND_WORDS = (("laugh", "laughter"), ("chuckl", "laughter"), ("giggl", "laughter"), ("sigh", "sigh"),
                ("sob", "sob"), ("cry", "sob"), ("crie", "sob"), ("weep", "sob"), ("scream", "scream"),
                ("shout", "shout"), ("yell", "shout"), ("gasp", "gasp"))


def sound_kind(caption: str) -> str | None:
    """'laughter', 'sigh', 'sob', 'scream', 'shout' or 'gasp' for a caption like "(laughs)"."""
    low = caption.lower()
    for stem, kind in _SOUND_WORDS:
        if stem in low:
            return kind
    return None


def keep_segment(no_speech_prob: float, avg_logprob: float, word_probs: list[float]) -> bool:
    """Whether a Whisper segment holds speech. Only speech regions reach Whisper, so a segment it
    doubts (high no-speech probability, low log-probability) is dropped only when its words are
    uncertain too: short, loud, acted lines ("Amazing!") get a high no-speech probability but are
    heard clearly; hallucinations on noise are not."""
    if no_speech_prob <= 0.6 or avg_logprob >= -0.8:
        return True
    return bool(word_probs) and float(np.mean(word_probs)) >= 0.55


def _packed(x: np.ndarray, block: list[tuple[float, float]]) -> np.ndarray:
    gap = np.zeros(int(GAP * RATE), np.float32)
    pieces = [gap]
    for a, b in block:
        pieces += [x[int(a * RATE):int(b * RATE)], gap]
    return np.concatenate(pieces).astype(np.float32)


def _segments(model, audio: np.ndarray, language: str, s: ListenSettings, task: str = "transcribe"):
    """Whisper's segments, decoded greedily (or by beam search), without retries at higher
    temperatures. Those retries sample, so the same take gave different words from run to run (9
    of the 111 takes of the real-speech set changed between two runs, a robot voice gaining a
    hallucinated "lalala..."), and CTranslate2's sampler cannot be re-seeded per call; on the
    pyannote call the word error rate is 0.185 either way, and on Italian and Russian prompts the
    retries doubled the base model's time (repeated phrases trip the compression-ratio check) and
    changed no word."""
    segments, _info = model.transcribe(
        audio, language=language, task=task, beam_size=s.beam_size, word_timestamps=task == "transcribe",
        condition_on_previous_text=False, vad_filter=False, without_timestamps=False,
        temperature=(0.0,), no_speech_threshold=0.6, log_prob_threshold=-1.0, compression_ratio_threshold=2.4)
    return segments


def transcribe(x: np.ndarray, vad: list[tuple[float, float]], s: ListenSettings, language: str = "en"
               ) -> tuple[list[Word], list[tuple[str, float, float]], list[str]]:
    """Words with take times and probabilities, the sounds Whisper captioned ((kind, start, end):
    laughter, sighs, sobs, screams, shouts, gasps), and warnings."""
    warnings: list[str] = []
    sounds: list[tuple[str, float, float]] = []
    if not vad:
        return [], sounds, warnings
    model = models.whisper_for(language)
    words: list[Word] = []
    dropped = 0
    for block in _blocks(vad, s.asr_block):
        pack = _Packing(block)
        for seg in _segments(model, _packed(x, block), language, s):
            kind = sound_kind(seg.text) if _CAPTION.match(seg.text.strip()) else None
            if kind:
                sounds.append((kind, pack.to_take(float(seg.start)), pack.to_take(float(seg.end), is_end=True)))
            if not keep_segment(seg.no_speech_prob, seg.avg_logprob, [float(w.probability) for w in seg.words or []]):
                dropped += 1
                continue
            for w in seg.words or []:
                text = w.word.strip()
                kind = sound_kind(text) if text and _CAPTION.match(text) else None
                if kind:
                    start = pack.to_take(float(w.start))
                    sounds.append((kind, start, max(start + 0.1, pack.to_take(float(w.end), is_end=True))))
                    continue
                if not text or _NON_WORD.match(text) or _CAPTION.match(text):
                    continue
                start = pack.to_take(float(w.start))
                end = pack.to_take(float(w.end), is_end=True)
                if end < start + 0.02:
                    end = start + 0.02
                words.append(Word(text=text, start=start, end=end, probability=float(w.probability)))
    words.sort(key=lambda w: w.start)
    _fit_to_speech(words, vad)
    # keep times monotonic and non-overlapping
    for prev, cur in zip(words, words[1:]):
        if cur.start < prev.end:
            mid = max(prev.start + 0.01, min(cur.start, prev.end))
            prev.end = mid
            cur.start = max(cur.start, mid)
            cur.end = max(cur.end, cur.start + 0.01)
    if dropped:
        warnings.append(f"{dropped} stretch(es) of sound looked like non-speech to the recogniser and were skipped")
    return words, sounds, warnings


def translate(x: np.ndarray, vad: list[tuple[float, float]], s: ListenSettings, language: str
              ) -> list[tuple[float, float, str]]:
    """Whisper's English translation of speech in `language`: (start, end, text) in take times."""
    model = models.whisper_multilingual()
    out: list[tuple[float, float, str]] = []
    for block in _blocks(vad, s.asr_block):
        pack = _Packing(block)
        for seg in _segments(model, _packed(x, block), language, s, task="translate"):
            text = " ".join(seg.text.split())
            if not text or _NON_WORD.match(text) or _CAPTION.match(text) or \
                    not keep_segment(seg.no_speech_prob, seg.avg_logprob, []):
                continue
            start = pack.to_take(float(seg.start))
            out.append((start, max(start + 0.05, pack.to_take(float(seg.end), is_end=True)), text))
    return out
