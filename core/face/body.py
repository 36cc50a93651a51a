"""The preview's neck and shoulders: a still body under the moving head.

Drawn by the renderer without the head's rotation, so the head turns on the neck as a person's
does; its top ends inside the head around the rig's pivot (the top of the neck), which keeps the
join hidden at any head angle the motion produces. Preview only: the exports carry the head.
Built procedurally from elliptical (then squarer, for the shoulders) cross sections; a crew-neck
shirt covers the shoulders.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from core.face.palette import SHIRT_RGB, SKIN_RGB
from core.face.rig import vertex_normals


# (height y, centre z, half width x, half depth z, squareness exponent) from the top down, cm
SECTIONS = (
    (-3.5, -6.6, 4.6, 3.8, 2.0),       # the throat stays behind the open mouth (z < -2)
    (-9.0, -6.0, 5.7, 3.9, 2.0),
    (-12.0, -5.4, 6.0, 4.6, 2.0),
    (-15.0, -5.2, 6.8, 5.6, 2.2),
    (-17.0, -5.0, 11.0, 7.0, 2.6),
    (-19.0, -5.2, 16.0, 8.4, 3.0),
    (-22.0, -5.4, 19.5, 9.6, 3.4),
    (-27.0, -5.4, 21.0, 10.4, 3.6),
    (-40.0, -5.4, 21.5, 10.8, 3.6),
)
AROUND = 48


@dataclass
class Body:
    vertices: np.ndarray    # (V, 3) float32, cm, in the rig's frame
    normals: np.ndarray     # (V, 3) float32
    triangles: np.ndarray   # (T, 3) uint32, counter-clockwise seen from outside
    colors: np.ndarray      # (V, 3) float32 linear RGB


@functools.lru_cache(maxsize=1)
def build_body() -> Body:
    """The body (built once per process, a few milliseconds)."""
    phi = np.linspace(0.0, 2 * np.pi, AROUND, endpoint=False)
    rings = []
    for y, cz, rx, rz, n in SECTIONS:
        c, s = np.cos(phi), np.sin(phi)
        x = rx * np.sign(s) * np.abs(s) ** (2.0 / n)          # superellipse: squarer shoulders
        z = cz + rz * np.sign(c) * np.abs(c) ** (2.0 / n)
        rings.append(np.stack([x, np.full(AROUND, y), z], 1))
    v = np.concatenate(rings)
    tris = []
    for k in range(len(rings) - 1):
        a = k * AROUND + np.arange(AROUND)
        a2 = k * AROUND + (np.arange(AROUND) + 1) % AROUND
        b, b2 = a + AROUND, a2 + AROUND
        tris += [np.stack([a, a2, b], 1), np.stack([a2, b2, b], 1)]
    t = np.concatenate(tris)
    # outwards: away from the axis at the triangle's height
    p0, p1, p2 = (v[t[:, i]] for i in range(3))
    centre = (p0 + p1 + p2) / 3
    axis = np.stack([np.zeros(len(t)), centre[:, 1], np.interp(-centre[:, 1], [-s[0] for s in SECTIONS],
                                                              [s[1] for s in SECTIONS])], 1)
    flip = np.einsum("ij,ij->i", np.cross(p1 - p0, p2 - p0), centre - axis) < 0
    t[flip] = t[flip][:, ::-1]
    # a crew neck: the shirt covers all but the neck, whose base it hugs, lower at the front
    front = np.cos(phi)[None].repeat(len(rings), 0).reshape(-1)
    neckline = -14.6 - 1.8 * np.clip(front, 0.0, 1.0)
    spread = np.hypot(v[:, 0] / 7.2, (v[:, 2] + 5.2) / 6.3)          # 1 at the neck's base
    shirt = np.clip(np.maximum((neckline - v[:, 1]) / 0.4, (spread - 1.0) / 0.08) + 0.5, 0.0, 1.0)
    shirt = shirt[:, None] * (v[:, 1] < -13.0)[:, None]
    rgb = SKIN_RGB * (1 - shirt) + SHIRT_RGB * shirt
    return Body(v.astype(np.float32), vertex_normals(v, t).astype(np.float32), t.astype(np.uint32),
                rgb.astype(np.float32))
