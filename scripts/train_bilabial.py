"""Train the live lip-closure classifier (core.live.bilabial) on real recorded speech.

    .venv/bin/python scripts/build_real_speech_set.py        # once: data/real_speech from Debian packages
    .venv/bin/python scripts/build_language_set.py           # once: data/languages (its takes are left out)
    .venv/bin/python scripts/train_bilabial.py [--out resources/live/bilabial.npz]

Training speech, labelled by the offline listener (a frame is a closure inside a P, B or M):
- every take of the real-speech set except the ones `benchmarks/bench_live.py` judges live lip
  sync on (asterisk-01, -05, -09 and the pyannote call), words from Whisper force-aligned;
- Asterisk's prompts in English, Spanish, French and Italian (four professional speakers, the
  package's texts aligned as scripts), except the prompts of those takes and of data/languages.
Each epoch, most takes are heard through augmented() (another microphone's tilt, room noise).
Every fifth training take is kept aside to choose the probability threshold (the best F1 of
closures found within 30 ms) and the lower probability a closure runs on while (the best F1 of
closure frames). The test chooses nothing: the three asterisk takes, the pyannote
call (a speaker never heard) and data/languages' Russian takes (a voice and a language never
heard). The report says how many of their /p b m/ the classifier finds within 30 ms and how many
of what it finds are one, beside the phone loop's figures on the same audio.
Labels are kept in --labels (delete it after changing the listener).
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

from core.instruct.models import cache_root  # noqa: E402
from core.live import bilabial as B  # noqa: E402

TEST = ("asterisk-01.wav", "asterisk-05.wav", "asterisk-09.wav")
PYANNOTE = ROOT / "tests" / "data" / "listen" / "sample.wav"
PROMPT_LANGUAGES = ("en", "es", "fr", "it")
TEST_LANGUAGE = "ru"
BILABIALS = ("P", "B", "M")


def labelled(x: np.ndarray, script: str | None = None, language: str = "en", loop: bool = False) -> dict:
    """Raw log-mel bands, closure labels and speech per 10 ms frame of 16 kHz speech `x`; the
    aligner's closures and (with `loop`) the phone loop's, as (start, end) seconds."""
    from core.audio import Audio
    from core.listen import ListenSettings, listen
    from core.listen.align import allphone
    s = ListenSettings(language=language, translate=False)
    a = listen(Audio(x[:, None], 16000), script=script, settings=s)
    n = (len(x) - B.WIN // 2) // B.HOP + 1
    label, speech = np.zeros(n, bool), np.zeros(n, bool)
    for p in a.phones:
        if p.phone in BILABIALS:
            label[int(p.start * 100):int(np.ceil(p.end * 100))] = True
    for start, end in a.vad:
        speech[int(start * 100):int(end * 100)] = True
    spans = np.zeros((0, 2), np.float32)
    if loop:
        spans = np.array([(p.start, p.end) for p in allphone(x, a.vad, a.duration, s) if p.phone in BILABIALS],
                         np.float32).reshape(-1, 2)
    truth = np.array([(p.start, p.end) for p in a.phones if p.phone in BILABIALS], np.float32).reshape(-1, 2)
    return {"bands": B.log_mel(x, 0, n), "label": label, "speech": speech, "truth": truth, "loop": spans}


def cached(labels: Path, key: str, make) -> dict:
    """`make()`'s labelled take, kept in `labels` under `key`."""
    path = labels / f"{key}.npz"
    if not path.is_file():
        labels.mkdir(parents=True, exist_ok=True)
        np.savez(path, **make())
    with np.load(path) as f:
        return dict(f)


