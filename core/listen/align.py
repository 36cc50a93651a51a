"""Phones with times: PocketSphinx forced alignment of the words, chunk by chunk.

The words (recognised or from the user's script) carry rough times. They are grouped into
chunks at pauses (at most `align_chunk` seconds each, cut at the midpoints of the gaps between
words), and each chunk is force-aligned on its own: `set_align_text`, decode, `set_alignment()`,
decode again, `get_alignment()`. That keeps long takes fast and a failure local: a chunk the
aligner cannot fit keeps the recogniser's word times and gets phones spread evenly over each
word from the dictionary pronunciation ("estimated"). Words missing from cmudict get a rough
letter-to-sound pronunciation; numbers are spelled out.

Other languages bring their own pronunciations (`lexicon`: eSpeak NG's, mapped to ARPAbet by
core.listen.phonemize); each is entered in the dictionary under a key made of its phones, and the
same English acoustic model aligns them (its phones are close enough to place lip closures and
vowels; bench_languages measures it against placing the phones by duration inside each word).

Where no words are known at all, `allphone` decodes the speech regions with PocketSphinx's
phone loop (en-us phone language model), so stage 2 still sees mouth-shaped units.
"""

from __future__ import annotations

import re

import numpy as np

from core.listen import models
from core.listen.g2p import letter_to_sound, words_for
from core.listen.prosody import VOWELS
from core.listen.types import ListenSettings, Phone, Word

RATE = 16000
PAD = 0.4              # most audio added around a chunk's words (seconds)
SPLIT_GAP = 0.3        # word gaps at least this long end a chunk
SPEECH_MARGIN = 0.1    # phones may reach this far outside the heard speech
_VARIANT = re.compile(r"\(\d+\)$")
_FILLERS = {"<sil>", "<s>", "</s>", "[noise]", "[breath]"}


def pcm16(x: np.ndarray) -> bytes:
    """16-bit PCM with +-1 LSB of (seeded, so repeatable) dither: digital silence (exact zeros, as
    synthesisers and editors write) otherwise breaks PocketSphinx's features and the alignment."""
    y = np.clip(x, -1.0, 1.0) * 32767.0 + np.random.default_rng(len(x)).uniform(-1.0, 1.0, len(x))
    return np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes()


def _pronounce(decoder, word: str) -> str:
    pron = decoder.lookup_word(word)
    if pron is None:
        pron = letter_to_sound(word)
        decoder.add_word(word, pron, True)
    return pron


def _chunks(words: list[Word], limit: float) -> list[list[int]]:
    chunks: list[list[int]] = []
    for i, w in enumerate(words):
        if chunks:
            first = words[chunks[-1][0]]
            prev = words[chunks[-1][-1]]
            gap = w.start - prev.end
            if gap >= SPLIT_GAP or w.end - first.start > limit:
                chunks.append([i])
                continue
            chunks[-1].append(i)
        else:
            chunks.append([i])
    return chunks


def _bounds(words: list[Word], chunks: list[list[int]], duration: float, pad: float) -> list[tuple[float, float]]:
    """Audio span of each chunk: its words plus `pad`, never past the middle of the gap to a
    neighbouring chunk."""
    out = []
    for k, ids in enumerate(chunks):
        a, b = words[ids[0]].start, words[ids[-1]].end
        lo = 0.0 if k == 0 else (words[chunks[k - 1][-1]].end + a) / 2
        hi = duration if k == len(chunks) - 1 else (b + words[chunks[k + 1][0]].start) / 2
        out.append((max(lo, a - pad), min(hi, b + pad)))
    return out


VOWEL_WEIGHT = 1.6      # a vowel lasts this many times a consonant when phones are placed by duration


def _estimate(decoder, words: list[Word], ids: list[int], spoken: dict[int, list[str]]) -> list[Phone]:
    """Phones placed by their typical duration inside each word (used where alignment failed, or
    instead of it): vowels longer than consonants."""
    phones: list[Phone] = []
    for i in ids:
        w = words[i]
        seq = [p for dw in spoken[i] for p in _pronounce(decoder, dw).split()]
        if not seq:
            continue
        weights = np.array([VOWEL_WEIGHT if p in VOWELS else 1.0 for p in seq])
        edges = w.start + (w.end - w.start) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
        for j, p in enumerate(seq):
            phones.append(Phone(p, float(edges[j]), float(edges[j + 1]), i))
    return phones


