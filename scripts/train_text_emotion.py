"""Train the text emotion classifiers that stage 1 ships (resources/instruct/).

    .venv/bin/python scripts/train_text_emotion.py [--out resources/instruct] [--cache ~/.cache/avi-talking-studio/corpora]
    .venv/bin/python scripts/train_text_emotion.py --smollm2-head      # the language model's emotion head

The corpus: the lines written for the project (core/synth/emotion_lines.py: eight emotions in many
registers, calm the largest class) plus real, human-rated lines from VADER's ground-truth corpus
(Hutto & Gilbert 2014, MIT; the vaderSentiment 3.3.2 source package ships it): tweets, movie and
product reviews and editorial snippets rated near zero valence are calm, tweets rated strongly
positive are happy. Lines whose text equals a transcript of the real-speech evaluation set are
removed first. One line in ten (by hash) is held out for the report. The classifier is a
multinomial logistic regression on the 768-d MiniLM instruction embedding (core.motion.text) or,
with --smollm2-head, on the mean last hidden state of the embedded SmolLM2-135M-Instruct (a small
head fine-tuned on the frozen language model; core.instruct.lm); its L2 decay is picked on the
held-out lines, and the report goes beside the weights.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.instruct.models import cache_root  # noqa: E402

from core.project import EMOTIONS  # noqa: E402

VADER_VERSION = "3.3.2"
REAL_SET = ROOT / "tests" / "data" / "instruct" / "real_set.csv"


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def vader_corpus(cache: Path) -> Path:
    """The folder of VADER's ground-truth files, downloaded once from PyPI (the sdist)."""
    folder = cache / f"vaderSentiment-{VADER_VERSION}" / "additional_resources" / "hutto_ICWSM_2014"
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                    "-d", str(cache), f"vaderSentiment=={VADER_VERSION}"], check=True)
    sdist = next(cache.glob(f"vaderSentiment-{VADER_VERSION}.tar.gz"))
    with tarfile.open(sdist) as tar:
        tar.extractall(cache, filter="data")
    inner = folder.parent / "hutto_ICWSM_2014.tar.gz"
    if inner.exists() and not folder.is_dir():
        with tarfile.open(inner) as tar:
            tar.extractall(folder.parent, filter="data")
    if not folder.is_dir():
        raise SystemExit(f"VADER's ground-truth corpus was not found in {sdist}")
    return folder


def vader_lines(folder: Path) -> list[tuple[str, str, str]]:
    """(emotion, text, register) from VADER's rated lines: |valence| <= 0.4 calm (all four
    registers), tweets >= 2.6 happy."""
    out = []
    for name, register in (("tweets", "chat"), ("movieReviewSnippets", "review"),
                           ("amazonReviewSnippets", "review"), ("nytEditorialSnippets", "editorial")):
        path = folder / f"{name}_GroundTruth.txt"
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) < 3:
                continue
            try:
                valence = float(parts[1])
            except ValueError:
                continue
            text = re.sub(r"https?://\S+|@\w+", "", parts[2]).strip()
            if not 3 <= len(text.split()) <= 30:
                continue
            if abs(valence) <= 0.4:
                out.append(("neutral", text, register))
            elif register == "chat" and valence >= 2.6:
                out.append(("happy", text, register))
    return out


def evaluation_transcripts() -> set[str]:
    if not REAL_SET.exists():
        return set()
    with REAL_SET.open(encoding="utf-8") as f:
        return {_norm(row["text"]) for row in csv.DictReader(f) if row.get("text")}


