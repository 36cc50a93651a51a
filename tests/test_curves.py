"""The curves panel driven as a user drives it: tick channels by clicking in the list, filter it,
watch the playhead; the plotted data is the track's own; an edit's old values show dashed;
an hour-long take stays cheap to draw. Filled with the bundled demo take."""

import time

import numpy as np
import pytest

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

from PySide6.QtCore import Qt  # noqa: E402

from core.arkit import INDEX  # noqa: E402
from core.demo import demo_take  # noqa: E402
from core.track import FaceTrack  # noqa: E402
from studio.curves import DEFAULT_CHANNELS, CurvesPanel  # noqa: E402


@pytest.fixture(scope="module")
def demo():
    return demo_take()[0]


@pytest.fixture
def panel(qtbot, demo):
    w = CurvesPanel()
    qtbot.addWidget(w)
    w.resize(1000, 360)
    with qtbot.waitActive(w):
        w.show()
        w.activateWindow()
    w.set_track(demo)
    return w


def click_channel(qtbot, panel, name):
    item = panel.items[name]
    panel.list.scrollToItem(item)
    qtbot.mouseClick(panel.list.viewport(), Qt.LeftButton, pos=panel.list.visualItemRect(item).center())


def test_default_channels_plot_the_tracks_values(panel, demo):
    assert panel.channels() == list(DEFAULT_CHANNELS)
    t = np.arange(demo.frames) / demo.fps
    for name in DEFAULT_CHANNELS:
        x, y = panel.curve_data(name)
        np.testing.assert_allclose(x, t)
        expected = demo.data[:, INDEX[name]]
        if name == "headPitch":
            expected = np.degrees(expected)                 # head rotation is drawn in degrees
            assert panel.curve(name).getViewBox() is panel.head_plot.getViewBox()
        else:
            assert panel.curve(name).getViewBox() is panel.weights_plot.getViewBox()
        np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    assert panel.head_plot.isVisible()
    # the head plot's range holds the whole head curve
    _, (lo, hi) = panel.head_plot.viewRange()
    pitch = np.degrees(demo.head[:, 0])
    assert lo <= pitch.min() and pitch.max() <= hi


def test_clicking_in_the_list_ticks_and_unticks_channels(panel, qtbot, demo):
    changes = []
    panel.channelsChanged.connect(changes.append)
    click_channel(qtbot, panel, "mouthFunnel")
    assert panel.channels() == [*DEFAULT_CHANNELS, "mouthFunnel"] and changes[-1] == panel.channels()
    assert panel.items["mouthFunnel"].checkState() == Qt.Checked
    np.testing.assert_allclose(panel.curve_data("mouthFunnel")[1], demo.data[:, INDEX["mouthFunnel"]])
    click_channel(qtbot, panel, "jawOpen")                # untick
    assert "jawOpen" not in panel.channels() and panel.items["jawOpen"].checkState() == Qt.Unchecked
    with pytest.raises(KeyError):
        panel.curve("jawOpen")
    # filter the list, then tick with the keyboard
    qtbot.mouseClick(panel.filter, Qt.LeftButton)
    qtbot.keyClicks(panel.filter, "yaw")
    visible = [n for n, item in panel.items.items() if not item.isHidden()]
    assert visible == ["headYaw"]
    click_channel(qtbot, panel, "headYaw")
    assert "headYaw" in panel.channels()
    # untick every head channel: the head plot goes away
    click_channel(qtbot, panel, "headYaw")
    qtbot.mouseClick(panel.filter, Qt.LeftButton)
    panel.filter.clear()
    click_channel(qtbot, panel, "headPitch")
    assert not any(n.startswith("head") for n in panel.channels()) and not panel.head_plot.isVisible()
    # colours stay with their channels
    colour = panel.curve("browInnerUp").opts["pen"].color().name()
    click_channel(qtbot, panel, "mouthSmileLeft")
    assert panel.curve("browInnerUp").opts["pen"].color().name() == colour
    qtbot.mouseClick(panel.clear_button, Qt.LeftButton)
    assert panel.channels() == [] and changes[-1] == []


def test_set_channels_round_trips_without_a_signal(panel, qtbot):
    changes = []
    panel.channelsChanged.connect(changes.append)
    panel.set_channels(["tongueOut", "nonsense", "headRoll", "tongueOut"])
    assert panel.channels() == ["tongueOut", "headRoll"] and changes == []


