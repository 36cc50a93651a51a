"""Live: a recording as the virtual microphone, decoded on 127.0.0.1 by independent readers (the
PyLiveLinkFace decoder for Live Link packets, python-osc for VMC), the recording round-tripped."""

from __future__ import annotations

import queue
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pylivelinkface import FaceBlendShape, PyLiveLinkFace
from pythonosc.osc_bundle import OscBundle

from core.arkit import BLENDSHAPES, INDEX, NUM_CHANNELS
from core.audio import load_audio
from core.cli import main
from core.listen import listen
from core.live.inputs import FileInput, InputError
from core.live.listener import StreamingListener
from core.live.performer import LiveBlinks, LivePerformer
from core.live.senders import LiveLinkSender, VmcSender, head_quaternion_unity
from core.live.session import LiveOptions, run_live
from core.motion.checkpoint import load_default_model
from core.motion.features import speech_features
from core.motion.text import embed
from core.project import MAIN_TRACK, load_project

SAMPLE = Path(__file__).parent / "data" / "listen" / "sample.wav"      # real speech (the pyannote sample)
JAW = INDEX["jawOpen"]


class Receiver:
    """A UDP socket on 127.0.0.1 collecting datagrams on a thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.packets.append(self.sock.recvfrom(65536)[0])
            except socket.timeout:
                continue

    def close(self) -> list[bytes]:
        time.sleep(0.3)
        self._stop.set()
        self._thread.join()
        self.sock.close()
        return self.packets


@pytest.fixture(scope="module")
def bundle():
    return load_default_model()


def _frame(**values: float) -> np.ndarray:
    f = np.zeros(NUM_CHANNELS, np.float32)
    for k, v in values.items():
        f[INDEX[k] if k in INDEX else {"pitch": 52, "yaw": 53, "roll": 54}[k]] = v
    return f


def test_livelink_packets_decode_with_an_independent_reader():
    rx = Receiver()
    sender = LiveLinkSender("127.0.0.1", rx.port, subject="Hero", fps=30)
    sender.send(_frame(jawOpen=0.7, mouthSmileLeft=0.4, eyeLookInLeft=0.5, pitch=0.1, yaw=0.2, roll=-0.05))
    packets = rx.close()
    assert len(packets) == 1 and sender.sent == 1
    ok, face = PyLiveLinkFace.decode(packets[0])
    assert ok and face.name == "Hero" and face.fps == 30
    get = face.get_blendshape
    assert get(FaceBlendShape.JawOpen) == pytest.approx(0.7, abs=1e-6)
    assert get(FaceBlendShape.MouthSmileLeft) == pytest.approx(0.4, abs=1e-6)
    assert get(FaceBlendShape.JawRight) == 0.0 and get(FaceBlendShape.MouthClose) == 0.0
    # head as the app sends it (radians; yaw and roll negated into Unreal's frame), eyes from the looks
    assert get(FaceBlendShape.HeadPitch) == pytest.approx(0.1, abs=1e-6)
    assert get(FaceBlendShape.HeadYaw) == pytest.approx(-0.2, abs=1e-6)
    assert get(FaceBlendShape.HeadRoll) == pytest.approx(0.05, abs=1e-6)
    assert get(FaceBlendShape.LeftEyeYaw) > 0.2


def test_vmc_bundles_decode_with_python_osc():
    rx = Receiver()
    sender = VmcSender("127.0.0.1", rx.port)
    sender.send(_frame(jawOpen=0.6, browInnerUp=0.3, yaw=0.4))
    capital = VmcSender("127.0.0.1", rx.port, capitalise=True)
    capital.send(_frame(jawOpen=0.6))
    packets = rx.close()
    assert len(packets) == 2
    messages = list(OscBundle(packets[0]))
    blends = {m.params[0]: m.params[1] for m in messages if m.address == "/VMC/Ext/Blend/Val"}
    assert set(blends) == set(BLENDSHAPES)
    assert blends["jawOpen"] == pytest.approx(0.6, abs=1e-6) and blends["browInnerUp"] == pytest.approx(0.3, abs=1e-6)
    addresses = [m.address for m in messages]
    last_value = max(i for i, a in enumerate(addresses) if a == "/VMC/Ext/Blend/Val")
    assert addresses.index("/VMC/Ext/Blend/Apply") > last_value
    head = next(m for m in messages if m.address == "/VMC/Ext/Bone/Pos")
    assert head.params[0] == "Head"
    q = np.array(head.params[4:8])
    assert np.linalg.norm(q) == pytest.approx(1.0, abs=1e-5)
    assert q[1] < 0          # turning towards the subject's left is a negative Unity yaw
    assert "JawOpen" in {m.params[0] for m in OscBundle(packets[1]) if m.address == "/VMC/Ext/Blend/Val"}
    # pitch keeps its sign (looks down in both frames), yaw and roll flip
    assert head_quaternion_unity(0.3, 0.0, 0.0)[0] > 0 and head_quaternion_unity(0.0, 0.0, 0.3)[2] < 0


def test_a_receiver_that_is_down_costs_packets_not_the_performance():
    closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()                                  # nobody listens there now
    sender = LiveLinkSender("127.0.0.1", port)
    t = time.perf_counter()
    for _ in range(50):
        sender.send(_frame(jawOpen=0.5))
    assert time.perf_counter() - t < 0.5
    assert sender.sent + sender.failed == 50


def test_streaming_listener_hears_what_the_offline_listener_hears():
    audio = load_audio(SAMPLE)
    x = audio.mono16k[16000 * 6:16000 * 14]           # two speakers talking, short pauses
    live = StreamingListener()
    for i in range(0, len(x), 320):
        live.push(x[i:i + 320])
        if i % 3200 == 0 and live.frames_ready > 40:          # read now and then, as the performer does
            assert live.features(live.frames_ready - 34, 34).shape == (34, 48)
    streamed = speech_features(live.finish(), 30.0)
    offline = speech_features(listen(type(audio)(x[:, None], 16000, name="part")), 30.0)
    n = min(len(streamed), len(offline))
    assert abs(len(streamed) - len(offline)) <= 1
    k = 40                                           # pitch, voicing, loudness, ..., speech
    assert (streamed[:n, k + 5] == offline[:n, k + 5]).mean() > 0.97
    assert (streamed[:n, k + 1] == offline[:n, k + 1]).mean() > 0.95
    assert np.corrcoef(streamed[:n, k + 2], offline[:n, k + 2])[0, 1] > 0.98
    # phones come from the phone loop: the same silence, speech sounds where there is speech
    silent = streamed[:n, 39] == 1
    assert (silent == (offline[:n, 39] == 1)).mean() > 0.8
    assert 0.6 < (~silent).sum() / (offline[:n, 39] == 0).sum() < 1.6


def test_the_closure_classifier_streams_as_it_reads_a_whole_take():
    """Block by block it gives every frame the probability it gets from the whole recording: no
    frame reads audio past its 40 ms of look-ahead, none is skipped or read twice."""
    from core.live import bilabial as B
    x = load_audio(SAMPLE).mono16k[:16000 * 4]
    stream = B.StreamingClosures()
    for i in range(0, len(x), 320):
        stream.update(x[:i + 320])
    model = B.classifier()
    n = (len(x) - B.WIN // 2) // B.HOP + 1
    bands = B.RunningNorm(model.mean, model.var)(B.log_mel(x, 0, n))
    whole = model.probability(B.context(np.concatenate([np.zeros((B.PAST, B.BANDS), np.float32), bands])))
    assert stream.known == n - B.FUTURE and np.allclose(stream.prob, whole[:stream.known], atol=1e-5)


def test_a_sure_closure_runs_on_while_the_classifier_still_hears_it():
    from core.live.bilabial import closure_spans
    prob = np.array([0.1, 0.6, 0.8, 0.95, 0.97, 0.7, 0.2, 0.99, 0.4, 0.6, 0.97, 0.3, 0.96, 0.96, 0.55, 0.9])
    assert closure_spans(prob, 0.93, shortest=2) == [(0.03, 0.05), (0.12, 0.14)]
    # on from 0.5: the first run takes in its shoulders; a lone sure frame is still too short;
    # a run never reaches back into the one before; the newest frames run to the edge
    assert closure_spans(prob, 0.93, shortest=2, extend=0.5) == [(0.01, 0.06), (0.12, 0.16)]
    assert closure_spans(prob, 0.93, start=4, shortest=1, extend=0.5) == [(0.04, 0.06), (0.07, 0.08),
                                                                             (0.09, 0.11), (0.12, 0.16)]


def test_a_closure_is_laid_over_the_phone_loops_phones():
    from core.listen.types import Phone
    from core.live.bilabial import overlay
    phones = [Phone("AA", 0.0, 0.2), Phone("T", 0.2, 0.3), Phone("IY", 0.3, 0.6), Phone("B", 0.6, 0.7)]
    out = overlay(phones, [(0.15, 0.25), (0.62, 0.68)])
    assert [(p.phone, p.start, p.end) for p in out] == [("AA", 0.0, 0.15), ("M", 0.15, 0.25), ("T", 0.25, 0.3),
                                                         ("IY", 0.3, 0.6), ("B", 0.6, 0.7)]


def test_live_hears_the_lip_closures_the_phone_loop_misses():
    """On real speech the streaming listener's phones close the lips at most /p b m/ the offline
    aligner finds (the phone loop alone finds few), and not all over the vowels."""
    from core.listen import ListenSettings
    from core.listen.align import allphone
    audio = load_audio(SAMPLE)
    x = audio.mono16k
    offline = listen(audio, settings=ListenSettings(language="en"))
    truth = [p for p in offline.phones if p.phone in ("P", "B", "M")]
    live = StreamingListener()
    for i in range(0, len(x), 1600):
        live.push(x[i:i + 1600])
    streamed = [p for p in live.finish().phones if p.phone in ("P", "B", "M")]
    loop = [p for p in allphone(x, offline.vad, offline.duration, ListenSettings()) if p.phone in ("P", "B", "M")]

    def found(got):
        return sum(any(g.start - 0.03 < t.end and g.end + 0.03 > t.start for g in got) for t in truth) / len(truth)
    assert len(truth) >= 6 and found(streamed) >= 0.75 and found(streamed) >= found(loop) + 0.25
    vowels = [p for p in offline.phones if p.phone in ("AA", "AE", "AH", "AO", "EH", "IH", "IY", "UW", "OW", "EY")]
    on_vowels = sum(any(g.start < (v.start + v.end) / 2 < g.end for g in streamed) for v in vowels)
    assert on_vowels <= 0.1 * len(vowels)


def test_blinks_live_come_as_a_speaking_persons():
    fps = 30.0
    blinks = LiveBlinks(fps, seed=2)
    speaking = np.zeros(int(120 * fps))
    t = 0
    rng = np.random.default_rng(0)
    while t < len(speaking):                         # phrases of 1.5-4 s with pauses of 0.3-1 s
        n = int(rng.uniform(1.5, 4.0) * fps)
        speaking[t:t + n] = 1
        t += n + int(rng.uniform(0.3, 1.0) * fps)
    closure = np.concatenate([blinks.closure(i, speaking[i:i + 2]) for i in range(0, len(speaking), 2)])
    onsets = np.flatnonzero((closure[1:] >= 0.5) & (closure[:-1] < 0.5))
    assert 24 <= len(onsets) <= 52                   # 12-26 a minute


def test_the_performer_holds_what_it_sent_and_catches_up_when_behind(bundle):
    x = load_audio(SAMPLE).mono16k[16000 * 6:16000 * 10]
    live = StreamingListener()
    performer = LivePerformer(bundle, embed(["A person feels calm."])[0], lookahead=2, steps=4)
    out = []
    for i in range(0, 16000 * 2, 320):              # two seconds in small steps
        live.push(x[i:i + 320])
        if performer.due(live.frames_ready) >= 2:
            out.append(performer.update(live.features, live.frames_ready))
    sent = np.concatenate([r.motion for r in out])
    assert [r.start for r in out] == list(np.cumsum([0] + [len(r.motion) for r in out[:-1]]))
    assert performer.skipped == 0 and len(sent) == live.frames_ready - 2
    assert np.abs(np.diff(sent[:, JAW])).max() < 0.35                  # continuous across updates
    assert sent[:, JAW].std() > 0.02                                   # and it talks
    # two seconds arrive at once (a stalled CPU): the oldest are held, the newest made
    live.push(x[16000 * 2:])
    late = performer.update(live.features, live.frames_ready)
    assert late.skipped > 0 and late.start == len(sent)
    assert len(late.motion) == live.frames_ready - 2 - len(sent)
    assert performer.sent == live.frames_ready - 2


def test_live_streams_a_recording_to_both_receivers_and_records_the_take(tmp_path, bundle):
    livelink, vmc = Receiver(), Receiver()
    changes: queue.Queue = queue.Queue()
    record = tmp_path / "take.avtp"
    speech = tmp_path / "speech.wav"                    # 3 s of the sample where both speakers talk
    sf.write(speech, load_audio(SAMPLE).mono16k[16000 * 6:16000 * 9], 16000)
    seen = []

    def on_frame(index, frame):
        seen.append(index)
        if index == 45:                                 # 1.5 s in: a new expression
            changes.put(("A person feels extremely happy.", embed(["A person feels extremely happy."])[0]))

    stats = run_live(LiveOptions(input=str(speech), livelink=f"127.0.0.1:{livelink.port}",
                                 vmc=f"127.0.0.1:{vmc.port}", seconds=3.0, record=str(record)),
                     bundle=bundle, instructions=changes, on_frame=on_frame, log=lambda m: None)
    ll, osc = livelink.close(), vmc.close()
    assert stats.frames == 90 and seen == list(range(90))
    assert len(ll) == 90 and len(osc) == 90
    faces = [PyLiveLinkFace.decode(p)[1] for p in ll]
    jaw = np.array([f.get_blendshape(FaceBlendShape.JawOpen) for f in faces])
    assert jaw.std() > 0.02 and jaw.max() > 0.1
    frames = [f._frames for f in faces]
    assert all(b >= a for a, b in zip(frames, frames[1:]))            # frame times never go back
    vmc_jaw = [next(m.params[1] for m in OscBundle(p) if m.params and m.params[0] == "jawOpen") for p in osc]
    np.testing.assert_allclose(vmc_jaw, jaw, atol=1e-6)
    # it kept up with the audio
    s = stats.summary()
    assert s["wall_s"] < 3.0 + 1.5 and s["skipped"] <= 10
    # the recording: the sound, the motion sent, the instruction spans, opened again
    project = load_project(record)
    assert project.audio.duration == pytest.approx(3.0, abs=0.01)
    track = project.tracks[MAIN_TRACK]
    assert track.frames == 90 and project.speech_features.shape == (90, 48)
    np.testing.assert_allclose(track.data[:, JAW], jaw, atol=1e-6)
    assert [s.instruction.emotion for s in project.segments] == ["neutral", "happy"]
    assert project.segments[1].start == pytest.approx(project.segments[0].end)


def test_cli_live_errors_name_the_problem(tmp_path, capsys):
    assert main(["live", "--input", str(tmp_path / "missing.wav")]) == 2
    assert "missing.wav" in capsys.readouterr().err
    assert main(["live", "--input", str(SAMPLE), "--vmc", "127.0.0.1:70000"]) == 2
    assert "--vmc: port 70000" in capsys.readouterr().err
    assert main(["live", "--input", str(SAMPLE), "--record", str(tmp_path / "take.wav")]) == 2
    assert "avtp" in capsys.readouterr().err
    assert main(["live", "--input", str(SAMPLE), "--seconds", "0"]) == 2


class _Breaking(FileInput):
    """A recording that stops after `seconds` the way a device or a user stops a take."""

    def __init__(self, path, seconds: float, error: BaseException) -> None:
        super().__init__(str(path), speed=0)
        self.after, self.error = int(seconds * 16000), error

    def blocks(self):
        for block in super().blocks():
            yield block
            if self.after <= 0:
                raise self.error
            self.after -= len(block)


@pytest.mark.parametrize("error, ended", [(KeyboardInterrupt(), "interrupted"),
                                          (InputError("the sound input 'USB mic' stopped delivering audio"), "error")])
def test_a_take_that_breaks_off_keeps_its_recording(tmp_path, bundle, error, ended):
    record = tmp_path / "take.avtp"
    source = _Breaking(SAMPLE, 1.0, error)
    options = LiveOptions(input=str(SAMPLE), record=str(record), speed=0)
    if ended == "interrupted":
        stats = run_live(options, bundle=bundle, source=source, log=lambda m: None)
        assert stats.ended_by == "interrupted"
    else:
        with pytest.raises(InputError, match="USB mic"):
            run_live(options, bundle=bundle, source=source, log=lambda m: None)
    project = load_project(record)
    assert 1.0 <= project.audio.duration < 1.1
    assert project.tracks[MAIN_TRACK].frames >= 28
    assert project.speech_features.shape == (project.tracks[MAIN_TRACK].frames, 48)
