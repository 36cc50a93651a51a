"""The timeline's rules without Qt: snapping and clamping a drag, which segments a click
selects, what a segment's box says at every width, timecode, and the shared emotion colours."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.project import EMOTIONS
from studio.timeline.drag import (MIN_SEGMENT, PAUSE_S, Drag, clamp_end, clamp_move, clamp_new, clamp_start,
                                  dragged_span, gap_at, pauses, room_for, snap, with_edges, word_targets)
from studio.timeline.labels import ELLIPSIS, instruction_line, segment_label, short_name
from studio.timeline.selection import extended, toggled
from studio.timeline.theme import EMOTION_COLOURS, blend, emotion_colour
from studio.timeline.timecode import format_time, format_timecode, shows_timecode


def test_the_rules_load_without_qt():
    code = ("import sys\nimport studio.timeline.drag, studio.timeline.labels, studio.timeline.selection, "
            "studio.timeline.timecode, studio.timeline.theme\n"
            "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'shiboken'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr[-500:]


# --- timecode -----------------------------------------------------------------------------

def test_format_timecode():
    assert format_timecode(61.5, 30) == "00:01:01:15"
    assert format_timecode(0.0, 30) == "00:00:00:00"
    assert format_timecode(3725.04, 25) == "01:02:05:01"
    assert format_timecode(59.99, 24) == "00:00:59:23"
    assert format_timecode(-1.5, 30) == "-00:00:01:15"
    # every frame's start time shows that frame, despite float rounding (0.7 * 30 = 20.999...)
    for fps in (24, 25, 30, 60):
        for n in range(3 * fps):
            assert format_timecode(n / fps, fps).endswith(f"{n // fps:02d}:{n % fps:02d}"), (fps, n)
    # a fractional rate counts frames with the rounded base (non-drop-frame timecode)
    assert format_timecode(30 / 29.97, 29.97) == "00:00:01:00"
    assert format_timecode(29 / 29.97, 29.97) == "00:00:00:29"


def test_when_the_ruler_shows_timecode():
    assert shows_timecode(1 / 30 / 4, 30)              # a frame 4 px wide
    assert not shows_timecode(1 / 30 / 3.9, 30)
    assert not shows_timecode(20 / 1400, 30)            # 20 s over 1400 px
    assert shows_timecode(2 / 1400, 30)
    assert format_time(65.5, 0.5, long=True) == "1:05.5"


# --- labels -------------------------------------------------------------------------------

def measure(text: str) -> float:
    """A fixed-width font: 7 px a character."""
    return 7.0 * len(text)


def test_a_label_is_the_name_a_short_form_or_nothing_never_a_cut_word():
    assert segment_label("surprised", "stale", 0.0, 200, measure) == "Surprised  ·  stale"
    assert segment_label("surprised", "stale", 0.0, 100, measure) == "Surprised"
    assert segment_label("surprised", "ready", 0.0, 63, measure) == "Surprised"
    assert segment_label("surprised", "ready", 0.0, 62, measure) == "Sur"
    assert segment_label("surprised", "ready", 0.0, 20, measure) == ""
    assert segment_label("sad", "busy", 0.404, 200, measure) == "Sad  ·  40 %"
    for emotion in EMOTIONS:
        for state in ("ready", "stale", "busy"):
            seen = set()
            for width in range(0, 300):
                label = segment_label(emotion, state, 0.5, width, measure)
                assert measure(label) <= width
                assert ELLIPSIS not in label and "..." not in label
                seen.add(label)
            allowed = {"", short_name(emotion), emotion.capitalize()}
            assert allowed <= seen and len(seen - allowed) <= 1       # plus the label with its state


def test_short_names_tell_the_emotions_apart():
    shorts = [short_name(e) for e in EMOTIONS]
    assert len(set(shorts)) == len(EMOTIONS)
    assert shorts[:4] == ["Neu", "Hap", "Sad", "Ang"]


def test_an_instruction_line_keeps_whole_words():
    text = "A person feels quite angry and speaks with brows strongly lowered."
    assert instruction_line(text, 1000, measure) == text
    assert instruction_line(text, 7 * 30, measure) == "A person feels quite angry…"
    assert instruction_line(text, 7 * 9, measure) == "A person…"
    assert instruction_line(text, 7 * 8, measure) == ""                      # not "A…" nor "A pers…"
    assert instruction_line("Tense jaw, furrowed brows.", 7 * 11, measure) == "Tense jaw…"   # no "jaw,…"
    for width in range(0, 500, 3):
        line = instruction_line(text, width, measure)
        assert measure(line) <= width
        assert line == "" or line == text or (line.endswith(ELLIPSIS) and text.startswith(line[:-1]) and
                                               text[len(line) - 1] in " ,")


# --- the colours --------------------------------------------------------------------------

def test_one_colour_per_emotion():
    assert set(EMOTION_COLOURS) == set(EMOTIONS)
    assert len(set(EMOTION_COLOURS.values())) == len(EMOTIONS)
    assert emotion_colour("happy") == "#f0e442"
    assert emotion_colour("bored") == EMOTION_COLOURS["neutral"]
    assert blend("#ff0000", "#0000ff", 0.25) == "#4000bf"
    assert blend("#123456", "#000000", 1.0) == "#123456"


# --- selection ----------------------------------------------------------------------------

def test_toggling_and_extending_a_selection():
    assert toggled([], 2) == [2]
    assert toggled([1, 4], 2) == [1, 2, 4]
    assert toggled([1, 2, 4], 2) == [1, 4]
    order = [0, 3, 1, 2]                           # document indices by start time
    assert extended(order, 3, 2) == [1, 2, 3]
    assert extended(order, 2, 0) == [0, 1, 2, 3]
    assert extended(order, 1, 1) == [1]
    assert extended(order, -1, 2) == [2]


# --- snapping -----------------------------------------------------------------------------

STARTS = [0.50, 1.00, 1.70, 1.82, 3.00]
ENDS = [0.90, 1.55, 1.80, 2.40, 3.50]


def test_pauses_are_gaps_between_words_of_at_least_0_15_s():
    assert PAUSE_S == 0.15
    # 0.90-1.00 is 0.10 s: no pause; 1.55-1.70 is 0.15 s: a pause; 1.80-1.82 no; 2.40-3.00 yes
    assert pauses(STARTS, ENDS) == [pytest.approx((1.55, 1.70)), (2.40, 3.00)]
    # a long word overlapping the next one does not make a pause of its own
    assert pauses([0.0, 0.2, 1.0], [0.9, 0.4, 1.2]) == []
    targets = word_targets(STARTS, ENDS)
    assert 1.625 in targets and 2.70 in targets and 0.95 not in targets
    assert set(STARTS) | set(ENDS) <= set(targets.tolist())
    assert list(targets) == sorted(targets)


def test_snap_takes_the_nearest_target_within_reach():
    targets = word_targets(STARTS, ENDS)
    assert snap(2.68, targets, 0.05) == pytest.approx(2.70)                 # a pause's middle
    assert snap(2.60, targets, 0.05) is None
    assert snap(1.64, targets, 0.05) == pytest.approx(1.625)
    assert snap(1.69, targets, 0.05) == pytest.approx(1.70)                 # a pause's edge: a word's start
    assert snap(1.0, np.zeros(0), 1.0) is None
    both = with_edges(targets, [(0.0, 0.8), (2.0, 2.6)], exclude=1)
    assert 0.8 in both and 2.0 not in both and 2.6 not in both


def test_clamping_keeps_segments_apart_and_long_enough():
    orig, room = (2.0, 3.0), (1.0, 4.0)
    assert clamp_start(0.0, orig, room) == (1.0, 3.0)
    assert clamp_start(2.95, orig, room) == (pytest.approx(3.0 - MIN_SEGMENT), 3.0)
    assert clamp_end(9.0, orig, room) == (2.0, 4.0)
    assert clamp_end(2.0, orig, room) == (2.0, pytest.approx(2.0 + MIN_SEGMENT))
    assert clamp_move(3.5, orig, room) == (3.0, 4.0)
    assert clamp_move(0.0, orig, room) == (1.0, 2.0)
    assert clamp_move(1.0, orig, (1.5, 2.2)) == orig                         # no room to move: it stays
    assert clamp_new(3.0, 1.5, (2.0, 5.0)) == (2.0, 3.0)
    assert clamp_new(0.5, 1.5, (2.0, 5.0)) == (2.0, 2.0)


def test_room_and_gaps_between_segments():
    spans = [(1.0, 2.0), (5.0, 6.0), (3.0, 4.0)]                 # document order need not be time order
    assert room_for(spans, 2, 10.0) == (2.0, 5.0)
    assert room_for(spans, 0, 10.0) == (0.0, 3.0)
    assert room_for(spans, 1, 10.0) == (4.0, 10.0)
    assert gap_at(spans, 2.5, 10.0) == (2.0, 3.0)
    assert gap_at(spans, 3.5, 10.0) == (3.5, 3.5)
    assert gap_at(spans, 8.0, 10.0) == (6.0, 10.0)


def test_a_dragged_edge_snaps_unless_clamping_wins():
    targets = word_targets(STARTS, ENDS)
    # a right edge dragged near the middle of the 2.40-3.00 pause snaps to it
    span, snapped = dragged_span("right", 2.0, 2.68, (1.0, 2.0), (0.0, 10.0), targets, 0.05)
    assert span == (1.0, pytest.approx(2.70)) and snapped == pytest.approx(2.70)
    # with the neighbour at 2.65 the edge stops there and the snap is dropped
    span, snapped = dragged_span("right", 2.0, 2.68, (1.0, 2.0), (0.0, 2.65), targets, 0.05)
    assert span == (1.0, 2.65) and snapped is None
    # free (no targets): exactly where the mouse is
    span, snapped = dragged_span("left", 1.0, 1.13, (1.0, 2.0), (0.0, 10.0), np.zeros(0), 0.05)
    assert span == (pytest.approx(1.13), 2.0) and snapped is None
    # a moved body snaps whichever edge is nearer a target, keeping its length
    span, snapped = dragged_span("body", 1.5, 1.53, (1.0, 1.5), (0.0, 10.0), targets, 0.05)
    assert snapped == pytest.approx(1.55) and span == (pytest.approx(1.05), pytest.approx(1.55))   # 0.02 < 0.03
    # a new span snaps both ends and stays in its gap
    span, snapped = dragged_span("add", 0.93, 2.71, (0, 0), (0.5, 2.5), targets, 0.05)
    assert span == (pytest.approx(0.90), 2.5) and snapped is None


def test_a_drag_object_follows_the_mouse_and_cancels():
    d = Drag("right", t_down=2.0, orig=(1.0, 2.0), room=(0.0, 10.0), targets=word_targets(STARTS, ENDS))
    d.move_to(2.68, 0.05, free=False)
    assert d.preview == (1.0, pytest.approx(2.70)) and d.snapped == pytest.approx(2.70)
    d.move_to(2.68, 0.05, free=True)                         # Alt while dragging
    assert d.preview == (1.0, pytest.approx(2.68)) and d.snapped is None
    d.cancel()
    assert d.cancelled and d.preview is None
    held = Drag("left", t_down=1.0, orig=(1.0, 2.0), room=(0.0, 10.0), free=True,    # Alt at the press
                targets=word_targets(STARTS, ENDS))
    held.move_to(0.91, 0.05, free=False)
    assert held.preview == (pytest.approx(0.91), 2.0)
