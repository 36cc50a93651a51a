"""Audio loading: formats, rates, channels, and the documented behaviour on bad input."""

import numpy as np
import pytest
import soundfile as sf

from core.audio import ANALYSIS_RATE, AudioError, load_audio


def tone(seconds, rate, channels=1, freq=440.0, amp=0.5):
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t))[:, None].repeat(channels, axis=1).astype(np.float32)


@pytest.mark.parametrize("fmt,subtype,ext", [("WAV", "PCM_16", "wav"), ("FLAC", "PCM_24", "flac"),
                                             ("OGG", "VORBIS", "ogg"), ("MP3", "MPEG_LAYER_III", "mp3")])
def test_formats(tmp_path, fmt, subtype, ext):
    path = tmp_path / f"a.{ext}"
    sf.write(path, tone(1.0, 44100), 44100, format=fmt, subtype=subtype)
    a = load_audio(path)
    assert a.sample_rate == 44100 and abs(a.duration - 1.0) < 0.06
    assert abs(len(a.mono16k) / ANALYSIS_RATE - a.duration) < 0.01
    assert a.data == path.read_bytes()


@pytest.mark.parametrize("rate,channels", [(8000, 1), (11025, 2), (96000, 6), (22050, 1), (16000, 1)])
def test_any_rate_and_channels_to_mono_16k(tmp_path, rate, channels):
    path = tmp_path / "a.wav"
    sf.write(path, tone(0.5, rate, channels, freq=300.0), rate)
    a = load_audio(path)
    assert a.channels == channels and a.sample_rate == rate
    x = a.mono16k
    assert x.dtype == np.float32 and abs(len(x) - 8000) <= 1
    # The 300 Hz tone survives resampling: its spectrum peaks at 300 Hz.
    spectrum = np.abs(np.fft.rfft(x))
    assert abs(np.argmax(spectrum) * ANALYSIS_RATE / len(x) - 300) < 5


def test_bad_files_name_the_problem(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav.*empty"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "notes.wav").write_text("these are not samples")
    with pytest.raises(AudioError, match="notes.wav: not a readable audio file"):
        load_audio(tmp_path / "notes.wav")
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "missing.wav")
    with pytest.raises(AudioError, match="folder"):
        load_audio(tmp_path)
    sf.write(tmp_path / "ok.wav", tone(1, 16000), 16000)
    head = (tmp_path / "ok.wav").read_bytes()[:30]
    (tmp_path / "cut.wav").write_bytes(head)
    with pytest.raises(AudioError, match="cut.wav"):
        load_audio(tmp_path / "cut.wav")
    sf.write(tmp_path / "zero.wav", np.zeros((0, 1), np.float32), 16000)
    with pytest.raises(AudioError, match="no audio samples"):
        load_audio(tmp_path / "zero.wav")


def test_truncated_wav_keeps_what_is_there(tmp_path):
    sf.write(tmp_path / "ok.wav", tone(1, 16000), 16000, subtype="PCM_16")
    data = (tmp_path / "ok.wav").read_bytes()
    (tmp_path / "half.wav").write_bytes(data[: len(data) // 2])
    a = load_audio(tmp_path / "half.wav")
    assert 0.4 < a.duration < 0.6


def test_silence_is_accepted_and_reported(tmp_path):
    sf.write(tmp_path / "s.wav", np.zeros((16000, 1), np.float32), 16000)
    a = load_audio(tmp_path / "s.wav")
    assert a.is_silent and a.duration == 1.0


def test_nan_samples(tmp_path):
    x = tone(1, 16000)
    x[100:110] = np.nan
    sf.write(tmp_path / "few.wav", x, 16000, subtype="FLOAT")
    a = load_audio(tmp_path / "few.wav")
    assert np.isfinite(a.samples).all() and "NaN" in a.warnings[0]
    x[:5000] = np.nan
    sf.write(tmp_path / "many.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="damaged"):
        load_audio(tmp_path / "many.wav")


def test_one_hour_file(tmp_path):
    # 1 h at 8 kHz, written in blocks so the test itself stays light.
    path = tmp_path / "hour.wav"
    block = (tone(60, 8000, amp=0.1) * 32767).astype(np.int16)
    with sf.SoundFile(path, "w", 8000, 1, subtype="PCM_16") as f:
        for _ in range(60):
            f.write(block)
    a = load_audio(path)
    assert round(a.duration) == 3600
    assert len(a.mono16k) == 3600 * ANALYSIS_RATE


def test_longer_than_the_limit_is_refused_before_reading(tmp_path, monkeypatch):
    import core.audio
    monkeypatch.setattr(core.audio, "MAX_DURATION", 0.5)
    sf.write(tmp_path / "a.wav", tone(1, 8000), 8000)
    with pytest.raises(AudioError, match="longer than"):
        load_audio(tmp_path / "a.wav")
