"""The timeline widget driven as a user drives it (mouse and keys on the real widget under
Xvfb), and the waveform pyramid checked against brute force on known signals."""

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

from PySide6.QtCore import QPoint, QPointF, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter, QWheelEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from studio.timeline import EMOTION_COLOURS, MIN_SEGMENT, SegmentView, Timeline, format_time  # noqa: E402
from studio.timeline.lane import LANE_H  # noqa: E402
from studio.waveform import WaveformPyramid  # noqa: E402

DATA = Path(__file__).parent / "data" / "listen"


# --- the pyramid --------------------------------------------------------------------------

def buckets_of(p: WaveformPyramid, times: np.ndarray) -> tuple[int, int]:
    """(first bucket index, bucket size in samples) of an envelope, from its centre times."""
    if times.size < 2:
        raise AssertionError("need two buckets")
    size = int(round((times[1] - times[0]) * p.rate))
    first = int(round(times[0] * p.rate / size - 0.5))
    return first, size


def check_against_brute_force(p: WaveformPyramid, x: np.ndarray, t0: float, t1: float, pixels: int) -> None:
    times, mins, maxs = p.envelope(t0, t1, pixels)
    assert times.size == mins.size == maxs.size
    assert times.size <= 2 * pixels + 2
    span = (t1 - t0) * p.rate
    if span / pixels <= 2:                          # the samples themselves
        idx = np.round(times * p.rate).astype(int)
        np.testing.assert_array_equal(mins, x[idx])
        np.testing.assert_array_equal(maxs, x[idx])
        return
    covered = (min(t1, p.duration) - max(t0, 0.0)) * p.rate      # the part of the span with audio
    assert times.size >= covered / (span / pixels) - 2
    first, size = buckets_of(p, times)
    assert size <= span / pixels + 1 and size >= span / pixels / 2 - 1   # 1/2 to 1 pixel wide
    assert first * size <= max(0, t0 * p.rate) and (first + times.size) * size >= min(p.n, t1 * p.rate)
    for j in range(times.size):
        chunk = x[(first + j) * size: (first + j + 1) * size]
        assert mins[j] == chunk.min() and maxs[j] == chunk.max(), (t0, t1, pixels, j)


def test_pyramid_envelope_equals_brute_force_at_every_zoom():
    rng = np.random.default_rng(1)
    rate = 16000
    x = (rng.standard_normal(rate * 37 + 123) * np.linspace(0.01, 1, rate * 37 + 123)).astype(np.float32)
    p = WaveformPyramid(x, rate)
    assert [b for b, _, _ in p.levels[:4]] == [64, 256, 1024, 4096]
    assert p.peak == np.abs(x).max()
    for t0, t1, pixels in [(0, p.duration, 1000), (0, p.duration, 37), (3.3, 3.31, 800), (3.3, 3.5, 800),
                           (10.0, 10.0 + 800 * 3 / rate, 800), (5.0, 25.0, 1234), (36.9, 40.0, 500),
                           (-5.0, 2.0, 640), (12.345, 12.345 + 800 * 64 * 2.5 / rate, 800)]:
        check_against_brute_force(p, x, t0, t1, pixels)


def test_pyramid_keeps_a_single_click_and_a_sine_at_any_zoom():
    rate = 16000
    t = np.arange(rate * 60) / rate
    x = (0.25 * np.sin(2 * np.pi * 200 * t)).astype(np.float32)
    click = 31 * rate + 4321
    x[click] = -0.9
    p = WaveformPyramid(x, rate)
    for pixels in (100, 700, 3000):
        times, mins, maxs = p.envelope(0, 60, pixels)
        assert mins.min() == pytest.approx(-0.9) and maxs.max() == pytest.approx(0.25, abs=1e-6)
        k = int(np.argmin(mins))
        first, size = buckets_of(p, times)
        assert (first + k) * size <= click < (first + k + 1) * size
        # away from the click, every bucket (longer than a period) spans the whole sine
        far = np.abs(times - click / rate) > 1
        np.testing.assert_allclose(maxs[far], 0.25, atol=2e-3)
        np.testing.assert_allclose(mins[far], -0.25, atol=2e-3)
    # panning by a fraction of a bucket does not move the buckets (no shimmer)
    a = p.envelope(10.0, 20.0, 500)
    b = p.envelope(10.003, 20.003, 500)
    common = np.intersect1d(a[0], b[0])
    assert common.size > 400
    np.testing.assert_array_equal(a[2][np.isin(a[0], common)], b[2][np.isin(b[0], common)])


