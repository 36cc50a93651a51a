"""Fine-tuning on one's own captures: Live Link Face CSV + audio pairs become a dataset the
trainer reads (core.synth.captures), and training can start from a checkpoint (TrainConfig.init).

Real parts throughout: the real Live Link Face take in tests/data, real telephone speech cut
from tests/data/listen/sample.wav, the demo project's motion and sound, stage 1 with the rules
writer, MiniLM, and a tiny randomly initialised motion checkpoint written by core.motion.checkpoint."""

import importlib
import json
import re
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from core.demo import demo_take
from core.export.livelink import read_livelink_csv, write_livelink_csv
from core.motion.checkpoint import Normalisation, load_state, read_meta, save_motion_checkpoint
from core.motion.model import Denoiser, MotionConfig
from core.motion.text import EMBEDDING_SIZE, embed
from core.synth.captures import CaptureSkipped, build_capture_dataset, find_pairs
from core.synth.train import TrainConfig, fit_normalisation, load_dataset, train

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_CSV = ROOT / "tests" / "data" / "livelink_sample.csv"
SPEECH = ROOT / "tests" / "data" / "listen" / "sample.wav"
sys.path.insert(0, str(ROOT / "scripts"))
capture_cli = importlib.import_module("build_capture_dataset")
train_cli = importlib.import_module("train_motion")
from make_demo import TEXT as DEMO_TEXT  # noqa: E402

TINY = MotionConfig(width=32, blocks=2, dilations=(1, 2))


def speech_cut(path: Path, start: float, seconds: float) -> Path:
    """Real speech (Diane and Sheila on the telephone) from `start`, `seconds` long."""
    x, rate = sf.read(SPEECH, dtype="float32")
    a = round(start * rate)
    sf.write(path, x[a: a + round(seconds * rate)], rate)
    return path


@pytest.fixture(scope="module")
def sample_seconds():
    track = read_livelink_csv(SAMPLE_CSV, fps=30.0)
    # The real take: 8 rows at the app's 60 fps timecode (00:32:09:56.897 .. 00:32:10:03.901).
    assert len(SAMPLE_CSV.read_text().splitlines()) == 9
    assert track.frames == 4 and track.duration == pytest.approx(8 / 60, abs=1e-3)
    return track.duration


@pytest.fixture(scope="module")
def captures(tmp_path_factory, sample_seconds):
    """The real take with speech of its length, the demo project's take (its motion as a Live Link
    CSV, its sound as .WAV, with its script), and the usual mess: a CSV without sound, sound
    without a CSV, an empty audio file, and a pairing 0.87 s off."""
    d = tmp_path_factory.mktemp("captures")
    shutil.copy(SAMPLE_CSV, d / "sample.csv")
    speech_cut(d / "sample.wav", 12.6, sample_seconds)                 # "This is Diane ..."
    track, audio = demo_take()
    write_livelink_csv(d / "demo.csv", track, rate=60)
    sf.write(d / "demo.WAV", audio.samples, audio.sample_rate)
    (d / "demo.txt").write_text(DEMO_TEXT)
    shutil.copy(SAMPLE_CSV, d / "lonely.csv")
    speech_cut(d / "voice_only.flac", 14.5, 1.0)
    shutil.copy(SAMPLE_CSV, d / "empty.csv")
    (d / "empty.wav").write_bytes(b"")
    shutil.copy(SAMPLE_CSV, d / "wrong.csv")
    speech_cut(d / "wrong.wav", 20.2, 1.0)
    return d


@pytest.fixture(scope="module")
def built(captures, tmp_path_factory):
    out = tmp_path_factory.mktemp("mine")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        index = build_capture_dataset(captures, out, writer="rules")
    return index, out, [str(w.message) for w in caught if issubclass(w.category, CaptureSkipped)]


def test_pairs_are_found_by_name(captures):
    pairs, problems = find_pairs(captures)
    assert [p.name for p in pairs] == ["demo", "empty", "sample", "wrong"]
    assert pairs[0].audio.name == "demo.WAV" and pairs[0].script.name == "demo.txt"
    assert pairs[2].script is None
    assert problems == ["lonely.csv: no audio file named lonely.wav (or .flac, .ogg, .mp3, .aiff) beside it",
                        "voice_only.flac: no Live Link Face CSV named voice_only.csv beside it"]