def lexicon_key(phones: list[str]) -> str:
    """The dictionary entry of a pronunciation given as phones (one per distinct pronunciation:
    PocketSphinx cannot change an entry once added)."""
    return "_" + "_".join(phones)


def _spoken(decoder, words: list[Word], lexicon: list[list[str]] | None) -> dict[int, list[str]]:
    """The dictionary words each word is spoken as, entered in the decoder's dictionary."""
    if lexicon is None:
        spoken = {i: words_for(w.text) for i, w in enumerate(words)}
        for dws in spoken.values():
            for dw in dws:
                _pronounce(decoder, dw)
        return spoken
    spoken = {}
    for i, phones in enumerate(lexicon):
        spoken[i] = [lexicon_key(phones)] if phones else []
        if phones and decoder.lookup_word(spoken[i][0]) is None:
            decoder.add_word(spoken[i][0], " ".join(phones), True)
    return spoken


def _align_chunk(decoder, audio: np.ndarray, offset: float, words: list[Word], ids: list[int],
                 spoken: dict[int, list[str]]) -> list[Phone] | None:
    """Phones of one chunk, or None when the words cannot be fitted to the audio. When the word
    pass fits but the phone pass does not, the word times are kept and each word's phones are
    spread evenly inside it."""
    owners = [i for i in ids for _ in spoken[i]]
    text = " ".join(dw for i in ids for dw in spoken[i])
    if not owners:
        return []
    pcm = pcm16(audio)
    try:
        decoder.set_align_text(text)
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        if decoder.hyp() is None:
            return None
        word_pass = [(_VARIANT.sub("", sg.word), sg.start_frame, sg.end_frame + 1) for sg in decoder.seg()]
    except (RuntimeError, ValueError):
        return None
    try:
        decoder.set_alignment()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
        alignment = [(_VARIANT.sub("", e.name), e.start, e.start + e.duration, [(ph.name, ph.start, ph.start + ph.duration) for ph in e])
                     for e in decoder.get_alignment()]
    except (RuntimeError, ValueError):
        alignment = [(name, a, b, None) for name, a, b in word_pass]
    phones: list[Phone] = []
    k = 0
    for name, a, b, inner in alignment:
        if name in _FILLERS or name.startswith("+"):
            phones.append(Phone("SIL", offset + a / 100.0, offset + b / 100.0))
            continue
        if k >= len(owners):
            return None
        owner = owners[k]
        k += 1
        if inner is None:       # word pass only: spread the pronunciation over the word
            seq = _pronounce(decoder, name).split()
            step = (b - a) / max(1, len(seq))
            inner = [(p, a + j * step, a + (j + 1) * step) for j, p in enumerate(seq)]
        for ph, s0, s1 in inner:
            phones.append(Phone(ph, offset + s0 / 100.0, offset + s1 / 100.0, owner))
    if k != len(owners):
        return None
    return phones


def align(x: np.ndarray, words: list[Word], duration: float, s: ListenSettings,
          lexicon: list[list[str]] | None = None, by_duration: bool = False) -> tuple[list[Phone], str, list[str]]:
    """Align `words` (their times are updated in place) to the 16 kHz audio `x`. `lexicon` gives
    each word's phones (other languages); without it they come from cmudict. With `by_duration`
    the phones are placed inside the recogniser's word times without an acoustic model.
    Returns phones (tiling 0..duration, SIL in between), the phone source and warnings."""
    warnings: list[str] = []
    if not words:
        return [], "none", warnings
    with models.decoder_lock:
        decoder = models.aligner(fresh=True)     # every take aligns as in a new process
        spoken = _spoken(decoder, words, lexicon)
        chunks = _chunks(words, s.align_chunk)
        if by_duration:
            phones = tile(_estimate(decoder, words, list(range(len(words))), spoken), duration)
            return phones, "estimated", warnings
        phones: list[Phone] = []
        failed = []
        # the recogniser's word times can be off by a few hundred ms: a chunk that does not fit
        # is tried again with more audio around it
        tries = list(zip(_bounds(words, chunks, duration, PAD), _bounds(words, chunks, duration, 4 * PAD)))
        for ids, spans in zip(chunks, tries):
            got = None
            for a, b in dict.fromkeys(spans):
                seg = x[int(a * RATE):int(b * RATE)]
                if len(seg) > 400:
                    got = _align_chunk(decoder, seg, a, words, ids, spoken)
                if got is not None:
                    break
            if got is None:
                failed.append(spans[0])
                got = _estimate(decoder, words, ids, spoken)
            else:
                for i in ids:
                    words[i].aligned = True
            phones += got
    if failed:
        total = sum(b - a for a, b in failed)
        warnings.append(f"the lip sync is approximate over {total:.1f} s ({len(failed)} "
                        f"{'passage' if len(failed) == 1 else 'passages'} whose sounds could not be matched "
                        "to the words; their phones are spread over each word's time)")
    source = "alignment" if not failed else ("estimated" if len(failed) == len(chunks) else "mixed")
    phones = tile(phones, duration)
    spans: dict[int, list[float]] = {}
    for p in phones:
        if p.word >= 0:
            spans.setdefault(p.word, [p.start, p.end])[1] = p.end
    for i, (a, b) in spans.items():          # words span exactly their phones
        words[i].start, words[i].end = a, b
    return phones, source, warnings


