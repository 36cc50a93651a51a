"""Train the live lip-closure classifier (core.live.bilabial) on real recorded speech.

    .venv/bin/python scripts/build_real_speech_set.py        # once: data/real_speech from Debian packages
    .venv/bin/python scripts/train_bilabial.py [--data data/real_speech] [--out resources/live/bilabial.npz]

Every take of the real-speech set except the ones `benchmarks/bench_live.py` judges live lip sync
on (asterisk-01, -05, -09 and the pyannote call), labelled by the offline listener (Whisper's words
force-aligned by PocketSphinx: a frame is a closure inside a P, B or M). Every fifth of those
takes is kept aside to choose the probability threshold (the best F1 of closures found within
30 ms); the test takes choose nothing. Those four are the test:
the report says how many of their /p b m/ the classifier finds within 30 ms, and how many of what
it finds are one, beside the phone loop's figures on the same audio.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.live import bilabial as B  # noqa: E402

TEST = ("asterisk-01.wav", "asterisk-05.wav", "asterisk-09.wav")
PYANNOTE = ROOT / "tests" / "data" / "listen" / "sample.wav"
BILABIALS = ("P", "B", "M")


def labelled(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, list, list]:
    """Raw log-mel bands, closure labels and speech per 10 ms frame; the aligner's closures and
    the phone loop's (seconds)."""
    from core.audio import load_audio
    from core.listen import ListenSettings, listen
    from core.listen.align import allphone
    audio = load_audio(path)
    x = audio.mono16k
    s = ListenSettings(language="en")
    a = listen(audio, settings=s)
    n = (len(x) - B.WIN // 2) // B.HOP + 1
    label, speech = np.zeros(n, bool), np.zeros(n, bool)
    for p in a.phones:
        if p.phone in BILABIALS:
            label[int(p.start * 100):int(np.ceil(p.end * 100))] = True
    for start, end in a.vad:
        speech[int(start * 100):int(end * 100)] = True
    loop = [(p.start, p.end) for p in allphone(x, a.vad, a.duration, s) if p.phone in BILABIALS]
    truth = [(p.start, p.end) for p in a.phones if p.phone in BILABIALS]
    return B.log_mel(x, 0, n), label, speech, truth, loop


def found(truth: list, got: list, tolerance: float = 0.03) -> tuple[int, int, int, int]:
    def hit(r, others):
        return any(s - tolerance < r[1] and e + tolerance > r[0] for s, e in others)
    return sum(hit(r, got) for r in truth), len(truth), sum(hit(g, truth) for g in got), len(got)


def rows_of(bands: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    norm = B.RunningNorm(mean, var)(bands)
    padded = np.concatenate([np.zeros((B.PAST, B.BANDS), np.float32), norm,
                             np.zeros((B.FUTURE, B.BANDS), np.float32)])
    return B.context(padded)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "real_speech")
    ap.add_argument("--out", type=Path, default=B.MODEL)
    ap.add_argument("--epochs", type=int, default=10)
    args = ap.parse_args()
    import torch
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    manifest = json.loads((args.data / "manifest.json").read_text())["takes"]
    train_files = [args.data / t["audio"] for t in manifest if t["audio"] not in TEST]
    test_files = [args.data / f for f in TEST] + [PYANNOTE]
    every = [labelled(p) for p in train_files]
    train = [t for k, t in enumerate(every) if k % 5]
    valid = [t for k, t in enumerate(every) if k % 5 == 0]
    test = [labelled(p) for p in test_files]
    speech_bands = np.concatenate([b[s] for b, _, s, _, _ in train])
    mean, var = speech_bands.mean(0), speech_bands.var(0)
    X = np.concatenate([rows_of(b, mean, var) for b, *_ in train])
    Y = np.concatenate([lab for _, lab, *_ in train]).astype(np.float32)
    S = np.concatenate([s for _, _, s, *_ in train])
    keep = S | (rng.random(len(S)) < 0.2)                  # all speech, a fifth of the rest
    X, Y = X[keep], Y[keep]
    net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], 128), torch.nn.ReLU(), torch.nn.Linear(128, 64),
                              torch.nn.ReLU(), torch.nn.Linear(64, 1))
    opt = torch.optim.Adam(net.parameters(), 1e-3, weight_decay=1e-4)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    weight = torch.tensor((1 - Y.mean()) / Y.mean())
    for epoch in range(args.epochs):
        order = torch.randperm(len(Yt))
        total = 0.0
        for i in range(0, len(order), 512):
            idx = order[i:i + 512]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(net(Xt[idx])[:, 0], Yt[idx], pos_weight=weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        print(f"epoch {epoch + 1}: loss {total / len(order):.4f}", flush=True)
    layers = [m for m in net if isinstance(m, torch.nn.Linear)]
    weights = {f"w{i}": m.weight.detach().numpy().T.astype(np.float32) for i, m in enumerate(layers)}
    weights.update({f"b{i}": m.bias.detach().numpy().astype(np.float32) for i, m in enumerate(layers)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(args.out, mean=mean.astype(np.float32), var=var.astype(np.float32), **weights)
    model = B.Classifier(args.out)
    probs = [model.probability(rows_of(b, mean, var)) for b, *_ in valid]
    scores = {}
    for threshold in (0.7, 0.8, 0.85, 0.9, 0.93, 0.95):
        for shortest in (2, 3, 4, 5, 6):
            got = sum((np.array(found(truth, B.closure_spans(p, threshold, shortest=shortest)))
                       for p, (_, _, _, truth, _) in zip(probs, valid)), np.zeros(4))
            recall, precision = got[0] / max(1, got[1]), got[2] / max(1, got[3])
            scores[threshold, shortest] = (2 * recall * precision / max(1e-9, recall + precision), recall, precision)
    threshold, shortest = max(scores, key=lambda k: scores[k][0])
    print("validation (F1, recall, precision):", {k: tuple(round(v, 2) for v in f) for k, f in scores.items()})
    np.savez(args.out, mean=mean.astype(np.float32), var=var.astype(np.float32), threshold=np.float32(threshold),
             shortest=np.int32(shortest), **weights)

    # the test takes, streamed through the shipped code path
    model = B.Classifier(args.out)
    lines = []
    totals = {"classifier": np.zeros(4), "phone loop": np.zeros(4)}
    for path, (bands, _, _, truth, loop) in zip(test_files, test):
        from core.audio import load_audio
        x = load_audio(path).mono16k
        stream = B.StreamingClosures()
        stream.model, stream.norm = model, B.RunningNorm(model.mean, model.var)
        for k in range(0, len(x), 1600):                    # 100 ms blocks, as a sound device gives them
            stream.update(x[:k + 1600])
        got = found(truth, stream.spans())
        totals["classifier"] += got
        totals["phone loop"] += found(truth, loop)
        lines.append(f"| {path.name} | {got[1]} | {got[0] / max(1, got[1]):.2f} | {got[2] / max(1, got[3]):.2f} |")
    report = ["# Live lip-closure classifier", "",
              f"- training: {len(train)} real takes ({int(keep.sum())} frames, {Y.mean():.3f} closures), "
              f"{args.epochs} epochs, {time.perf_counter() - t0:.0f} s in all",
              f"- threshold {threshold} and shortest closure {shortest * 10} ms chosen on {len(valid)} other takes: F1 "
              f"{scores[threshold, shortest][0]:.2f}, finds {scores[threshold, shortest][1]:.2f}, "
              f"{scores[threshold, shortest][2]:.2f} of what it finds are closures",
              f"- test: {', '.join(p.name for p in test_files)} (never trained on)", "",
              "| test take | /p b m/ | found (within 30 ms) | of what it finds, closures |", "|---|---|---|---|",
              *lines, ""]
    for name, (hit, n, right, k) in totals.items():
        report.append(f"- {name}: finds {hit / max(1, n):.2f} of {int(n)} /p b m/; {right / max(1, k):.2f} of its "
                      f"{int(k)} are one")
    (args.out.with_name("bilabial_report.md")).write_text("\n".join(report) + "\n")
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
