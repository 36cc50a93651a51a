"""MP4 export: the head and shoulders rendered offscreen (a talking-head shot), H.264 video with the original sound as AAC (PyAV).

Rendering runs on the calling thread and encoding on a second one. Both hold the GIL for
much of their work and share two cores, so this is CPU-bound: a separate encoder process
was measured slower (26.8 vs 31 frames/s) because of the pipe and the contention.
"""

from __future__ import annotations

import os
import queue
import threading
from fractions import Fraction
from typing import Callable

import av
import numpy as np
from scipy.signal import resample_poly

from core.audio import Audio
from core.face.rig import FaceRig
from core import limits
from core.fileio import atomic_path
from core.limits import check_number
from core.render.offscreen import OffscreenRenderer
from core.render.renderer import portrait_camera
from core.cancel import Cancelled
from core.track import FaceTrack

AAC_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000)


def write_video(path: str | os.PathLike, rig: FaceRig, track: FaceTrack, audio: Audio | None = None, *,
                width: int = 1280, height: int = 720, crf: int = 20, antialias: bool = False,
                progress: Callable[[float], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> None:
    """Render every frame of `track` and encode it, with `audio`'s sound, to an MP4 file.

    antialias is off by default: its extra pass costs llvmpipe a quarter of the export time,
    and H.264 at this size softens the edges it would smooth.
    """
    width, height = video_size(width, height)
    with atomic_path(path) as tmp, OffscreenRenderer(rig, width, height, antialias=antialias) as renderer:
        renderer.face.camera = portrait_camera(rig, width / height)     # a talking-head shot
        with av.open(str(tmp), "w", format="mp4") as container:
            encoder = _Encoder(container, track.fps, width, height, crf, audio)
            thread = threading.Thread(target=encoder.run, daemon=True)
            thread.start()
            try:
                for i in range(track.frames):
                    if cancelled is not None and cancelled():
                        raise Cancelled(f"export to {path} cancelled")
                    if encoder.error is not None:
                        break
                    # from_ndarray copies the pixels, so the renderer may reuse its buffer.
                    encoder.queue.put(av.VideoFrame.from_ndarray(renderer.render_rgba(track.data[i]), format="rgba"))
                    if progress is not None and (i % 10 == 0 or i == track.frames - 1):
                        progress((i + 1) / track.frames)
            finally:
                encoder.queue.put(None)
                thread.join()
            if encoder.error is not None:
                raise encoder.error


def video_size(width: object, height: object) -> tuple[int, int]:
    """The frame size a video of `width` x `height` gets: each within core.limits.VIDEO_SIZE
    (ValueError naming the option otherwise), an odd one rounded up to even (yuv420p, which
    every player reads, halves the colour resolution, so both sides must be even)."""
    w = check_number("the video width", width, limits.VIDEO_SIZE)
    h = check_number("the video height", height, limits.VIDEO_SIZE)
    return w + w % 2, h + h % 2


class _Encoder:
    """Encodes video frames from a queue and the sound alongside, interleaved, on one thread."""

    def __init__(self, container, fps: float, width: int, height: int, crf: int, audio: Audio | None):
        self.container = container
        self.queue: queue.Queue = queue.Queue(maxsize=4)
        self.error: BaseException | None = None
        self.fps = fps
        self.video = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        # ultrafast: the encoder shares two cores with the software rasteriser.
        self.video.options = {"crf": str(crf), "preset": "ultrafast", "tune": "animation"}
        self.sound = None
        if audio is not None:
            rate = audio.sample_rate if audio.sample_rate in AAC_RATES else 48000
            self.sound = container.add_stream("aac", rate=rate)
            self.sound.layout = "mono" if audio.channels == 1 else "stereo"
            self.sound.bit_rate = 160_000
            self.samples = _planar(audio, rate)
            self.sent = 0

    def run(self) -> None:
        index, frame = 0, None
        try:
            while (frame := self.queue.get()) is not None:
                frame.pts = index
                index += 1
                self.container.mux(self.video.encode(frame))
                self._sound_until(index / self.fps)
            self.container.mux(self.video.encode(None))
            self._sound_until(None)
        except BaseException as exc:   # raised again on the rendering thread
            self.error = exc
            while frame is not None:       # drain to the end mark so the renderer never blocks
                frame = self.queue.get()

    def _sound_until(self, seconds: float | None) -> None:
        if self.sound is None:
            return
        total = self.samples.shape[1]
        end = total if seconds is None else min(total, int(seconds * self.sound.rate))
        if end > self.sent:
            chunk = np.ascontiguousarray(self.samples[:, self.sent:end])
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=self.sound.layout.name)
            frame.sample_rate, frame.pts = self.sound.rate, self.sent
            self.sent = end
            self.container.mux(self.sound.encode(frame))
        if seconds is None:
            self.container.mux(self.sound.encode(None))


def _planar(audio: Audio, rate: int) -> np.ndarray:
    """channels x samples float32 at `rate`, surround folded down to stereo."""
    x = audio.samples
    if x.shape[1] > 2:          # odd channels to the left, even to the right
        x = np.stack([x[:, 0::2].mean(axis=1), x[:, 1::2].mean(axis=1)], axis=1)
    if rate != audio.sample_rate:
        x = resample_poly(x, rate, audio.sample_rate, axis=0)
    return np.ascontiguousarray(np.clip(x, -1, 1).T, dtype=np.float32)