def heldout(text: str) -> bool:
    return int(hashlib.sha1(text.encode()).hexdigest(), 16) % 10 == 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "resources" / "instruct"))
    ap.add_argument("--cache", default=str(cache_root() / "corpora"))
    ap.add_argument("--vader-calm", type=int, default=1500, help="calm VADER lines kept (a hashed sample)")
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--smollm2-head", action="store_true",
                    help="train the embedded SmolLM2-135M's emotion head (resources/instruct/smollm2_head.npz) "
                         "on its hidden states instead of the MiniLM classifier")
    args = ap.parse_args()
    import torch

    from core.instruct.text_emotion import TextEmotionModel
    from core.motion.text import embed
    from core.synth.emotion_lines import lines
    from core.synth.train import fit_softmax

    t0 = time.perf_counter()
    rows = [(e, t, "written") for e, t in lines()]
    vl = vader_lines(vader_corpus(Path(args.cache)))
    calm = sorted((r for r in vl if r[0] == "neutral"), key=lambda r: hashlib.sha1(r[1].encode()).hexdigest())
    rows += calm[:args.vader_calm] + [r for r in vl if r[0] == "happy"]
    banned = evaluation_transcripts()
    before = len(rows)
    rows = [r for r in rows if _norm(r[1]) not in banned]
    removed = before - len(rows)
    texts = [r[1] for r in rows]
    y = np.array([EMOTIONS.index(r[0]) for r in rows])
    test = np.array([heldout(t) for t in texts])
    print(f"{len(rows)} lines ({removed} removed as evaluation transcripts); embedding ...", flush=True)
    if args.smollm2_head:
        from core.instruct.lm import hidden_features
        from core.instruct.models import load_causal_lm
        tok, lm = load_causal_lm()
        raw = hidden_features(tok, lm, texts).astype(np.float32)
        # standardised per dimension (and to about unit length) for the fit; x = (raw - x_mean) /
        # x_scale, folded back into the weights below
        x_mean = raw.mean(axis=0)
        x_scale = (raw.std(axis=0) + 1e-6) * np.sqrt(raw.shape[1])
        x = ((raw - x_mean) / x_scale).astype(np.float32)
    else:
        x = embed(texts)                            # MiniLM's unit vectors are used as they are
        x_mean, x_scale = np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32)
    t_embed = time.perf_counter() - t0

    xt, yt = torch.from_numpy(x[~test]), torch.from_numpy(y[~test])
    best = None
    for decay in (1e-5, 3e-5, 1e-4, 3e-4, 1e-3):
        w = torch.zeros(x.shape[1], len(EMOTIONS), requires_grad=True)
        b = torch.zeros(len(EMOTIONS), requires_grad=True)
        fit_softmax(xt, yt, w, b, decay=decay, steps=args.steps, lr=0.05)
        pred = (torch.from_numpy(x[test]) @ w + b).argmax(1).numpy()
        acc = float((pred == y[test]).mean())
        print(f"decay {decay:g}: held-out accuracy {acc:.3f}")
        if best is None or acc > best[0]:
            best = (acc, decay, w.detach().numpy(), b.detach().numpy(), pred)
    acc, decay, w, b, pred = best
    prior = np.bincount(y, minlength=len(EMOTIONS)) / len(y)
    w_raw = w / x_scale[:, None]
    b_raw = b - x_mean @ w_raw
    model = TextEmotionModel(w_raw.astype(np.float32), b_raw.astype(np.float32), prior)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {e: int((y == i).sum()) for i, e in enumerate(EMOTIONS)}
    registers: dict[str, int] = {}
    for r in rows:
        registers[r[2]] = registers.get(r[2], 0) + 1
    config = {"lines": len(rows), "per_emotion": counts, "registers": registers, "decay": decay,
              "steps": args.steps, "heldout_lines": int(test.sum()), "heldout_accuracy": round(acc, 4),
              "removed_evaluation_transcripts": removed, "vader": VADER_VERSION,
              "encoder": "smollm2-135m mean last hidden state" if args.smollm2_head else "all-MiniLM-L6-v2 (768-d)"}
    name = "smollm2_head" if args.smollm2_head else "text_emotion"
    model.save(out / f"{name}.npz", config)
    cm = np.zeros((len(EMOTIONS), len(EMOTIONS)), int)
    for t, p in zip(y[test], pred):
        cm[t, p] += 1
    title = "SmolLM2-135M emotion head" if args.smollm2_head else "Text emotion classifier (MiniLM)"
    report = [f"# {title}: training report", "", f"Encoder: {config['encoder']}.", "",
              f"Made by `scripts/train_text_emotion.py` in {time.perf_counter() - t0:.0f} s "
              f"(embedding {t_embed:.0f} s) on this machine.", "",
              f"- {len(rows)} lines: " + ", ".join(f"{e} {n}" for e, n in counts.items()),
              "- registers: " + ", ".join(f"{k} {v}" for k, v in registers.items()),
              f"- {removed} lines removed because their text is a transcript of the real-speech evaluation set",
              f"- L2 decay {decay:g} (picked on the held-out lines), {args.steps} full-batch Adam steps",
              f"- held-out lines (one in ten by hash): {int(test.sum())}, accuracy {acc:.3f}", "",
              "Held-out confusion (rows true, columns predicted):", "",
              "| | " + " | ".join(e[:5] for e in EMOTIONS) + " |", "|---|" + "---|" * len(EMOTIONS)]
    report += [f"| {e} | " + " | ".join(str(v) for v in cm[i]) + " |" for i, e in enumerate(EMOTIONS)]
    (out / f"{name}_report.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    print(json.dumps(config, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
