"""Instruction writers: load times, time per segment and per 60 s take, and how well their
instructions fit real speech (the issue-13 measures on the real-speech set, held-out part first).

    .venv/bin/python benchmarks/bench_instruct.py [--cold] [--skip-timing] [--writers minilm,smollm2,rules]
        [--baseline calm] [--synthetic]

The real-speech set is built from packages by scripts/build_real_speech_set.py (labels in
tests/data/instruct/real_set.csv) on first use; see benchmarks/real_speech.py.

Timings run in fresh processes (process start-up and imports count, as in real use):
- cold: first load ever (GGUF dequantised and cached; with --cold, into a temporary cache),
- warm: imports, model load from the safetensors cache, the prompt head + calibration, then a take
  of 12 segments (about 60 s of speech) written twice (first call, steady state).
--synthetic adds the older synthetic set (tests/data/instruct/emotion_set.csv: written, strongly
emotional sentences and their eSpeak speech, made by scripts/make_instruct_eval_set.py).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
EVIDENCE = ROOT / "tests" / "data" / "instruct" / "emotion_evidence.json"

_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import torch, transformers  # noqa
t_imp = time.perf_counter()
from core.instruct import LocalLMWriter
from core.instruct.models import load_causal_lm, load_log
tok, model = load_causal_lm()
t_load = time.perf_counter()
w = LocalLMWriter()
sc = w.scorer(); sc.bias()
t_head = time.perf_counter()
items = json.load(open(sys.argv[1]))["items"]
take = [items[i]["evidence"] for i in range(0, 80, 7)][:12]
a = time.perf_counter(); w.write(take); b = time.perf_counter(); w.write(take); c = time.perf_counter()
one = time.perf_counter(); w.write(take[:1]); one = time.perf_counter() - one
print(json.dumps({"imports": t_imp - t0, "load": t_load - t_imp, "head_calibration": t_head - t_load,
                  "take12_first": b - a, "take12_again": c - b, "one_segment": one,
                  "total_to_first_take": b - t0, "log": load_log}))
"""