def test_the_playhead_moves_and_the_view_follows(panel, qtbot, demo):
    panel.set_playhead(2.5)
    assert panel.weights_plot.playhead.value() == 2.5 and panel.head_plot.playhead.value() == 2.5
    panel.set_view(1.0, 3.0)                            # the timeline zoomed in
    (x0, x1), _ = panel.head_plot.viewRange()          # both plots share the time axis
    assert (x0, x1) == pytest.approx((1.0, 3.0))
    panel.set_playhead(3.4)                             # playing past the right edge pages the view
    x0, x1 = panel.view()
    assert x0 < 3.4 < x1 and x1 - x0 == pytest.approx(2.0)
    panel.set_playhead(3.6)                             # inside the view: no jump
    assert panel.view() == (x0, x1)
    panel.set_view(6.0, 8.0)                            # the user looks elsewhere while paused
    panel.set_playhead(3.6)                             # (the window calls this every frame)
    assert panel.view() == pytest.approx((6.0, 8.0))
    panel.hide()
    panel.set_playhead(8.0)                             # hidden: remembered, drawn when shown
    panel.show()
    qtbot.waitExposed(panel)
    assert panel.weights_plot.playhead.value() == 8.0


def test_the_previous_track_shows_what_the_edit_changed(panel, qtbot, demo):
    edited = FaceTrack(demo.fps, demo.data.copy())
    edited.data[90:150, INDEX["jawOpen"]] += 0.2
    edited.data[90:150, INDEX["headPitch"]] += 0.05
    panel.set_track(edited)
    panel.set_previous(demo)
    x, old = panel.ghost_data("jawOpen")
    assert np.isnan(old[:89]).all() and np.isnan(old[151:]).all()
    np.testing.assert_allclose(old[89:151], demo.data[89:151, INDEX["jawOpen"]])
    np.testing.assert_allclose(panel.curve_data("jawOpen")[1], edited.data[:, INDEX["jawOpen"]])
    assert len(panel.weights_plot.regions) == 1
    assert panel.weights_plot.regions[0].getRegion() == pytest.approx((3.0, 5.0))
    panel.set_previous(None)
    assert panel.weights_plot.regions == [] and len(panel.ghost_data("jawOpen")[0]) == 0


def test_an_hour_long_take_stays_cheap(panel, qtbot, demo):
    reps = int(np.ceil(3600 * demo.fps / demo.frames))
    hour = FaceTrack(demo.fps, np.tile(demo.data, (reps, 1)))
    start = time.perf_counter()
    panel.set_track(hour)
    panel.grab()
    first = time.perf_counter() - start
    assert hour.duration >= 3600 and first < 3.0
    x, _ = panel.curve("jawOpen").getData()            # what is drawn: downsampled
    assert len(x) < hour.frames / 10
    panel.set_view(1800.0, 1830.0)                      # zoomed in: only the visible part is drawn
    panel.grab()
    x, _ = panel.curve("jawOpen").getData()
    assert x.min() < 1800.5 and x.max() > 1829.5 and len(x) < 3 * 30 * 32
    start = time.perf_counter()
    for i in range(60):                                 # one second of playback
        panel.set_playhead(1800.0 + i / 60)
    assert time.perf_counter() - start < 0.2


def test_no_track_and_screenshot(panel, qtbot, demo):
    panel.set_track(None)
    assert panel.channels() == list(DEFAULT_CHANNELS)
    edited = FaceTrack(demo.fps, demo.data.copy())
    span = slice(int(4.2 * demo.fps), int(6.4 * demo.fps))
    edited.data[span, INDEX["jawOpen"]] = np.clip(edited.data[span, INDEX["jawOpen"]] * 1.35, 0, 1)
    edited.data[span, INDEX["browInnerUp"]] = np.clip(edited.data[span, INDEX["browInnerUp"]] + 0.12, 0, 1)
    edited.data[span, INDEX["headPitch"]] -= np.radians(2.0) * np.hanning(span.stop - span.start)
    panel.set_track(edited)
    panel.set_previous(demo)
    panel.set_playhead(5.2)
    qtbot.wait(50)
    image = panel.grab()
    assert image.save("/tmp/curves.png")
    assert image.width() >= 1000
