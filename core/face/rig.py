"""FaceRig: a neutral mesh, its 52 ARKit blendshape deltas, and the head pivot.

This is the one shape every consumer (renderer, FBX/GLB writers, face sheet) reads.
Units are centimetres, Y up, Z towards the viewer (the MediaPipe canonical face frame).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.arkit import BLENDSHAPES, NUM_BLENDSHAPES

# Material parts, one id per vertex; colours live in FaceRig.colors.
PART_NAMES: tuple[str, ...] = ("skin", "eye", "iris", "teeth", "mouth", "tongue")


@dataclass
class FaceRig:
    vertices: np.ndarray        # (V, 3) float32, neutral pose, cm
    triangles: np.ndarray       # (T, 3) uint32, counter-clockwise seen from outside
    uvs: np.ndarray             # (V, 2) float32, origin at the top left (as MediaPipe, glTF)
    colors: np.ndarray          # (V, 3) float32 linear RGB base colour
    parts: np.ndarray           # (V,) uint8 index into PART_NAMES
    deltas: np.ndarray          # (52, V, 3) float32 offset at full weight, BLENDSHAPES order
    pivot: np.ndarray           # (3,) float32 head rotation centre (top of the neck), cm
    names: tuple[str, ...] = BLENDSHAPES
    shading: np.ndarray | None = None   # (52, V, 3) float32 colour offset at full weight (creases,
                                        # core.face.creases); drawn by the renderer, not exported
    face_box: np.ndarray | None = None  # (2, 3) lowest and highest corner of the face (brow to chin,
                                        # cheek to cheek) for the default camera; None: from the skin

    def __post_init__(self) -> None:
        v = len(self.vertices)
        assert self.vertices.shape == (v, 3)
        assert self.deltas.shape == (NUM_BLENDSHAPES, v, 3)
        assert self.uvs.shape == (v, 2) and self.colors.shape == (v, 3) and self.parts.shape == (v,)
        assert self.triangles.ndim == 2 and self.triangles.shape[1] == 3
        if self.shading is None:
            self.shading = np.zeros((NUM_BLENDSHAPES, v, 3), np.float32)
        assert self.shading.shape == (NUM_BLENDSHAPES, v, 3)
        # (52, V*3) view used by evaluate(): one matrix product for any number of frames.
        self._basis = np.ascontiguousarray(self.deltas.reshape(NUM_BLENDSHAPES, -1), dtype=np.float32)

    @property
    def num_vertices(self) -> int:
        return len(self.vertices)

    def evaluate(self, weights: np.ndarray) -> np.ndarray:
        """Vertices for blendshape weights (52,) -> (V, 3), or (F, 52) -> (F, V, 3)."""
        w = np.asarray(weights, dtype=np.float32)
        if w.ndim == 1:
            weights, basis = active_rows(w, self._basis)
            return (weights @ basis).reshape(-1, 3) + self.vertices
        flat = w.reshape(-1, NUM_BLENDSHAPES) @ self._basis
        out = flat.reshape(-1, self.num_vertices, 3) + self.vertices
        return out[0] if w.ndim == 1 else out


def active_rows(weights: np.ndarray, basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The weights and basis rows one frame's blend needs: only the shapes in use when they are
    few; all of them when many are (picking rows copies them, which costs more than multiplying
    the zeros: 1.5 against 0.3 ms for 46 of the 52 on the preview head)."""
    active = np.flatnonzero(weights)
    if 4 * len(active) > len(weights):
        return weights, basis
    return weights[active], basis[active]


def head_rotation(pitch: float, yaw: float, roll: float) -> np.ndarray:
    """3x3 rotation for head angles: R = Ry(yaw) @ Rx(pitch) @ Rz(roll), right-handed.

    With Y up and Z towards the viewer: positive pitch looks down, positive yaw turns the
    nose towards the subject's left (+X), positive roll tilts the crown towards -X.
    """
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    cr, sr = np.cos(roll), np.sin(roll)
    rx = np.array([[1, 0, 0], [0, cp, -sp], [0, sp, cp]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cr, -sr, 0], [sr, cr, 0], [0, 0, 1]])
    return (ry @ rx @ rz).astype(np.float32)


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (float64); a vertex on no triangle gets +Z."""
    v = np.asarray(vertices, dtype=np.float64)
    t = np.asarray(triangles, dtype=np.int64)
    face = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    n = np.zeros_like(v)
    idx = t.reshape(-1)
    for c in range(3):
        n[:, c] = np.bincount(idx, weights=np.repeat(face[:, c], 3), minlength=len(v))
    length = np.linalg.norm(n, axis=1)
    bad = length < 1e-20
    n[bad] = (0.0, 0.0, 1.0)
    length[bad] = 1.0
    return n / length[:, None]


def front_bounds(points: np.ndarray) -> np.ndarray:
    """(2, 3) lowest and highest corner of the points in the nearer half of their depth (the face
    in front of the ears, for framing it)."""
    depth = points[:, 2]
    ahead = depth[depth > 0] if (depth > 0).any() else depth
    front = points[depth > depth.max() - 0.5 * np.ptp(ahead)]
    return np.stack([front.min(axis=0), front.max(axis=0)]).astype(np.float32)