def child(env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(EVIDENCE)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timings(cold: bool) -> None:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONPATH=str(ROOT))
    rows = []
    if cold:
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            r = child(dict(env, AVITALK_CACHE=tmp))
            r["wall"] = time.perf_counter() - t
            rows.append(("cold (dequantise GGUF + cache)", r))
    for k in range(2):
        t = time.perf_counter()
        r = child(env)
        r["wall"] = time.perf_counter() - t
        rows.append((f"warm run {k + 1} (safetensors cache)", r))
    print("\n## Embedded SmolLM2-135M writer, fresh process each (seconds)\n")
    cols = ["imports", "load", "head_calibration", "take12_first", "take12_again", "one_segment",
            "total_to_first_take", "wall"]
    print("| run | dequantise | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for name, r in rows:
        deq = sum(x["seconds"] for x in r["log"] if x["what"] == "dequantise gguf")
        print(f"| {name} | {deq:.2f} | " + " | ".join(f"{r[c]:.2f}" for c in cols) + " |")
    print("\n(take12 = 12 segments, about 60 s of speech; total_to_first_take = process start to "
          "12 instructions written, without Python's own start-up; wall includes it.)")


def confusion(pairs, title):
    from core.project import EMOTIONS
    cm = collections.Counter(pairs)
    acc = sum(v for (t, p), v in cm.items() if t == p) / max(1, len(pairs))
    print(f"\n{title}: accuracy {acc:.3f} ({sum(v for (t, p), v in cm.items() if t == p)}/{len(pairs)})\n")
    print("| true \\ written | " + " | ".join(e[:5] for e in EMOTIONS) + " |")
    print("|---|" + "---|" * len(EMOTIONS))
    for t in EMOTIONS:
        print(f"| {t} | " + " | ".join(str(cm[(t, p)]) for p in EMOTIONS) + " |")
    return acc


def synthetic() -> None:
    """The written, strongly emotional sentences of emotion_set.csv and their eSpeak speech."""
    from core.instruct import make_writer
    items = json.loads(EVIDENCE.read_text())["items"]
    evidence = [i["evidence"] for i in items]
    truth = [i["emotion"] for i in items]
    print("\n## Synthetic set (80 espeak-ng utterances of written emotional sentences, read one by one)\n")
    print("| writer | accuracy |")
    print("|---|---|")
    for name in ("minilm", "smollm2", "rules"):
        w = make_writer(name)
        pred = [w.write([e])[0].emotion for e in evidence]    # lone lines: no neighbours
        print(f"| {name} | {sum(p == t for p, t in zip(pred, truth)) / len(truth):.3f} |")


def _fmt(v):
    return "-" if v is None else f"{v:.3f}"


def real(writers: list[str], baseline: str | None) -> None:
    """The issue-13 measures per writer on the real-speech set (held-out part first)."""
    from real_speech import evaluate, load_takes

    from core.instruct import make_writer
    takes = load_takes()
    n = {k: sum(1 for t in takes if t.kind == k) for k in ("calm", "acted")}
    mins = {k: sum(t.duration for t in takes if t.kind == k) / 60 for k in ("calm", "acted")}
    print(f"\n## Real speech ({n['calm']} calm takes, {mins['calm']:.1f} min; {n['acted']} acted takes, "
          f"{mins['acted']:.1f} min; baseline {baseline or 'auto'})\n")
    print("Targets on the held-out part: calm strong <= 0.10, calm neighbours agree >= 0.75, acted family right >= 0.65.\n")
    print("| writer | split | calm strong | calm neighbours agree | acted family right | writing s |")
    print("|---|---|---|---|---|---|")
    for name in writers:
        w = make_writer(name)
        w.write(takes[0].evidence)                                   # load its models outside the timing
        scores = evaluate(w, takes, baseline)
        for split in ("heldout", "tune"):
            r = scores[split].row()
            print(f"| {name} | {split} | {_fmt(r['calm strong'])} | {_fmt(r['calm neighbours agree'])} | "
                  f"{_fmt(r['acted family right'])} | {scores[split].seconds:.2f} |")


def tune(split: str = "tune") -> None:
    """Grid search of the evidence weights (core.instruct.evidence.Weights) on one split: the best
    acted family accuracy among the settings that keep calm speech calm (strong <= 0.05, neighbours
    agree >= 0.85). Never run on the held-out split for choosing."""
    import itertools
    from dataclasses import replace

    from real_speech import load_takes, score

    from core.instruct.evidence import WEIGHTS, decide, gather
    takes = [t for t in load_takes() if t.split == split]
    cues = {t.name: gather(t.evidence, True) for t in takes}
    grid = {"text": (0.7, 1.0, 1.4), "voice": (0.4, 0.8, 1.2), "sounds": (0.8, 1.5), "calm_prior": (0.5, 1.0, 1.5),
            "switch": (1.5, 2.0, 3.0, 4.0), "switch_within": (0.5, 1.0)}
    rows = []
    for values in itertools.product(*grid.values()):
        w = replace(WEIGHTS, **dict(zip(grid, values)))
        r = score(takes, lambda t: decide(t.evidence, cues[t.name], None, w))[split].row()
        rows.append((r["acted family right"], r["calm strong"], r["calm neighbours agree"], dict(zip(grid, values))))
    ok = [r for r in rows if r[1] <= 0.05 and r[2] >= 0.85]
    ok.sort(key=lambda r: -r[0])
    print(f"\n## Weight grid on the {split} split ({len(rows)} settings, {len(ok)} keep calm speech calm)\n")
    for r in ok[:10]:
        print(f"acted {r[0]:.3f}  calm strong {r[1]:.3f}  agree {r[2]:.3f}  {r[3]}")
    print(f"current weights: {WEIGHTS}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", action="store_true", help="also time the first-ever load (dequantising)")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--synthetic", action="store_true", help="also the synthetic emotion_set.csv")
    ap.add_argument("--writers", default="minilm,smollm2,rules")
    ap.add_argument("--baseline", default=None, help="auto (default), calm, mild or an emotion")
    ap.add_argument("--tune", action="store_true", help="grid-search the evidence weights on the tuning split")
    args = ap.parse_args()
    if args.tune:
        tune()
        return 0
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.skip_timing:
        timings(args.cold)
    if not args.skip_accuracy:
        real(args.writers.split(","), args.baseline)
        if args.synthetic:
            synthetic()
    return 0


if __name__ == "__main__":
    sys.exit(main())
