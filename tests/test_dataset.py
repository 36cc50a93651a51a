"""Stage 2's training data: format, consistency, splits, wording and the conditioning helpers."""

import json
import re

import numpy as np
import pytest

from core.arkit import INDEX
from core.instruct.wording import Phrase, compose, parse
from core.motion.conditioning import instruction_frames
from core.motion.text import EMBEDDING_SIZE
from core.synth import dataset as ds
from core.synth.corpus import SENTENCES, sentence_split, split_ids
from core.synth.paraphrase import (HELDOUT_TEMPLATES, TRAIN_TEMPLATES, implied, paraphrase, paraphrases,
                                   words_in_style)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    index = ds.build_dataset(folder, count=3, seed=7, workers=1)
    return folder, index


def test_format(built):
    folder, index = built
    on_disk = json.loads((folder / "index.json").read_text())
    assert on_disk["version"] == 1 and on_disk["fps"] == 30.0 and on_disk["features"] == 48
    assert len(on_disk["items"]) == 3 == len(index["items"])
    for n, item in enumerate(on_disk["items"], 1):
        assert item["file"] == f"items/{n:06d}.npz"
        assert item["split"] in ("train", "heldout")
        assert set(item) >= {"file", "frames", "split", "voice", "sentence_ids", "segments", "seed"}
        with np.load(folder / item["file"]) as data:
            speech, motion = data["speech"], data["motion"]
            emb, bounds = data["seg_embeddings"], data["seg_bounds"]
            alts = data["seg_alternatives"]
        T = item["frames"]
        assert speech.shape == (T, 48) and speech.dtype == np.float32
        assert motion.shape == (T, 55) and motion.dtype == np.float32
        S = len(item["segments"])
        assert emb.shape == (S, EMBEDDING_SIZE) and emb.dtype == np.float32
        assert bounds.shape == (S, 2) and bounds.dtype == np.int32
        assert np.isfinite(speech).all() and np.isfinite(motion).all()
        # segments tile the take, and the index agrees with the arrays
        assert bounds[0, 0] == 0 and bounds[-1, 1] == T
        assert (bounds[1:, 0] == bounds[:-1, 1]).all() and (bounds[:, 1] > bounds[:, 0]).all()
        for seg, (a, b) in zip(item["segments"], bounds):
            assert (seg["start"], seg["end"]) == (a, b)
            assert parse(seg["canonical"])[0] == seg["emotion"]
            assert compose(*parse(seg["canonical"])) == seg["canonical"]
        np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-4)
        # other wordings of the same instructions: the canonical text first, then paraphrases
        assert alts.shape == (S, ds.ALTERNATIVES, EMBEDDING_SIZE) and alts.dtype == np.float32
        from core.motion.text import embed
        np.testing.assert_allclose(alts[:, 0], embed([seg["canonical"] for seg in item["segments"]]), atol=1e-5)
        assert (np.abs(alts[:, 1:] - emb[:, None]).max(-1) > 1e-3).all()


def test_phrase_families_also_come_on_a_calm_face():
    """Every facial action must work on its own, so neutral segments often carry actions of
    other emotions ("calm, with brows raised"), and other emotions borrow actions too."""
    plans = [ds.plan_item(i, seed=0) for i in range(1, 600)]
    neutral = [s for p in plans for s in p.segments if s.emotion == "neutral"]
    acting = [s for s in neutral if s.phrases]
    assert len(acting) > 0.45 * len(neutral)
    from core.instruct.wording import ACTIONS, VOCABULARY
    families = {a for v in VOCABULARY.values() for a in v} - set(VOCABULARY["neutral"])
    assert families <= {a for s in acting for a, _ in s.phrases}
    assert all(a in ACTIONS for s in acting for a, _ in s.phrases)


def test_bilabials_close_the_jaw(built):
    folder, index = built
    checked = 0
    for item in index["items"]:
        plan = ds.plan_item(int(item["file"][6:12]), seed=7)
        assert plan.seed == item["seed"]
        with np.load(folder / item["file"]) as data:
            motion = data["motion"]
        # eSpeak's own bilabials, re-synthesised exactly as the item was made
        from core.espeak import Espeak
        from core.synth.phonemes import to_arpabet
        t = plan.lead
        for k, seg in enumerate(plan.segments):
            u = Espeak().say(" ".join(SENTENCES[i] for i in seg.sentences), voice=plan.voice, rate=seg.rate,
                             pitch=seg.pitch, pitch_range=seg.pitch_range, volume=seg.volume)
            for name, s, e in u.phonemes:
                if to_arpabet(name) in ("P", "B", "M") and e - s > 0.04:
                    i = int((t + (s + e) / 2) * 30)
                    assert motion[i, INDEX["jawOpen"]] < 0.15, (name, t + s)
                    checked += 1
            t += u.duration + (plan.gaps[k] if k < len(plan.gaps) else plan.tail)
    assert checked >= 2


