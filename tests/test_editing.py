"""The Qt-free editing session (core.editing): every edit's rules, the gap rule, stale spans, the
regeneration cache and exact reverts, on a 10 s take with gaps between its segments. The motion
model's part (regenerating a span for real) is in tests/test_document.py."""

import numpy as np
import pytest

from core import editing
from core.editing import MIN_SEGMENT_S, EditSession, owned_spans, territories
from core.project import MAIN_TRACK, Instruction, Project, Segment
from core.track import FaceTrack

FPS = 30


def calm(text="A person feels calm and speaks with face slightly relaxed."):
    return Instruction(text, "neutral", 0.3, "rules")


def make_session() -> EditSession:
    segs = [Segment(0.5, 3.0, calm(), seed=1,
                    evidence={"words": [{"text": "one", "start": 0.6, "end": 1.0},
                                        {"text": "two", "start": 2.0, "end": 2.5}]}),
            Segment(4.0, 6.0, Instruction("A person feels quite happy and speaks with cheeks lifted.", "happy",
                                          0.6, "rules"), seed=2),
            Segment(6.0, 9.0, calm(), seed=3)]
    rng = np.random.default_rng(0)
    track = FaceTrack(FPS, rng.uniform(0, 1, (10 * FPS, 55)).astype(np.float32))
    return EditSession(Project(segments=segs, tracks={MAIN_TRACK: track}))


def regenerate(session: EditSession, value: float = 0.5) -> None:
    """What the worker would do, with a constant in place of the model's motion."""
    for span in list(session.stale):
        session.apply_result(span, np.full((span.end - span.start, 55), value, np.float32))


def test_territories_reach_to_the_middle_of_each_gap_and_the_ends_of_the_take():
    s = make_session()
    assert territories(s.segments, 10.0) == [(0.0, 3.5), (3.5, 6.0), (6.0, 10.0)]
    assert owned_spans(s.segments, 10.0, [(2.0, 4.5)]) == [(2.0, 3.5, 1), (3.5, 4.5, 2)]


def test_an_instruction_edit_regenerates_the_segment_with_its_half_of_each_gap():
    s = make_session()
    before = s.track.data.copy()
    change = s.set_instruction(1, calm("A person feels very angry and speaks with brows lowered."))
    assert change.text == "Change emotion and intensity of segment 2"       # happy 0.6 -> neutral 0.3
    assert change.spans == [(3.5, 6.0, 2)]          # the gap 3.0-4.0 is shared at its middle
    s.apply(change)
    assert [(sp.start, sp.end, sp.seed) for sp in s.stale] == [(105, 180, 2)]
    assert s.segment_state(1) == "stale" and s.segment_state(0) == "ready"
    regenerate(s)
    assert (s.track.data[105:180] == 0.5).all()             # the gap frames after 3.5 s too
    np.testing.assert_array_equal(s.track.data[:105], before[:105])
    np.testing.assert_array_equal(s.track.data[180:], before[180:])


def test_deleting_a_segment_gives_its_frames_to_the_neighbours_and_regenerates_them():
    s = make_session()
    change = s.delete(1)
    assert change.text == "Delete segment 2" and len(change.after) == 2
    # the old territory 3.5-6.0 now belongs to segment 1 up to the new gap's middle (4.5), then to the last
    assert change.spans == [(3.5, 4.5, 1), (4.5, 6.0, 3)]


def test_several_segments_change_in_one_step_named_for_them():
    s = make_session()
    change = s.rewrite([0, 2], emotion="sad")
    assert change.text == "Change emotion of 2 segments"
    assert [seg.instruction.emotion for seg in change.after] == ["sad", "happy", "sad"]
    assert all(seg.instruction.writer == "user" for seg in (change.after[0], change.after[2]))
    assert change.spans == [(0.0, 3.5, 1), (6.0, 10.0, 3)]
    assert s.rewrite([1], intensity=0.6) is None or s.rewrite([1], intensity=0.6).text.startswith("Change intensity")
    same = s.set_instruction([0, 1, 2], calm())
    assert same.text == "Change emotion and intensity of segment 2"     # 1 and 3 hold it already
    # one segment's emotion or intensity is named as the same edit of several; new words alone are not
    assert s.set_instruction(0, Instruction(calm().text, "sad", 0.3, "user")).text == "Change emotion of segment 1"
    louder = Instruction(calm().text, "neutral", 0.5, "user")
    assert s.set_instruction(0, louder).text == "Change intensity of segment 1"
    assert s.set_instruction(0, calm("A person feels calm and speaks with lips relaxed.")).text == \
        "Edit instruction of segment 1"
    assert s.delete([0, 2]).text == "Delete 2 segments"


def test_retime_is_clamped_between_the_neighbours_and_never_shorter_than_the_minimum():
    s = make_session()
    change = s.retime(1, 2.0, 7.0)
    assert (change.after[1].start, change.after[1].end) == (3.0, 6.0)
    assert s.retime(1, 4.0, 4.0 + MIN_SEGMENT_S / 2) is None
    assert s.retime(1, 4.0, 6.0) is None                                 # nothing moves
    shrink = s.retime(1, 4.5, 6.0)
    # the gap's middle moved from 3.5 to 3.75: the first segment regenerates 3.5-3.75, segment 2 the rest
    assert shrink.spans == [(3.5, 3.75, 1), (3.75, 6.0, 2)]