def test_pyramid_edge_cases():
    p = WaveformPyramid(np.zeros(0, np.float32), 16000)
    assert p.envelope(0, 1, 100)[0].size == 0
    p = WaveformPyramid(np.array([0.5, -0.5, 0.25], np.float32), 8000)
    times, mins, maxs = p.envelope(0, 3 / 8000, 100)             # close up: the samples
    np.testing.assert_array_equal(mins, [0.5, -0.5, 0.25])
    np.testing.assert_array_equal(times, [0, 1 / 8000, 2 / 8000])
    times, mins, maxs = p.envelope(0, 1, 100)                     # one partial bucket
    assert list(mins) == [-0.5] and list(maxs) == [0.5]
    stereo = np.stack([np.ones(1000), -np.ones(1000)], axis=1)
    assert WaveformPyramid(stereo, 1000).peak == 0.0          # the channel mean
    assert p.envelope(5, 6, 100)[0].size == 0                   # past the end


def test_pyramid_of_an_hour():
    rate = 16000
    x = np.random.default_rng(0).standard_normal(3600 * rate).astype(np.float32)
    start = time.perf_counter()
    p = WaveformPyramid(x, rate)
    built = time.perf_counter() - start
    start = time.perf_counter()
    times, mins, maxs = p.envelope(0, 3600, 1920)
    query = time.perf_counter() - start
    print(f"\n1 h at 16 kHz: pyramid built in {built * 1000:.0f} ms, {p.nbytes / 2**20:.1f} MiB "
          f"({p.nbytes / x.nbytes:.1%} of the samples); whole-take envelope for 1920 px in {query * 1000:.2f} ms")
    assert np.shares_memory(p.samples, x)                       # referenced, not copied
    assert p.nbytes < x.nbytes / 10
    assert times.size <= 2 * 1920 + 2
    assert mins.min() == x.min() and maxs.max() == x.max()
    check_against_brute_force(p, x, 1234.5, 1234.5 + 30, 1500)


def test_format_time():
    assert format_time(2.0, 1.0) == "2s"
    assert format_time(2.5, 0.5) == "2.5s"
    assert format_time(65.0, 5.0, long=True) == "1:05"
    assert format_time(65.5, 0.5, long=True) == "1:05.5"
    assert format_time(3725.0, 60.0, long=True) == "1:02:05"


def test_many_qt_calls_do_not_use_up_none():
    # PySide6 6.12.0 on Python 3.11 takes a reference from None on every void method call and
    # aborts the process after ~10,000 (pyproject pins it out); the timeline makes hundreds a frame.
    import subprocess
    import sys
    code = ("from PySide6.QtCore import QPointF\np = QPointF()\n"
            "for _ in range(300000):\n    p.setX(0.0)\nprint('alive')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parent.parent)
    assert done.returncode == 0 and "alive" in done.stdout, done.stderr[-500:]


# --- the widget ---------------------------------------------------------------------------

def stm_words(limit: float) -> list[tuple[str, float, float]]:
    """Words of the sample's transcript: each utterance's time shared out by word length."""
    words = []
    for line in (DATA / "sample.stm").read_text().splitlines():
        f = line.split(None, 5)
        s, e, text = float(f[3]), float(f[4]), f[5].split()
        if s >= limit:
            continue
        total, t = sum(len(w) for w in text), s
        for w in text:
            d = (e - s) * len(w) / total
            words.append((w, round(t, 3), round(min(t + 0.92 * d, limit), 3)))
            t += d
    return words


SEGMENTS = [
    SegmentView(6.68, 9.80, "happy", "The speaker greets warmly with a bright smile and raised brows."),
    SegmentView(9.84, 12.54, "surprised", "Surprised, eyebrows raised, mouth slightly open, quick head tilt.",
                "stale"),
    SegmentView(12.54, 17.77, "sad", "Speaks softly with a downturned mouth and lowered gaze.", "busy", 0.4),
    SegmentView(17.79, 20.0, "angry", "Tense jaw, furrowed brows, a firm and clipped delivery."),
]


@pytest.fixture
def tl(qtbot):
    x, rate = sf.read(DATA / "sample.wav", dtype="float32")
    x = x[: 20 * rate]
    w = Timeline()
    qtbot.addWidget(w)
    w.resize(1400, 260)
    w.set_audio(x, rate, 20.0)
    w.set_words(stm_words(20.0))
    w.set_segments(SEGMENTS)
    w.show()
    w.activateWindow()
    qtbot.waitActive(w)          # keys go to the focused widget of the active window, as for a user
    return w


def drag(qtbot, tl, a: QPoint, b: QPoint, button=Qt.MouseButton.LeftButton,
         modifier=Qt.KeyboardModifier.NoModifier, steps=8, before_release=None):
    vp = tl.plot.viewport()
    qtbot.mousePress(vp, button, modifier, a)
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, a + (b - a) * (i / steps))
        qtbot.wait(12)                     # pyqtgraph drops mouse moves closer than 10 ms
    if before_release:
        before_release()
    qtbot.mouseRelease(vp, button, modifier, b)


