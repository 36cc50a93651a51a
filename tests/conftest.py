"""Shared fixtures: the real built-in head, short real audio, the shipped model; and a check
after every test that it left no thread running."""

import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.arkit import INDEX
from core.face import load_rig
from core.track import FaceTrack


@pytest.fixture(scope="session")
def head():
    return load_rig()


@pytest.fixture
def speech_like_wav(tmp_path):
    """1 s at 44.1 kHz stereo: a quiet 200 Hz hum with a loud 1 kHz burst at 0.50-0.60 s."""
    rate = 44100
    t = np.arange(rate) / rate
    x = 0.05 * np.sin(2 * np.pi * 200 * t)
    burst = (t >= 0.5) & (t < 0.6)
    x[burst] += 0.6 * np.sin(2 * np.pi * 1000 * t[burst])
    path = tmp_path / "take.wav"
    sf.write(path, np.stack([x, x], axis=1), rate, subtype="PCM_16")
    return path


def open_mouth_track(frames=30, fps=30.0, open_from=15, open_to=21):
    """Neutral face with the jaw wide open on frames [open_from, open_to)."""
    track = FaceTrack.zeros(frames, fps)
    track.data[open_from:open_to, INDEX["jawOpen"]] = 1.0
    return track


@pytest.fixture
def speech_10s(tmp_path):
    """The first 10 s of real telephone speech (pyannote-audio's sample, MIT)."""
    return cut_speech(tmp_path, 10)


def cut_speech(folder: Path, seconds: float) -> Path:
    """The first `seconds` of real telephone speech (pyannote-audio's sample, MIT) as a WAV in `folder`."""
    x, rate = sf.read(Path(__file__).parent / "data" / "listen" / "sample.wav")
    path = folder / "speech.wav"
    sf.write(path, x[: int(seconds * rate)], rate)
    return path


@pytest.fixture(scope="session")
def shipped_model():
    """The motion model shipped in resources/motion, loaded once."""
    from core.motion.checkpoint import load_default_model
    return load_default_model()


@pytest.fixture(scope="module")
def speech8(tmp_path_factory):
    return cut_speech(tmp_path_factory.mktemp("speech"), 8)


@pytest.fixture(scope="module")
def take(speech8, tmp_path_factory, shipped_model):
    """8 s of real speech: listened to (rules), animated by the shipped model, saved."""
    from core.audio import load_audio
    from core.instruct import make_writer
    from core.pipeline import animate, listen_and_instruct, make_project
    from core.project import MAIN_TRACK, save_project
    bundle = shipped_model
    audio = load_audio(speech8)
    project = make_project(audio, listen_and_instruct(audio, writer=make_writer("rules"), max_length=3.0), bundle.fps)
    project.tracks[MAIN_TRACK] = animate(project, bundle)
    path = tmp_path_factory.mktemp("take") / "take.avtp"
    save_project(project, path)
    return path


@pytest.fixture(autouse=True)
def no_thread_left_running():
    """Fail a test that leaves a Python thread or a studio worker thread running (given 5 s to
    stop). Library threads that live for the whole process (tqdm's monitor) are not the test's."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        # (a _DummyThread stands for a thread Python did not start, e.g. a QThread, and never
        # dies in Python 3.11's eyes: those are checked through running_workers instead)
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()
                and type(t).__name__ not in ("TMonitor", "_DummyThread")]
        if "studio.jobs" in sys.modules:
            left += [f"studio worker {id(w):#x}" for w in sys.modules["studio.jobs"].running_workers()]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not left, f"threads left running: {left}"
