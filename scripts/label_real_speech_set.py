"""Write the labels of the real-speech development set (tests/data/instruct/real_set.csv).

    .venv/bin/python scripts/label_real_speech_set.py      # about 10 minutes: Whisper hears every line

The labels were set by hand, here, as data: which hedgewars (and, for the second game held out
whole, nexuiz and warzone taunt) line types belong to which emotion family and how intense they are (TYPES), which lines' words say something else than their type
(UNCLEAR), which sources are calm, how lines are grouped into takes and which part is held out.
Whisper tiny.en's transcript of every line is written beside its label (what the line says, for
reading the set and for keeping these lines out of the text emotion model's training corpus).
scripts/build_real_speech_set.py then joins the lines into takes.
"""

from __future__ import annotations

import collections
import csv
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_real_speech_set import LABELS, RATE, read_line, unpacked  # noqa: E402

PACKS = ["British", "Classic", "Default", "HillBilly", "Mobster", "Pirate", "Robot", "Russian", "Singer", "Surfer"]


def transcribe(paths: dict[str, Path]) -> dict[str, list]:
    """key -> [Whisper's text, seconds]."""
    from core.listen import models
    m = models.whisper()
    out = {}
    for key, path in paths.items():
        x = read_line(path)
        segs, _ = m.transcribe(x, language="en", beam_size=1, condition_on_previous_text=False, vad_filter=False)
        out[key] = [" ".join(s.text.strip() for s in segs), round(len(x) / RATE, 2)]
    return out


