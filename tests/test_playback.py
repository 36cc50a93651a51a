"""The playback clock without a sound device: frame stepping on the frame grid and loop playback."""

import time

import pytest

from studio.playback import Playback


def test_step_moves_whole_frames_and_pauses():
    p = Playback(None, 10.0)
    p.seek(1.01)
    p.step(1, 30)
    assert p.position == pytest.approx(31 / 30) and not p.playing
    p.step(-2, 30)
    assert p.position == pytest.approx(29 / 30)
    p.play()
    p.step(1, 25)
    assert not p.playing
    p.seek(0.0)
    p.step(-1, 30)
    assert p.position == 0.0                    # never before the take
    p.seek(10.0)
    p.step(1, 30)
    assert p.position == 10.0                   # nor after it


def test_loop_plays_its_range_over_and_over():
    p = Playback(None, 10.0)
    p.set_loop(2.0, 2.2)
    p.seek(5.0)
    p.play()                                     # outside the loop: starts at its start
    assert 2.0 <= p.position < 2.2
    seen = []
    end = time.monotonic() + 0.7
    while time.monotonic() < end:
        seen.append(p.position)
        time.sleep(0.01)
    assert all(2.0 <= t < 2.2 + 0.02 for t in seen)
    assert sum(b < a for a, b in zip(seen, seen[1:])) >= 2     # it wrapped round at least twice
    p.set_loop(None)
    assert p.loop is None and p.playing
    p.set_loop(3.0, 3.0)                         # empty: no loop
    assert p.loop is None