def test_resume_skips_written_items(built):
    folder, index = built
    mtime = (folder / "items/000001.npz").stat().st_mtime_ns
    again = ds.build_dataset(folder, count=3, seed=7, workers=1)
    assert again["build"]["built_now"] == 0 and len(again["items"]) == 3
    assert (folder / "items/000001.npz").stat().st_mtime_ns == mtime
    with pytest.raises(ValueError):
        ds.build_dataset(folder, count=3, seed=8, workers=1)


def test_heldout_never_in_train():
    held_voices, held_sentences = set(ds.voices("heldout")), set(split_ids("heldout"))
    assert not held_voices & set(ds.voices("train"))
    assert 0.12 <= len(held_voices) / (len(held_voices) + len(ds.voices("train"))) <= 0.2
    assert 0.05 <= len(held_sentences) / len(SENTENCES) <= 0.15
    assert len(SENTENCES) >= 400 and len(set(SENTENCES)) == len(SENTENCES)
    splits = {"train": 0, "heldout": 0}
    for i in range(1, 301):
        plan = ds.plan_item(i, seed=3)
        splits[plan.split] += 1
        if plan.split == "train":
            assert plan.voice not in held_voices
            assert not set(plan.sentence_ids) & held_sentences
            assert all(s.wording != "heldout" for s in plan.segments)
        else:
            assert plan.voice in held_voices
            assert all(sentence_split(i) == "heldout" for i in plan.sentence_ids)
    assert splits["heldout"] >= 15


def test_multilingual_items_keep_the_splits_and_speak_their_language():
    from core.synth.corpus_languages import SENTENCES_BY_LANGUAGE, language_split_ids
    languages = tuple(SENTENCES_BY_LANGUAGE)
    seen = set()
    for i in range(1, 121):
        english, plan = ds.plan_item(i, seed=3), ds.plan_language_item(i, languages, seed=3)
        assert plan == ds.plan_language_item(i, languages, seed=3)               # deterministic
        seen.add(plan.language)
        # the instructions, prosody and split are the English plan's; voice and sentences the language's
        assert plan.split == english.split and [s.text for s in plan.segments] == [s.text for s in english.segments]
        base, variant = (plan.voice.split("+") + [""])[:2]
        assert base == plan.language and (("+" + variant) in ds.HELDOUT_VARIANTS) == (plan.split == "heldout")
        assert set(plan.sentence_ids) <= set(language_split_ids(plan.language, plan.split))
    assert seen == set(languages)
    for language, lines in SENTENCES_BY_LANGUAGE.items():
        assert len(set(lines)) == len(lines) >= 20
        assert language_split_ids(language, "heldout") and language_split_ids(language, "train")


def test_a_multilingual_item_is_aligned_in_its_language(tmp_path):
    """One Spanish item end to end: the listener aligns the script in Spanish and the teacher
    follows its phones, so the lips close where the Spanish words have /p b m/."""
    plan = next(p for p in (ds.plan_language_item(i, ("es",), seed=5) for i in range(1, 50)) if p.split == "train")
    arrays, entry = ds.make_item(plan)
    assert entry["language"] == "es" and entry["listener"]["phone_source"] == "alignment"
    assert entry["listener"]["transcript_source"] == "script"
    speech, motion = arrays["speech"], arrays["motion"]
    from core.motion.articulation import SPEECH_COLUMN
    from core.motion.features import PHONE_INDEX
    bilabial = speech[:, [PHONE_INDEX[p] for p in ("P", "B", "M")]].sum(1) > 0.5
    assert bilabial.any()
    gap = motion[:, INDEX["jawOpen"]] - motion[:, INDEX["mouthClose"]]
    speaking = speech[:, SPEECH_COLUMN] > 0.5
    assert np.median(gap[bilabial]) < np.median(gap[~bilabial & speaking])


