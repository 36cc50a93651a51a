"""Instruction writers: load times, time per segment and per 60 s take, and emotion agreement.

    .venv/bin/python benchmarks/bench_instruct.py [--cold] [--skip-accuracy]

Timings run in fresh processes (process start-up and imports count, as in real use):
- cold: first load ever (GGUF dequantised and cached; with --cold, into a temporary cache),
- warm: imports, model load from the safetensors cache, the prompt head + calibration, then a take
  of 12 segments (about 60 s of speech) written twice (first call, steady state).
Agreement: the labelled set tests/data/instruct/emotion_set.csv with the evidence made by
scripts/make_instruct_eval_set.py; "test" is the half held out from all tuning.
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


def accuracy() -> None:
    from core.instruct import LocalLMWriter, RulesWriter
    from core.instruct.base import segment_text
    from core.instruct.cues import lexicon_scores, prosody_scores
    items = json.loads(EVIDENCE.read_text())["items"]
    evidence = [i["evidence"] for i in items]
    truth = [i["emotion"] for i in items]
    split = [i["split"] for i in items]
    lm = LocalLMWriter()
    lm.use_neighbours = False    # the set's lines are independent; neighbours would share their label
    results = {
        "rules (prosody + lexicon)": [o.emotion for o in RulesWriter().write(evidence)],
        "embedded LM writer (SmolLM2 calibrated + cues)": [o.emotion for o in lm.write(evidence)],
    }
    model_only = lm.model_scores(evidence)
    results["SmolLM2 alone, calibrated (no cues)"] = [max(s, key=s.get) for s in model_only]
    results["prosody cue alone"] = [max(s, key=s.get) for s in map(prosody_scores, evidence)]
    results["lexicon cue alone"] = [max(s, key=s.get) for s in (lexicon_scores(segment_text(e)) for e in evidence)]
    print("\n## Emotion agreement on the labelled set (80 espeak-ng utterances, 10 per emotion)\n")
    print("| writer | held-out test half (40) | tuning half (40) | all (80) |")
    print("|---|---|---|---|")
    for name, pred in results.items():
        def acc(which):
            idx = [k for k in range(len(items)) if which is None or split[k] == which]
            return sum(pred[k] == truth[k] for k in idx) / len(idx)
        print(f"| {name} | {acc('test'):.3f} | {acc('tune'):.3f} | {acc(None):.3f} |")
    for name in ("rules (prosody + lexicon)", "embedded LM writer (SmolLM2 calibrated + cues)"):
        pred = results[name]
        confusion([(t, p) for t, p, s in zip(truth, pred, split) if s == "test"], f"### {name}, held-out half")
        confusion(list(zip(truth, pred)), f"### {name}, all 80")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cold", action="store_true", help="also time the first-ever load (dequantising)")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-timing", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if not args.skip_timing:
        timings(args.cold)
    if not args.skip_accuracy:
        accuracy()
    return 0


if __name__ == "__main__":
    sys.exit(main())
