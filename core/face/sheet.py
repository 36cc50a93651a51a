"""Face sheet: one labelled picture per ARKit blendshape at full weight, beside the neutral.

`make_sheet(path)` renders the neutral face and the 52 shapes with the project's offscreen
renderer (core.render) into one PNG grid (53 tiles). The CLI (`avitalk face sheet`) calls it.
`shape_visibility()` measures how much each shape shows on it: the share of a tile's pixels
whose grey level changes by more than 20 (of 255) against the neutral tile; `visibility_target()`
is what each shape should reach.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from core.arkit import BLENDSHAPES, NUM_CHANNELS
from core.face.rig import FaceRig

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")
LABEL_HEIGHT_FRACTION = 0.12


def _font(size: int) -> ImageFont.ImageFont:
    for d in FONT_DIRS:
        path = Path(d) / "DejaVuSans.ttf"
        if path.exists():
            return ImageFont.truetype(str(path), size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def sheet_tiles(rig: FaceRig) -> list[tuple[str, np.ndarray]]:
    """(label, 55-value frame) for the neutral face and each blendshape at full weight."""
    tiles = [("neutral", np.zeros(NUM_CHANNELS, np.float32))]
    for i, name in enumerate(BLENDSHAPES):
        v = np.zeros(NUM_CHANNELS, np.float32)
        v[i] = 1.0
        if name == "mouthClose":
            # mouthClose is defined on top of jawOpen (lips sealed with the jaw open)
            v[BLENDSHAPES.index("jawOpen")] = 1.0
            name = "mouthClose+jawOpen"
        tiles.append((name, v))
    return tiles


VISIBLE_GREY_STEP = 20


def visibility_target(name: str) -> float | None:
    """The least share of its tile a shape should change (issue 15): 2 % for the mouth, jaw, cheek
    and tongue shapes, 0.6 % for the eye, brow and nose ones; none for the eye-look shapes, which
    only turn the eyeball."""
    if name.startswith("eyeLook"):
        return None
    return 0.02 if name.startswith(("mouth", "jaw", "cheek", "tongue")) else 0.006


def render_tiles(rig: FaceRig, size: int = 256) -> list[tuple[str, np.ndarray]]:
    """(label, RGB image) for every sheet tile, framed as the sheet frames them."""
    from core.render.offscreen import OffscreenRenderer
    from core.render.renderer import default_camera

    with OffscreenRenderer(rig, size, size) as renderer:
        camera = default_camera(rig, aspect=1.0, margin=1.02)
        return [(label, renderer.render(values, camera)) for label, values in sheet_tiles(rig)]


def shape_visibility(rig: FaceRig | None = None, size: int = 256) -> dict[str, float]:
    """Per shape: the share of its tile's pixels (0..1) that differ from the neutral tile by more
    than VISIBLE_GREY_STEP grey levels."""
    if rig is None:
        from core.face import load_rig
        rig = load_rig()
    tiles = render_tiles(rig, size)
    grey = [(label, img[..., :3].astype(np.float32) @ np.float32([0.299, 0.587, 0.114])) for label, img in tiles]
    neutral = grey[0][1]
    return {label.split("+")[0]: float((np.abs(g - neutral) > VISIBLE_GREY_STEP).mean()) for label, g in grey[1:]}


def make_sheet(path: str | Path, rig: FaceRig | None = None, size: int = 256,
               columns: int = 9) -> Path:
    """Render the face sheet to `path` (PNG). `size` is the width of one tile in pixels.

    Returns the path written. Tiles are laid out row by row: neutral, then the 52 shapes
    in ARKit order, each labelled with its name.
    """
    if rig is None:
        from core.face import load_rig
        rig = load_rig()
    tiles = render_tiles(rig, size)
    label_h = max(14, int(size * LABEL_HEIGHT_FRACTION))
    rows = math.ceil(len(tiles) / columns)
    sheet = Image.new("RGB", (columns * size, rows * (size + label_h)), (24, 26, 30))
    draw = ImageDraw.Draw(sheet)
    font = _font(max(9, int(label_h * 0.62)))
    for k, (label, img) in enumerate(tiles):
        x, y = (k % columns) * size, (k // columns) * (size + label_h)
        sheet.paste(Image.fromarray(np.ascontiguousarray(img)), (x, y))
        box = draw.textbbox((0, 0), label, font=font)
        tw = box[2] - box[0]
        draw.text((x + (size - tw) / 2, y + size + (label_h - (box[3] - box[1])) / 2 - box[1]),
                  label, fill=(230, 230, 230), font=font)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path)
    return path
