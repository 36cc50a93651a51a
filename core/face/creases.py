"""Shading the shapes drive: creases, folds, blanching and highlights, per skin vertex.

A face reads through what its skin does, not only through how far it moves: a smile deepens the
nasolabial fold and bulges the cheek, a sneer wrinkles the nose, a raised brow lines the forehead,
pressed lips blanch. Film rigs drive wrinkle maps from the shape weights (MetaHuman's do); the
preview head does the same per vertex: each shape carries a colour offset per vertex (RGB, linear),
blended with the same weights as the positions and added to the base colour by the renderer.
Exported files carry the geometry only.

`crease_colors(points, base)` gives the offsets of the symmetric shapes and the Left ones on the
subdivided skin (the build mirrors Left onto Right). Creases are drawn on the front of the face
as tapered lines in the canonical frame (cm; X to the subject's left, Y up, Z to the viewer).
`tension_colors(points, triangles, deltas, base)` adds what every shape's own geometry does to the
skin, as tension maps do: where a shape compresses the skin (the area around a vertex shrinks) it
bunches and darkens, where it stretches it pales and catches light.
"""

from __future__ import annotations

import numpy as np

from core.face.palette import HIGHLIGHT_RGB, LIP_BLANCH_RGB, SKIN_RGB



def _line(p: np.ndarray, points, width: float, taper: bool = True) -> np.ndarray:
    """0..1 along a polyline (x, y pairs) on the front of the face, `width` cm (sigma) wide,
    fading towards both ends when `taper`."""
    pts = np.asarray(points, float)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    t = np.linspace(0.0, s[-1], max(8, int(s[-1] / 0.05)))
    line = np.stack([np.interp(t, s, pts[:, 0]), np.interp(t, s, pts[:, 1])], 1)
    reach = 4.0 * width
    lo, hi = line.min(0) - reach, line.max(0) + reach
    inside = np.flatnonzero((p[:, 2] > 0.0) & (p[:, :2] >= lo).all(1) & (p[:, :2] <= hi).all(1))
    d2 = ((p[inside, None, :2] - line[None]) ** 2).sum(-1)
    near = d2.argmin(axis=1)
    field = np.exp(-0.5 * d2[np.arange(len(inside)), near] / width ** 2)
    if taper:
        field *= np.sqrt(np.clip(np.sin(np.pi * t[near] / t[-1]), 0.0, 1.0))
    out = np.zeros(len(p))
    out[inside] = field
    return out


def _spot(p: np.ndarray, x: float, y: float, sx: float, sy: float | None = None) -> np.ndarray:
    sy = sx if sy is None else sy
    return np.exp(-0.5 * (((p[:, 0] - x) / sx) ** 2 + ((p[:, 1] - y) / sy) ** 2)) * (p[:, 2] > 0.0)


def left_side(p: np.ndarray) -> np.ndarray:
    """0 on the subject's right half of the face, 1 on the left, ramping across the midline (x = 0)."""
    return 0.5 * (1 + np.tanh(p[:, 0] / 0.45))


def _both(f, p: np.ndarray) -> np.ndarray:
    """A field drawn on the left half, mirrored onto the right (for symmetric shapes)."""
    return np.maximum(f(p), f(p * [-1.0, 1.0, 1.0]))


FOLD_TINT = np.array([0.72, 1.0, 1.1])   # a fold loses less red than green and blue: skin in shadow is warm
TENSION_GAIN = 4.0          # full effect at a strain (log area ratio) of 1 / TENSION_GAIN
TENSION_DARK = 0.6          # compressed skin: share of its colour lost
TENSION_LIGHT = 0.6         # stretched skin: share of the way to the highlight colour