def test_split_and_merge_rules():
    s = make_session()
    assert s.split(0, 0.5 + MIN_SEGMENT_S / 2) is None
    change = s.split(0, 1.5)
    assert change.spans == [] and [(x.start, x.end) for x in change.after[:2]] == [(0.5, 1.5), (1.5, 3.0)]
    assert [w["text"] for w in change.after[0].evidence["words"]] == ["one"]
    assert [w["text"] for w in change.after[1].evidence["words"]] == ["two"]
    s.apply(change)
    assert s.merge_with_next(0).spans == []                  # same instruction and seed, touching: motion stands
    merged = s.merge_with_next(2)                            # happy + calm: the calm part follows happy now
    assert merged.after[2].instruction.emotion == "happy" and merged.spans == [(6.0, 10.0, 2)]
    assert s.merge_with_next(3) is None


def test_add_cuts_itself_out_of_the_segments_it_overlaps():
    s = make_session()
    change = s.add(2.9, 4.1)
    ends = [(x.start, x.end) for x in change.after]
    assert ends == [(0.5, 2.9), (2.9, 4.1), (4.1, 6.0), (6.0, 9.0)] and change.added == (2.9, 4.1)
    assert s.add(1.0, 1.0 + MIN_SEGMENT_S / 2) is None


def test_revert_puts_back_segments_motion_and_stale_marks_exactly():
    s = make_session()
    original = s.track.data.copy()
    first = s.set_instruction(0, calm("A person feels sad and speaks with brows raised inside."))
    saved_first = s.apply(first)
    stale_after_first = list(s.stale)
    regenerate(s, 0.25)
    second = s.delete(1)
    saved_second = s.apply(second)
    s.revert(second, saved_second)
    assert s.segments == first.after and not s.stale
    s.revert(first, saved_first)
    assert s.segments == first.before and not s.stale
    np.testing.assert_array_equal(s.track.data, original)
    s.apply(first)                               # redo: computed before, so taken from the cache
    assert not s.stale and (s.track.data[0:105] == 0.25).all() and stale_after_first


def test_a_new_span_takes_its_frames_out_of_older_stale_ones():
    s = make_session()
    s.apply(s.set_instruction(0, calm("A person feels very surprised and speaks with brows raised.")))
    assert [(sp.start, sp.end) for sp in s.stale] == [(0, 105)]
    s.apply(s.retime(1, 3.2, 6.0))               # the gap's middle moves to 3.1 s: 3.1-6.0 goes stale
    assert sorted((sp.start, sp.end, sp.seed) for sp in s.stale) == [(0, 93, 1), (93, 180, 2)]


def test_selection_follows_the_segments():
    s = make_session()
    seen = []
    s.selection_changed.connect(lambda primary, sel: seen.append((primary, sel)))
    s.select([2, 0])
    assert s.selection == (0, 2) and s.primary == 0 and seen[-1] == (0, (0, 2))
    s.apply(s.delete([1, 2]))
    assert s.selection == (0,) and s.primary == 0
    s.select(-1)
    assert s.selection == () and s.primary == -1


def test_the_cache_is_bounded_and_keeps_what_was_used_last(monkeypatch):
    monkeypatch.setattr(editing, "CACHE_ENTRIES", 3)
    s = EditSession(Project())
    for k in range(5):
        s._remember((k,), np.zeros((2, 55), np.float32))
    assert list(s._cache) == [(2,), (3,), (4,)]
    assert s._recall((2,)) is not None and list(s._cache)[-1] == (2,)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_an_edit_back_to_the_loaded_state_needs_no_model(index):
    s = make_session()
    old = s.segments[index].instruction
    s.apply(s.set_instruction(index, calm("A person feels quite fearful and speaks with eyes wide.")))
    regenerate(s)
    s.apply(s.set_instruction(index, old))
    assert not s.stale                            # the loaded motion seeded the cache


def test_a_performance_made_before_an_edit_leaves_the_edited_segment_stale():
    s = make_session()
    made_from = list(s.segments)                 # what a whole-take animation started from
    s.apply(s.set_instruction(1, calm("A person feels very angry and speaks with brows lowered.")))
    s.replace_track(FaceTrack(FPS, np.zeros((300, 55), np.float32)), made_from=made_from)
    assert [(sp.start, sp.end) for sp in s.stale] == [(105, 180)]          # segment 2's territory only
    assert s.segment_state(0) == "ready" and s.segment_state(1) == "stale"


def test_deleting_selected_segments_selects_none_and_undo_selects_them_again():
    s = make_session()
    s.select([1, 2])
    change = s.delete(s.selection)
    saved = s.apply(change)
    assert s.selection == () and s.primary == -1            # not the segments that moved into their places
    s.revert(change, saved)
    assert s.selection == (1, 2) and s.primary == 2