def on_widget(tl, p: QPoint) -> QPoint:
    """A point of the plot's viewport (where point_at points) in the timeline widget's pixels."""
    return tl.plot.viewport().mapTo(tl, p)


def wheel(tl, pos: QPoint, steps: float, modifiers=Qt.KeyboardModifier.NoModifier):
    vp = tl.plot.viewport()
    ev = QWheelEvent(QPointF(pos), QPointF(vp.mapToGlobal(pos)), QPoint(0, 0), QPoint(0, int(120 * steps)),
                     Qt.MouseButton.NoButton, modifiers, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)


def test_click_on_waveform_seeks_and_drag_scrubs(tl, qtbot):
    with qtbot.waitSignal(tl.seekRequested) as sig:
        qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.LeftButton, pos=tl.point_at(4.0))
    assert sig.args[0] == pytest.approx(4.0, abs=2 * 20 / 1400)
    assert tl.playhead == pytest.approx(sig.args[0])
    seen = []
    tl.seekRequested.connect(seen.append)
    drag(qtbot, tl, tl.point_at(5.0, "words"), tl.point_at(8.0, "words"))
    assert len(seen) >= 3 and seen == sorted(seen)
    assert seen[-1] == pytest.approx(8.0, abs=0.05)
    seen.clear()
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.LeftButton, pos=tl.point_at(15.0, "ruler"))
    assert seen and seen[-1] == pytest.approx(15.0, abs=0.05)


def test_wheel_zooms_around_the_cursor_and_drags_pan(tl, qtbot):
    t0, t1 = tl.view_range()
    assert (t0, t1) == pytest.approx((0.0, 20.0))
    pos = tl.point_at(12.0)
    wheel(tl, pos, 2)                                      # zoom in
    z0, z1 = tl.view_range()
    assert z1 - z0 < 0.7 * (t1 - t0)
    assert z0 < 12.0 < z1
    assert tl.time_at(pos.x()) == pytest.approx(12.0, abs=0.03)     # the time under the mouse stays
    wheel(tl, pos, -1)                                     # zoom out a little
    assert z1 - z0 < tl.view_range()[1] - tl.view_range()[0] < t1 - t0
    # middle-drag pans: the time under the mouse follows it
    a0, a1 = tl.view_range()
    grabbed = tl.point_at(11.0)
    drag(qtbot, tl, grabbed, grabbed + QPoint(150, 0), button=Qt.MouseButton.MiddleButton)
    b0, b1 = tl.view_range()
    assert b1 - b0 == pytest.approx(a1 - a0) and b0 < a0
    assert tl.time_at(grabbed.x() + 150) == pytest.approx(11.0, abs=0.03)
    # so does a left-drag on the ruler, and a drag never leaves the take
    drag(qtbot, tl, tl.point_at(b0 + 0.1 * (b1 - b0), "ruler"), tl.point_at(b0 + 0.9 * (b1 - b0), "ruler"))
    assert tl.view_range()[0] == pytest.approx(max(0.0, b0 - 0.8 * (b1 - b0)), abs=0.03)
    # the waveform layer re-queried the pyramid for the new range
    assert tl.view_range()[0] >= 0


def test_dragging_a_right_edge_snaps_to_a_word_and_is_one_edit(tl, qtbot):
    tl.set_view(8.0, 13.0)                                 # 3.6 ms a pixel
    retimed, selected = [], []
    tl.segmentRetimed.connect(lambda *a: retimed.append(a))
    tl.segmentSelected.connect(selected.append)
    bounds = np.unique([b for _, s, e in stm_words(20) for b in (s, e)])
    gaps = np.diff(bounds)
    # a word boundary with no other one in the 0.1 s before it
    target = next(b for k, b in enumerate(bounds[1:], 1) if 10 < b < 12.5 and gaps[k - 1] > 0.1)
    edge = tl.point_at(9.80, "lane") + QPoint(-2, 0)
    off = tl.point_at(target, "lane") + QPoint(-5, 0)                    # 5 px short of it

    def nothing_yet():
        assert retimed == []
        assert tl.segments[0].end == 9.80                  # the view does not edit the document
    drag(qtbot, tl, edge, off, before_release=nothing_yet)
    # the neighbour starts at 9.84, so the edge stops there unless snapping beyond it... it can't:
    assert retimed == [(0, 6.68, pytest.approx(9.84))]     # clamped at the next segment
    assert selected == [0] and tl.selected == 0

    # without a neighbour in the way the edge snaps to the word's end
    tl.set_segments([SEGMENTS[0], SEGMENTS[3]])
    retimed.clear()
    drag(qtbot, tl, edge, off)
    assert retimed == [(0, 6.68, pytest.approx(target))]
    # holding Alt places it freely: it moves with the mouse (grabbed 2 px inside the edge)
    retimed.clear()
    drag(qtbot, tl, edge, off, modifier=Qt.KeyboardModifier.AltModifier)
    assert len(retimed) == 1 and retimed[0][2] == pytest.approx(tl.time_at(off.x() + 2), abs=0.004)
    assert abs(retimed[0][2] - target) > 0.01
    # Escape during the drag cancels it; a 5 px nudge is a drag, not a click
    retimed.clear()
    drag(qtbot, tl, edge, off, before_release=lambda: qtbot.keyClick(tl, Qt.Key.Key_Escape))
    assert retimed == [] and tl.selected == 0
    drag(qtbot, tl, edge, edge + QPoint(5, 0), steps=2, modifier=Qt.KeyboardModifier.AltModifier)
    assert len(retimed) == 1 and retimed[0][2] == pytest.approx(tl.segments[0].end + 5 * 5 / tl.view.width(), abs=0.004)


