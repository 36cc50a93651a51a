"""Autosave and recovery: unsaved work survives a crash or a kill.

While a project has unsaved changes the window writes it, every AUTOSAVE_S seconds, to
`<cache>/autosave/<name>-<hash of its path>.avtp` (atomically, like every save) with a small
JSON note beside it saying where the project lives. A clean close or a save removes both. At
start-up, autosaves left behind are offered for recovery, newest first.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from core.fileio import atomic_write
from core.project import Project, save_project

AUTOSAVE_S = 30


def autosave_dir() -> Path:
    base = os.environ.get("AVITALK_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "avi-talking-studio")
    return Path(base) / "autosave"


@dataclass
class Recovery:
    path: Path                 # the autosaved project
    original: str | None       # where the user's project lives (None: never saved)
    saved_at: float            # time.time() of the autosave


_SESSION = f"untitled-{os.getpid()}-{int(time.time())}"     # this run's unsaved projects


def slot(original: str | os.PathLike | None, folder: Path | None = None) -> Path:
    """The autosave file for a project saved at `original` (None: an unsaved new project, one
    file per running studio, so two studios never overwrite each other's unsaved work)."""
    name = Path(original).stem if original else "untitled"
    digest = hashlib.sha1(str(Path(original).resolve() if original else _SESSION).encode()).hexdigest()[:10]
    return (folder or autosave_dir()) / f"{name}-{digest}.avtp"


def write(project: Project, original: str | os.PathLike | None, folder: Path | None = None) -> Path:
    path = slot(original, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_project(project, path)
    with atomic_write(path.with_suffix(".json")) as f:
        f.write(json.dumps({"original": str(original) if original else None, "saved_at": time.time()}).encode())
    return path


def discard(original: str | os.PathLike | None, folder: Path | None = None) -> None:
    path = slot(original, folder)
    path.unlink(missing_ok=True)
    path.with_suffix(".json").unlink(missing_ok=True)


def pending(folder: Path | None = None) -> list[Recovery]:
    """Autosaves left by a session that did not close cleanly, newest first."""
    folder = folder or autosave_dir()
    out = []
    for p in folder.glob("*.avtp") if folder.is_dir() else []:
        try:
            note = json.loads(p.with_suffix(".json").read_text())
        except (OSError, ValueError):
            note = {"original": None, "saved_at": p.stat().st_mtime}
        out.append(Recovery(p, note.get("original"), float(note.get("saved_at", p.stat().st_mtime))))
    return sorted(out, key=lambda r: -r.saved_at)