def _ring_areas(p: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Per vertex: the area of the triangles around it."""
    a = 0.5 * np.linalg.norm(np.cross(p[tris[:, 1]] - p[tris[:, 0]], p[tris[:, 2]] - p[tris[:, 0]]), axis=1)
    return np.bincount(tris.ravel(), weights=np.repeat(a, 3), minlength=len(p))


def tension_colors(p: np.ndarray, tris: np.ndarray, deltas: dict[str, np.ndarray], base: np.ndarray,
                   on_top_of: dict[str, str] | None = None,
                   lighten_only: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """RGB offsets (N, 3) per shape from the strain its deltas put on the skin triangles `tris`.

    `on_top_of` names shapes defined over another one (mouthClose over jawOpen): their offset is
    the strain of the pair less the other's, so the two blended show the pair's. The shapes in
    `lighten_only` only pale where they stretch: their folds are drawn (crease_colors), and the
    area they squeeze is wider than the fold (a smile's would darken the upper lip like a moustache)."""
    rest = _ring_areas(p, tris)
    ok = rest > 1e-9

    def offset(d: np.ndarray, dark: float = TENSION_DARK) -> np.ndarray:
        ratio = np.ones(len(p))
        ratio[ok] = _ring_areas(p + d, tris)[ok] / rest[ok]
        strain = np.log(np.clip(ratio, 1e-3, None))
        compressed = np.clip(-strain * TENSION_GAIN, 0.0, 1.0)[:, None]
        stretched = np.clip(strain * TENSION_GAIN, 0.0, 1.0)[:, None]
        return -dark * compressed * base * FOLD_TINT \
            + TENSION_LIGHT * stretched * (HIGHLIGHT_RGB - base)

    out = {name: offset(d, 0.0 if name in lighten_only else TENSION_DARK) for name, d in deltas.items()}
    for name, under in (on_top_of or {}).items():
        out[name] = offset(deltas[name] + deltas[under]) - out[under]
    return {k: v.astype(np.float32) for k, v in out.items()}


def crease_colors(p: np.ndarray, base: np.ndarray, lip: np.ndarray) -> dict[str, np.ndarray]:
    """RGB offsets (N, 3) per shape for skin points p (N, 3) with base colours (N, 3) and the
    lip-red weight (N,); symmetric shapes and the Left ones only."""

    def dark(field: np.ndarray, k: float, over: np.ndarray | None = None) -> np.ndarray:
        """A crease: darker, redder; `over` an offset already applied (a blanched lip's seam
        darkens the blanched colour)."""
        colour = base if over is None else base + over
        return -k * field[:, None] * colour * FOLD_TINT

    def tint(field: np.ndarray, rgb, k: float) -> np.ndarray:
        return k * field[:, None] * (np.asarray(rgb) - base)

    fold = _line(p, [(1.85, -0.35), (2.35, -1.5), (2.85, -2.9), (3.15, -4.2), (3.25, -5.3)], 0.24)
    fold_top = _line(p, [(1.85, -0.35), (2.3, -1.4), (2.65, -2.5)], 0.22)
    under_eye = _line(p, [(2.2, 1.95), (3.2, 1.7), (4.4, 2.15)], 0.2)
    crow = sum(_line(p, [(4.75, 2.7 + dy * 0.35), (5.9, 2.7 + dy * 0.9)], 0.24) for dy in (-1, 1)) * 0.7
    lid_crease = _line(p, [(2.05, 3.45), (3.2, 3.75), (4.35, 3.4)], 0.2)
    upper_lid = _spot(p, 3.2, 3.3, 1.1, 0.38)
    lash = _line(p, [(2.0, 2.95), (2.7, 3.17), (3.7, 3.11), (4.3, 2.9)], 0.09, taper=False) * (np.abs(p[:, 0] - 3.2) < 1.35)
    # closed, the upper lashes lie down over the lower lid: a dark fringe below the closed line
    lash_fringe = _line(p, [(1.95, 2.32), (2.7, 2.12), (3.2, 2.08), (3.7, 2.15), (4.3, 2.42)], 0.13)
    cheek = _spot(p, 3.7, -1.6, 1.2, 1.0)
    corner = _spot(p, 2.75, -4.45, 0.3, 0.4)
    left = left_side(p)
    left_lips = lip * left
    upper_lip = lip * (p[:, 1] > -4.25)
    lower_lip = lip * (p[:, 1] <= -4.25)
    seam = _line(p, [(-2.2, -4.25), (0.0, -4.2), (2.2, -4.25)], 0.1, taper=False) * (np.abs(p[:, 0]) < 2.3)

    c: dict[str, np.ndarray] = {}
    # eyes
    c["eyeBlinkLeft"] = dark(upper_lid, 0.5) + dark(lash, 0.8) + dark(lash_fringe, 0.75)
    c["eyeSquintLeft"] = dark(under_eye, 0.65) + dark(crow, 0.6) + dark(upper_lid, 0.2)
    c["eyeWideLeft"] = dark(lid_crease, 0.8) + tint(upper_lid, HIGHLIGHT_RGB, 0.5)
    # brows
    glabella = sum(_line(p, [(x, 3.5), (x + 0.1, 5.0)], 0.2) for x in (0.38, 0.8))
    procerus = _line(p, [(-0.9, 3.35), (0.0, 3.25), (0.9, 3.35)], 0.2)
    c["browDownLeft"] = dark(glabella, 0.6) + dark(procerus * (p[:, 0] > 0), 0.5) + dark(upper_lid, 0.2)
    c["browInnerUp"] = dark(sum(_line(p, [(-2.6, y - 0.3), (0.0, y + 0.25), (2.6, y - 0.3)], 0.2)
                                for y in (6.1, 7.2)), 0.45) \
        + dark(_both(lambda q: _line(q, [(0.45, 4.9), (0.9, 5.8)], 0.2), p), 0.4)
    c["browOuterUpLeft"] = dark(sum(_line(p, [(0.6, y + 0.25), (2.6, y + 0.1), (4.7, y - 0.5)], 0.2)
                                    for y in (6.0, 7.1)), 0.45)
    # nose and cheeks
    bunny = sum(_line(p, [(0.45, y + 0.7), (1.35, y)], 0.2) for y in (1.0, 1.9))
    c["noseSneerLeft"] = dark(bunny, 0.8) + dark(fold_top, 0.6) + dark(_spot(p, 1.95, -0.75, 0.3), 0.4) \
        + dark(procerus * (p[:, 0] > 0), 0.35)
    # the lifted cheek (its tension lights the apple): a shadowed crescent under it, a deeper tear trough
    malar = _line(p, [(1.9, -0.6), (3.0, -1.3), (4.3, -1.3), (5.4, -0.5)], 0.36)
    tear_trough = _line(p, [(1.7, 1.9), (2.2, 1.0), (3.0, 0.5)], 0.22)
    c["cheekSquintLeft"] = dark(under_eye, 0.6) + dark(crow, 0.6) \
        + dark(malar, 0.5) + dark(tear_trough, 0.45)
    c["cheekPuff"] = tint(_both(lambda q: _spot(q, 4.0, -3.2, 1.2, 1.1), p), HIGHLIGHT_RGB, 0.75) \
        + tint(_both(lambda q: _line(q, [(2.3, -1.5), (3.2, -4.4)], 0.45), p), HIGHLIGHT_RGB, 0.5) \
        + dark(_both(lambda q: _spot(q, 2.6, -4.4, 0.25), p), 0.5) + tint(lip, LIP_BLANCH_RGB, 0.4)
    # mouth
    c["mouthSmileLeft"] = dark(fold, 0.75) + tint(cheek, HIGHLIGHT_RGB, 0.8) + dark(corner, 0.6) \
        + dark(under_eye, 0.4) + dark(crow, 0.3)
    c["mouthUpperUpLeft"] = dark(fold_top, 0.75) + dark(_spot(p, 1.95, -0.75, 0.3), 0.55) \
        + dark(upper_lip * (p[:, 0] > 0), 0.3)
    c["mouthFrownLeft"] = dark(_line(p, [(2.6, -4.5), (2.85, -5.6), (3.0, -6.6)], 0.21), 0.6) \
        + dark(corner, 0.4) + dark(_spot(p, 1.2, -6.8, 0.7, 0.5), 0.25)
    c["mouthDimpleLeft"] = dark(_spot(p, 2.95, -4.4, 0.45, 0.5), 0.4) \
        + dark(_line(p, [(2.95, -2.9), (3.15, -4.4), (3.0, -5.8)], 0.3), 0.6)
    c["mouthStretchLeft"] = dark(_line(p, [(2.6, -4.3), (3.6, -4.45)], 0.2), 0.6) \
        + dark(sum(_line(p, [(2.6 + dx, -5.4), (3.1 + dx, -7.6)], 0.2) for dx in (0.0, 0.6)), 0.45) \
        + tint(lower_lip * (p[:, 0] > 0), LIP_BLANCH_RGB, 0.5)
    blanched = tint(left_lips, LIP_BLANCH_RGB, 0.7)
    c["mouthPressLeft"] = blanched + dark(seam * (p[:, 0] > 0), 0.8, blanched) \
        + dark(corner, 0.5) + dark(_line(p, [(0.2, -3.3), (1.9, -3.6)], 0.2), 0.35)
    c["mouthLeft"] = dark(_line(p, [(2.55, -3.7), (2.85, -4.4), (2.6, -5.1)], 0.21), 0.65) \
        + dark(corner, 0.45) + tint(_spot(p, -2.8, -4.4, 0.6), HIGHLIGHT_RGB, 0.4)
    perioral = _both(lambda q: sum(_line(q, [(x, -3.8), (x + 0.12, -2.95)], 0.13) for x in (0.35, 0.85, 1.35)), p) \
        + _both(lambda q: sum(_line(q, [(x, -4.85), (x + 0.12, -5.75)], 0.13) for x in (0.45, 1.0)), p)
    ring = _both(lambda q: _spot(q, 1.3, -4.25, 1.0, 0.75), p) * (1 - lip)
    c["mouthPucker"] = dark(perioral, 0.5) + dark(ring, 0.3) + dark(lip, 0.3)
    c["mouthFunnel"] = dark(perioral, 0.45) + dark(ring, 0.25) + dark(lip, 0.25)
    for name, rolled in (("mouthRollUpper", upper_lip), ("mouthRollLower", lower_lip)):
        hidden = tint(rolled, SKIN_RGB, 0.95)
        c[name] = hidden + dark(seam, 0.65, hidden)
    # the skin over the upper teeth is drawn taut and pales
    c["mouthRollUpper"] += tint(_spot(p, 0.0, -3.3, 1.9, 0.65) * (1 - lip), HIGHLIGHT_RGB, 1.0)
    chin_pits = sum(_spot(p, x, y, 0.27) for x, y in ((0.0, -7.4), (0.55, -6.9), (-0.55, -6.9),
                                                      (0.9, -7.6), (-0.9, -7.6), (0.3, -8.0), (-0.3, -8.0)))
    mentolabial = _line(p, [(-1.4, -5.75), (0.0, -6.05), (1.4, -5.75)], 0.22)
    c["mouthShrugLower"] = dark(chin_pits, 0.6) + dark(mentolabial, 0.65)
    # pressed lips bulge the skin round them, which pales as it is pushed out
    c["mouthPressLeft"] += tint(_spot(p, 1.3, -4.25, 1.9, 1.5) * (1 - lip) * left, HIGHLIGHT_RGB, 1.0)
    c["mouthShrugUpper"] = dark(_line(p, [(-0.9, -2.35), (0.0, -2.5), (0.9, -2.35)], 0.2), 0.55) \
        + dark(_both(lambda q: _line(q, [(1.85, -0.35), (2.4, -1.8)], 0.22), p), 0.4) + dark(upper_lip, 0.2)
    c["mouthLowerDownLeft"] = dark(lower_lip * (p[:, 0] > 0), 0.35) \
        + dark(_line(p, [(0.2, -6.0), (1.6, -5.7)], 0.22), 0.5)
    # jaw
    c["jawForward"] = tint(mentolabial, HIGHLIGHT_RGB, 0.6) + tint(_spot(p, 0.0, -7.6, 1.1, 0.8), HIGHLIGHT_RGB, 0.5) \
        + dark(_both(lambda q: _line(q, [(3.2, -8.3), (5.5, -6.5)], 0.33), p), 0.4)
    # a full crease goes at most to black, a highlight at most to white
    return {k: np.clip(v, -base, 1.0 - base).astype(np.float32) for k, v in c.items()}