def test_edges_never_cross_or_leave_a_too_short_segment(tl, qtbot):
    tl.set_view(5.0, 15.0)
    retimed = []
    tl.segmentRetimed.connect(lambda *a: retimed.append(a))
    # the left edge of segment 1 dragged far right stops 0.2 s before its end
    drag(qtbot, tl, tl.point_at(9.84, "lane") + QPoint(2, 0), tl.point_at(14.5, "lane"))
    assert retimed == [(1, pytest.approx(12.54 - MIN_SEGMENT), 12.54)]
    # the left edge of segment 0 dragged past the take's start stops at 0
    retimed.clear()
    tl.set_view(0.0, 10.0)
    drag(qtbot, tl, tl.point_at(6.68, "lane") + QPoint(2, 0), tl.point_at(0.0, "lane") + QPoint(-100, 0))
    assert retimed == [(0, 0.0, 9.80)]
    # a press and release without moving is no edit
    retimed.clear()
    tl.set_view(5.0, 15.0)
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.LeftButton, pos=tl.point_at(11.0, "lane"))
    assert retimed == [] and tl.selected == 1


def test_moving_a_segment_keeps_its_length_and_stops_at_neighbours(tl, qtbot):
    tl.set_view(5.0, 15.0)
    retimed = []
    tl.segmentRetimed.connect(lambda *a: retimed.append(a))
    tl.set_segments([SEGMENTS[0], SegmentView(11.0, 12.0, "neutral", "calm"), SEGMENTS[3]])
    drag(qtbot, tl, tl.point_at(11.5, "lane"), tl.point_at(9.0, "lane"))
    assert len(retimed) == 1
    i, s, e = retimed[0]
    assert i == 1 and s == pytest.approx(9.80) and e == pytest.approx(10.80)   # stopped at segment 0
    retimed.clear()
    drag(qtbot, tl, tl.point_at(11.5, "lane"), tl.point_at(11.5 + 0.7, "lane"),
         modifier=Qt.KeyboardModifier.AltModifier)
    (i, s, e), = retimed
    assert e - s == pytest.approx(1.0) and s == pytest.approx(11.7, abs=0.02)


def test_keys_split_merge_delete_and_escape(tl, qtbot):
    got = []
    for name in ("segmentSelected", "splitRequested", "mergeRequested", "deleteRequested"):
        getattr(tl, name).connect(lambda *a, name=name: got.append((name, *a)))
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.LeftButton, pos=tl.point_at(14.0, "lane"))
    assert got == [("segmentSelected", 2)]
    qtbot.waitUntil(tl.hasFocus, timeout=2000)        # focus arrives with the window manager's events
    tl.set_playhead(15.25)
    qtbot.keyClick(tl, Qt.Key.Key_S)
    qtbot.keyClick(tl, Qt.Key.Key_M)
    qtbot.keyClick(tl, Qt.Key.Key_Delete)
    assert got[1:] == [("splitRequested", 2, 15.25), ("mergeRequested", 2), ("deleteRequested", 2)]
    # no split that would leave a piece shorter than 0.2 s, no merge of the last segment
    got.clear()
    tl.set_playhead(12.6)
    qtbot.keyClick(tl, Qt.Key.Key_S)
    tl.select(3)
    qtbot.keyClick(tl, Qt.Key.Key_M)
    assert got == []
    qtbot.keyClick(tl, Qt.Key.Key_Escape)
    assert got == [("segmentSelected", -1)] and tl.selected == -1
    qtbot.keyClick(tl, Qt.Key.Key_Delete)
    assert got == [("segmentSelected", -1)]


