"""The bad-input corpus: what a new user may hand AVI-Talking Studio, written at test time.

`write_corpus(folder)` writes every file case into `folder` and returns {case: path}; each case
also has its own `write_<case>(folder)` so a test pays only for what it uses. Everything is
generated (deterministically) from a 3.5 s cut of the real speech sample in tests/data/listen,
from tones, seeded noise or a real saved project, so the repository stays small.
The two endpoint cases are not files: `closed_port_url()` is an OpenAI-compatible URL nobody
answers, and `nonsense_server()` is a real HTTP server on 127.0.0.1 that answers every chat
completion with prose instead of the JSON it was asked for.
docs/bad-input.md lists what the user sees for each case; tests/test_bad_input.py checks it.
"""

from __future__ import annotations

import io
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLE = Path(__file__).parent / "data" / "listen" / "sample.wav"
SPEECH_SPAN = (6.5, 10.0)    # "Hello? Hello? Oh, hello. I didn't know you were there."
NONSENSE = "I think it is a banana. Bananas are yellow, and so is the sun!"


def speech(rate: int = 16000) -> np.ndarray:
    """The 3.5 s speech cut as float32 mono at `rate`."""
    x, sample_rate = sf.read(SAMPLE, dtype="float32")
    x = x[int(SPEECH_SPAN[0] * sample_rate):int(SPEECH_SPAN[1] * sample_rate)]
    if rate != sample_rate:
        from scipy.signal import resample_poly
        g = np.gcd(rate, sample_rate)
        x = resample_poly(x, rate // g, sample_rate // g).astype(np.float32)
    return x


def _wav_bytes(x: np.ndarray, rate: int, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="WAV", subtype=subtype)
    return buf.getvalue()


# --- audio ----------------------------------------------------------------------------------

def write_speech(folder: Path) -> Path:
    """A good recording: the input of the endpoint cases (and the reference of the others)."""
    path = folder / "speech.wav"
    sf.write(path, speech(), 16000, subtype="PCM_16")
    return path


def write_truncated_wav(folder: Path) -> Path:
    """A WAV cut in the middle of its samples (an interrupted recording or copy): the header
    still announces 3.5 s, the file holds 1.75 s."""
    data = _wav_bytes(speech(), 16000)
    path = folder / "truncated.wav"
    path.write_bytes(data[:len(data) // 2])
    return path


def write_truncated_header(folder: Path) -> Path:
    """A WAV cut inside its header (the first 30 bytes)."""
    path = folder / "header_only.wav"
    path.write_bytes(_wav_bytes(speech(), 16000)[:30])
    return path


def write_wrong_extension(folder: Path) -> Path:
    """FLAC data in a file named .wav (libsndfile reads by content, not by name)."""
    path = folder / "really_flac.wav"
    buf = io.BytesIO()
    sf.write(buf, speech(), 16000, format="FLAC", subtype="PCM_16")
    path.write_bytes(buf.getvalue())
    return path


def write_text_as_wav(folder: Path) -> Path:
    """A text file named .wav."""
    path = folder / "notes.wav"
    path.write_text("Remember to record the second take tomorrow.\n")
    return path


def write_empty(folder: Path) -> Path:
    """A 0-byte .wav (a failed download or copy)."""
    path = folder / "empty.wav"
    path.write_bytes(b"")
    return path


def write_empty_project(folder: Path) -> Path:
    """A 0-byte .avtp."""
    path = folder / "empty.avtp"
    path.write_bytes(b"")
    return path


def write_rate_8k(folder: Path) -> Path:
    """Telephone audio: 8 kHz mono."""
    path = folder / "phone_8k.wav"
    sf.write(path, speech(8000), 8000, subtype="PCM_16")
    return path


def write_rate_8k_gsm(folder: Path) -> Path:
    """Telephone audio as telephone systems store it: 8 kHz GSM 6.10 in a WAV (a codec
    libsndfile cannot seek in)."""
    path = folder / "phone_8k_gsm.wav"
    sf.write(path, speech(8000), 8000, subtype="GSM610")
    return path


def write_rate_96k_6ch(folder: Path) -> Path:
    """A 5.1 studio file: 96 kHz, 6 channels, 24 bit; the voice in the centre channel (2), a
    quieter copy in the front pair, the others near silent."""
    x = speech(96000)
    channels = np.zeros((len(x), 6), np.float32)
    channels[:, 2] = x
    channels[:, 0] = channels[:, 1] = 0.3 * x
    channels[:, 3:] = 1e-4 * np.random.default_rng(96).standard_normal((len(x), 3))
    path = folder / "surround_96k.wav"
    sf.write(path, channels, 96000, subtype="PCM_24")
    return path


def write_hour(folder: Path) -> Path:
    """One hour at 8 kHz mono PCM_16 (57.6 MB): the speech cut and 3.5 s of room tone, repeated,
    written in one-minute blocks so building it stays cheap."""
    rate = 8000
    x = speech(rate)
    unit = np.concatenate([x, 0.002 * np.random.default_rng(60).standard_normal(len(x)).astype(np.float32)])
    block = np.tile(unit, int(np.ceil(60 * rate / len(unit))))[:60 * rate]
    path = folder / "hour.wav"
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as f:
        for _ in range(60):
            f.write(block)
    return path


def write_over_limit(folder: Path) -> Path:
    """3 h 10 min at 1 kHz mono PCM_16 (23 MB): longer than core.audio.MAX_DURATION (3 h)."""
    rate = 1000
    block = (0.1 * np.sin(2 * np.pi * 100 * np.arange(600 * rate) / rate)).astype(np.float32)
    path = folder / "three_hours.wav"
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as f:
        for _ in range(19):                    # 19 x 10 min
            f.write(block)
    return path


def write_silence(folder: Path) -> Path:
    """3 s of digital silence."""
    path = folder / "silence.wav"
    sf.write(path, np.zeros(3 * 16000, np.float32), 16000, subtype="PCM_16")
    return path


def write_clipping_noise(folder: Path) -> Path:
    """3 s of loud white noise hard-clipped at full scale (an overdriven input)."""
    x = np.clip(4.0 * np.random.default_rng(7).standard_normal(3 * 16000), -1.0, 1.0).astype(np.float32)
    path = folder / "clipping_noise.wav"
    sf.write(path, x, 16000, subtype="PCM_16")
    return path


# --- projects -------------------------------------------------------------------------------

def make_project(seconds: float = 3.5):
    """A small real project: the first `seconds` of the speech, two segments, a performance and
    speech features."""
    from core.audio import decode_audio
    from core.project import MAIN_TRACK, Instruction, Project, Segment, Settings
    from core.track import FaceTrack
    rng = np.random.default_rng(1)
    frames = int(round(seconds * 30))
    middle = seconds / 2
    return Project(
        audio=decode_audio(_wav_bytes(speech()[:int(seconds * 16000)], 16000), "speech.wav"),
        segments=[Segment(0.0, middle, Instruction("A person feels a little surprised.", "surprised", 0.3, "rules"),
                          seed=1, evidence={"text": "Hello? Hello?"}),
                  Segment(middle, seconds, Instruction("A person feels calm.", "neutral", 0.2, "user"))],
        tracks={MAIN_TRACK: FaceTrack(30.0, rng.random((frames, 55)).astype(np.float32))},
        settings=Settings(fps=30.0),
        speech_features=rng.random((frames, 8)).astype(np.float32),
    )


def write_project(folder: Path) -> Path:
    """A valid project (the base of the project cases and of the loader's fuzz test)."""
    from core.project import save_project
    path = folder / "take.avtp"
    save_project(make_project(), path)
    return path


def write_project_half(folder: Path) -> Path:
    """A project file cut in half (a copy interrupted, a full disk)."""
    data = write_project(folder).read_bytes()
    path = folder / "half.avtp"
    path.write_bytes(data[:len(data) // 2])
    return path


def rewrite_project_json(source: Path, target: Path, change) -> Path:
    """Copy the project `source` to `target`, its project.json passed through `change(doc)`."""
    with zipfile.ZipFile(source) as z:
        members = {name: z.read(name) for name in z.namelist()}
    doc = change(json.loads(members.pop("project.json")))
    with zipfile.ZipFile(target, "w") as z:
        z.writestr("project.json", json.dumps(doc))
        for name, data in members.items():
            z.writestr(name, data)
    return target


def write_project_future(folder: Path) -> Path:
    """A project saved by a newer AVI-Talking Studio (format version FORMAT_VERSION + 1)."""
    from core.project import FORMAT_VERSION
    return rewrite_project_json(write_project(folder), folder / "future.avtp",
                                lambda doc: {**doc, "version": FORMAT_VERSION + 1})


WRITERS = {
    "speech": write_speech,
    "truncated_wav": write_truncated_wav,
    "truncated_header": write_truncated_header,
    "wrong_extension": write_wrong_extension,
    "text_as_wav": write_text_as_wav,
    "empty": write_empty,
    "empty_project": write_empty_project,
    "rate_8k": write_rate_8k,
    "rate_8k_gsm": write_rate_8k_gsm,
    "rate_96k_6ch": write_rate_96k_6ch,
    "hour": write_hour,
    "over_limit": write_over_limit,
    "silence": write_silence,
    "clipping_noise": write_clipping_noise,
    "project": write_project,
    "project_half": write_project_half,
    "project_future": write_project_future,
}


def write_corpus(folder: Path) -> dict[str, Path]:
    """Write every file case into `folder` (about 85 MB, most of it the hour)."""
    folder.mkdir(parents=True, exist_ok=True)
    return {name: write(folder) for name, write in WRITERS.items()}


# --- endpoints ------------------------------------------------------------------------------

def closed_port_url() -> str:
    """An OpenAI-compatible base URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def nonsense_server():
    """A real chat-completions server on 127.0.0.1 (tests/chat_server.py) whose every answer is
    a well-formed chat completion holding prose (NONSENSE) instead of the JSON object asked for."""
    from tests.chat_server import ChatServer
    return ChatServer(lambda body: NONSENSE)


# --- running the installed command, measured ------------------------------------------------

@dataclass
class Run:
    code: int
    out: str
    err: list[str]
    peak_mb: float        # the process's peak resident memory (with any children it waited for)
    seconds: float


# Started from this small launcher rather than from the test process itself: a child's peak
# memory (ru_maxrss) counts the pages it shared with its parent between fork and exec, so a
# command started straight from pytest (with torch and models loaded) would be charged for them.
_LAUNCHER = """
import os, signal, subprocess, sys
proc = subprocess.Popen(sys.argv[3:])
signal.signal(signal.SIGALRM, lambda *_: proc.kill())
signal.alarm(int(sys.argv[2]))
_, status, usage = os.wait4(proc.pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


def run_measured(*args, timeout: float = 120, stdin=subprocess.DEVNULL) -> Run:
    """The installed `avitalk ARGS` in a process of its own (as a user runs it): its exit status,
    output, stderr lines, peak memory and wall time. A run past `timeout` is killed and fails."""
    command = [str(Path(sys.executable).with_name("avitalk")), *map(str, args)]
    with tempfile.TemporaryDirectory() as tmp:
        peak_file = Path(tmp) / "peak"
        t0 = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", _LAUNCHER, str(peak_file), str(math.ceil(timeout)), *command],
                                stdin=stdin, capture_output=True)
        seconds = time.perf_counter() - t0
        assert seconds < timeout, f"avitalk {' '.join(command[1:])} ran past {timeout} s and was killed"
        peak_kb = int(peak_file.read_text())
    return Run(result.returncode, result.stdout.decode("utf-8", "replace"),
               result.stderr.decode("utf-8", "replace").splitlines(), peak_kb / 1024, seconds)
