"""Splitting and merging a segment's evidence (core.segments), on the listener's real evidence of
the demo project."""

import pytest

from core.demo import demo_project
from core.segments import merge_evidence, split_evidence


@pytest.fixture(scope="module")
def evidence():
    segment = demo_project().segments[1]
    assert segment.evidence["words"] and segment.evidence["phones"] and "why" in segment.evidence
    return segment.evidence


def test_a_split_gives_each_half_its_own_words_and_phones(evidence):
    words = evidence["words"]
    t = (words[3]["end"] + words[4]["start"]) / 2
    left, right = split_evidence(evidence, t)
    assert left["words"] == words[:4] and right["words"] == words[4:]
    assert left["text"] == " ".join(w["text"] for w in words[:4])
    assert right["text"] == " ".join(w["text"] for w in words[4:])
    assert all((p[1] + p[2]) / 2 < t for p in left["phones"]) and all((p[1] + p[2]) / 2 >= t for p in right["phones"])
    assert len(left["phones"]) + len(right["phones"]) == len(evidence["phones"])
    assert left["speech"] == [evidence["speech"][0], t] and right["speech"] == [t, evidence["speech"][1]]
    assert "why" not in left and "why" not in right            # the reasons were the whole segment's
    assert left["prosody"] == right["prosody"] == evidence["prosody"]


def test_merging_the_halves_gives_the_segment_back(evidence):
    t = (evidence["words"][2]["end"] + evidence["words"][3]["start"]) / 2
    merged = merge_evidence(*split_evidence(evidence, t))
    assert merged == {k: v for k, v in evidence.items() if k != "why"} | {"text": merged["text"]}
    assert merged["text"] == " ".join(w["text"] for w in evidence["words"])


def test_evidence_without_timed_parts_is_kept_whole():
    left, right = split_evidence({"kind": "silence", "note": "x"}, 1.0)
    assert left == right == {"kind": "silence", "note": "x"}
    assert merge_evidence({"kind": "silence"}, {"kind": "speech", "words": [{"text": "hi", "start": 0, "end": 1}]}) \
        == {"kind": "speech", "words": [{"text": "hi", "start": 0, "end": 1}], "text": "hi"}
