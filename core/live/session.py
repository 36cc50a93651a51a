"""One live performance: sound in, frames out over UDP as the speech arrives, and the recording.

    stats = run_live(LiveOptions(input="speech.wav", livelink="127.0.0.1:11111"))

The loop reads the input's blocks in order; the listener takes each block at once, and when
UPDATE_FRAMES new frames are due the performer releases them and they are sent straight away
(so a frame leaves about lookahead + one update + the sampling time after its sound arrived).
A new instruction (from `instructions`, a queue of (text, embedding)) is cross-faded in. The
recording (`record`) is saved whatever ends the take: its end, `seconds`, `stop`, Ctrl+C, a
device that disappears. Each frame's latency is measured from the time its sound reached the
input (the input's own clock) to the time its packets left.
"""

from __future__ import annotations

import math
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from core.audio import Audio
from core.live.inputs import RATE, open_input
from core.live.listener import StreamingListener
from core.live.performer import LivePerformer
from core.live.senders import LIVELINK_PORT, VMC_PORT, LiveLinkSender, VmcSender, parse_address

UPDATE_FRAMES = 2             # frames released per update (66 ms at 30 fps)
TORCH_THREADS = 1             # the sampler's threads: one core samples, the other hears and sends
DEFAULT_INSTRUCTION = "A person feels calm and speaks with face slightly relaxed."
WARN_EVERY_S = 5.0            # a repeated problem is reported at most this often


@dataclass
class LiveOptions:
    input: str | None = None             # a file played in real time, a device name or index; None: default device
    instruction: str = DEFAULT_INSTRUCTION
    livelink: str | None = None          # HOST[:PORT]
    vmc: str | None = None               # HOST[:PORT]
    vmc_capitalise: bool = False
    subject: str = "AVITalking"
    record: str | None = None            # a .avtp project to save the take into
    seconds: float | None = None         # stop after this much audio
    lookahead: int = 2                   # frames sampled but held back until the next update
    steps: int = 4                       # sampler steps per update (6 and 8 sync the lips no better)
    model: str | None = None             # a motion model folder or file; None: the shipped one
    speed: float = 1.0                   # a file input's pace (1: real time; 0: as fast as possible)


@dataclass
class LiveStats:
    frames: int = 0                      # frames made (sent or skipped)
    skipped: int = 0                     # frames the CPU could not make in time (the last pose held)
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)     # per sent frame, seconds
    send_times: list[float] = field(default_factory=list)    # monotonic, per sent frame
    update_seconds: list[float] = field(default_factory=list)
    senders: dict[str, dict] = field(default_factory=dict)
    recording: str | None = None
    ended_by: str = "end of input"
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        lat = np.array(self.latencies) * 1000.0
        gaps = np.diff(self.send_times) * 1000.0 if len(self.send_times) > 1 else np.zeros(0)
        sent = len(self.send_times)
        return {
            "frames": self.frames, "sent": sent, "skipped": self.skipped,
            "audio_s": round(self.audio_seconds, 2), "wall_s": round(self.wall_seconds, 2),
            "fps_out": round(sent / self.wall_seconds, 1) if self.wall_seconds > 0 else 0.0,
            "latency_ms_median": round(float(np.median(lat)), 1) if len(lat) else None,
            "latency_ms_p95": round(float(np.percentile(lat, 95)), 1) if len(lat) else None,
            "longest_gap_ms": round(float(gaps.max()), 1) if len(gaps) else None,
            "cpu_share_of_two_cores": round(self.cpu_seconds / max(self.wall_seconds, 1e-9) / 2.0, 3),
            "update_ms_median": round(float(np.median(self.update_seconds)) * 1000, 1) if self.update_seconds else None,
            "senders": self.senders, "recording": self.recording, "ended_by": self.ended_by,
        }


class _Reporter:
    """Says a repeated problem once, then at most every WARN_EVERY_S."""

    def __init__(self, log: Callable[[str], None], stats: LiveStats) -> None:
        self.log, self.stats, self.last = log, stats, {}

    def __call__(self, key: str, message: str) -> None:
        now = time.monotonic()
        if now - self.last.get(key, -math.inf) >= WARN_EVERY_S:
            self.last[key] = now
            self.stats.warnings.append(message)
            self.log(message)


def _senders(options: LiveOptions, fps: float) -> list:
    out = []
    if options.livelink:
        host, port = parse_address(options.livelink, LIVELINK_PORT, "--livelink")
        out.append(LiveLinkSender(host, port, subject=options.subject, fps=int(round(fps))))
    if options.vmc:
        host, port = parse_address(options.vmc, VMC_PORT, "--vmc")
        out.append(VmcSender(host, port, capitalise=options.vmc_capitalise))
    return out


def _save_recording(path: str, samples: np.ndarray, motion: np.ndarray, features: np.ndarray, fps: float,
                    spans: list[tuple[int, str]]) -> str:
    """The take as a project: the sound, the motion sent, one segment per instruction and the
    listener's speech features (so editing a segment regenerates it like any other take's)."""
    from core.instruct.wording import parse
    from core.project import MAIN_TRACK, Instruction, Project, Segment, save_project
    from core.track import FaceTrack
    name = Path(path).with_suffix(".wav").name
    audio = Audio(np.asarray(samples, np.float32)[:, None], RATE, name=name)
    frames = len(motion)
    segments = []
    for k, (start, text) in enumerate(spans):
        end = spans[k + 1][0] if k + 1 < len(spans) else frames
        if end <= start:
            continue
        emotion, intensity, _ = parse(text)
        segments.append(Segment(start / fps, end / fps, Instruction(text, emotion, float(intensity), writer="live")))
    project = Project(audio=audio, segments=segments,
                      tracks={MAIN_TRACK: FaceTrack(fps, np.asarray(motion, np.float32))} if frames else {},
                      speech_features=np.asarray(features, np.float32) if frames else None)
    project.settings.fps = fps
    save_project(project, path)
    return str(path)


