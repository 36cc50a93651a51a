"""Listening benchmark (core.listen) on this machine, printed as a table.

    .venv/bin/python benchmarks/bench_listen.py [--asterisk N|all] [--long MINUTES] [--skip-bad]

1. 60 s of real speech (the pyannote sample, tests/data/listen/sample.wav, twice): time per
   stage (VAD, ASR, alignment, prosody, segmentation), cold (imports and model loading included,
   as a fresh `avitalk listen` pays them) and warm (models already loaded).
2. Word error rate of the transcript on that sample against its STM transcript (jiwer, lower
   case, punctuation removed).
3. Debian's asterisk-core-sounds-en-wav prompts (8 kHz telephone speech, one speaker): the
   listener over N of them (default 80, evenly spread; `all` for every one), failures counted.
4. Optional long take (the 60 s repeated to MINUTES): time and peak memory.
5. Bad input: silence, white noise, a single tone, a German sentence (espeak-ng).
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data" / "listen"
ASTERISK = Path("/usr/share/asterisk/sounds/en_US_f_Allison")

T0 = time.perf_counter()
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402

from core.audio import decode_audio, load_audio  # noqa: E402
from core.listen import listen, models, segment  # noqa: E402

IMPORT_S = time.perf_counter() - T0


def row(stage: str, figure: str, note: str = "") -> None:
    print(f"  {stage:<38} {figure:<24} {note}", flush=True)


def wav_audio(x: np.ndarray, rate: int, name: str = "take.wav"):
    buf = io.BytesIO()
    sf.write(buf, np.asarray(x, np.float32), rate, format="WAV", subtype="PCM_16")
    return decode_audio(buf.getvalue(), name)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_rows(a, seg_s: float, duration: float, label: str) -> None:
    for k in ("vad", "asr", "alignment", "prosody"):
        row(f"{label} {k}", f"{a.timings[k]:.2f} s", f"RTF {a.timings[k] / duration:.3f}")
    row(f"{label} segmentation", f"{seg_s:.3f} s")


def sixty_seconds():
    sample = load_audio(DATA / "sample.wav")
    x = np.concatenate([sample.samples[:, 0]] * 2)
    return sample, wav_audio(x, sample.sample_rate, "sample_x2.wav")


def bench_sixty() -> None:
    print("60 s of real speech (pyannote sample twice; 16 kHz telephone, two speakers)")
    sample, audio = sixty_seconds()
    dur = audio.duration
    row("import core.listen (+numpy, soundfile)", f"{IMPORT_S:.2f} s")
    loads = {}
    for name, fn in (("load Silero VAD", models.vad), ("load Whisper tiny.en", models.whisper),
                     ("load PocketSphinx aligner", models.aligner), ("load pyworld", models.pyworld)):
        t = time.perf_counter()
        fn()
        loads[name] = time.perf_counter() - t
        row(name, f"{loads[name]:.2f} s")
    t = time.perf_counter()
    a = listen(audio)
    listen_s = time.perf_counter() - t
    t = time.perf_counter()
    segs = segment(a)
    seg_s = time.perf_counter() - t
    stage_rows(a, seg_s, dur, "first run:")
    cold = IMPORT_S + sum(loads.values()) + listen_s + seg_s
    row("COLD total (imports+loads+listen+segment)", f"{cold:.2f} s", f"RTF {cold / dur:.3f}  (budget 10 s)")
    t = time.perf_counter()
    a = listen(audio)
    t2 = time.perf_counter()
    segs = segment(a)
    warm = time.perf_counter() - t
    stage_rows(a, time.perf_counter() - t2, dur, "warm:")
    row("WARM total (listen+segment)", f"{warm:.2f} s", f"RTF {warm / dur:.3f}")
    row("words / phones / segments", f"{len(a.words)} / {len(a.phones)} / {len(segs)}",
        f"phones from {a.phone_source}; warnings: {len(a.warnings)}")
    row("peak memory so far", f"{peak_rss_mb():.0f} MB")


def bench_wer() -> None:
    import jiwer
    print("Word error rate on real human speech (pyannote sample.wav vs sample.stm)")
    audio = load_audio(DATA / "sample.wav")
    lines = [line.split(None, 5) for line in (DATA / "sample.stm").read_text().splitlines()]
    ref = " ".join(p[5] for p in lines if len(p) == 6)
    a = listen(audio)
    norm = jiwer.Compose([jiwer.ToLowerCase(), jiwer.RemovePunctuation(), jiwer.RemoveMultipleSpaces(),
                          jiwer.Strip(), jiwer.ReduceToListOfListOfWords()])
    out = jiwer.process_words(ref, a.text, reference_transform=norm, hypothesis_transform=norm)
    row("WER (tiny.en, greedy, VAD-packed)", f"{out.wer:.3f}",
        f"{out.substitutions} sub, {out.deletions} del, {out.insertions} ins of {len(norm(ref)[0])} words")
    print(f"    ref: {' '.join(norm(ref)[0])}")
    print(f"    hyp: {' '.join(norm(a.text)[0])}")


def bench_asterisk(count: str) -> None:
    files = sorted(ASTERISK.rglob("*.wav")) if ASTERISK.exists() else []
    print(f"Debian asterisk-core-sounds-en-wav ({len(files)} prompts found, 8 kHz)")
    if not files:
        row("asterisk prompts", "skipped", "apt-get install asterisk-core-sounds-en-wav")
        return
    if count != "all":
        n = min(int(count), len(files))
        if n <= 0:
            row("asterisk prompts", "skipped", "--asterisk 0")
            return
        files = [files[int(i)] for i in np.linspace(0, len(files) - 1, n)]
    failures, total_audio, no_words, warned, segs_n = [], 0.0, 0, 0, 0
    t = time.perf_counter()
    for f in files:
        try:
            audio = load_audio(f)
            a = listen(audio)
            segs = segment(a)
            assert segs and segs[0].start == 0 and abs(segs[-1].end - a.duration) < 1e-6
            total_audio += audio.duration
            no_words += not a.words
            warned += bool(a.warnings)
            segs_n += len(segs)
        except Exception as exc:            # noqa: BLE001 - counted and reported
            failures.append(f"{f.name}: {type(exc).__name__}: {exc}")
    spent = time.perf_counter() - t
    row("prompts run", f"{len(files)}", f"{total_audio:.0f} s of audio, {segs_n} segments")
    row("failures (exceptions)", f"{len(failures)}")
    for line in failures[:10]:
        print("    " + line)
    row("prompts without words / with warnings", f"{no_words} / {warned}")
    row("time", f"{spent:.1f} s", f"RTF {spent / max(total_audio, 1e-9):.3f}, {spent / len(files):.2f} s per prompt")


def bench_long(minutes: float) -> None:
    print(f"Long take: {minutes:g} minutes (the 60 s take repeated)")
    _, audio = sixty_seconds()
    x = audio.samples[:, 0]
    reps = int(np.ceil(minutes * 60 / audio.duration))
    long = wav_audio(np.tile(x, reps)[: int(minutes * 60 * audio.sample_rate)], audio.sample_rate, "long.wav")
    t = time.perf_counter()
    a = listen(long)
    t2 = time.perf_counter()
    segs = segment(a)
    spent = time.perf_counter() - t
    stage_rows(a, time.perf_counter() - t2, long.duration, f"{minutes:g} min:")
    row(f"{minutes:g} min total", f"{spent:.1f} s", f"RTF {spent / long.duration:.3f}; {len(a.words)} words, {len(segs)} segments")
    row("peak memory", f"{peak_rss_mb():.0f} MB")


def bench_bad() -> None:
    print("Bad input (no exception expected; one neutral segment or a warning)")
    rng = np.random.default_rng(0)
    t = np.arange(16000 * 10) / 16000
    cases = {
        "silence 10 s": wav_audio(np.zeros(160000, np.float32), 16000),
        "white noise 10 s": wav_audio(0.3 * rng.standard_normal(160000), 16000),
        "tone chord 10 s": wav_audio(0.2 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 277 * t), 16000),
    }
    if shutil.which("espeak-ng"):
        with tempfile.TemporaryDirectory() as d:
            for name, voice, text in (("one word (espeak)", "en-us", "Hello."),
                                      ("German (espeak)", "de", "Guten Tag, meine Damen und Herren. Heute sprechen wir über das Wetter.")):
                p = Path(d) / "x.wav"
                subprocess.run(["espeak-ng", "-v", voice, "-w", str(p), text], check=True, capture_output=True)
                cases[name] = load_audio(p)
    for name, audio in cases.items():
        t0 = time.perf_counter()
        try:
            a = listen(audio)
            segs = segment(a)
            note = f"{len(segs)} segment(s) [{', '.join(s.evidence['kind'] for s in segs)}]; " \
                   f"{len(a.words)} words; warning: {a.warnings[0][:60] if a.warnings else '-'}"
            row(name, f"{time.perf_counter() - t0:.2f} s", note)
        except Exception as exc:            # noqa: BLE001
            row(name, "FAILED", f"{type(exc).__name__}: {exc}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--asterisk", default="80", help="number of asterisk prompts, or 'all'")
    ap.add_argument("--long", type=float, default=0.0, help="also run a take of this many minutes")
    ap.add_argument("--skip-bad", action="store_true")
    args = ap.parse_args()
    print(f"core.listen benchmark on {os.cpu_count()} CPU cores\n")
    bench_sixty()
    print()
    bench_wer()
    print()
    bench_asterisk(args.asterisk)
    if not args.skip_bad:
        print()
        bench_bad()
    if args.long > 0:
        print()
        bench_long(args.long)


if __name__ == "__main__":
    main()
