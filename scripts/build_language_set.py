"""Build the multilingual real-speech set from Debian packages (recorded human speech only).

    .venv/bin/python scripts/build_language_set.py [--out data/languages] [--cache ~/.cache/avi-talking-studio/packages]

Sources: Asterisk's core sound prompts (CC-BY-SA-3.0), each language recorded by one professional
speaker at 8 kHz, with the text of every prompt in the package's core-sounds-LANG.txt.gz:
en (en_US Allison), es (es_MX Allison), fr (fr_CA June), it (it_IT Carlo), ru (ru_RU).
Prompts of at least three words are joined in name order with 0.6 s pauses into takes of at most
30 s; `manifest.json` lists each take's language, prompts, their times and the reference text.
Split: every second take of a language is held out (never used to choose anything).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.instruct.models import cache_root  # noqa: E402
from scripts.build_real_speech_set import read_line, unpack_deb  # noqa: E402

RATE = 16000
PAUSE = 0.6
TAKE_S = 30.0
TAKES = 6                     # per language
VOICES = {"en": "en_US_f_Allison", "es": "es_MX_f_Allison", "fr": "fr_CA_f_June", "it": "it_IT_m_Carlo",
          "ru": "ru_RU_f_IvrvoiceRU"}


def transcripts(lang: str, cache: Path) -> dict[str, str]:
    """Prompt name -> its text, from the package's list of core sounds."""
    doc = unpack_deb(f"asterisk-core-sounds-{lang}", cache) / f"usr/share/doc/asterisk-core-sounds-{lang}"
    path = doc / f"core-sounds-{lang}.txt.gz"
    out = {}
    for line in gzip.open(path, "rt", encoding="utf-8-sig", errors="replace"):
        m = re.match(r"^([\w/-]+):\s*(.+?)\s*$", line)
        if m and not line.startswith(";"):
            out[m.group(1)] = m.group(2)
    return out


def speakable(text: str) -> bool:
    words = re.findall(r"\w+", text)
    return len(words) >= 3 and not re.search(r"[\[<{]", text)


def prompts(lang: str, cache: Path) -> tuple[dict[str, str], Path]:
    """A language's prompt texts and the folder of their recordings."""
    texts = transcripts(lang, cache)
    return texts, unpack_deb(f"asterisk-core-sounds-{lang}-wav", cache) / "usr/share/asterisk/sounds" / VOICES[lang]


def join_prompts(texts: dict[str, str], folder: Path, names: list[str], takes: int | None = TAKES,
                 take_s: float = TAKE_S) -> list[tuple[np.ndarray, list[dict], float]]:
    """The prompts `names` (those recorded, of 1 s to half a take) joined in order with PAUSE
    between them into takes of at most `take_s` seconds, at most `takes` of them: each take's
    16 kHz samples, its lines (prompt, start, end, text) and its length in seconds."""
    groups: list[list[tuple[str, np.ndarray]]] = [[]]
    length = 0.0
    for name in names:
        if not (folder / f"{name}.wav").is_file():
            continue
        x = read_line(folder / f"{name}.wav")
        seconds = len(x) / RATE
        if seconds < 1.0 or seconds > take_s / 2:
            continue
        if length + seconds > take_s and groups[-1]:
            if len(groups) == takes:
                break
            groups.append([])
            length = 0.0
        groups[-1].append((name, x))
        length += seconds + PAUSE
    out = []
    pause = np.zeros(int(PAUSE * RATE), np.float32)
    for lines in groups:
        if not lines:
            continue
        pieces, items, t = [pause], [], PAUSE
        for name, x in lines:
            items.append({"prompt": name, "start": round(t, 3), "end": round(t + len(x) / RATE, 3),
                          "text": texts[name]})
            pieces += [x, pause]
            t += len(x) / RATE + PAUSE
        out.append((np.concatenate(pieces), items, t))
    return out


def build(out: Path, cache: Path) -> list[dict]:
    import soundfile as sf
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for lang in VOICES:
        texts, folder = prompts(lang, cache)
        names = [n for n in sorted(texts) if "/" not in n and speakable(texts[n])]
        for k, (x, items, seconds) in enumerate(join_prompts(texts, folder, names)):
            file = f"{lang}-{k + 1:02d}.wav"
            sf.write(str(out / file), x, RATE, subtype="PCM_16")
            manifest.append({"file": file, "language": lang, "split": "heldout" if k % 2 else "tuning",
                             "duration": round(seconds, 3), "text": " ".join(i["text"] for i in items),
                             "lines": items})
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "languages")
    ap.add_argument("--cache", type=Path, default=cache_root() / "packages")
    args = ap.parse_args()
    manifest = build(args.out, args.cache)
    for lang in VOICES:
        rows = [m for m in manifest if m["language"] == lang]
        print(f"{lang}: {len(rows)} takes, {sum(m['duration'] for m in rows):.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