def test_context_menu_on_a_segment(tl, qtbot):
    got = []
    tl.splitRequested.connect(lambda *a: got.append(("split", *a)))
    tl.addRequested.connect(lambda *a: got.append(("add", *a)))
    tl.set_playhead(8.0)
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.RightButton, pos=tl.point_at(7.0, "lane"))
    menu = tl.context_menu
    assert menu is not None and tl.selected == 0
    actions = {a.text().split("\t")[0]: a for a in menu.actions() if a.text()}
    assert actions["Merge with next"].isEnabled() and actions["Delete"].isEnabled()
    assert not actions["Add segment here"].isEnabled()            # no room inside a segment
    actions["Split at playhead"].trigger()
    menu.close()
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.RightButton, pos=tl.point_at(3.0, "lane"))
    actions = {a.text().split("\t")[0]: a for a in tl.context_menu.actions() if a.text()}
    actions["Add segment here"].trigger()                          # fills the gap before segment 0
    tl.context_menu.close()
    assert got == [("split", 0, 8.0), ("add", 0.0, 6.68)]


def test_adding_a_segment_by_dragging_on_the_empty_lane_or_shift_dragging_the_waveform(tl, qtbot):
    added = []
    tl.addRequested.connect(lambda *a: added.append(a))
    drag(qtbot, tl, tl.point_at(1.0, "lane"), tl.point_at(3.0, "lane"))
    (s, e), = added
    assert s == pytest.approx(1.0, abs=0.03) and e == pytest.approx(3.0, abs=0.03)
    # Shift+drag over the waveform, past segment 0's start: kept inside the gap
    added.clear()
    drag(qtbot, tl, tl.point_at(4.0), tl.point_at(8.0), modifier=Qt.KeyboardModifier.ShiftModifier)
    (s, e), = added
    assert s == pytest.approx(4.0, abs=0.03) and e == pytest.approx(6.68)
    # a drag starting inside a segment on the waveform scrubs; nothing is added
    added.clear()
    drag(qtbot, tl, tl.point_at(7.0), tl.point_at(9.0))
    assert added == []


def test_playhead_follows_playback_but_not_a_paused_user(tl, qtbot):
    tl.set_view(0.0, 5.0)
    for i in range(100):
        tl.set_playhead(4.0 + i / 60)                      # playing: the playhead leaves the view
    t0, t1 = tl.view_range()
    assert t0 <= tl.playhead <= t1 and t1 - t0 == pytest.approx(5.0)
    tl.set_view(10.0, 15.0)                                # the user looks elsewhere while paused
    for _ in range(10):
        tl.set_playhead(tl.playhead)
    assert tl.view_range() == pytest.approx((10.0, 15.0))


def test_hours_of_audio(qtbot):
    rate = 16000
    x = (np.random.default_rng(2).standard_normal(20 * 60 * rate) * 0.1).astype(np.float32)
    w = Timeline()
    qtbot.addWidget(w)
    w.resize(1200, 220)
    w.set_audio(x, rate, x.size / rate)
    w.set_words([(f"w{i}", i * 0.4, i * 0.4 + 0.3) for i in range(3000)])
    w.show()
    qtbot.waitExposed(w)
    assert w.view_range() == pytest.approx((0, 1200.0))
    assert w.ruler.tickStrings([60.0, 120.0], 1, 60.0) == ["1:00", "2:00"]
    start = time.perf_counter()
    for _ in range(20):
        wheel(w, w.point_at(600.0), 1)
        w.grab()                                               # renders the whole widget
    print(f"\n20 min of audio: a wheel zoom and a full render {(time.perf_counter() - start) / 20 * 1000:.1f} ms")
    t0, t1 = w.view_range()
    assert t0 < 600 < t1 and t1 - t0 < 20


def test_screenshot(tl, qtbot, tmp_path):
    tl.select(0)
    tl.set_playhead(8.2)
    qtbot.wait(50)
    img = tl.grab().toImage()
    out = tmp_path / "timeline.png"
    assert img.save(str(out))
    shutil.copy(out, "/tmp/timeline.png")
    arr = np.frombuffer(img.convertToFormat(img.Format.Format_RGB888).constBits(), np.uint8)
    arr = arr.reshape(img.height(), -1)[:, : img.width() * 3].reshape(img.height(), img.width(), 3).astype(int)
    lane_y = on_widget(tl, tl.point_at(0, "lane")).y()
    for seg in (SEGMENTS[2], SEGMENTS[3]):                       # each segment's emotion strip
        x = on_widget(tl, tl.point_at(seg.start, "lane")).x() + 3
        strip = np.array([int(EMOTION_COLOURS[seg.emotion][k: k + 2], 16) for k in (1, 3, 5)])
        assert np.abs(arr[lane_y, x] - strip).max() < 40, seg.emotion
    wave = arr[on_widget(tl, tl.point_at(0, "ruler")).y() + 12: lane_y - 40, :, :]
    assert (np.abs(wave - [0x3f, 0x8f, 0xc6]).max(axis=2) < 30).sum() > 2000   # the waveform is drawn


# --- several segments selected ------------------------------------------------------------

def click_lane(qtbot, tl, t: float, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.LeftButton, modifier, tl.point_at(t, "lane"))