def main() -> int:
    from core.instruct.models import cache_root
    cache = cache_root() / "packages"
    voices, tutorial, prompts = unpacked("hedgewars", cache), unpacked("warzone", cache), unpacked("asterisk", cache)
    paths = {f"{p}/{f.stem}": f for p in PACKS for f in sorted((voices / p).glob("*.ogg"))}
    paths.update({f"warzone/{f.name}": f for f in sorted(tutorial.glob("*.ogg"))})
    paths.update({f"asterisk/{f.relative_to(prompts)}": f for f in sorted(prompts.rglob("*.wav"))})
    heard = transcribe(paths)
    hw = {k: v for k, v in heard.items() if not k.startswith(("warzone/", "asterisk/"))}
    tx2 = {k: v for k, v in heard.items() if k.startswith(("warzone/", "asterisk/"))}
    TYPES = {
     "joy": [("Amazing","happy",.7),("Brilliant","happy",.7),("Excellent","happy",.6),("Victory","happy",.8),("Laugh","happy",.7),
             ("Flawless","happy",.6),("Enemydown","happy",.5),("Firstblood","happy",.5)],
     "hostile": [("Comeonthen","angry",.6),("Gonnagetyou","angry",.7),("Illgetyou","angry",.7),("Justyouwait","angry",.6),
                 ("Youllregretthat","angry",.7),("Traitor","angry",.7),("Coward","contempt",.6),("Stupid","contempt",.6),
                 ("Leavemealone","angry",.6),("Cutitout","angry",.5),("Sameteam","angry",.5),("Missed","contempt",.5),("Revenge","angry",.6)],
     "alarm": [("Incoming","fearful",.6),("Takecover","fearful",.7),("Runaway","fearful",.7),("Uh-oh","fearful",.5),
               ("Whatthe","surprised",.6),("Flyaway","fearful",.7)],
     "sad": [("Byebye","sad",.5),("Solong","sad",.6),("Ohdear","sad",.5),("Nooo","sad",.7)],
     "calm": [("Hello","neutral",.2),("Yessir","neutral",.2),("Hmm","neutral",.2)],
    }
    HELD = {"Pirate","Robot","Russian","Singer","Surfer"}
    # Lines whose words say something else than their line type's family (labelled from what is said):
    # cheerful or joking goodbyes, a threat among greetings, a machine's status report. Kept in their
    # takes (as a user would bring them) but not scored.
    UNCLEAR = {"Default/Byebye", "HillBilly/Byebye", "Mobster/Byebye", "Singer/Byebye", "Surfer/Byebye", "Robot/Byebye",
               "Robot/Solong", "Mobster/Ohdear", "HillBilly/Hello", "Pirate/Hello", "Robot/Hello", "Russian/Hello",
               "Default/Hello", "Robot/Hmm"}
    rows = []
    for pack in PACKS:
        for fam, types in TYPES.items():
            for t, emo, inten in types:
                key = f"{pack}/{t}"
                if key not in hw: continue
                rows.append(dict(take=f"hedgewars-{pack.lower()}-{fam}", source="hedgewars", kind="acted", file=f"{pack}/{t}.ogg",
                                 line_type=t, emotion=emo, family="unclear" if key in UNCLEAR else fam, intensity=inten, text=hw[key][0],
                                 split="heldout" if pack in HELD else "tune"))
    # mixed takes: one character changing family (calm, then threats, then cheers, then grief), so the
    # joint decoding is measured on real changes too, not only on takes of one family
    for pack in PACKS:
        for fam in ("calm", "hostile", "joy", "sad"):
            for t, emo, inten in TYPES[fam][:5]:
                key = f"{pack}/{t}"
                if key not in hw: continue
                rows.append(dict(take=f"hedgewars-{pack.lower()}-mixed", source="hedgewars", kind="acted", file=f"{pack}/{t}.ogg",
                                 line_type=t, emotion=emo, family="unclear" if key in UNCLEAR else fam, intensity=inten, text=hw[key][0],
                                 split="heldout" if pack in HELD else "tune"))
    # warzone tutorial: calm narration, groups of 10 lines
    wz = sorted([k for k in tx2 if k.startswith("warzone/")], key=lambda k: int(re.findall(r"\d+", k)[-1]))
    for i, k in enumerate(wz):
        g = i // 10
        rows.append(dict(take=f"warzone-tutorial-{g+1:02d}", source="warzone", kind="calm", file=k.split("/",1)[1], line_type="tutorial",
                         emotion="neutral", family="calm", intensity=.1, text=tx2[k][0], split="tune" if g < 4 else "heldout"))
    # asterisk prompts: calm professional voice; groups of about 45 s
    EXCLUDE = {"tt-monkeys", "tt-monkeysintro"}
    ast = sorted(k for k in tx2 if k.startswith("asterisk/") and Path(k).stem not in EXCLUDE and not any(f"/{d}/" in k for d in ("digits", "letters", "phonetic")))
    g, acc = 0, 0.0
    for k in ast:
        dur = tx2[k][1]
        if dur < 0.4 or not tx2[k][0].strip(): continue
        rows.append(dict(take=f"asterisk-{g+1:02d}", source="asterisk", kind="calm", file=k.split("/",1)[1], line_type="prompt",
                         emotion="neutral", family="calm", intensity=.1, text=tx2[k][0], split="tune" if g % 2 == 0 else "heldout"))
        acc += dur + 0.6
        if acc > 45: g, acc = g + 1, 0.0
        if g >= 12: break
    # a second game, held out whole: Nexuiz's player voices and Warzone 2100's taunts
    nex, wzt = unpacked("nexuiz", cache), unpacked("warzone-taunts", cache)
    NEXUIZ = {"hostile": [("taunt1", "angry", .6), ("taunt2", "angry", .6), ("taunt3", "angry", .6),
                          ("teamshoot1", "angry", .5), ("teamshoot2", "angry", .5), ("teamshoot3", "angry", .5), ("teamshoot4", "angry", .5)],
              "alarm": [("incoming", "fearful", .6), ("needhelp1", "fearful", .6), ("needhelp2", "fearful", .6), ("coverme", "fearful", .5)],
              "calm": [("defend", "neutral", .2), ("meet", "neutral", .2), ("seenflag", "neutral", .2), ("freelance1", "neutral", .2),
                       ("freelance2", "neutral", .2), ("attackinfive", "neutral", .2)]}
    WZ = {"joy": [("haha", "happy", .6), ("hahaha", "happy", .7)],
          "hostile": [("tme2die", "angry", .7), ("wanadie", "angry", .7), ("cmgetit", "angry", .6), ("tkethat", "angry", .6),
                      ("hadenuf", "angry", .6), ("wntmore", "angry", .6), ("gmeover", "contempt", .5)]}
    paths, meta = {}, []
    for voice in sorted(p.name for p in nex.iterdir() if (p / "coms").is_dir()):
        for fam, types in NEXUIZ.items():
            for t, emo, inten in types:
                f = nex / voice / "coms" / f"{t}.ogg"
                if f.exists():
                    key = f"nexuiz/{voice}/{t}"; paths[key] = f
                    meta.append(dict(take=f"nexuiz-{voice}-{fam}", source="nexuiz", kind="acted", file=f"{voice}/coms/{t}.ogg",
                                     line_type=t, emotion=emo, family=fam, intensity=inten, key=key, split="heldout"))
    for v in (1, 2, 3):
        for fam, types in WZ.items():
            for t, emo, inten in types:
                f = wzt / f"taunt{v}" / f"{t}{v}.ogg"
                if f.exists():
                    key = f"wz/{v}/{t}"; paths[key] = f
                    meta.append(dict(take=f"warzone-taunts{v}-{fam}", source="warzone-taunts", kind="acted", file=f"taunt{v}/{t}{v}.ogg",
                                     line_type=t, emotion=emo, family=fam, intensity=inten, key=key, split="heldout"))
    heard2 = transcribe(paths)
    for m in meta:
        m["text"] = heard2[m.pop("key")][0]
        rows.append(m)
    rows.append(dict(take="pyannote-sample", source="pyannote", kind="calm", file="sample.wav", line_type="phone call",
                     emotion="neutral", family="calm", intensity=.15, text="", split="heldout"))
    out = LABELS
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0])); w.writeheader(); w.writerows(rows)
    print(len(rows), collections.Counter((r["kind"], r["split"]) for r in rows), len({r["take"] for r in rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
