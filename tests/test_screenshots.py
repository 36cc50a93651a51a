"""The user guide's screenshots: scripts/make_screenshots.py run as documented (under xvfb-run,
into a temporary folder) makes every picture at the fixed size with something on it, and
docs/guide.md shows only pictures the script makes."""

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_screenshots.py"
GUIDE = ROOT / "docs" / "guide.md"


def _script():
    spec = importlib.util.spec_from_file_location("make_screenshots", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)          # no Qt at import time: only the list of pictures
    return module


shots = _script()


def guide_images() -> list[str]:
    text = GUIDE.read_text(encoding="utf-8")
    return re.findall(r"!\[[^\]]*\]\(([^)\s]+)", text) + re.findall(r"<img[^>]*\bsrc=\"([^\"]+)\"", text)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("images")
    command = [sys.executable, str(SCRIPT), "--out", str(out)]
    if shutil.which("xvfb-run"):          # as the script's docstring runs it, on a 24-bit screen of its own
        command = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"] + command
    elif not os.environ.get("DISPLAY"):
        pytest.skip("no xvfb-run and no display")
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    return out


def test_every_screenshot_is_made_at_the_fixed_size_and_shows_something(made):
    assert sorted(p.name for p in made.iterdir()) == sorted(shots.SHOTS)
    for name in shots.SHOTS:
        image = Image.open(made / name)
        assert image.size == (shots.WIDTH, shots.HEIGHT), name
        pixels = np.asarray(image.convert("RGB"), dtype=float)
        assert pixels.std() > 30, f"{name} is (nearly) blank"
        # the 3D viewport (top left) holds the face, not an empty or black frame
        face = pixels[shots.HEIGHT // 6: shots.HEIGHT // 2, shots.WIDTH // 6: shots.WIDTH // 2]
        assert face.std() > 15 and face.mean() > 60, f"{name}: no face in the viewport"


def test_the_regeneration_is_pictured_halfway_and_the_result_differs(made):
    busy = np.asarray(Image.open(made / "emotion-regenerating.png").convert("RGB"), dtype=int)
    done = np.asarray(Image.open(made / "emotion-done.png").convert("RGB"), dtype=int)
    before = np.asarray(Image.open(made / "inspector.png").convert("RGB"), dtype=int)
    face = (slice(shots.HEIGHT // 6, shots.HEIGHT // 2), slice(shots.WIDTH // 6, shots.WIDTH // 2))
    # while regenerating the old motion still plays; once done the face at the same moment changed
    assert np.array_equal(busy[face], before[face])
    assert np.abs(done[face] - busy[face]).sum(axis=2).astype(bool).mean() > 0.01


def test_the_guide_shows_only_pictures_the_script_makes():
    used = guide_images()
    assert used, "docs/guide.md shows no screenshots"
    for ref in used:
        assert ref.startswith("images/") and ref[len("images/"):] in shots.SHOTS, ref
    assert set(shots.SHOTS) <= {ref[len("images/"):] for ref in used}, "a screenshot the guide never shows"
    # and the committed pictures are exactly the script's
    committed = sorted(p.name for p in (ROOT / "docs" / "images").glob("*.png"))
    assert committed == sorted(shots.SHOTS)