def takes(data: Path, languages: Path, cache: Path, labels: Path) -> tuple[list[dict], list[tuple[Path, dict]]]:
    """The labelled training takes, and the test takes with their audio files."""
    from core.audio import load_audio
    from scripts.build_language_set import join_prompts, prompts
    real = json.loads((data / "manifest.json").read_text())["takes"]
    bench = json.loads((languages / "manifest.json").read_text())
    used = {line["file"].removesuffix(".wav") for t in real if t["source"] == "asterisk" for line in t["lines"]}
    bench = [t for t in bench if t.get("source", "asterisk") == "asterisk"]   # the core prompts' takes
    used |= {line["prompt"] for t in bench for line in t["lines"]}
    train = [cached(labels, t["take"], lambda t=t: labelled(load_audio(data / t["audio"]).mono16k))
             for t in real if t["audio"] not in TEST]
    for lang in PROMPT_LANGUAGES:
        texts, folder = prompts(lang, cache)
        names = [n for n in sorted(texts) if "/" not in n and n not in used and "[" not in texts[n]]
        for k, (x, items, _) in enumerate(join_prompts(texts, folder, names, takes=None)):
            script = " ".join(i["text"] for i in items)
            train.append(cached(labels, f"prompts-{lang}-{k + 1:02d}",
                                lambda x=x, script=script, lang=lang: labelled(x, script, lang)))
    test = [(data / name, cached(labels, name.removesuffix(".wav"),
                                 lambda name=name: labelled(load_audio(data / name).mono16k, loop=True)))
            for name in TEST]
    test.append((PYANNOTE, cached(labels, "pyannote", lambda: labelled(load_audio(PYANNOTE).mono16k, loop=True))))
    for t in bench:
        if t["language"] == TEST_LANGUAGE:
            test.append((languages / t["file"], cached(
                labels, f"languages-{t['file'].removesuffix('.wav')}",
                lambda t=t: labelled(load_audio(languages / t["file"]).mono16k, t["text"], TEST_LANGUAGE, loop=True))))
    return train, test


def found(truth: list, got: list, tolerance: float = 0.03) -> tuple[int, int, int, int]:
    def hit(r, others):
        return any(s - tolerance < r[1] and e + tolerance > r[0] for s, e in others)
    return sum(hit(r, got) for r in truth), len(truth), sum(hit(g, truth) for g in got), len(got)


