"""MP4 export, checked with ffprobe/ffmpeg (independent of PyAV): streams, sync, cancel."""

import json
import shutil
import subprocess

import numpy as np
import pytest

from core.audio import decode_audio, load_audio
from core.cancel import Cancelled
from core.export.video import write_video
from tests.conftest import open_mouth_track

pytestmark = pytest.mark.skipif(shutil.which("ffprobe") is None, reason="ffmpeg is not installed (Debian ffmpeg)")


def probe(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                          "stream=codec_type,codec_name,width,height,avg_frame_rate,nb_frames,sample_rate,channels,duration",
                          "-of", "json", str(path)], capture_output=True, text=True, check=True).stdout
    return {s["codec_type"]: s for s in json.loads(out)["streams"]}


def frame_at(path, seconds, width, height):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", f"{seconds}", "-i", str(path), "-frames:v", "1",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3).astype(int)


def decoded_audio(path, rate=16000):
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate),
                          "-f", "f32le", "-"], capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.float32)


def mouth_darkness(img):
    """Pixels of the open mouth in the picture: dark and deep red (the backdrop is dark blue-grey,
    the hair dark brown). The video frames the whole head and shoulders, so the mouth is small."""
    return int(((img.sum(axis=2) < 200) & (img[..., 0] > 1.5 * img[..., 1] + 5)).sum())


def test_picture_and_sound_in_sync(tmp_path, head, speech_like_wav):
    audio = load_audio(speech_like_wav)
    track = open_mouth_track(frames=30, open_from=15, open_to=18)     # mouth open at 0.50-0.60 s
    out = tmp_path / "take.mp4"
    fractions = []
    write_video(out, head, track, audio, width=320, height=180, progress=fractions.append)
    assert fractions[-1] == 1.0
    streams = probe(out)
    v, a = streams["video"], streams["audio"]
    assert (v["codec_name"], v["width"], v["height"], v["avg_frame_rate"]) == ("h264", 320, 180, "30/1")
    assert int(v["nb_frames"]) == 30 and float(v["duration"]) == pytest.approx(1.0, abs=0.01)
    assert a["codec_name"] == "aac" and int(a["sample_rate"]) == 44100 and a["channels"] == 2
    assert float(a["duration"]) == pytest.approx(1.0, abs=0.03)
    # The frame at 0.55 s shows the open mouth; 0.2 s and 0.8 s do not.
    assert mouth_darkness(frame_at(out, 0.55, 320, 180)) > mouth_darkness(frame_at(out, 0.2, 320, 180)) + 100
    assert mouth_darkness(frame_at(out, 0.8, 320, 180)) < mouth_darkness(frame_at(out, 0.55, 320, 180)) - 100
    # The loud burst is heard at 0.50-0.60 s, where the picture shows it.
    sound = decoded_audio(out)
    envelope = np.sqrt(np.convolve(sound ** 2, np.ones(160) / 160, mode="same"))
    loud = np.nonzero(envelope > 0.2)[0] / 16000
    assert loud.min() == pytest.approx(0.5, abs=0.02) and loud.max() == pytest.approx(0.6, abs=0.02)


def test_odd_rates_and_surround(tmp_path, head):
    import io
    import soundfile as sf
    buf = io.BytesIO()
    sf.write(buf, np.random.default_rng(0).normal(0, 0.1, (37800 // 2, 6)), 37800, format="WAV")
    audio = decode_audio(buf.getvalue(), "surround.wav")
    write_video(tmp_path / "a.mp4", head, open_mouth_track(frames=15), audio, width=160, height=90)
    a = probe(tmp_path / "a.mp4")["audio"]
    assert int(a["sample_rate"]) == 48000 and a["channels"] == 2


def test_silent_video_and_odd_size(tmp_path, head):
    write_video(tmp_path / "a.mp4", head, open_mouth_track(frames=6), None, width=161, height=91)
    streams = probe(tmp_path / "a.mp4")
    assert "audio" not in streams and (streams["video"]["width"], streams["video"]["height"]) == (162, 92)


def test_cancel_leaves_no_file_and_keeps_the_old_one(tmp_path, head):
    out = tmp_path / "take.mp4"
    out.write_bytes(b"previous export")
    calls = []
    with pytest.raises(Cancelled):
        write_video(out, head, open_mouth_track(frames=60), None, width=160, height=90,
                    cancelled=lambda: calls.append(1) or len(calls) > 10)
    assert out.read_bytes() == b"previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["take.mp4"]
