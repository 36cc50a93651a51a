"""Live: a recording streamed in real time to Live Link and VMC receivers on this machine.

    .venv/bin/python benchmarks/bench_live.py [--input tests/data/listen/sample.wav] [--seconds 30]
        [--steps 4] [--lookahead 2] [--skip-lipsync] [--lipsync-also FILE ...]

Streams the pyannote sample (real telephone speech, two speakers) through `run_live` exactly as
`avitalk live --input FILE` does, paced by the clock, with both senders aimed at UDP receivers on
127.0.0.1 that decode every packet (PyLiveLinkFace for Live Link, python-osc for VMC). Prints:
- latency from a sound reaching the input to the packet of the frame that shows it (median, 95th
  percentile, worst), frames out a second, the longest gap between frames, frames held while
  behind, the CPU share of the two cores, and the time of one update (listener + sampler);
- lip sync of the streamed motion against the offline pipeline on the same audio (the listener's
  forced alignment of the transcript, the shipped model over the whole take): the share of /p b m/
  frames with the lips closed (under 3 mm on the rig), the share of /p b m/ phones where the lips
  meet (closed on a frame of the phone or one beside it), of vowel frames closed, and the
  jaw-loudness correlation, both judged on the offline aligner's phones. Besides the streamed
  input, the lip sync is measured on more real speech (`--lipsync-also`; by default three asterisk
  prompt takes of data/real_speech, built by scripts/build_real_speech_set.py), streamed unpaced
  (speed 0: the same listener and performer, as fast as the CPU allows), and pooled over all
  files by frame.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.live.session import LiveOptions, run_live  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "listen" / "sample.wav"
MORE_SPEECH = [ROOT / "data" / "real_speech" / f"asterisk-{i:02d}.wav" for i in (1, 5, 9)]


class Receiver(threading.Thread):
    def __init__(self, decode) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.decode, self.count, self.errors, self.done = decode, 0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                data = self.sock.recvfrom(65536)[0]
            except socket.timeout:
                continue
            try:
                self.decode(data)
                self.count += 1
            except Exception:          # a packet an independent reader cannot read is what we count
                self.errors += 1


def decode_livelink(data: bytes) -> None:
    from pylivelinkface import PyLiveLinkFace
    ok, _ = PyLiveLinkFace.decode(data)
    if not ok:
        raise ValueError("no face in the packet")


def decode_vmc(data: bytes) -> None:
    from pythonosc.osc_bundle import OscBundle
    if sum(1 for m in OscBundle(data) if m.address == "/VMC/Ext/Blend/Val") != 52:
        raise ValueError("not 52 blend values")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--input", default=str(SAMPLE))
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--lookahead", type=int, default=2)
    ap.add_argument("--skip-lipsync", action="store_true")
    ap.add_argument("--lipsync-also", nargs="*", default=[str(p) for p in MORE_SPEECH if p.is_file()],
                    help="more real recordings to judge live lip sync on (streamed unpaced)")
    args = ap.parse_args()

    from core.motion.checkpoint import load_default_model
    bundle = load_default_model()
    ll, vmc = Receiver(decode_livelink), Receiver(decode_vmc)
    ll.start()
    vmc.start()
    with tempfile.TemporaryDirectory() as tmp:
        record = os.path.join(tmp, "live.avtp")
        stats = run_live(LiveOptions(input=args.input, livelink=f"127.0.0.1:{ll.port}", vmc=f"127.0.0.1:{vmc.port}",
                                     seconds=args.seconds, steps=args.steps, lookahead=args.lookahead, record=record),
                         bundle=bundle, log=lambda m: print("  " + m))
        time.sleep(0.3)
        ll.done.set()
        vmc.done.set()
        from core.project import MAIN_TRACK, load_project
        streamed = load_project(record).tracks[MAIN_TRACK].data
    s = stats.summary()
    lat = np.array(stats.latencies) * 1000
    print(f"\nlive, {Path(args.input).name}: {s['audio_s']:.1f} s of audio in {s['wall_s']:.1f} s "
          f"(steps {args.steps}, look-ahead {args.lookahead} frames, load average {os.getloadavg()[0]:.2f})")
    print("| latency median | 95th percentile | worst | frames out a second | longest gap | held while behind "
          "| CPU (of 2 cores) | one update |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {s['latency_ms_median']:.0f} ms | {s['latency_ms_p95']:.0f} ms | {lat.max():.0f} ms | {s['fps_out']} "
          f"| {s['longest_gap_ms']:.0f} ms | {s['skipped']} of {s['frames']} "
          f"| {100 * s['cpu_share_of_two_cores']:.0f} % "
          f"| {s['update_ms_median']:.0f} ms |")
    print(f"receivers decoded: Live Link {ll.count} packets ({ll.errors} unreadable), "
          f"VMC {vmc.count} ({vmc.errors})")
    if args.skip_lipsync:
        return

    print("\nlip sync, judged on the offline aligner's phones (offline pipeline / live streamed):")
    print("| recording | /p b m/ frames | /p b m/ closed | /p b m/ met | vowels closed | jaw-loudness r |\n"
          "|---|---|---|---|---|---|")
    pooled = {"offline": [], "live": []}
    for path in [args.input, *args.lipsync_also]:
        motion = streamed if path == args.input else stream_unpaced(path, bundle, args)
        for name, f in lip_sync_both(path, motion, bundle).items():
            pooled[name].append(f)
        off, live = pooled["offline"][-1], pooled["live"][-1]
        print(f"| {Path(path).name} | {off['bilabial_frames']} | {off['bilabial_closed']:.2f} / {live['bilabial_closed']:.2f} "
              f"| {off['bilabial_phones_closed']:.2f} / {live['bilabial_phones_closed']:.2f} "
              f"| {off['vowel_closed']:.2f} / {live['vowel_closed']:.2f} "
              f"| {off['jaw_loudness_r']:.2f} / {live['jaw_loudness_r']:.2f} |")
    if len(pooled["live"]) > 1:
        cells = []
        for key, weight in (("bilabial_closed", "bilabial_frames"), ("bilabial_phones_closed", "bilabial_phones"),
                            ("vowel_closed", "vowel_frames"),
                            ("jaw_loudness_r", "speech_frames")):
            cells.append(" / ".join(f"{pooled_mean(pooled[name], key, weight):.2f}" for name in ("offline", "live")))
        total = sum(f["bilabial_frames"] for f in pooled["offline"])
        print(f"| all, pooled by frame | {total} | {' | '.join(cells)} |")


def stream_unpaced(path: str, bundle, args) -> np.ndarray:
    """The live motion of a recording streamed as fast as the CPU allows (no senders)."""
    from core.project import MAIN_TRACK, load_project
    with tempfile.TemporaryDirectory() as tmp:
        record = os.path.join(tmp, "live.avtp")
        run_live(LiveOptions(input=path, speed=0, steps=args.steps, lookahead=args.lookahead, record=record),
                 bundle=bundle, log=lambda m: None)
        return load_project(record).tracks[MAIN_TRACK].data


def lip_sync_both(path: str, streamed: np.ndarray, bundle) -> dict[str, dict]:
    """lip_sync of the offline pipeline's motion and of the streamed motion on one recording."""
    from core.synth.adherence import generate_motion, lip_sync, real_take
    take = real_take(path)
    n = min(len(streamed), take.frames)
    offline = generate_motion(bundle, take, take.texts, 0, 8, 2.0)
    return {name: lip_sync(motion[:n], take.labels[:n], take.loudness_db[:n], take.speaking[:n])
            for name, motion in (("offline", offline), ("live", streamed))}


def pooled_mean(figures: list[dict], key: str, weight: str) -> float:
    w = np.array([f[weight] for f in figures], np.float64)
    v = np.array([f[key] for f in figures], np.float64)
    ok = np.isfinite(v) & (w > 0)
    return float((v[ok] * w[ok]).sum() / w[ok].sum()) if ok.any() else float("nan")

if __name__ == "__main__":
    main()