def test_captures_become_a_dataset_the_trainer_reads(built, captures):
    index, out, warned = built
    on_disk = json.loads((out / "index.json").read_text())
    assert on_disk == json.loads(json.dumps(index))
    assert index["version"] == 1 and index["fps"] == 30.0 and index["features"] == 48
    assert index["build"]["used"] == ["demo", "sample"]
    skipped = index["build"]["skipped"]
    assert len(skipped) == 4 and len(warned) == 4
    assert any(s.startswith("lonely.csv: no audio") for s in skipped)
    assert any(s.startswith("voice_only.flac: no Live Link Face CSV") for s in skipped)
    assert "empty.csv + empty.wav: empty.wav: the file is empty (0 bytes)" in skipped
    wrong = next(s for s in skipped if s.startswith("wrong.csv + wrong.wav"))
    assert "wrong.csv lasts 0.13 s but wrong.wav 1.00 s" in wrong and "at most 0.5 s" in wrong
    assert all(any(s in w for w in warned) for s in skipped)
    assert sorted(p.name for p in (out / "items").iterdir()) == ["000001.json", "000001.npz", "000002.json",
                                                                "000002.npz"]

    data = load_dataset(out)
    assert data.fps == 30.0 and len(data.train) == 1 and len(data.heldout) == 1
    demo, sample = data.train[0], data.heldout[0]
    assert demo.name == "items/000001.npz" and sample.name == "items/000002.npz"

    # The real take: its four frames exactly as the CSV holds them, beside the speech features.
    take = read_livelink_csv(SAMPLE_CSV, fps=30.0)
    assert sample.motion.shape == (4, 55) and sample.speech.shape == (4, 48)
    np.testing.assert_array_equal(sample.motion, take.data.astype(np.float32))
    # The demo: capture and sound differ by a frame or so; the shorter wins.
    entry = index["items"][0]
    src = entry["source"]
    assert src == {"csv": "demo.csv", "audio": "demo.WAV", "script": "demo.txt",
                   "csv_frames": src["csv_frames"], "audio_frames": src["audio_frames"]}
    assert abs(src["csv_frames"] - src["audio_frames"]) <= 2
    assert entry["frames"] == len(demo.motion) == min(src["csv_frames"], src["audio_frames"])
    demo_take = read_livelink_csv(captures / "demo.csv", fps=30.0)
    np.testing.assert_array_equal(demo.motion, demo_take.data[: len(demo.motion)].astype(np.float32))
    assert demo.speech.shape == (len(demo.motion), 48)
    assert np.all(demo.speech[:, :40].sum(1) == 1.0)                 # one phone per frame
    assert demo.speech[:, 40 + 5].mean() > 0.3                      # the listener heard speech

    # Segments: bounds tile the take, each with the rules writer's instruction and its embedding.
    with np.load(out / "items" / "000001.npz") as z:
        bounds, emb = z["seg_bounds"], z["seg_embeddings"]
    segments = entry["segments"]
    assert bounds.dtype == np.int32 and emb.shape == (len(segments), EMBEDDING_SIZE)
    assert bounds[0, 0] == 0 and bounds[-1, 1] == entry["frames"] and np.all(bounds[1:, 0] == bounds[:-1, 1])
    assert [[s["start"], s["end"]] for s in segments] == bounds.tolist()
    assert all(s["writer"] == "rules" and s["text"].startswith("A person feels") for s in segments)
    np.testing.assert_allclose(emb, embed([s["text"] for s in segments]), atol=1e-5)
    assert index["items"][1]["split"] == "heldout" and entry["split"] == "train"


