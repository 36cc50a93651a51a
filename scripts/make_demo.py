"""Build the bundled demo project resources/demo/demo.avtp: speech, instructions, generated motion.

    .venv/bin/python scripts/make_demo.py            # rebuild it (after retraining the motion model, too)
    .venv/bin/python scripts/make_demo.py --writer rules -o /tmp/demo.avtp

What it does, every step the product's own:
1. speech: six lines written for the demo, one emotion each, spoken by eSpeak NG (voice
   en-us+f3) with that emotion's prosody (core.synth.dataset.PROSODY, the same pitch, range,
   rate and loudness offsets the training speech uses) and 0.7 s pauses between them, saved
   as 16-bit FLAC at eSpeak's 22.05 kHz;
2. stage 1: the listener aligns the script to the speech and cuts it into segments; the
   default writer writes each segment's instruction. Where the writer hears
   another emotion than the line was written with, the line's own instruction replaces it
   (core.instruct.wording.compose, the product's wording; the inspector shows it as the
   user's), so the demo shows every mood the speech was meant to have;
3. stage 2: the shipped motion model (core.motion.checkpoint.load_default_model) animates the
   whole take, seed 0, 8 steps, guidance 2.0;
4. the project is saved with fixed zip timestamps, so a rebuild from the same model and
   writer gives the same file byte for byte.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.audio import load_audio  # noqa: E402
from core.instruct import DEFAULT_WRITER, compose, make_writer  # noqa: E402
from core.motion.checkpoint import load_default_model  # noqa: E402
from core.pipeline import animate, listen_and_instruct, make_project, user_instruction  # noqa: E402
from core.project import MAIN_TRACK, save_project  # noqa: E402
from core.synth.dataset import PROSODY  # noqa: E402
from core.espeak import Espeak  # noqa: E402

OUTPUT = ROOT / "resources" / "demo" / "demo.avtp"

# (emotion, intensity, line): what is said, and how it was meant.
LINES: tuple[tuple[str, float, str], ...] = (
    ("neutral", 0.3, "Hello, I am the demo voice of AVI-Talking Studio."),
    ("happy", 0.7, "Oh, I just love how my face moves when I talk!"),
    ("sad", 0.7, "But some days are long and grey, and nobody calls."),
    ("angry", 0.7, "And I will not read that terrible script again!"),
    ("surprised", 0.7, "Wait, you can change my mood with one sentence?"),
    ("fearful", 0.5, "Careful, something is moving right behind you."),
)
TEXT = " ".join(line for _, _, line in LINES)

VOICE = "en-us+f3"
RATE, PITCH, RANGE, VOLUME = 160, 50, 55, 100     # the speaker's own voice (eSpeak's scales)
LEAD, PAUSE, TAIL = 0.4, 0.7, 0.5                 # seconds of silence
SEED = 0


def speak() -> tuple[np.ndarray, int, list[tuple[float, float]]]:
    """The take's samples (float32 mono), their rate and each line's (start, end) in seconds."""
    speaker = Espeak()
    rate = speaker.sample_rate
    pieces, spans, t = [np.zeros(round(LEAD * rate), np.float32)], [], LEAD
    for k, (emotion, intensity, line) in enumerate(LINES):
        dp, dr, fr, dv = PROSODY[emotion]
        u = speaker.say(line, voice=VOICE, rate=round(RATE * (1 + intensity * (fr - 1))),
                        pitch=round(PITCH + intensity * dp), pitch_range=round(RANGE + intensity * dr),
                        volume=round(VOLUME + intensity * dv))
        sounding = np.flatnonzero(np.abs(u.samples) > 0.01)     # trim eSpeak's own silence
        x = u.samples[sounding[0]: sounding[-1] + 1]
        pieces.append(x)
        spans.append((t, t + len(x) / rate))
        t += len(x) / rate
        pause = PAUSE if k + 1 < len(LINES) else TAIL
        pieces.append(np.zeros(round(pause * rate), np.float32))
        t += pause
    samples = np.concatenate(pieces)
    return (0.9 * samples / np.abs(samples).max()).astype(np.float32), rate, spans


def line_of(start: float, end: float, spans: list[tuple[float, float]]) -> int:
    """The line a segment [start, end) overlaps most."""
    overlaps = [min(end, b) - max(start, a) for a, b in spans]
    return int(np.argmax(overlaps))


def fixed_timestamps(path: Path) -> None:
    """Rewrite the zip with every member dated 1980-01-01, compression kept."""
    with zipfile.ZipFile(path) as z:
        members = [(info, z.read(info)) for info in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info, data in members:
            z.writestr(zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0)), data, compress_type=info.compress_type)
    path.write_bytes(buf.getvalue())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", default=str(OUTPUT), help=f"project to write (default {OUTPUT})")
    parser.add_argument("--writer", default=DEFAULT_WRITER, help=f"instruction writer: {DEFAULT_WRITER} (default), smollm2 or rules")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    samples, rate, spans = speak()
    with tempfile.TemporaryDirectory() as tmp:
        flac = Path(tmp) / "demo.flac"
        sf.write(flac, samples, rate, format="FLAC", subtype="PCM_16")
        audio = load_audio(flac)

    bundle = load_default_model()
    writer = make_writer(args.writer)
    result = listen_and_instruct(audio, script=TEXT, writer=writer)
    for warning in result.warnings:
        print(f"warning: {warning}")
    project = make_project(audio, result, bundle.fps)
    project.settings.extra["stage1"] = {"writer": result.writer, "min_segment": 1.5, "max_segment": 8.0,
                                       "script": True}
    for seg in project.segments:
        emotion, intensity, _ = LINES[line_of(seg.start, seg.end, spans)]
        if seg.instruction.emotion == emotion:
            print(f"[{seg.start:5.2f} - {seg.end:5.2f}] writer: {seg.instruction.text}")
        else:
            print(f"[{seg.start:5.2f} - {seg.end:5.2f}] writer heard {seg.instruction.emotion}; the line's own: "
                  f"{compose(emotion, intensity)}")
            seg.instruction = user_instruction(compose(emotion, intensity))
    project.tracks[MAIN_TRACK] = animate(project, bundle, seed=SEED)

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_project(project, out)
    fixed_timestamps(out)
    print(f"wrote {out}: {audio.duration:.1f} s of speech, {len(project.segments)} segments, "
          f"{project.main_track.frames} frames, {out.stat().st_size / 1e6:.2f} MB "
          f"in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