def loop_phones(decoder, offset: float) -> list[Phone]:
    """The phone loop's best path so far as Phones (fillers and noise as SIL), times from
    `offset` seconds, the start of the decoder's utterance."""
    out = []
    for sg in decoder.seg() or ():
        name = sg.word
        if name.startswith("+") or name.startswith("<") or name == "SIL":
            name = "SIL"
        out.append(Phone(name, offset + sg.start_frame / 100.0, offset + (sg.end_frame + 1) / 100.0))
    return out


def allphone(x: np.ndarray, vad: list[tuple[float, float]], duration: float, s: ListenSettings) -> list[Phone]:
    """Phone-loop decoding of the speech regions (no words needed)."""
    phones: list[Phone] = []
    with models.decoder_lock:
        decoder = models.allphone(fresh=True)
        for a0, b0 in vad:
            a = a0
            while a < b0 - 0.05:
                b = min(b0, a + s.align_chunk)
                seg = x[int(a * RATE):int(b * RATE)]
                try:
                    decoder.start_utt()
                    decoder.process_raw(pcm16(seg), full_utt=True)
                    decoder.end_utt()
                    phones += loop_phones(decoder, a)
                except (RuntimeError, ValueError):
                    pass
                a = b
    return tile(phones, duration)


def within_speech(phones: list[Phone], regions: list[tuple[float, float]], duration: float,
                  margin: float = SPEECH_MARGIN) -> list[Phone]:
    """The phones clipped to the heard speech (the regions widened by `margin`): a phone that
    reaches out of the speech into a pause keeps only the stretch from the first region it
    touches to the end of the last, one wholly in a pause is dropped. An aligner that cannot fit
    words to a drill of syllables in a noisy room stretches vowels over the noise between them;
    the face then speaks into a pause."""
    if not regions:
        return phones
    spans = [(max(0.0, a - margin), min(duration, b + margin)) for a, b in regions]
    out = []
    for p in phones:
        if p.phone == "SIL":
            continue
        touched = [(a, b) for a, b in spans if a < p.end and b > p.start]
        if touched:
            out.append(Phone(p.phone, max(p.start, touched[0][0]), min(p.end, touched[-1][1]), p.word))
    return tile(out, duration)


def tile(phones: list[Phone], duration: float) -> list[Phone]:
    """Sort, clip to the take, fill gaps with SIL and merge neighbouring SILs."""
    out: list[Phone] = []
    t = 0.0
    for p in sorted(phones, key=lambda p: p.start):
        start, end = max(p.start, t), min(p.end, duration)
        if end <= start + 1e-6:
            continue
        if start > t + 1e-6:
            out.append(Phone("SIL", t, start))
        out.append(Phone(p.phone, start, end, p.word))
        t = end
    if duration > t + 1e-6:
        out.append(Phone("SIL", t, duration))
    merged: list[Phone] = []
    for p in out:
        if merged and p.phone == "SIL" and merged[-1].phone == "SIL":
            merged[-1].end = p.end
        else:
            merged.append(p)
    return merged