def rows_of(bands: np.ndarray, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    norm = B.RunningNorm(mean, var)(bands)
    padded = np.concatenate([np.zeros((B.PAST, B.BANDS), np.float32), norm,
                             np.zeros((B.FUTURE, B.BANDS), np.float32)])
    return B.context(padded)


def augmented(bands: np.ndarray, speech: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A take's log-mel bands as another microphone and room might give them: a spectral tilt of
    up to +-6 dB at the band edges and, half the time, steady noise 5-30 dB under the speech."""
    out = bands + rng.uniform(-1.5, 1.5) * np.linspace(-1, 1, B.BANDS, dtype=np.float32)
    if rng.random() < 0.5 and speech.any():
        level = np.median(np.exp(out[speech]), axis=0)
        shape = np.exp(rng.uniform(-2, 0.5) * np.linspace(0, 1, B.BANDS))
        noise = level.mean() * shape * 10 ** (-rng.uniform(5, 30) / 10)
        out = np.log(np.exp(out) + noise)
    return out.astype(np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT / "data" / "real_speech")
    ap.add_argument("--languages", type=Path, default=ROOT / "data" / "languages")
    ap.add_argument("--cache", type=Path, default=cache_root() / "packages")
    ap.add_argument("--labels", type=Path, default=ROOT / "data" / "bilabial_labels")
    ap.add_argument("--out", type=Path, default=B.MODEL)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--hidden", default="512,256", help="the hidden layers' widths")
    ap.add_argument("--augment", type=float, default=0.6, help="share of takes heard through augmented() each epoch")
    args = ap.parse_args()
    import torch
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    every, test = takes(args.data, args.languages, args.cache, args.labels)
    print(f"labelled in {time.perf_counter() - t0:.0f} s", flush=True)
    train = [t for k, t in enumerate(every) if k % 5]
    valid = [t for k, t in enumerate(every) if k % 5 == 0]
    speech_bands = np.concatenate([t["bands"][t["speech"]] for t in train])
    mean, var = speech_bands.mean(0), speech_bands.var(0)
    Y = np.concatenate([t["label"] for t in train]).astype(np.float32)
    S = np.concatenate([t["speech"] for t in train])
    keep = S | (rng.random(len(S)) < 0.2)                  # all speech, a fifth of the rest
    Y = Y[keep]

    def rows() -> np.ndarray:
        heard = [augmented(t["bands"], t["speech"], rng) if rng.random() < args.augment else t["bands"]
                 for t in train]
        return np.concatenate([rows_of(b, mean, var) for b in heard])[keep]
    X = rows()
    widths = [X.shape[1], *(int(w) for w in args.hidden.split(","))]
    layers = []
    for a, b in zip(widths, widths[1:]):
        layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers, torch.nn.Linear(widths[-1], 1))
    opt = torch.optim.Adam(net.parameters(), 1e-3, weight_decay=1e-4)
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    weight = torch.tensor((1 - Y.mean()) / Y.mean())
    for epoch in range(args.epochs):
        if epoch and args.augment:
            Xt = torch.tensor(rows())
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
    probs = [model.probability(rows_of(t["bands"], mean, var)) for t in valid]
    scores = {}
    for threshold in (0.7, 0.8, 0.85, 0.9, 0.93, 0.95):
        for shortest in (2, 3, 4, 5, 6):
            got = sum((np.array(found(t["truth"], B.closure_spans(p, threshold, shortest=shortest)))
                       for p, t in zip(probs, valid)), np.zeros(4))
            recall, precision = got[0] / max(1, got[1]), got[2] / max(1, got[3])
            scores[threshold, shortest] = (2 * recall * precision / max(1e-9, recall + precision), recall, precision)
    threshold, shortest = max(scores, key=lambda k: scores[k][0])
    print("validation (F1, recall, precision):", {k: tuple(round(v, 2) for v in f) for k, f in scores.items()})
    frame_f1 = {}                                          # how far a closure runs on: frames marked right
    for extend in (threshold, 0.9, 0.8, 0.7, 0.6, 0.5):
        marked = [np.zeros(len(t["label"]), bool) for t in valid]
        for m, p in zip(marked, probs):
            for a, b in B.closure_spans(p, threshold, shortest=shortest, extend=extend):
                m[int(round(a * 100)):int(round(b * 100))] = True
        hit = sum(int((m & t["label"][:len(m)]).sum()) for m, t in zip(marked, valid))
        frame_f1[extend] = 2 * hit / max(1, sum(int(m.sum()) + int(t["label"].sum()) for m, t in zip(marked, valid)))
    extend = max(frame_f1, key=frame_f1.get)
    print("validation frame F1 by extension:", {k: round(v, 3) for k, v in frame_f1.items()})
    np.savez(args.out, mean=mean.astype(np.float32), var=var.astype(np.float32), threshold=np.float32(threshold),
             shortest=np.int32(shortest), extend=np.float32(extend), **weights)

    # the test takes, streamed through the shipped code path
    model = B.Classifier(args.out)
    lines = []
    totals = {"classifier": np.zeros(4), "phone loop": np.zeros(4)}
    from core.audio import load_audio
    for path, t in test:
        x = load_audio(path).mono16k
        stream = B.StreamingClosures()
        stream.model, stream.norm = model, B.RunningNorm(model.mean, model.var)
        for k in range(0, len(x), 1600):                    # 100 ms blocks, as a sound device gives them
            stream.update(x[:k + 1600])
        truth = [tuple(r) for r in t["truth"]]
        got = found(truth, stream.spans())
        totals["classifier"] += got
        totals["phone loop"] += found(truth, [tuple(r) for r in t["loop"]])
        lines.append(f"| {path.name} | {got[1]} | {got[0] / max(1, got[1]):.2f} | {got[2] / max(1, got[3]):.2f} |")
    report = ["# Live lip-closure classifier", "",
              f"- training: {len(train)} real takes ({int(keep.sum())} frames, {Y.mean():.3f} closures), "
              f"{args.epochs} epochs ({args.augment:.0%} of takes augmented each), "
              f"{time.perf_counter() - t0:.0f} s in all",
              f"- threshold {threshold} and shortest closure {shortest * 10} ms chosen on {len(valid)} other takes: F1 "
              f"{scores[threshold, shortest][0]:.2f}, finds {scores[threshold, shortest][1]:.2f}, "
              f"{scores[threshold, shortest][2]:.2f} of what it finds are closures; each runs on while over "
              f"{extend:.2f} (frames marked right, F1: {frame_f1[threshold]:.2f} -> {frame_f1[extend]:.2f})",
              f"- hidden layers {args.hidden}; test: {', '.join(p.name for p, _ in test)} (never trained on)", "",
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