def outlined(tl, t: float) -> bool:
    """Whether the box at time t is drawn with the selection's white outline (its top edge)."""
    img = tl.grab().toImage()
    top = on_widget(tl, tl.point_at(t, "lane")).y() - LANE_H / 2
    x = on_widget(tl, tl.point_at(t, "lane")).x()
    column = [QColor(img.pixel(x, int(top) + dy)) for dy in range(3, 7)]     # above the label's text
    return any(min(c.red(), c.green(), c.blue()) > 230 for c in column)


def test_ctrl_click_toggles_and_shift_click_extends_the_selection(tl, qtbot):
    lists, current = [], []
    tl.selectionListChanged.connect(lists.append)
    tl.segmentSelected.connect(current.append)
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier
    click_lane(qtbot, tl, 8.0)                                   # a plain click: just segment 0
    assert tl.selection() == [0] and tl.selected == 0 and lists == [[0]] and current == [0]
    click_lane(qtbot, tl, 15.0, ctrl)                            # Ctrl adds 2, which becomes current
    assert tl.selection() == [0, 2] and tl.selected == 2 and lists[-1] == [0, 2] and current[-1] == 2
    click_lane(qtbot, tl, 11.0, ctrl)
    assert tl.selection() == [0, 1, 2] and tl.selected == 1
    click_lane(qtbot, tl, 11.0, ctrl)                            # and takes it out again
    assert tl.selection() == [0, 2] and tl.selected == 2 and current[-1] == 2
    assert [outlined(tl, t) for t in (8.0, 11.0, 15.0, 19.0)] == [True, False, True, False]
    click_lane(qtbot, tl, 19.0, shift)                           # from the last clicked (1) to 3
    assert tl.selection() == [1, 2, 3] and tl.selected == 3 and lists[-1] == [1, 2, 3]
    click_lane(qtbot, tl, 8.0)
    click_lane(qtbot, tl, 15.0, shift)
    assert tl.selection() == [0, 1, 2] and tl.selected == 2
    assert [outlined(tl, t) for t in (8.0, 11.0, 15.0, 19.0)] == [True, True, True, False]
    click_lane(qtbot, tl, 2.0, ctrl)                             # Ctrl on the empty lane: nothing changes
    assert tl.selection() == [0, 1, 2]
    # the window echoes the current segment back: the selection stays
    tl.select(1)
    assert tl.selection() == [0, 1, 2] and tl.selected == 1
    click_lane(qtbot, tl, 11.0)                                  # a plain click: just that one again
    assert tl.selection() == [1] and lists[-1] == [1] and current[-1] == 1
    qtbot.waitUntil(tl.hasFocus, timeout=2000)
    qtbot.keyClick(tl, Qt.Key.Key_Escape)
    assert tl.selection() == [] and tl.selected == -1 and lists[-1] == [] and current[-1] == -1


def test_dragging_one_of_several_selected_keeps_the_selection(tl, qtbot):
    tl.set_view(5.0, 15.0)
    retimed, lists = [], []
    tl.segmentRetimed.connect(lambda *a: retimed.append(a))
    tl.selectionListChanged.connect(lists.append)
    click_lane(qtbot, tl, 8.0)
    click_lane(qtbot, tl, 11.0, Qt.KeyboardModifier.ControlModifier)
    click_lane(qtbot, tl, 8.0, Qt.KeyboardModifier.ControlModifier)
    click_lane(qtbot, tl, 8.0, Qt.KeyboardModifier.ControlModifier)
    assert tl.selection() == [0, 1] and tl.selected == 0
    edge = tl.point_at(12.54, "lane") + QPoint(-2, 0)             # segment 1's right edge
    drag(qtbot, tl, edge, edge + QPoint(-30, 0), modifier=Qt.KeyboardModifier.AltModifier)
    assert tl.selection() == [0, 1] and tl.selected == 1 and len(retimed) == 1 and retimed[0][0] == 1
    # a right-click on a selected segment keeps the selection, on another one selects it alone
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.RightButton, pos=tl.point_at(8.0, "lane"))
    tl.context_menu.close()
    assert tl.selection() == [0, 1] and tl.selected == 0
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.RightButton, pos=tl.point_at(14.0, "lane"))
    tl.context_menu.close()
    assert tl.selection() == [2] and lists[-1] == [2]
    # the window sets a selection, and an edit that changes the number of segments keeps the current one
    tl.set_selection([0, 3, 1], current=3)
    assert tl.selection() == [0, 1, 3] and tl.selected == 3
    tl.set_segments(SEGMENTS)
    assert tl.selection() == [0, 1, 3]
    tl.set_segments(SEGMENTS[:3] + [SegmentView(19.0, 19.5, "calm", "")] + SEGMENTS[3:])
    assert tl.selection() == [3] and tl.selected == 3


