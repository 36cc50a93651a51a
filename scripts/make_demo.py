"""Build the bundled demo take: speech from espeak-ng and a procedural ARKit performance.

    python scripts/make_demo.py        # writes resources/demo/demo.wav and demo.csv

The animation is not the diffusion model's: it is a hand-written procedural animator
driven by the sound (loudness opens the jaw, spectral tilt rounds the lips, pauses press
them, onsets lift the brows, plus blinks, gaze shifts and head motion), so that the first
run has something to play before any model exists. Deterministic: same inputs, same files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.ndimage import gaussian_filter1d

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.arkit import INDEX  # noqa: E402
from core.audio import ANALYSIS_RATE, load_audio  # noqa: E402
from core.export.livelink import write_livelink_csv  # noqa: E402
from core.track import FaceTrack  # noqa: E402

TEXT = ("Hello! This is the demo voice of AVI-Talking Studio. "
        "Give me your own recording, and I will show you how it feels. Isn't that wonderful?")
FPS = 30.0


def speak(text: str, out: Path) -> None:
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise SystemExit("espeak-ng is not installed (apt-get install espeak-ng)")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run([espeak, "-v", "en-us+f3", "-s", "150", "-p", "55", "-w", str(raw), text], check=True)
        x, rate = sf.read(raw, dtype="float32")
        pad = np.zeros(int(0.4 * rate), np.float32)
        x = np.concatenate([pad, x, pad])
        sf.write(out, x / max(1e-6, np.abs(x).max()) * 0.8, rate, subtype="PCM_16")


def animate(samples: np.ndarray, seconds: float) -> FaceTrack:
    frames = int(np.ceil(seconds * FPS))
    hop = ANALYSIS_RATE / FPS
    win = int(2 * hop)
    rms = np.zeros(frames)
    tilt = np.zeros(frames)
    for i in range(frames):
        a = int(i * hop)
        chunk = samples[a:a + win]
        if len(chunk) < 32:
            continue
        rms[i] = np.sqrt(np.mean(chunk ** 2))
        spec = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk))))
        freqs = np.fft.rfftfreq(len(chunk), 1 / ANALYSIS_RATE)
        tilt[i] = (spec * freqs).sum() / max(spec.sum(), 1e-9)
    loud = np.clip(rms / (np.percentile(rms, 95) + 1e-9), 0, 1.2)
    voiced = gaussian_filter1d((loud > 0.08).astype(float), 1.0)
    rounded = np.clip(1 - (tilt - 500) / 2000, 0, 1) * voiced
    rng = np.random.default_rng(7)
    d = np.zeros((frames, 55), np.float32)

    def put(name: str, values) -> None:
        d[:, INDEX[name]] = np.clip(values, 0, 1)

    jaw = gaussian_filter1d(0.5 * loud ** 0.8, 0.8)
    put("jawOpen", jaw)
    put("mouthFunnel", gaussian_filter1d(0.45 * rounded * loud, 1.0))
    put("mouthPucker", gaussian_filter1d(0.35 * rounded * (1 - loud), 1.0))
    # Lips meet in the pauses, pressed briefly where speech stops.
    stops = np.clip(-np.gradient(gaussian_filter1d(voiced, 2.0)) * 6, 0, 1)
    for side in ("Left", "Right"):
        put(f"mouthPress{side}", gaussian_filter1d(0.5 * stops, 1.5))
        put(f"mouthSmile{side}", 0.32 + 0.12 * gaussian_filter1d(loud, 6))
        put(f"cheekSquint{side}", 0.18 + 0.1 * gaussian_filter1d(loud, 6))
        put(f"mouthLowerDown{side}", 0.25 * jaw)
        put(f"mouthUpperUp{side}", 0.12 * jaw)
    # Brows lift at strong onsets.
    onsets = np.clip(np.gradient(gaussian_filter1d(loud, 2.0)) * 8, 0, 1)
    brow = gaussian_filter1d(onsets, 4.0) * 1.6
    put("browInnerUp", 0.1 + brow)
    put("browOuterUpLeft", 0.8 * brow)
    put("browOuterUpRight", 0.8 * brow)
    # Blinks every 2-4 s, 0.2 s each; a glance aside now and then.
    t = 0.7
    blink = np.zeros(frames)
    while t < seconds:
        i = int(t * FPS)
        shape = np.array([0.35, 0.9, 1.0, 0.7, 0.3])
        blink[i:i + 5] = shape[: max(0, min(5, frames - i))]
        t += rng.uniform(2.0, 4.0)
    put("eyeBlinkLeft", blink)
    put("eyeBlinkRight", blink)
    gaze = gaussian_filter1d(np.repeat(rng.uniform(-1, 1, frames // 45 + 1), 45)[:frames], 2.0)
    put("eyeLookOutLeft", 0.35 * np.clip(gaze, 0, 1))
    put("eyeLookInRight", 0.35 * np.clip(gaze, 0, 1))
    put("eyeLookInLeft", 0.35 * np.clip(-gaze, 0, 1))
    put("eyeLookOutRight", 0.35 * np.clip(-gaze, 0, 1))
    # Head: nods with emphasis, slow sway, a slight tilt.
    time = np.arange(frames) / FPS
    d[:, 52] = 0.06 * gaussian_filter1d(onsets, 3.0) - 0.03 + 0.02 * np.sin(time * 0.9)
    d[:, 53] = 0.08 * np.sin(time * 0.45 + 0.5) + 0.02 * gaussian_filter1d(rng.normal(size=frames), 8)
    d[:, 54] = 0.04 * np.sin(time * 0.3)
    return FaceTrack(FPS, d)


def main() -> None:
    out = ROOT / "resources" / "demo"
    out.mkdir(parents=True, exist_ok=True)
    speak(TEXT, out / "demo.wav")
    audio = load_audio(out / "demo.wav")
    write_livelink_csv(out / "demo.csv", animate(audio.mono16k, audio.duration), rate=60)
    print(f"wrote {out / 'demo.wav'} ({audio.duration:.1f} s) and {out / 'demo.csv'}")


if __name__ == "__main__":
    main()
