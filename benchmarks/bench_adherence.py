"""Stage 2 instruction adherence and lip sync (core.synth.adherence), printed as tables.

    .venv/bin/python benchmarks/bench_adherence.py [--model PATH] [--data data/motion]
        [--items 4] [--phrase-items 2] [--sheet emotions.png] [--json out.json]
        [--steps 8] [--guidance 2.0] [--intensity 0.7] [--threads 1]

1. the judge: an emotion classifier trained on the dataset's teacher motion (training items),
   its accuracy on held-out teacher motion (all intensities, and intensity >= 0.5);
2. emotion adherence: held-out items, every segment instructed with each of the 8 emotions in
   held-out wording, judged per segment (accuracy, confusion matrix, misjudged texts; target >= 0.90),
   and the same with the canonical wording as a control;
3. phrase families: neutral instruction without / with each facial-action phrase, the mean
   of the phrase's channels (model and teacher), pass when the model's rise is big enough;
4. lip sync on real speech: the pyannote sample through listen_and_instruct (rules writer),
   bilabial closure and jaw-loudness correlation, model vs the teacher on the same phones;
   also on the held-out synthetic items (their own instructions);
5. seeds 0..3 on the real sample: how different (upper face, head) and how synced each is;
6. --sheet: the emotion contact sheet (rows = emotions, columns = times) of a held-out item.
--model: a checkpoint file or run folder (newest checkpoint); default: the shipped model.
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


def table(header: list[str], rows: list[list], widths: list[int] | None = None) -> None:
    widths = widths or [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h))
                        for i, h in enumerate(header)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    print("  " + fmt.format(*header))
    for r in rows:
        print("  " + fmt.format(*[str(x) for x in r]))


def confusion_table(matrix, labels) -> None:
    short = [lab[:5] for lab in labels]
    table(["instructed \\ judged", *short, "acc"],
          [[lab, *row, f"{(row[i] / sum(row)) if sum(row) else float('nan'):.2f}"]
           for i, (lab, row) in enumerate(zip(labels, matrix))])


def f2(x: float) -> str:
    return "nan" if x is None or not np.isfinite(x) else f"{x:.2f}"


def f3(x: float) -> str:
    return "nan" if x is None or not np.isfinite(x) else f"{x:.3f}"


def sync_row(name: str, s: dict) -> list:
    return [name, f2(s["bilabial_closed"]), f2(s["vowel_closed"]), f2(s["bilabial_gap_mm"]), f2(s["vowel_gap_mm"]),
            f"{f2(s['bilabial_phones_closed'])} of {s['bilabial_phones']}", f2(s["jaw_loudness_r"]),
            f"{f2(s['jaw_loudness_r_best'])} @ {s['best_lag']:+d}",
            f"{s['blinks_per_minute']:.1f}", f"{s['blink_ms_median']:.0f}"]


SYNC_HEADER = ["track", "closed@PBM", "closed@vowel", "gap PBM mm", "gap vowel mm", "PBM phones closed",
               "r(jaw,loud)", "best r @ lag", "blinks/min", "blink ms"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="checkpoint file or run folder (default: the shipped model)")
    ap.add_argument("--data", default="data/motion", help="dataset folder (index.json)")
    ap.add_argument("--items", type=int, default=4, help="held-out items for emotion adherence")
    ap.add_argument("--phrase-items", type=int, default=2, help="held-out items for the phrase families")
    ap.add_argument("--intensity", type=float, default=0.7, help="intensity of the emotion instructions")
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--guidance", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads")
    ap.add_argument("--sheet", help="write the emotion contact sheet (PNG) here")
    ap.add_argument("--tile", type=int, default=256, help="sheet tile size in pixels")
    ap.add_argument("--json", help="write every figure as JSON here")
    args = ap.parse_args(argv)

    import torch
    torch.set_num_threads(max(1, args.threads))
    from core.motion.checkpoint import load_default_model, load_motion_model, resolve
    from core.synth import adherence as A

    t0 = time.perf_counter()
    if args.model:
        bundle, where = load_motion_model(args.model), str(resolve(args.model))
    else:
        from core.motion.checkpoint import default_model_path
        bundle, where = load_default_model(), str(default_model_path())
    print(f"model: {where} (step {bundle.meta.get('step', '?')}); sampler steps {args.steps}, "
          f"guidance {args.guidance}")
    out: dict = {"model": where, "step": bundle.meta.get("step"), "steps": args.steps, "guidance": args.guidance}

    # 1. the judge
    t = time.perf_counter()
    clf, judge = A.judge_from_dataset(args.data)
    out["judge"] = judge
    print(f"\n1. Judge: logistic regression on teacher motion ({judge['train_segments']} training segments, "
          f"{time.perf_counter() - t:.1f} s incl. reading)")
    table(["teacher motion", "segments", "accuracy"],
          [["training items (fit)", judge["train_segments"], f3(judge["train_accuracy"])],
           ["held-out items, all intensities", judge["heldout"]["n"], f3(judge["heldout"]["accuracy"])],
           ["held-out items, intensity >= 0.5", judge["heldout_intensity_0.5"]["n"],
            f3(judge["heldout_intensity_0.5"]["accuracy"])]])
    confusion_table(judge["heldout"]["confusion"], A.EMOTIONS)

    # 2. emotion adherence
    t = time.perf_counter()
    takes = A.heldout_takes(args.data, max(args.items, args.phrase_items))
    emo = A.emotion_adherence(bundle, args.data, clf, intensity=args.intensity, steps=args.steps,
                              guidance=args.guidance, takes=takes[:args.items])
    out["emotion"] = emo
    print(f"\n2. Emotion adherence: {len(emo['takes'])} held-out items x 8 emotions, held-out wording, intensity "
          f"{args.intensity}: accuracy {f3(emo['accuracy'])} over {emo['segments']} segments (target >= 0.90; "
          f"{time.perf_counter() - t:.1f} s)")
    confusion_table(emo["confusion"], A.EMOTIONS)
    print("  example wordings: " + "; ".join(f"{k}: \"{v}\"" for k, v in emo["example_texts"].items()))
    ctrl = A.emotion_adherence(bundle, args.data, clf, intensity=args.intensity, steps=args.steps,
                               guidance=args.guidance, takes=takes[:args.items], style="canonical")
    out["emotion_canonical"] = ctrl
    print(f"  control, canonical wording (compose): accuracy {f3(ctrl['accuracy'])} over {ctrl['segments']} segments; "
          "per emotion " + ", ".join(f"{k[:5]} {f2(v)}" for k, v in ctrl["per_emotion"].items()))
    if emo["reader_accuracy"] is not None:
        print(f"  the model's emotion reader reads the instructed emotion from {f3(emo['reader_accuracy'])} of these "
              "texts")
    if emo["errors"]:
        print("  misjudged segments (and what the emotion reader read from the text):")
        for err in emo["errors"]:
            read = f", reader: {err['read']}" if "read" in err else ""
            print(f"    {err['instructed']} -> {err['judged']}: \"{err['text']}\" ({err['take']} #{err['segment']}{read})")

    probe = A.text_probe()
    out["text_probe"] = probe
    print(f"  the encoder's ceiling: a linear classifier on the instruction embeddings alone, fitted on "
          f"{probe['train_wordings']} training-style wordings, reads {f3(probe['heldout_accuracy'])} of "
          f"{probe['heldout_wordings']} held-out wordings right; per emotion "
          + ", ".join(f"{k[:5]} {f2(v)}" for k, v in probe["per_emotion"].items()))

    # 3. phrase families
    t = time.perf_counter()
    rows = A.phrase_adherence(bundle, args.data, steps=args.steps, guidance=args.guidance,
                              takes=takes[:args.phrase_items])
    out["phrases"] = rows
    passed = sum(r["pass"] for r in rows)
    print(f"\n3. Phrase families: neutral ('{rows[0]['text'].split(' and ')[0]}.') without / with the phrase at "
          f"'extremely', {args.phrase_items} held-out items; pass: rise >= max({A.PHRASE_MIN_DELTA}, "
          f"{A.PHRASE_TEACHER_SHARE} x teacher's rise). {passed}/{len(rows)} pass ({time.perf_counter() - t:.1f} s)")
    table(["phrase", "channels", "without", "with", "rise", "teacher w/o", "teacher with", "pass"],
          [[r["phrase"], ",".join(c.replace("Left", "L").replace("Right", "R") for c in r["channels"]),
            f3(r["without"]), f3(r["with"]), f3(r["delta"]), f3(r["teacher_without"]), f3(r["teacher_with"]),
            "yes" if r["pass"] else "NO"] for r in rows])

    # 4. lip sync on real speech
    t = time.perf_counter()
    take = A.real_take()
    listen_s = time.perf_counter() - t
    rig = __import__("core.face", fromlist=["load_rig"]).load_rig()
    basis = A.lip_gap_basis(rig)
    teacher_sync = A.lip_sync(A.teacher_for_take(take), take.labels, take.loudness_db, take.speaking, basis=basis)

    # 5. seeds (their seed-0 track is the model's lip-sync figure)
    seeds = A.seed_study(bundle, take, steps=args.steps, guidance=args.guidance, rig=rig)
    out["real"] = {"take": take.name, "frames": take.frames, "segments": len(take.bounds), "texts": take.texts,
                   "teacher": teacher_sync, "model": seeds["sync"][0]}
    print(f"\n4. Lip sync on real speech: {take.name} ({take.frames / A.FPS:.1f} s, {len(take.bounds)} segments, "
          f"rules writer, phones from {take.analysis.phone_source}; stage 1 {listen_s:.1f} s). Closed: inner-lip "
          f"centre gap on the rig < {A.CLOSED_MM} mm; r over {teacher_sync['speech_frames']} speech frames, lag in "
          f"frames (+: jaw after sound)")
    table(SYNC_HEADER, [sync_row("model (seed 0)", seeds["sync"][0]), sync_row("teacher on aligner phones",
                                                                                teacher_sync)])
    held_rows, held = [], {"model": [], "teacher": []}
    for tk in takes[:args.items]:
        m = A.generate_motion(bundle, tk, tk.texts, 0, args.steps, args.guidance)
        held["model"].append(A.lip_sync(m, tk.labels, tk.loudness_db, tk.speaking, basis=basis))
        held["teacher"].append(A.lip_sync(tk.motion, tk.labels, tk.loudness_db, tk.speaking, basis=basis))
    for name in ("model", "teacher"):
        agg = A.pool_lip_sync(held[name])
        held_rows.append(sync_row(f"{name} ({'dataset target' if name == 'teacher' else 'seed 0'})", agg))
        out.setdefault("heldout_sync", {})[name] = agg
    print(f"  held-out synthetic items ({len(takes[:args.items])}, their own instructions, listener phones; "
          "figures pooled by frame, r averaged):")
    table(SYNC_HEADER, held_rows)

    print(f"\n5. Seeds 0..3, same instructions, {take.name}: pairwise differences (mean over frames)")
    table(["seeds", "upper-face weights MAD", "upper-face vertices mm (mean / p95)", "head deg"],
          [[f"{p['seeds'][0]}-{p['seeds'][1]}", f3(p["upper_weight_mad"]),
            f"{f2(p['upper_vertex_mm'])} / {f2(p['upper_vertex_mm_p95'])}", f2(p["head_deg"])]
           for p in seeds["pairs"]])
    tref = seeds.get("teacher") or {}
    print(f"  for scale: the upper face's own motion within a take (MAD from its mean) "
          f"{f3(seeds['within_take_upper_mad'])}; the teacher's seed-to-seed difference: upper-face weights "
          f"{f3(tref.get('upper_weight_mad', float('nan')))}, head {f2(tref.get('head_deg', float('nan')))} deg")
    table(SYNC_HEADER, [sync_row(f"seed {s}", v) for s, v in seeds["sync"].items()])
    spread = {k: float(np.ptp([v[k] for v in seeds["sync"].values()])) for k in
              ("bilabial_closed", "vowel_closed", "jaw_loudness_r")}
    print("  spread over seeds (max - min): " + ", ".join(f"{k} {f2(v)}" for k, v in spread.items()))
    out["seeds"] = {**seeds, "sync_spread": spread}

    # 6. sheet
    if args.sheet:
        t = time.perf_counter()
        st = A.sheet_take(args.data)
        if st is None:
            st = take
            st.speech = st.speech[int(6.5 * A.FPS):int(12.5 * A.FPS)]
        times = A.sheet_times(st.frames, A.FPS)
        path = A.emotion_sheet(bundle, args.sheet, st.speech, times=times, intensity=0.8, steps=args.steps,
                               guidance=args.guidance, rig=rig, tile=args.tile)
        out["sheet"] = {"path": str(path), "take": st.name, "times": times}
        print(f"\n6. Emotion sheet: {path} ({st.name}, {st.frames / A.FPS:.1f} s, times {times}; "
              f"{time.perf_counter() - t:.1f} s)")

    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1, default=_jsonable))
        print(f"figures: {args.json}")
    return 0


def _jsonable(x):
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return str(x)


if __name__ == "__main__":
    raise SystemExit(main())
