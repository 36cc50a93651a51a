"""The bundled demo project (resources/demo/demo.avtp, made by scripts/make_demo.py): six lines
of speech in six moods, their instructions and the shipped model's motion.

    project = demo_project()              # read from the package; never written to
    path = demo_copy()                    # ~/AVI-Talking/demo.avtp, the copy a user may edit
"""

from __future__ import annotations

import shutil
from importlib.resources import as_file, files
from pathlib import Path

from core.audio import Audio
from core.project import Project, load_project
from core.track import FaceTrack

NAME = "demo.avtp"


def _packaged():
    return files("resources").joinpath("demo", NAME)


def demo_project() -> Project:
    """The bundled demo project."""
    with as_file(_packaged()) as path:
        return load_project(path)


def demo_take() -> tuple[FaceTrack, Audio]:
    """The demo's generated performance and its sound."""
    project = demo_project()
    return project.main_track, project.audio


def demo_copy(folder: Path | None = None) -> Path:
    """The user's copy of the demo project in `folder` (default ~/AVI-Talking), made from the
    bundled one when it is not there yet; an existing copy (perhaps edited) is kept."""
    path = Path(folder or Path.home() / "AVI-Talking") / NAME
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with as_file(_packaged()) as src:
            shutil.copyfile(src, path.with_suffix(".tmp"))
        path.with_suffix(".tmp").replace(path)
    return path