def test_one_instruction_for_all_and_the_command_line(captures, tmp_path, capsys):
    one = tmp_path / "one"
    one.mkdir()
    for name in ("sample.csv", "sample.wav"):
        shutil.copy(captures / name, one / name)
    text = "A person feels very happy and speaks with corners of the mouth raised."
    assert capture_cli.main([str(one), str(tmp_path / "out"), "--instruction", text]) == 0
    printed = capsys.readouterr()
    assert "1 captures (0 held out), 4 frames" in printed.out and "0 skipped" in printed.out
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    (item,) = index["items"]
    assert item["split"] == "train" and [s["text"] for s in item["segments"]] == [text]
    assert item["segments"][0]["emotion"] == "happy" and item["segments"][0]["writer"] == "user"
    with np.load(tmp_path / "out" / item["file"]) as z:
        np.testing.assert_allclose(z["seg_embeddings"], embed([text]), atol=1e-5)

    empty = tmp_path / "nothing"
    empty.mkdir()
    shutil.copy(SAMPLE_CSV, empty / "lonely.csv")
    assert capture_cli.main([str(empty), str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert f"{empty}: no Live Link Face CSV with its audio file" in err and "lonely.csv: no audio" in err
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(SAMPLE_CSV, bad / "empty.csv")
    (bad / "empty.wav").write_bytes(b"")
    with pytest.warns(CaptureSkipped, match="empty.wav"), \
            pytest.raises(ValueError, match=re.escape(f"{bad}: none of the 1 captures could be used: empty.csv")):
        build_capture_dataset(bad, tmp_path / "y")
    assert not (tmp_path / "y").exists()
    synthetic = tmp_path / "synthetic"
    synthetic.mkdir()
    (synthetic / "index.json").write_text(json.dumps({"version": 1, "config": {"count": 10, "seed": 0}}))
    with pytest.raises(ValueError, match="holds another dataset"):
        build_capture_dataset(one, synthetic)


# --- fine-tuning ------------------------------------------------------------------------------

INIT_NORM = {"mean": [0.2] * 52 + [0.0] * 3, "std": [0.15] * 52 + [0.05] * 3}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A randomly initialised tiny checkpoint (another seed than the trainer's), in a folder."""
    torch.manual_seed(123)
    model = Denoiser(TINY)
    meta = {"model": TINY.to_json(), "fps": 30.0, "null_instruction": [0.0] * EMBEDDING_SIZE, "normalisation": INIT_NORM}
    folder = tmp_path_factory.mktemp("tiny")
    save_motion_checkpoint(folder / "model.safetensors", {"ema": model.state_dict()}, meta)
    return folder


def finetune(data, out, init, **kw) -> TrainConfig:
    base = dict(data=str(data), out=str(out), steps=3, batch=2, window=30, lr=1e-7, min_lr=1e-8, warmup=1,
                log_every=1, eval_every=3, ckpt_every=3, threads=1, final_dtype="float32", init=str(init), model=TINY)
    return TrainConfig(**{**base, **kw})


def max_diff(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a if a[k].is_floating_point())


def test_fine_tuning_starts_from_the_checkpoint(built, tiny, tmp_path):
    _, data, _ = built
    result = train(finetune(data, tmp_path / "run", tiny), progress=False)
    assert result.step == 3 and sorted(result.step_losses) == [1, 2, 3]
    start = load_state(tiny / "model.safetensors", "ema")
    tuned = load_state(result.model_path, "ema")
    raw = load_state(result.checkpoint, "raw")
    torch.manual_seed(0)                                     # what training from scratch would start from
    scratch = Denoiser(TINY).state_dict()
    assert max_diff(start, scratch) > 0.05
    assert max_diff(tuned, start) < 1e-5                     # three steps at lr 1e-7 from the init weights
    assert 0 < max_diff(raw, start) < 1e-5                   # ... which did move them
    meta = read_meta(result.model_path)
    init_norm = Normalisation.from_json(INIT_NORM)
    assert meta["normalisation"] == init_norm.to_json()      # kept, not fitted to the captures
    fitted = fit_normalisation(load_dataset(data).train, 0.02)
    assert not np.allclose(fitted.mean, init_norm.mean)
    assert meta["model"] == TINY.to_json() and meta["train"]["init"] == str(tiny)
    assert result.report["init"] == str(tiny)
    assert f"fine-tuned from `{tiny}`" in (tmp_path / "run" / "report.md").read_text()

    with pytest.raises(ValueError, match="width 32 in the checkpoint, 48 configured"):
        train(finetune(data, tmp_path / "bad", tiny, model=MotionConfig(width=48, blocks=2, dilations=(1, 2))),
              progress=False)


def test_resume_wins_over_init_and_the_command_line_takes_its_model(built, tiny, tmp_path):
    _, data, _ = built
    init = tmp_path / "init"
    shutil.copytree(tiny, init)
    cfg = finetune(data, tmp_path / "run", init)
    first = train(cfg, stop_after=2, progress=False)
    assert first.step == 2 and first.model_path is None
    shutil.rmtree(init)                                      # resuming must not need it any more
    second = train(cfg, resume=True, progress=False)
    assert second.step == 3 and sorted(second.step_losses) == [3]
    assert read_meta(second.model_path)["normalisation"] == Normalisation.from_json(INIT_NORM).to_json()

    flags = ["--data", str(data), "--steps", "1", "--batch", "2", "--window", "30", "--lr", "1e-7", "--min-lr",
             "1e-8", "--warmup", "1", "--threads", "1", "--no-progress", "--init", str(tiny)]
    assert train_cli.main(flags + ["--out", str(tmp_path / "cli")]) == 0       # no --model-*: the checkpoint's
    assert read_meta(tmp_path / "cli" / "model.safetensors")["model"] == TINY.to_json()
    with pytest.raises(ValueError, match="width 32 in the checkpoint, 64 configured"):
        train_cli.main(flags + ["--out", str(tmp_path / "cli2"), "--model-width", "64", "--model-blocks", "2",
                                "--model-dilations", "1,2"])
