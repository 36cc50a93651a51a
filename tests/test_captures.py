"""Fine-tuning on one's own captures: Live Link Face CSV + audio pairs become a dataset the
trainer reads, and training can start from the shipped model."""

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from core.export.livelink import read_livelink_csv, write_livelink_csv
from core.motion.checkpoint import DEFAULT_MODEL, load_motion_model, read_meta
from core.motion.model import MotionConfig
from core.synth.captures import build_capture_dataset, find_pairs
from core.synth.train import TrainConfig, load_dataset, train
from core.track import FaceTrack

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "resources" / "demo"
sys.path.insert(0, str(ROOT / "scripts"))
from make_demo import TEXT as DEMO_TEXT  # noqa: E402


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    """Two takes in the Live Link Face app's format with their sound (the demo take, and 6 s of
    real speech with a CSV 3 frames longer than the sound), plus the usual mess: a CSV without
    sound, sound without a CSV, an empty audio file, and a pairing 3 s off."""
    d = tmp_path_factory.mktemp("captures")
    shutil.copy(DEMO / "demo.csv", d / "take01.csv")
    shutil.copy(DEMO / "demo.wav", d / "take01.wav")
    x, rate = sf.read(ROOT / "tests" / "data" / "listen" / "sample.wav")
    sf.write(d / "take02.flac", x[: 6 * rate], rate)
    t = np.arange(183) / 30
    data = np.zeros((183, 55), np.float32)
    data[:, 17] = 0.3 + 0.2 * np.sin(2 * np.pi * 1.5 * t)          # something to recognise
    write_livelink_csv(d / "take02.csv", FaceTrack(30.0, data))
    (d / "take01.txt").write_text(DEMO_TEXT)
    shutil.copy(DEMO / "demo.csv", d / "lonely.csv")
    shutil.copy(DEMO / "demo.wav", d / "voice_only.wav")
    shutil.copy(DEMO / "demo.csv", d / "empty.csv")
    (d / "empty.wav").write_bytes(b"")
    write_livelink_csv(d / "wrong.csv", FaceTrack(30.0, np.zeros((90, 55), np.float32)))
    shutil.copy(DEMO / "demo.wav", d / "wrong.wav")
    return d


@pytest.fixture(scope="module")
def built(captures, tmp_path_factory):
    out = tmp_path_factory.mktemp("mine")
    return build_capture_dataset(captures, out, writer="rules"), out


def test_pairs_are_found_by_name(captures):
    pairs, problems = find_pairs(captures)
    assert [p.name for p in pairs] == ["empty", "take01", "take02", "wrong"]
    assert pairs[1].script is not None and pairs[2].audio.suffix == ".flac"
    assert any(p.startswith("lonely.csv: no audio") for p in problems)
    assert any(p.startswith("voice_only.wav: no Live Link Face CSV") for p in problems)


def test_captures_become_a_dataset_the_trainer_reads(built, captures):
    report, out = built
    assert report.used == ["take01", "take02"]
    assert any(s.startswith("empty.csv + empty.wav") for s in report.skipped)
    assert any("wrong.csv" in s and "at most 0.5 s" in s for s in report.skipped)
    data = load_dataset(out)
    items = data.train + data.heldout
    assert len(data.train) == 1 and len(data.heldout) == 1
    demo = read_livelink_csv(captures / "take01.csv", fps=30.0)
    first = next(it for it in items if it.name.endswith("000001.npz"))
    assert len(first.motion) == min(demo.frames, round(10.636 * 30))        # the shorter of capture and sound
    np.testing.assert_allclose(first.motion, demo.data[: len(first.motion)], atol=1e-6)
    assert first.speech.shape == (len(first.motion), 48) and first.speech[:, :40].sum(1).min() == 1.0
    second = next(it for it in items if it.name.endswith("000002.npz"))
    assert len(second.motion) == 180                                       # 6 s of sound, 183 frames of CSV
    segments = report.index["items"][0]["segments"]
    assert segments and all(s["text"].startswith("A person feels") for s in segments)
    assert report.index["items"][0]["source"]["script"] == "take01.txt"


def test_fine_tuning_starts_from_the_shipped_model(built, tmp_path):
    _, data = built
    cfg = TrainConfig(data=str(data), out=str(tmp_path / "run"), steps=2, batch=2, window=60, warmup=1,
                      eval_every=2, ckpt_every=2, threads=1, init=str(DEFAULT_MODEL.parent),
                      model=load_motion_model(DEFAULT_MODEL).config)
    result = train(cfg, progress=False)
    shipped = read_meta(DEFAULT_MODEL)
    tuned = read_meta(result.model_path)
    assert tuned["normalisation"] == shipped["normalisation"]
    assert result.report["init"] == str(DEFAULT_MODEL.parent)
    assert result.step_losses[1] < 0.5                  # a trained start, not a random one (~1.0)
    with pytest.raises(ValueError, match="differs from the configured one"):
        train(TrainConfig(data=str(data), out=str(tmp_path / "bad"), steps=1, batch=2, window=60, threads=1,
                          init=str(DEFAULT_MODEL.parent), model=MotionConfig(width=32, blocks=2)), progress=False)


def test_command_lines(captures, tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_capture_dataset.py"), str(captures),
                          str(tmp_path / "mine")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "2 captures (1 held out)" in out.stdout and "skipped empty.csv" in out.stderr
    empty = tmp_path / "nothing"
    empty.mkdir()
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_capture_dataset.py"), str(empty),
                          str(tmp_path / "x")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "no Live Link Face CSV with its audio file" in out.stderr
