"""The bundled demo take (resources/demo): a short speech with a procedural performance."""

from __future__ import annotations

from importlib.resources import as_file, files

from core.audio import Audio, load_audio
from core.export.livelink import read_livelink_csv
from core.track import DEFAULT_FPS, FaceTrack


def demo_take(fps: float = DEFAULT_FPS) -> tuple[FaceTrack, Audio]:
    """The demo animation at `fps` and its sound (made by scripts/make_demo.py)."""
    folder = files("resources").joinpath("demo")
    with as_file(folder.joinpath("demo.csv")) as csv_path, as_file(folder.joinpath("demo.wav")) as wav_path:
        return read_livelink_csv(csv_path, fps=fps), load_audio(wav_path)