def test_zoom_to_selection_by_key_and_menu(tl, qtbot):
    click_lane(qtbot, tl, 11.0)
    click_lane(qtbot, tl, 15.0, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(tl.hasFocus, timeout=2000)
    qtbot.keyClick(tl, Qt.Key.Key_Z)
    span = 17.77 - 9.84
    assert tl.view_range() == pytest.approx((9.84 - 0.05 * span, 17.77 + 0.05 * span))
    assert tl.scrollbar.isVisible()
    qtbot.keyClick(tl, Qt.Key.Key_0)
    assert tl.view_range() == pytest.approx((0.0, 20.0)) and not tl.scrollbar.isVisible()
    qtbot.mouseClick(tl.plot.viewport(), Qt.MouseButton.RightButton, pos=tl.point_at(19.0, "lane"))
    actions = {a.text().split("\t")[0]: a for a in tl.context_menu.actions() if a.text()}
    actions["Zoom to selection"].trigger()
    tl.context_menu.close()
    assert tl.view_range() == pytest.approx((20.0 - 1.1 * 2.21, 20.0))      # shifted into the take
    tl.set_selection([])
    tl.zoom_to_selection()                                                   # nothing selected: no change
    assert tl.view_range() == pytest.approx((20.0 - 1.1 * 2.21, 20.0))


# --- overview, scrollbar, ruler -----------------------------------------------------------

def overview_x(tl, t: float) -> int:
    return round(t / 20.0 * tl.overview.width())


def test_the_overview_shows_the_view_and_moves_it(tl, qtbot):
    ov = tl.overview
    assert not tl.scrollbar.isVisible()
    wheel(tl, tl.point_at(10.0), 6)                       # zoomed in around 10 s: 7.4-12.6 s
    t0, t1 = tl.view_range()
    assert t1 - t0 < 10 and tl.scrollbar.isVisible()
    r = ov.range_rect()
    assert r.left() == pytest.approx(overview_x(tl, t0), abs=1)
    assert r.right() == pytest.approx(overview_x(tl, t1), abs=1)
    # a click beside the range centres the view there
    qtbot.mouseClick(ov, Qt.MouseButton.LeftButton, pos=QPoint(overview_x(tl, 16.0), ov.height() // 2))
    a0, a1 = tl.view_range()
    assert (a0 + a1) / 2 == pytest.approx(16.0, abs=0.05) and a1 - a0 == pytest.approx(t1 - t0)
    # dragging the range moves the view as far
    start = QPoint(overview_x(tl, 16.0), ov.height() // 2)
    qtbot.mousePress(ov, Qt.MouseButton.LeftButton, pos=start)
    for dx in (-20, -60, -140):
        qtbot.mouseMove(ov, start + QPoint(dx, 0))
    qtbot.mouseRelease(ov, Qt.MouseButton.LeftButton, pos=start + QPoint(-140, 0))
    b0, b1 = tl.view_range()
    assert b0 == pytest.approx(a0 - 140 / ov.width() * 20.0, abs=0.05) and b1 - b0 == pytest.approx(t1 - t0)
    # the scrollbar follows, and moving it pans
    bar = tl.scrollbar
    assert bar.value() * 0.001 == pytest.approx(b0, abs=0.002)
    assert (bar.maximum() + bar.pageStep()) * 0.001 == pytest.approx(20.0, abs=0.002)
    bar.setValue(bar.maximum())
    assert tl.view_range() == pytest.approx((20.0 - (b1 - b0), 20.0), abs=0.002)
    assert ov.range_rect().right() == pytest.approx(ov.width(), abs=1)


def ruler_labels(tl) -> list[str]:
    """The texts the ruler draws now."""
    img = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(img)
    specs = tl.ruler.generateDrawSpecs(painter)
    painter.end()
    return [text for _, _, text in specs[2]]


def test_the_ruler_shows_timecode_once_frames_can_be_told_apart(tl, qtbot):
    assert ruler_labels(tl)[:3] == ["2s", "4s", "6s"]   # (0 s at the very edge has no room)
    tl.set_view(9.9, 11.9)                                # a frame is ~23 px wide
    assert ruler_labels(tl)[:3] == ["00:00:10:00", "00:00:10:05", "00:00:10:10"]
    tl.set_frame_rate(25)
    assert ruler_labels(tl)[:3] == ["00:00:10:00", "00:00:10:05", "00:00:10:10"]
    tl.set_frame_rate(24)
    assert ruler_labels(tl)[:3] == ["00:00:10:00", "00:00:10:05", "00:00:10:10"]
    assert tl.frame_rate == 24
    tl.set_view(9.9, 10.9)
    assert ruler_labels(tl)[:3] == ["00:00:10:00", "00:00:10:02", "00:00:10:04"]
    tl.set_view(0.1, 19.1)                                # 19 s over 1400 px: 3.1 px a frame
    assert ruler_labels(tl)[:2] == ["2s", "4s"]


def test_an_edge_snaps_to_the_middle_of_a_pause(tl, qtbot):
    # the transcript pauses from 14.144 to 14.444 s; the nearest word boundary is 0.15 s from the middle
    tl.set_segments([SEGMENTS[0], SegmentView(12.54, 13.5, "sad", "soft")])
    tl.set_view(12.0, 16.0)
    retimed = []
    tl.segmentRetimed.connect(lambda *a: retimed.append(a))
    edge = tl.point_at(13.5, "lane") + QPoint(-2, 0)
    near = tl.point_at(14.294, "lane") + QPoint(-6, 0)
    drag(qtbot, tl, edge, near)
    assert retimed == [(1, 12.54, pytest.approx(14.294))]


# --- labels -------------------------------------------------------------------------------

class RecordingPainter(QPainter):
    """A painter that remembers the text it draws."""

    def __init__(self, device):
        super().__init__(device)
        self.texts = []

    def drawText(self, *args):
        self.texts.append(args[-1])
        super().drawText(*args)


def test_narrow_boxes_say_the_emotion_or_a_short_form_never_a_cut_word():
    from PySide6.QtCore import QRectF

    from studio.timeline.lane import Box, paint_lane
    text = "A person feels quite angry and speaks with brows strongly lowered, jaw clenched and lips pressed thin."
    drawn = {}
    for width in (400, 160, 60, 40, 12):
        img = QImage(500, 46, QImage.Format.Format_ARGB32)
        painter = RecordingPainter(img)
        paint_lane(painter, QRectF(0, 0, 500, 46), [Box("angry", text, "stale", 0.0, 10, 10 + width)])
        painter.end()
        drawn[width] = painter.texts
    for width in (400, 160):                                # the label, and whole words of the instruction
        label, line = drawn[width]
        assert label == "Angry  ·  stale"
        assert line.endswith("…") and text.startswith(line[:-1]) and text[len(line) - 1] == " "
        assert len(line[:-1].split()) >= (6 if width == 400 else 3)
    assert drawn[60] == ["Angry"]                           # no room for the state or two words
    assert drawn[40] == ["Ang"]                             # the short form, not "An…"
    assert drawn[12] == []                                  # the colour alone


# --- a 3-minute take ----------------------------------------------------------------------

def three_minutes():
    """A 3-minute take: the 30 s sample six times, its words, and segments of 0.3 to 7 s."""
    x, rate = sf.read(DATA / "sample.wav", dtype="float32")
    x = np.tile(x, 6)
    words = [(w, s + 30 * k, e + 30 * k) for k in range(6) for w, s, e in stm_words(30.0)]
    texts = {"happy": "A person feels quite happy and speaks with lip corners moderately raised.",
             "sad": "A person feels very sad and speaks with lip corners strongly pulled down.",
             "angry": "A person feels quite angry and speaks with brows strongly lowered.",
             "surprised": "A person feels mildly surprised and speaks with brows moderately raised.",
             "neutral": "A person feels calm and speaks with lips slightly parted.",
             "fearful": "A person feels quite fearful and speaks with eyes moderately widened."}
    names = list(texts)
    lengths = [4.0, 0.3, 2.5, 6.8, 0.8, 1.6, 3.2, 0.5, 5.0, 1.1]
    segments, t, k = [], 0.5, 0
    while t < 178:
        e = min(t + lengths[k % len(lengths)], 179.5)
        name = names[k % len(names)]
        segments.append(SegmentView(t, e, name, texts[name], ("ready", "stale", "ready", "busy")[k % 4], 0.6))
        t, k = e + 0.05, k + 1
    return x, rate, words, segments


def test_a_three_minute_take_zoomed_in(qtbot):
    x, rate, words, segments = three_minutes()
    w = Timeline()
    qtbot.addWidget(w)
    w.resize(1400, 300)
    w.set_audio(x, rate, x.size / rate)
    w.set_words(words)
    w.set_segments(segments)
    w.show()
    qtbot.waitExposed(w)
    w.grab().save("/tmp/timeline_3min_whole.png")
    assert not w.scrollbar.isVisible()
    assert w.view_range() == pytest.approx((0.0, 180.0))
    w.set_selection([10, 11, 13], current=11)
    w.zoom_to_selection()
    w.set_playhead(segments[11].start + 1.0)
    qtbot.wait(50)
    t0, t1 = w.view_range()
    assert t0 < segments[10].start < segments[13].end < t1 and t1 - t0 < 30 and w.scrollbar.isVisible()
    r = w.overview.range_rect()
    assert r.left() == pytest.approx(t0 / 180 * w.overview.width(), abs=1)
    assert r.width() == pytest.approx((t1 - t0) / 180 * w.overview.width(), abs=1)
    img = w.grab()
    assert img.save("/tmp/timeline_3min.png")
    labels = ruler_labels(w)
    assert labels and all(":" in s for s in labels)                  # m:ss for a take of a minute or more