def test_paraphrases():
    phrases = [Phrase("brows_lowered", 0.7), Phrase("lips_pressed", 0.5), Phrase("jaw_dropped", 0.3)]
    canonical = compose("angry", 0.7, phrases)
    assert parse(canonical)[0] == "angry"
    texts = paraphrases("angry", 0.7, phrases, count=8, seed=1)
    assert len(set(texts)) == 8 and canonical not in texts
    assert paraphrase("angry", 0.7, phrases, seed=5) == paraphrase("angry", 0.7, phrases, seed=5)
    # non-implied actions are always said; held-out words never appear in training wording
    held = words_in_style("heldout") - words_in_style("train")
    for k in range(40):
        text = paraphrase("angry", 0.7, phrases, seed=k)
        assert "jaw" in text
        words = " " + " ".join(re.findall(r"[a-z-]+", text.lower())) + " "
        assert not any(f" {w} " in words for w in held), text
    assert implied("angry", 0.7, Phrase("brows_lowered", 0.7)) and not implied("angry", 0.7, Phrase("jaw_dropped", 0.3))
    held_texts = paraphrases("sad", 0.9, None, count=5, seed=2, style="heldout")
    assert len(set(held_texts)) == 5 and TRAIN_TEMPLATES and HELDOUT_TEMPLATES
    for emotion in ds.EMOTION_LIST:
        assert paraphrase(emotion, 0.5, None, seed=0) != compose(emotion, 0.5)


def test_embedder():
    from core.motion.text import SENTENCE_SIZE, embed, sentence_part
    v = embed(["A person feels very angry.", "A person feels very angry.", "very angry", "quite happy"])
    assert v.shape == (4, EMBEDDING_SIZE) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    # two unit halves, each weighing the same
    np.testing.assert_allclose(np.linalg.norm(v[:, :SENTENCE_SIZE], axis=1), np.sqrt(0.5), atol=1e-4)
    assert float(v[0] @ v[1]) > 0.9999
    assert float(v[2] @ v[3]) < 0.8
    s = sentence_part(v)
    assert s.shape == (4, SENTENCE_SIZE)
    np.testing.assert_allclose(np.linalg.norm(s, axis=1), 1.0, atol=1e-5)
    assert not sentence_part(np.zeros((2, EMBEDDING_SIZE))).any()


def test_the_sentence_half_is_the_sentence_transformers_embedding():
    # all-MiniLM-L6-v2 as sentence-transformers pools it: the last layer mean-pooled, normalised
    import torch
    from core.motion.text import embedder, sentence_part
    e = embedder()
    e.embed(["x"])
    text = "A person feels rather irate and speaks with brows lowered."
    enc = e._tokenizer([text], return_tensors="pt")
    with torch.inference_mode():
        hidden = e._model(**enc).last_hidden_state[0]
    ref = torch.nn.functional.normalize(hidden.mean(0), dim=0).numpy()
    np.testing.assert_allclose(sentence_part(e.embed([text]))[0], ref, atol=1e-5)


def test_instruction_frames_crossfade():
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(3, EMBEDDING_SIZE)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    bounds = np.array([[0, 40], [40, 100], [100, 130]], np.int32)
    out = instruction_frames(emb, bounds, 130, fps=30.0, ease_s=0.35)
    assert out.shape == (130, EMBEDDING_SIZE) and out.dtype == np.float32
    np.testing.assert_allclose(out[5], emb[0], atol=1e-6)       # inside a segment: its embedding
    np.testing.assert_allclose(out[70], emb[1], atol=1e-6)
    np.testing.assert_allclose(out[129], emb[2], atol=1e-6)     # the ends do not fade out
    steps = np.linalg.norm(np.diff(out, axis=0), axis=1)
    jump = np.linalg.norm(emb[1] - emb[0])
    assert steps.max() < 0.25 * jump                              # spread over several frames, no jump
    # halfway through a boundary the two neighbours weigh the same
    mid = instruction_frames(emb[:2], np.array([[0, 40], [40, 80]]), 80, fps=30.0)
    np.testing.assert_allclose(mid[39] + mid[40], emb[0] + emb[1], atol=1e-5)
    # gaps take the nearest segment; no segments -> zeros
    gap = instruction_frames(emb[:2], np.array([[0, 20], [60, 80]]), 80)
    np.testing.assert_allclose(gap[25], emb[0], atol=1e-6)
    assert not instruction_frames(np.zeros((0, EMBEDDING_SIZE)), np.zeros((0, 2)), 10).any()