def run_live(options: LiveOptions, *, instructions: queue.Queue | None = None, stop: threading.Event | None = None,
             on_frame: Callable[[int, np.ndarray], None] | None = None, on_level: Callable[[float], None] | None = None,
             log: Callable[[str], None] = print, bundle=None, source=None) -> LiveStats:
    """Perform until the input ends, `options.seconds` of audio have passed or `stop` is set.
    `on_frame(index, frame)` sees every frame sent; `on_level(dbfs)` every block's level.
    Raises InputError / SenderError (bad input or address) before anything starts."""
    from core.motion.checkpoint import load_default_model
    from core.motion.text import embed

    stats = LiveStats()
    report = _Reporter(log, stats)
    bundle = bundle or load_default_model(options.model)
    fps = bundle.fps
    senders = _senders(options, fps)
    source = source or open_input(options.input, speed=options.speed)
    for w in getattr(source, "warnings", []):
        report("input", f"warning: {w}")
    listener = StreamingListener(fps)
    performer = LivePerformer(bundle, embed([options.instruction])[0], lookahead=options.lookahead,
                              steps=options.steps)
    spans: list[tuple[int, str]] = [(0, options.instruction)]
    motion: list[np.ndarray] = []
    limit = None if options.seconds is None else int(options.seconds * RATE)
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(TORCH_THREADS)
    cpu0, wall0 = time.process_time(), time.monotonic()

    def release(ready: int) -> None:
        t = time.perf_counter()
        out = performer.update(listener.features, ready)
        stats.update_seconds.append(time.perf_counter() - t)
        if out is None:
            return
        motion.append(out.motion)
        stats.frames += len(out.motion)
        stats.skipped += out.skipped
        if out.skipped:
            report("behind", f"the CPU fell behind: {out.skipped} frames held instead of made, to stay with the audio "
                             f"({stats.skipped} in all)")
        for k, frame in enumerate(out.motion[out.skipped:], start=out.start + out.skipped):
            for s in senders:
                if not s.send(frame):
                    report(s.name, f"{s.last_error} ({s.failed} packets lost so far)")
            now = time.monotonic()
            stats.send_times.append(now)
            stats.latencies.append(now - source.sample_time((k + 0.5) / fps * RATE))
            if on_frame is not None:
                on_frame(k, frame)

    try:
        try:
            for block in source.blocks():
                if limit is not None and listener.samples.n + len(block) > limit:
                    block = block[:max(0, limit - listener.samples.n)]
                listener.push(block)
                if on_level is not None and len(block):
                    on_level(10 * math.log10(float(np.mean(block * block)) + 1e-10))
                while instructions is not None and not instructions.empty():
                    text, embedding = instructions.get_nowait()
                    performer.set_instruction(embedding)
                    spans.append((performer.sent, text))
                    log(f"instruction from frame {performer.sent}: {text}")
                if performer.due(listener.frames_ready) >= UPDATE_FRAMES:
                    release(listener.frames_ready)
                if stop is not None and stop.is_set():
                    stats.ended_by = "stopped"
                    break
                if limit is not None and listener.samples.n >= limit:
                    stats.ended_by = f"{options.seconds:g} s"
                    break
            listener.finish()
            release(listener.frames_ready + performer.lookahead)       # the held-back frames
        except KeyboardInterrupt:
            stats.ended_by = "interrupted"
        except Exception as exc:
            stats.ended_by = f"error: {exc}"
            raise
    finally:
        torch.set_num_threads(threads)
        source.close()
        stats.audio_seconds = listener.duration
        stats.wall_seconds = time.monotonic() - wall0
        stats.cpu_seconds = time.process_time() - cpu0
        for s in senders:
            stats.senders[s.name] = {"to": f"{s.address[0]}:{s.address[1]}", "sent": s.sent, "failed": s.failed}
            s.close()
        if options.record:
            frames = min(sum(len(m) for m in motion), int(listener.duration * fps))
            data = np.concatenate(motion)[:frames] if motion else np.zeros((0, 55), np.float32)
            features = listener.features(0, frames) if frames else np.zeros((0, 48), np.float32)
            stats.recording = _save_recording(options.record, listener.audio(), data, features, fps, spans)
            log(f"recorded {listener.duration:.1f} s into {stats.recording}")
    return stats


def read_instructions(stream, out: queue.Queue, log: Callable[[str], None] = print) -> threading.Thread:
    """A daemon thread: each non-empty line of `stream` becomes the next instruction (embedded
    there, off the performance loop)."""
    from core.motion.text import embed

    def work() -> None:
        for line in stream:
            text = line.strip()
            if text:
                out.put((text, embed([text])[0]))

    thread = threading.Thread(target=work, name="live-instructions", daemon=True)
    thread.start()
    return thread


__all__ = ["DEFAULT_INSTRUCTION", "LiveOptions", "LiveStats", "read_instructions", "run_live"]
