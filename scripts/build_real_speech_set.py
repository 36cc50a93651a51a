"""Build the real-speech development set for stage 1 from packages (recorded human speech only).

    .venv/bin/python scripts/build_real_speech_set.py [--out data/real_speech] [--cache ~/.cache/avi-talking-studio/packages]

Sources (each fetched with `apt-get download` and unpacked, never installed):
- calm: Debian's asterisk-core-sounds-en-wav (one professional speaker, telephone prompts,
  CC-BY-SA-3.0), warzone2100-data's tutorial narration (GPL-2+), and the pyannote-audio sample
  (a friendly two-person phone call; already in tests/data/listen);
- acted: hedgewars-data's English voice packs (ten characters, GFDL-1.3): threats, cheers,
  alarm, grief and calm acknowledgements, each line played by the game in a known situation;
  and, held out whole as a second game never tuned on, nexuiz-data's player voices (eight
  characters' team calls and taunts, GPL-2+) and warzone2100-data's taunts (three voices).

The labels are tests/data/instruct/real_set.csv: one row per recorded line (source, file, line
type, emotion, family, rough intensity, what Whisper hears in it, split); they were set by hand
from what each line says and the situation the game plays it in (hedgewars line types that mix
families, effort grunts and pain sounds are left out; a line whose words say another family than
its type, such as a cheerful "See ya!" among farewells, is kept in its take but marked "unclear"
and not scored). The takes are built the way a user brings
them: the lines of one character and one family (acted) or of one source (calm) joined with
0.6 s pauses into takes of 3-60 s, written as WAV with a manifest.json listing each take's lines
and their times; one "mixed" take per character runs through calm, threats, cheers and grief, so
that changes of emotion are measured too. Split: the held-out part (hedgewars characters Pirate, Robot, Russian, Singer and
Surfer, every second of the twelve groups of asterisk prompts (the spoken sentences; digits, letters and
the phonetic alphabet are left out), the second half of the warzone tutorial, the
pyannote sample) is never used for tuning.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.instruct.models import cache_root  # noqa: E402
LABELS = ROOT / "tests" / "data" / "instruct" / "real_set.csv"
PAUSE = 0.6
UNCLEAR = "unclear"      # a line whose words say something else than its type: in its take, not scored
RATE = 16000

PACKAGES = {
    "asterisk": ("asterisk-core-sounds-en-wav", "usr/share/asterisk/sounds/en_US_f_Allison"),
    "warzone": ("warzone2100-data", "usr/share/games/warzone2100/base.wz"),
    "hedgewars": ("hedgewars-data", "usr/share/games/hedgewars/Data/Sounds/voices"),
    "warzone-taunts": ("warzone2100-data", "usr/share/games/warzone2100/base.wz"),
    "nexuiz": ("nexuiz-data", "usr/share/games/nexuiz/data/data.pk3"),
}
# The folder of each zipped source's speech: (zip member prefix, folder it is unpacked to).
ZIPPED = {"warzone": ("audio/tutorial/", "tutorial"), "warzone-taunts": ("audio/taunts/", "taunts"),
          "nexuiz": ("sound/player/", "player")}
PYANNOTE = ROOT / "tests" / "data" / "listen" / "sample.wav"


def unpack_deb(package: str, cache: Path, inside: str = "") -> Path:
    """The unpacked tree of a Debian package in `cache` (downloaded once, never installed)."""
    root = cache / package
    if not (root / inside).exists() if inside else not root.exists():
        cache.mkdir(parents=True, exist_ok=True)
        cmd = ["apt-get", "download", package]
        if not list(cache.glob(f"{package}_*.deb")) and subprocess.run(cmd, cwd=cache, capture_output=True).returncode:
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(cmd, cwd=cache, check=True)
        deb = sorted(cache.glob(f"{package}_*.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
        deb.unlink()
    return root


def unpacked(source: str, cache: Path) -> Path:
    """The unpacked data folder of a source's Debian package (downloaded once)."""
    package, inside = PACKAGES[source]
    root = unpack_deb(package, cache, inside)
    if source in ZIPPED:                    # the game data is a zip: take the speech out
        import zipfile
        prefix, name = ZIPPED[source]
        folder = root / name
        if not folder.is_dir():
            with zipfile.ZipFile(root / inside) as z:
                for member in z.namelist():
                    if member.startswith(prefix) and member.endswith(".ogg"):
                        target = folder / member[len(prefix):]
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(z.read(member))
        return folder
    return root / inside


def read_line(path: Path) -> np.ndarray:
    import soundfile as sf
    from scipy.signal import resample_poly
    x, sr = sf.read(str(path), always_2d=True, dtype="float32")
    x = x.mean(axis=1)
    if sr != RATE:
        g = np.gcd(int(sr), RATE)
        x = resample_poly(x, RATE // g, int(sr) // g).astype(np.float32)
    return x


def load_labels() -> list[dict]:
    with LABELS.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def take_groups(rows: list[dict]) -> dict[str, list[dict]]:
    """Take id -> its lines, in a fixed order."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["take"]].append(r)
    return dict(sorted(groups.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "data" / "real_speech"))
    ap.add_argument("--cache", default=str(cache_root() / "packages"))
    args = ap.parse_args()
    import soundfile as sf
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = Path(args.cache)
    folders = {s: unpacked(s, cache) for s in PACKAGES}
    manifest = []
    for take, lines in take_groups(load_labels()).items():
        pieces, spans, t = [], [], 0.0
        for r in lines:
            src = PYANNOTE if r["source"] == "pyannote" else folders[r["source"]] / r["file"]
            x = read_line(src)
            pieces += [x, np.zeros(int(PAUSE * RATE), np.float32)]
            spans.append({"file": r["file"], "start": round(t, 3), "end": round(t + len(x) / RATE, 3),
                          "emotion": r["emotion"], "family": r["family"], "intensity": float(r["intensity"])})
            t += len(x) / RATE + PAUSE
        audio = np.concatenate(pieces[:-1])
        path = out / f"{take}.wav"
        sf.write(str(path), audio, RATE, subtype="PCM_16")
        first = lines[0]
        families = {r["family"] for r in lines} - {UNCLEAR}
        manifest.append({"take": take, "audio": path.name, "source": first["source"], "kind": first["kind"],
                         "family": families.pop() if len(families) == 1 else "mixed",
                         "split": first["split"], "duration": round(len(audio) / RATE, 3), "lines": spans})
    (out / "manifest.json").write_text(json.dumps({"takes": manifest}, indent=1), encoding="utf-8")
    calm = sum(m["duration"] for m in manifest if m["kind"] == "calm")
    acted = sum(m["duration"] for m in manifest if m["kind"] == "acted")
    print(f"{len(manifest)} takes in {out}: calm {calm / 60:.1f} min, acted {acted / 60:.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())
