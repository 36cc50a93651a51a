"""Build the preview head's FaceRig from the MediaPipe canonical face mesh.

Steps (all deterministic, about 0.2 s):
1. Cut the sheet: drop the triangles that fill the mouth opening (inside the inner-lip
   contour) and the eye openings (inside the eyelid contours). The inner upper and lower
   lip contours are already distinct vertices, joined only at the mouth corners.
2. Close the neutral mouth (the canonical lips are 5 mm apart) and add a coarse back of the
   head (an ellipsoidal cap from the face oval to a pole behind the head).
3. Build skin blendshapes on this coarse mesh: smooth displacement fields from Gaussian
   falloffs around landmarks and harmonic (Laplace) interpolation over the cut mesh, so
   that upper-lip and lower-lip regions (and eyelids) move independently.
4. Loop-subdivide twice; subdivision is linear, so neutral and deltas are both S @ coarse.
5. Add eyelid margins and eyeballs (sclera + iris), the mouth bag, teeth and tongue, with
   their own deltas (jaw rotation about a hinge, eye rotation about the eye centre).
6. Right-side shapes are exact mirror images of the Left ones (Left = subject's left = +X).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse

from core.arkit import BLENDSHAPES, mirror_name
from core.face import landmarks as lm
from core.face.creases import crease_colors, left_side, tension_colors
from core.face.palette import (BROW_RGB, EAR_RGB, GUM_RGB, HAIR_RGB, IRIS_RGB, LASH_RGB, LIP_RGB,
                               MOUTH_RGB, PUPIL_RGB, SCLERA_RGB, SKIN_RGB, TEETH_RGB, TONGUE_RGB)
from core.face.mesh import (boundary_loops, graph_laplacian, harmonic, load_canonical,
                            loop_subdivision, mirror_field, mirror_map)
from core.face.rig import PART_NAMES, FaceRig, front_bounds

SKIN, EYE, IRIS, TEETH, MOUTH, TONGUE = (PART_NAMES.index(n) for n in
                                        ("skin", "eye", "iris", "teeth", "mouth", "tongue"))

# Anatomy (cm, canonical frame: X to the subject's left, Y up, Z towards the viewer).
JAW_HINGE = np.array([0.0, 0.2, -2.6])     # temporomandibular joint axis (along X)
JAW_OPEN_DEG = 24.0
JAW_GLIDE = np.array([0.0, -0.8, 0.6])      # condylar translation at full jawOpen
JAW_FORWARD_OPEN = 0.12                     # share of jawOpen that jawForward brings
EYE_RADIUS = 1.2
IRIS_RADIUS = 0.6
PUPIL_RADIUS = 0.22
EYE_OPEN_DEG = (9.0, 3.0)       # neutral lids turned open from the canonical face's: upper, lower
EYE_LOOK_DEG = 26.0
HEAD_PIVOT = np.array([0.0, -6.0, -4.0])   # top of the neck
HEAD_CENTRE = np.array([0.0, 1.5, -4.0])   # ellipsoid for the back of the head
HEAD_RADII = np.array([7.9, 10.8, 10.0])

EAR_CENTRE = np.array([7.45, 0.7, -3.6])    # the left ear (+X); the right one is its mirror
EAR_RADII = np.array([0.75, 3.0, 1.75])
EAR_TILT_DEG = 14.0                          # top leaning back
# Hairline height (cm) by the angle around the head's vertical axis (0 = front, 180 = back):
# high on the forehead, lower at the temples, above the ears, down to the nape behind.
HAIRLINE = ((0.0, 8.7), (35.0, 8.1), (62.0, 6.0), (85.0, 4.2), (110.0, 3.6), (140.0, -3.0), (180.0, -4.2))
HAIR_THICKNESS = 0.55

SUBDIVISIONS = 2
CREASE_DEPTH = 0.6        # the most a crease darkens skin (a share of its colour)


# --------------------------------------------------------------------------- helpers
def rot_x(deg: float) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def rot_y(deg: float) -> np.ndarray:
    a = np.radians(deg)
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def rotation_delta(p: np.ndarray, centre: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Offset that rotates points p by r about centre."""
    q = p - centre
    return q @ r.T - q


def jaw_open_delta(p: np.ndarray) -> np.ndarray:
    """Full jawOpen for points carried by the mandible: rotation about the hinge plus the
    condyle's glide forward and down the articular eminence."""
    return rotation_delta(p, JAW_HINGE, rot_x(JAW_OPEN_DEG)) + JAW_GLIDE


def jaw_forward_delta(p: np.ndarray) -> np.ndarray:
    """Full jawForward: the mandible slides 7.5 mm forward, dropping a little (about 3 degrees of
    opening) so that the lower incisors clear the upper ones, as protrusion does."""
    return np.array([0.0, -0.1, 0.75]) + JAW_FORWARD_OPEN * jaw_open_delta(p)


def blob(p: np.ndarray, c, sx: float, sy: float | tuple[float, float], sz: float | None = None) -> np.ndarray:
    """Anisotropic Gaussian falloff around c; sy may be (sigma above, sigma below)."""
    d = p - np.asarray(c, float)
    sy_up, sy_dn = (sy, sy) if np.isscalar(sy) else sy
    syy = np.where(d[:, 1] > 0, sy_up, sy_dn)
    sz = sx if sz is None else sz
    return np.exp(-0.5 * ((d[:, 0] / sx) ** 2 + (d[:, 1] / syy) ** 2 + (d[:, 2] / sz) ** 2))


def smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


# --------------------------------------------------------------------------- coarse mesh
def _cut_triangles(tris: np.ndarray) -> np.ndarray:
    """Drop triangles whose three corners all lie on one opening's contour."""
    keep = np.ones(len(tris), bool)
    for contour in (lm.LIPS_INNER_UPPER + lm.LIPS_INNER_LOWER,
                    lm.LEFT_EYE_UPPER + lm.LEFT_EYE_LOWER,
                    lm.RIGHT_EYE_UPPER + lm.RIGHT_EYE_LOWER):
        keep &= ~np.isin(tris, contour).all(axis=1)
    return tris[keep]


def _head_cap(p: np.ndarray, rings: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and triangles closing the face oval into a head (indices continue p)."""
    oval = np.array(lm.FACE_OVAL)
    n, base = len(oval), len(p)
    q = (p[oval] - HEAD_CENTRE) / HEAD_RADII
    r0 = np.linalg.norm(q, axis=1)
    u0 = q / r0[:, None]
    back = np.array([0.0, 0.0, -1.0])
    verts = []
    for k in range(1, rings):
        t = k / rings
        # slerp each oval direction towards the back pole
        cosang = np.clip(u0 @ back, -1, 1)
        ang = np.arccos(cosang)
        sa = np.sin(ang)
        u = (np.sin((1 - t) * ang)[:, None] * u0 + np.sin(t * ang)[:, None] * back) / sa[:, None]
        r = 1 + (r0 - 1) * (1 - t) ** 2
        verts.append(HEAD_CENTRE + u * r[:, None] * HEAD_RADII)
    verts.append((HEAD_CENTRE + back * HEAD_RADII)[None])
    verts = np.concatenate(verts)
    ring_idx = [oval] + [base + k * n + np.arange(n) for k in range(rings - 1)]
    tris = []
    # quads split along mirror-symmetric diagonals (the oval starts at the midline)
    half = (np.arange(n) < n // 2)[:, None]
    for a, b in zip(ring_idx[:-1], ring_idx[1:]):
        a2, b2 = np.roll(a, -1), np.roll(b, -1)
        t1 = np.where(half, np.stack([a, b, a2], 1), np.stack([a, b, b2], 1))
        t2 = np.where(half, np.stack([a2, b, b2], 1), np.stack([a, b2, a2], 1))
        tris += [t1, t2]
    pole = base + len(verts) - 1
    last = ring_idx[-1]
    tris.append(np.stack([last, np.full(n, pole), np.roll(last, -1)], 1))
    tris = np.concatenate(tris)
    # orient outwards
    allp = np.concatenate([p, verts])
    a, b, c = (allp[tris[:, i]] for i in range(3))
    nrm = np.cross(b - a, c - a)
    if np.mean(np.einsum("ij,ij->i", nrm, (a + b + c) / 3 - HEAD_CENTRE)) < 0:
        tris = tris[:, ::-1]
    return verts, tris


class Coarse:
    """The cut canonical mesh plus the head cap, with the fields the shapes are built from."""

    def __init__(self) -> None:
        can = load_canonical()
        p_open = can.vertices.astype(np.float64)
        tris = _cut_triangles(can.triangles.astype(np.int64))
        cap_v, cap_t = _head_cap(p_open, rings=8)
        self.n_face = len(p_open)
        self.p_open = np.concatenate([p_open, cap_v])
        self.tris = np.concatenate([tris, cap_t])
        self.uvs = np.concatenate([can.uvs, np.zeros((len(cap_v), 2), np.float32)])
        self.n = len(self.p_open)
        self.lap = graph_laplacian(self.n, self.tris)
        self.is_cap = np.arange(self.n) >= self.n_face
        self.p = self.p_open + self._lip_closure()
        self.seam_y = float(self.p[list(lm.LIPS_INNER_UPPER)][:, 1].mean())
        self.jaw = self._jaw_weight()
        self.lip_mask = self._lip_mask()
        self.eye_centre = {"L": self._eye_centre(lm.LEFT_EYE_UPPER, lm.LEFT_EYE_LOWER)}
        self.p = self.p + self._eye_opening()

    def far(self, centre, radius: float) -> np.ndarray:
        return np.flatnonzero(np.linalg.norm(self.p_open - centre, axis=1) > radius)

    def _lip_closure(self) -> np.ndarray:
        """Offsets that bring the inner lip contours together (neutral with closed lips)."""
        up, lo = np.array(lm.interior(lm.LIPS_INNER_UPPER)), np.array(lm.interior(lm.LIPS_INNER_LOWER))
        p = self.p_open
        mid = (p[up] + p[lo]) / 2
        centre = p[[13, 14]].mean(axis=0)
        far = self.far(centre, 3.2)
        fixed = np.concatenate([up, lo, list(lm.MOUTH_CORNERS_INNER), far])
        vals = np.concatenate([mid - p[up], mid - p[lo], np.zeros((2 + len(far), 3))])
        return harmonic(self.lap, fixed, vals)

    def _jaw_weight(self) -> np.ndarray:
        """1 on the part of the face the jaw carries, 0 on the skull, smooth between."""
        p = self.p_open
        one = set(lm.interior(lm.LIPS_INNER_LOWER)) | set(lm.interior(lm.LIPS_OUTER_LOWER))
        one |= set(np.flatnonzero((p[:, 1] < -6.3) & ~self.is_cap))
        one |= {i for i in lm.FACE_OVAL if p[i, 1] < -5.6}
        zero = set(lm.interior(lm.LIPS_INNER_UPPER)) | set(lm.interior(lm.LIPS_OUTER_UPPER))
        zero |= set(np.flatnonzero(p[:, 1] > -2.4))
        zero |= set(np.flatnonzero(self.is_cap & ((p[:, 2] < -6.0) | (p[:, 1] > -2.4))))
        half = set(lm.MOUTH_CORNERS_INNER) | set(lm.MOUTH_CORNERS_OUTER)
        zero -= half | one
        fixed = np.array(sorted(one) + sorted(zero) + sorted(half))
        vals = np.array([1.0] * len(one) + [0.0] * len(zero) + [0.42] * len(half))
        w = harmonic(self.lap, fixed, vals)
        return np.clip(w, 0, 1)

    def _lip_mask(self) -> np.ndarray:
        outer = set(lm.LIPS_OUTER_UPPER + lm.LIPS_OUTER_LOWER)
        adj = self.lap.tolil().rows
        # flood from the inner contour without crossing the outer one: the red of the lips
        lips, todo = set(outer), list(lm.LIPS_INNER_UPPER + lm.LIPS_INNER_LOWER)
        while todo:
            v = todo.pop()
            if v in lips:
                continue
            lips.add(v)
            todo += [u for u in adj[v] if u != v and u not in lips]
        nbr = {u for v in outer for u in adj[v] if u not in lips}
        fixed = np.array(sorted(lips) + sorted(nbr))
        vals = np.array([1.0] * len(lips) + [0.0] * len(nbr))
        # everything outside the lip ring: 0
        far = np.setdiff1d(self.far(self.p_open[[13, 14]].mean(0), 3.0), fixed)
        w = harmonic(self.lap, np.concatenate([fixed, far]), np.concatenate([vals, np.zeros(len(far))]))
        return np.clip(w, 0, 1)

    def _eye_opening(self) -> np.ndarray:
        """Offsets that open the canonical face's narrow eyes (a 0.67 cm fissure) to an adult's
        resting 0.9-1.0 cm: the upper lid turns up over the eyeball, the lower a little down."""
        out = np.zeros_like(self.p_open)
        for upper, lower, sign in ((lm.LEFT_EYE_UPPER, lm.LEFT_EYE_LOWER, 1.0),
                                   (lm.RIGHT_EYE_UPPER, lm.RIGHT_EYE_LOWER, -1.0)):
            centre = self.eye_centre["L"] * [sign, 1.0, 1.0]
            up, lo = list(lm.interior(upper)), list(lm.interior(lower))
            out += _lid_field(self, upper, lower, rotation_delta(self.p_open[up], centre, rot_x(-EYE_OPEN_DEG[0])),
                              rotation_delta(self.p_open[lo], centre, rot_x(EYE_OPEN_DEG[1])))
        return out

    def _eye_centre(self, upper, lower) -> np.ndarray:
        ring = self.p_open[list(upper) + list(lower)]
        c = ring.mean(axis=0)
        mid = self.p_open[[upper[4], lower[4]]]
        z_front = mid[:, 2].mean() - 0.12
        return np.array([c[0], c[1], z_front - EYE_RADIUS])


# --------------------------------------------------------------------------- skin shapes
def _lid_field(c: Coarse, upper, lower, up_vals, lo_vals, radius: float = 2.4) -> np.ndarray:
    """Harmonic extension of eyelid-contour offsets (corners and far skin fixed at 0)."""
    up, lo = np.array(lm.interior(upper)), np.array(lm.interior(lower))
    corners = np.array([upper[0], upper[-1]])
    centre = c.p_open[list(upper) + list(lower)].mean(0)
    far = np.setdiff1d(c.far(centre, radius), np.concatenate([up, lo, corners]))
    fixed = np.concatenate([up, lo, corners, far])
    vals = np.concatenate([up_vals, lo_vals, np.zeros((len(corners) + len(far), 3))])
    return harmonic(c.lap, fixed, vals)


def _lid_rotation(c: Coarse, upper, lower, centre, r_up, r_lo) -> np.ndarray:
    p = c.p
    up, lo = list(lm.interior(upper)), list(lm.interior(lower))
    return _lid_field(c, upper, lower, rotation_delta(p[up], centre, r_up),
                      rotation_delta(p[lo], centre, r_lo))


def coarse_skin_shapes(c: Coarse) -> dict[str, np.ndarray]:
    """Skin deltas on the coarse mesh for the symmetric shapes and the Left ones."""
    p, jaw, lipm = c.p, c.jaw[:, None], c.lip_mask[:, None]
    upper_w = 1 - jaw
    n = c.n
    z3 = np.zeros((n, 3))
    s: dict[str, np.ndarray] = {}
    ys = c.seam_y
    dy_seam = (p[:, 1] - ys)[:, None]
    mouth_c = np.array([0.0, ys, 5.0])

    # ---- eyes (left = +X)
    U, L = lm.LEFT_EYE_UPPER, lm.LEFT_EYE_LOWER
    ui, li = list(lm.interior(U)), list(lm.interior(L))
    ec = c.eye_centre["L"]
    gap = p[ui] - p[li]                                     # lower -> upper per column
    s["eyeBlinkLeft"] = _lid_field(c, U, L, -gap * 0.9, gap * 0.1)
    s["eyeSquintLeft"] = _lid_field(c, U, L, -gap * 0.12, gap * 0.5) + \
        (blob(p, [3.9, 0.9, 3.9], 1.3, (0.8, 1.2))[:, None] * [0.0, 0.22, 0.08]) * (1 - _upper_lid(c, U, L))[:, None]
    s["eyeWideLeft"] = _lid_rotation(c, U, L, ec, rot_x(-16), rot_x(5))
    s["eyeLookUpLeft"] = _lid_rotation(c, U, L, ec, rot_x(-10), rot_x(-6))
    s["eyeLookDownLeft"] = _lid_rotation(c, U, L, ec, rot_x(16), rot_x(6))
    s["eyeLookInLeft"] = _lid_rotation(c, U, L, ec, rot_y(-6), rot_y(-6))
    s["eyeLookOutLeft"] = _lid_rotation(c, U, L, ec, rot_y(6), rot_y(6))

    # ---- brows
    s["browDownLeft"] = blob(p, [3.0, 4.6, 4.6], 1.7, (1.8, 0.85), 2.5)[:, None] * [-0.3, -0.75, 0.15]
    s["browOuterUpLeft"] = blob(p, [4.9, 4.3, 3.5], 1.4, (2.2, 0.85), 2.5)[:, None] * [0.05, 0.9, 0.0]
    inner = sum(blob(p, [sx * 1.7, 4.6, 5.1], 1.3, (2.2, 0.85), 2.5)[:, None] * [-sx * 0.12, 0.95, 0.04]
                for sx in (-1.0, 1.0))
    s["browInnerUp"] = inner

    # ---- cheeks and nose
    puff = z3.copy()
    for sx in (-1.0, 1.0):
        d = np.array([sx, -0.15, 0.55]); d /= np.linalg.norm(d)
        puff += blob(p, [sx * 4.1, -3.4, 3.8], 1.6, 1.7, 2.0)[:, None] * d * 0.85
    puff += blob(p, mouth_c, 2.0, 1.2, 2.0)[:, None] * [0, 0, 0.15]
    s["cheekPuff"] = puff
    # the orbicularis' outer ring lifts the cheek, which pushes the lower lid up a quarter of the way (with
    # eyeSquint at full too the lids nearly meet, never cross)
    s["cheekSquintLeft"] = blob(p, [3.9, 0.0, 3.9], 2.0, (1.0, 1.8), 2.0)[:, None] * [0.0, 0.6, 0.3] \
        * (1 - _upper_lid(c, U, L))[:, None] + _lid_field(c, U, L, -gap * 0.02, gap * 0.22)
    s["noseSneerLeft"] = (blob(p, [1.75, -0.9, 5.2], 0.75, 0.8, 1.5)[:, None] * [0.06, 0.32, 0.05]
                          + blob(p, [1.1, 1.0, 5.6], 0.7, 1.0, 1.5)[:, None] * [0.0, 0.15, -0.05]
                          + blob(p, [1.3, -3.0, 5.2], 0.9, 0.7, 1.5)[:, None] * upper_w * [0.0, 0.18, 0.0])

    # ---- jaw
    jaw_open = jaw_open_delta(p)
    s["jawOpen"] = jaw * jaw_open
    s["jawForward"] = jaw * jaw_forward_delta(p)
    s["jawLeft"] = jaw * [0.85, 0.0, 0.0]
    s["mouthClose"] = -_close_mask(c)[:, None] * jaw * jaw_open

    # ---- mouth (corner = the subject's left inner corner)
    corner = p[lm.MOUTH_CORNERS_INNER[1]]
    cb = lambda sx, sy, sz=2.2, off=(0, 0, 0): blob(p, corner + np.asarray(off), sx, sy, sz)[:, None]
    side = left_side(p)[:, None]     # left half of the lips
    lipzone = blob(p, mouth_c, 2.6, 1.3, 3.0)[:, None]
    s["mouthSmileLeft"] = cb(1.35, 1.25) * [0.6, 0.9, -0.4] + \
        blob(p, [3.5, -2.4, 4.1], 1.2, 1.1, 2.0)[:, None] * [0.12, 0.4, 0.3]
    s["mouthFrownLeft"] = cb(1.3, (1.0, 1.5), off=(0.1, -0.3, 0)) * [0.12, -0.68, -0.05]
    # the buccinator pulls the corner back and dents the cheek beside it
    s["mouthDimpleLeft"] = cb(1.6, 1.3) * [0.62, 0.08, -0.7] + cb(0.5, 0.8, off=(0.7, 0.0, 0.0)) * [0.0, 0.0, -0.3]
    s["mouthStretchLeft"] = cb(1.5, 1.3) * [0.6, -0.36, -0.2] + \
        blob(p, [1.2, ys - 0.7, 5.0], 1.3, 0.9, 2.0)[:, None] * jaw * [0.06, -0.22, -0.05]
    s["mouthPressLeft"] = side * lipzone * (np.hstack([0 * dy_seam, -0.58 * dy_seam, -0.14 + 0 * dy_seam]) * lipm
                                            + (1 - lipm) * [0.0, 0.0, 0.3])   # the skin round them bulges
    s["mouthLowerDownLeft"] = blob(p, [1.15, ys - 0.3, 5.0], 1.3, 1.15, 2.0)[:, None] * jaw * [0.05, -0.9, 0.12]
    s["mouthUpperUpLeft"] = blob(p, [1.15, ys + 0.3, 5.0], 1.25, 1.1, 2.0)[:, None] * upper_w * [0.0, 0.6, 0.06]
    roll = np.hstack([0 * dy_seam, -0.55 * dy_seam, -0.5 * np.abs(dy_seam)]) * lipzone * lipm
    # the skin next to a rolled lip follows it in and is drawn taut over the teeth
    s["mouthRollUpper"] = (roll + blob(p, [0.0, ys + 1.2, 5.0], 2.6, 1.0, 2.0)[:, None] * [0.0, -0.5, -0.35]) * upper_w
    s["mouthRollLower"] = (roll + blob(p, [0.0, ys - 1.1, 5.0], 2.4, 0.9, 2.0)[:, None] * [0.0, 0.35, -0.3]) * jaw
    near_seam = np.exp(-0.5 * (dy_seam / 0.35) ** 2)
    s["mouthShrugUpper"] = lipzone * (upper_w + jaw * near_seam) * [0.0, 0.3, 0.28]
    chin_c, chin_s = [0.0, ys - 1.6, 5.0], (2.2, (1.8, 1.8), 3.0)
    chin = blob(p, chin_c, *chin_s)[:, None]
    at_seam = blob(np.column_stack([p[:, 0], np.full(n, ys), p[:, 2]]), chin_c, *chin_s)[:, None]
    s["mouthShrugLower"] = (chin * jaw + at_seam * upper_w * near_seam) * [0.0, 0.42, 0.3]
    funnel_zone = blob(p, mouth_c, 2.4, 1.3, 3.0)[:, None]
    s["mouthFunnel"] = funnel_zone * (np.array([0.0, 0.0, 0.75])
                                      + upper_w * [0.0, 0.3, 0.0] + jaw * [0.0, -0.34, 0.0]
                                      + np.hstack([-0.3 * p[:, :1], 0 * dy_seam, 0 * dy_seam]))
    s["mouthPucker"] = funnel_zone * (np.array([0.0, 0.0, 0.8]) + np.hstack([-0.38 * p[:, :1], 0 * dy_seam, 0 * dy_seam]))
    s["mouthLeft"] = blob(p, mouth_c, 2.6, 1.4, 3.0)[:, None] * [1.0, 0.0, -0.05]
    return s


def _upper_lid(c: Coarse, upper, lower) -> np.ndarray:
    up, lo = np.array(lm.interior(upper)), np.array(lm.interior(lower))
    f = _lid_field(c, upper, lower, np.ones((len(up), 3)), np.zeros((len(lo), 3)), radius=2.0)
    return np.clip(f[:, 0], 0, 1)


def _close_mask(c: Coarse) -> np.ndarray:
    """1 on the lower lip (so mouthClose undoes jawOpen there), 0 on chin and skull."""
    p = c.p_open
    one = set(lm.LIPS_INNER_LOWER) | set(lm.LIPS_OUTER_LOWER)
    zero = set(np.flatnonzero(p[:, 1] < -6.6)) | set(np.flatnonzero(p[:, 1] > -2.8))
    zero |= set(lm.interior(lm.LIPS_INNER_UPPER)) | set(lm.interior(lm.LIPS_OUTER_UPPER))
    zero -= one
    fixed = np.array(sorted(one) + sorted(zero))
    return harmonic(c.lap, fixed, np.array([1.0] * len(one) + [0.0] * len(zero)))


# --------------------------------------------------------------------------- added parts
class Parts:
    """Accumulates extra geometry with per-vertex attributes."""

    def __init__(self) -> None:
        self.v, self.t, self.part, self.rgb, self.jaw, self.tag = [], [], [], [], [], []
        self.count = 0

    def add(self, v, t, part, rgb, jaw, tag=None) -> np.ndarray:
        v = np.asarray(v, float)
        idx = self.count + np.arange(len(v))
        self.v.append(v); self.t.append(np.asarray(t) + self.count)
        self.part.append(np.broadcast_to(np.asarray(part), len(v)).astype(np.uint8))
        self.rgb.append(np.broadcast_to(rgb, (len(v), 3)).astype(float))
        self.jaw.append(np.broadcast_to(jaw, len(v)).astype(float))
        self.tag.append(np.zeros(len(v)) if tag is None else np.asarray(tag, float))
        self.count += len(v)
        return idx


def uv_sphere(rings: list[float], segments: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit sphere with its pole on +Z: polar angles `rings` (first 0 = pole)."""
    verts = [np.array([[0.0, 0.0, 1.0]])]
    for th in rings[1:]:
        phi = np.linspace(0, 2 * np.pi, segments, endpoint=False)
        verts.append(np.stack([np.sin(th) * np.cos(phi), np.sin(th) * np.sin(phi),
                               np.full(segments, np.cos(th))], 1))
    v = np.concatenate(verts)
    tris = [np.stack([np.zeros(segments, int), 1 + np.arange(segments),
                      1 + (np.arange(segments) + 1) % segments], 1)]
    for k in range(len(rings) - 2):
        a = 1 + k * segments + np.arange(segments)
        b = a + segments
        a2 = 1 + k * segments + (np.arange(segments) + 1) % segments
        b2 = a2 + segments
        tris += [np.stack([a, b, a2], 1), np.stack([a2, b, b2], 1)]
    return v, np.concatenate(tris)


def _tube(sections: list[np.ndarray], closed_ends: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Sweep of equal-size closed cross sections (each (K, 3)) into a tube, capped."""
    k = len(sections[0])
    v = np.concatenate(sections)
    tris = []
    for i in range(len(sections) - 1):
        a = i * k + np.arange(k)
        b = a + k
        a2 = i * k + (np.arange(k) + 1) % k
        b2 = a2 + k
        tris += [np.stack([a, a2, b], 1), np.stack([a2, b2, b], 1)]
    if closed_ends:
        n = len(v)
        cs = [sections[0].mean(0), sections[-1].mean(0)]
        v = np.concatenate([v, cs])
        first = np.arange(k)
        last = (len(sections) - 1) * k + np.arange(k)
        tris += [np.stack([np.full(k, n), (first + 1) % k, first], 1),
                 np.stack([np.full(k, n + 1), last, (last - last[0] + 1) % k + last[0]], 1)]
    return v, np.concatenate(tris)


def _orient_out(v: np.ndarray, t: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Flip triangles whose normal points towards `inside` points (per triangle)."""
    a, b, c = (v[t[:, i]] for i in range(3))
    nrm = np.cross(b - a, c - a)
    flip = np.einsum("ij,ij->i", nrm, (a + b + c) / 3 - inside) < 0
    t = t.copy()
    t[flip] = t[flip][:, ::-1]
    return t


def _teeth_arch(y_top: float, y_bottom: float, z_front: float, half_width: float, depth: float,
                thickness: float, upper: bool, samples: int = 33) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    phi = np.linspace(-np.radians(80), np.radians(80), samples)
    x = half_width * np.sin(phi)
    z = z_front - depth * (1 - np.cos(phi))
    # scalloped biting edge: one dip per tooth (approximate widths along the arch)
    arc = np.concatenate([[0], np.cumsum(np.hypot(np.diff(x), np.diff(z)))])
    arc -= arc[len(arc) // 2]
    bounds = np.cumsum([0.0, 0.85, 0.68, 0.8, 0.72, 0.72, 1.0, 1.0])
    frac = np.interp(np.abs(arc), bounds, np.arange(len(bounds)))
    dip = 0.06 * (1 - np.sin(np.pi * (frac % 1.0)) ** 0.5)
    edge = (y_bottom + dip) if upper else (y_top - dip)
    top = y_top if not upper else y_top
    sections = []
    nrm = np.stack([np.sin(phi), np.zeros_like(phi), np.cos(phi)], 1)
    for i in range(samples):
        front = np.array([x[i], 0, z[i]])
        backp = front - nrm[i] * thickness
        if upper:
            ys = [top, edge[i], edge[i] + 0.05, top]
        else:
            ys = [edge[i], y_bottom, y_bottom, edge[i] - 0.05]
        pts = [front + [0, ys[0], 0], front + [0, ys[1], 0], backp + [0, ys[2], 0], backp + [0, ys[3], 0]]
        sections.append(np.array(pts))
    v, t = _tube(sections)
    gum_y = top if upper else y_bottom
    gumness = np.clip(1 - np.abs(v[:, 1] - gum_y) / 0.25, 0, 1)
    gap = 0.25 * np.cos(np.pi * np.interp(np.abs(np.concatenate([arc.repeat(4), [0, 0]])), bounds,
                                          np.arange(len(bounds))) % 1.0) ** 8
    rgb = TEETH_RGB * (1 - 0.35 * gap[:, None]) * (1 - gumness[:, None]) + GUM_RGB * gumness[:, None]
    return v, t, rgb


def _hair_mask(p: np.ndarray) -> np.ndarray:
    """0..1 hair cover of the scalp: above the hairline (HAIRLINE), soft over 1 cm."""
    angle = np.degrees(np.arctan2(np.abs(p[:, 0]), p[:, 2] - HEAD_CENTRE[2]))
    line = np.interp(angle, *zip(*HAIRLINE))
    return smoothstep((p[:, 1] - line) / 1.0 + 0.5)


def _hair_volume(p: np.ndarray, hair: np.ndarray) -> np.ndarray:
    """Offsets that give the hair its thickness: out from the head's centre."""
    out = p - HEAD_CENTRE
    out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)
    return out * (HAIR_THICKNESS * hair)[:, None]


def _ear() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The left ear: a flattened, backward-leaning shell with a rolled rim and a darker bowl
    (concha) facing out, set into the side of the head."""
    v, t = uv_sphere(list(np.linspace(0, np.pi, 13)), 24)
    # the sphere's pole axis (+Z) points out of the head (+X)
    v = v[:, [2, 1, 0]] * [1.0, 1.0, -1.0]
    t = t[:, ::-1]
    outward = v[:, 0]
    rim = np.sqrt(np.clip(1.0 - outward ** 2, 0.0, 1.0))
    bowl = smoothstep((outward - 0.55) / 0.4) * smoothstep((0.75 - rim) / 0.3)
    shaped = v * EAR_RADII
    shaped[:, 0] -= 0.55 * bowl * EAR_RADII[0]              # the bowl sinks in
    shaped[:, 0] += 0.25 * smoothstep((rim - 0.7) / 0.3) * (outward > 0)   # the rim curls out
    pts = shaped @ rot_x(-EAR_TILT_DEG).T + EAR_CENTRE
    rgb = EAR_RGB * (1 - 0.45 * bowl[:, None])
    return pts, _orient_out(pts, t, EAR_CENTRE + [-0.3, 0.0, 0.0]), rgb


# --------------------------------------------------------------------------- assembly
def _brow_mask(points: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """0..1 eyebrow hair tint: a band along MediaPipe's brow contours, thick at the inner end.

    Without it the brows are invisible and the brow shapes (the most expressive ones in an
    instruction: raised, lowered, drawn together) only show as faint shading.
    """
    mask = np.zeros(len(points))
    for upper, lower in ((lm.LEFT_BROW_UPPER, lm.LEFT_BROW_LOWER), (lm.RIGHT_BROW_UPPER, lm.RIGHT_BROW_LOWER)):
        mid = (coarse[list(upper)] + coarse[list(lower)]) / 2          # outer -> inner
        half = np.linalg.norm(coarse[list(upper)] - coarse[list(lower)], axis=1) / 2 * 0.8
        # densify the midline so the distance to it is smooth
        t = np.linspace(0, len(mid) - 1, 60)
        line = np.stack([np.interp(t, np.arange(len(mid)), mid[:, k]) for k in range(3)], axis=1)
        width = np.interp(t, np.arange(len(mid)), half) * np.interp(t, [0, len(mid) - 1], [0.55, 1.0])
        d = np.linalg.norm(points[:, None, :] - line[None, :, :], axis=2)
        nearest = d.argmin(axis=1)
        edge = (d[np.arange(len(points)), nearest] - width[nearest]) / 0.18
        mask = np.maximum(mask, 0.85 * (1 - smoothstep(edge + 0.5)))
    return mask


def build_rig() -> FaceRig:
    c = Coarse()
    shapes = coarse_skin_shapes(c)

    # ---- subdivide (linear: neutral, deltas and fields all go through S)
    s = scipy.sparse.identity(c.n, format="csr")
    tris = c.tris
    for _ in range(SUBDIVISIONS):
        step, tris = loop_subdivision(s.shape[0], tris)
        s = (step @ s).tocsr()
    skin_p = s @ c.p
    skin_jaw = s @ c.jaw
    skin_lip = np.clip(s @ c.lip_mask, 0, 1)
    skin_brow = _brow_mask(skin_p, c.p)
    skin_uv = (s @ c.uvs.astype(np.float64)).astype(np.float32)
    skin_d = {k: s @ v for k, v in shapes.items()}
    nskin = len(skin_p)

    parts = Parts()
    loops = boundary_loops(tris)
    # identify the loops by the landmark they contain (first rows of S are the landmarks)
    by = {}
    for loop in loops:
        for name, mark in (("mouth", 13), ("eyeL", 386), ("eyeR", 159)):
            if mark in set(loop.tolist()):
                by[name] = loop

    def jaw_shapes(pts: np.ndarray, w: np.ndarray) -> dict[str, np.ndarray]:
        w = np.asarray(w, float)[:, None]
        return {"jawOpen": w * jaw_open_delta(pts),
                "jawForward": w * jaw_forward_delta(pts), "jawLeft": w * [0.85, 0.0, 0.0]}

    added: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []

    # ---- ears (left built, right mirrored exactly)
    for sign in (1.0, -1.0):
        ev, et, ergb = _ear()
        ev = ev * [sign, 1.0, 1.0]
        et = et if sign > 0 else et[:, ::-1]
        parts.add(ev, et, SKIN, ergb, 0.0)

    # ---- eyes: lid margins, sclera, iris (left built, right mirrored)
    ecl = c.eye_centre["L"]
    for side, sign in (("L", 1.0), ("R", -1.0)):
        ec = ecl * [sign, 1, 1]
        loop = by["eye" + side]
        b = skin_p[loop]
        # lid margin: from the lid edge to just inside the eyeball surface
        d = b - ec
        d /= np.linalg.norm(d, axis=1, keepdims=True)
        r1 = ec + d * EYE_RADIUS * 0.97
        r2 = ec + d * EYE_RADIUS * 0.75
        k = len(loop)
        upper = smoothstep((b[:, 1] - ec[1] - 0.05) / 0.25)[:, None]    # the upper lid carries lashes
        rim_rgb = (LIP_RGB * 0.8 + SKIN_RGB * 0.2) * (1 - upper) + LASH_RGB * upper
        idx = parts.add(np.concatenate([r1, r2]), np.zeros((0, 3), int), SKIN,
                        np.concatenate([rim_rgb, np.tile(MOUTH_RGB, (k, 1))]), 0.0)
        margin_tris = []
        rings = [loop, nskin + idx[:k], nskin + idx[k:]]
        for a, bb in zip(rings[:-1], rings[1:]):
            a2, b2 = np.roll(a, -1), np.roll(bb, -1)
            margin_tris += [np.stack([a, bb, a2], 1), np.stack([a2, bb, b2], 1)]
        parts.t[-1] = ("abs", np.concatenate(margin_tris))
        # margin deltas: follow the lid edge, projected back onto their sphere
        dd = {}
        for name, sd in skin_d.items():
            moved = b + sd[loop]
            m = moved - ec
            m /= np.linalg.norm(m, axis=1, keepdims=True)
            dd[name] = np.concatenate([ec + m * EYE_RADIUS * 0.97 - r1, ec + m * EYE_RADIUS * 0.75 - r2])
        added.append((idx, dd))
        # eyeball
        iris_th = np.arcsin(IRIS_RADIUS / EYE_RADIUS)
        pupil_th = np.arcsin(PUPIL_RADIUS / EYE_RADIUS)
        iris_rings = [0.0, pupil_th * 0.6, pupil_th, pupil_th * 1.25, iris_th * 0.7, iris_th * 0.92, iris_th]
        sclera_rings = [0.0] + list(np.linspace(iris_th, np.pi - 0.3, 9))
        segs = 28
        iv, it = uv_sphere(iris_rings, segs)
        sv, st = uv_sphere(sclera_rings, segs)
        sv, st = sv[1:], st[segs:] - 1          # drop the sclera's front pole and fan
        # close the back with a pole
        backp = len(sv)
        sv = np.concatenate([sv, [[0, 0, -1.0]]])
        last = backp - segs + np.arange(segs)
        st = np.concatenate([st, np.stack([last, np.full(segs, backp), np.roll(last, -1)], 1)])
        th_i = np.arccos(np.clip(iv[:, 2], -1, 1))
        t_pupil = smoothstep((th_i - pupil_th * 0.9) / (pupil_th * 0.5))
        limbus = smoothstep((th_i - iris_th * 0.8) / (iris_th * 0.2))
        irgb = PUPIL_RGB * (1 - t_pupil[:, None]) + IRIS_RGB * t_pupil[:, None]
        irgb = irgb * (1 - 0.6 * limbus[:, None])
        # slight cornea bulge over the iris
        bulge = 1 + 0.05 * np.cos(np.clip(th_i / iris_th, 0, 1) * np.pi / 2) ** 2
        ivw = ec + iv * EYE_RADIUS * bulge[:, None]
        svw = ec + sv * EYE_RADIUS
        iid = parts.add(ivw, it, IRIS, irgb, 0.0)
        sid = parts.add(svw, st, EYE, SCLERA_RGB, 0.0)
        pts = np.concatenate([ivw, svw])
        eidx = np.concatenate([iid, sid])
        if side == "L":
            looks = {"eyeLookUpLeft": rot_x(-EYE_LOOK_DEG), "eyeLookDownLeft": rot_x(EYE_LOOK_DEG),
                     "eyeLookInLeft": rot_y(-EYE_LOOK_DEG), "eyeLookOutLeft": rot_y(EYE_LOOK_DEG)}
            added.append((eidx, {k: rotation_delta(pts, ec, r) for k, r in looks.items()}))
        else:
            added.append((eidx, {}))

    # ---- mouth bag: lip roll, cavity rings, back point
    loop = by["mouth"]
    b = skin_p[loop]
    bw = skin_jaw[loop]
    open_b = (s @ c.p_open)[loop]
    mc = open_b.mean(0)
    ang = np.arctan2((open_b[:, 1] - mc[1]) / 0.3, open_b[:, 0] / 2.2)
    k = len(loop)
    vdir = np.where(bw > 0.5, -1.0, 1.0) * (np.abs(np.sin(ang)) > 0.05)
    r1 = b + np.stack([-0.06 * b[:, 0], 0.14 * vdir, np.full(k, -0.35)], 1)
    ca, sa = np.cos(ang), np.sin(ang)
    zc = 4.5
    r2 = np.stack([2.45 * ca, c.seam_y + 1.35 * sa, zc - 0.4 - 1.6 * ca ** 2], 1)
    r3 = np.stack([2.2 * ca, c.seam_y - 0.3 + 1.9 * sa, np.full(k, 0.6) - 0.6 * ca ** 2], 1)
    backpt = np.array([[0.0, c.seam_y - 0.6, -0.3]])
    rgb1 = np.tile(LIP_RGB * 0.65, (k, 1))
    bag_v = np.concatenate([r1, r2, r3, backpt])
    bag_rgb = np.concatenate([rgb1, np.tile(MOUTH_RGB, (2 * k + 1, 1))])
    bag_part = np.array([SKIN] * k + [MOUTH] * (2 * k + 1))
    wjaw = np.concatenate([bw, bw, bw, [0.5]])
    idx = parts.add(bag_v, np.zeros((0, 3), int), bag_part, bag_rgb, wjaw, tag=wjaw)
    rings = [loop, nskin + idx[:k], nskin + idx[k:2 * k], nskin + idx[2 * k:3 * k]]
    bt = []
    for a, bb in zip(rings[:-1], rings[1:]):
        a2, b2 = np.roll(a, -1), np.roll(bb, -1)
        bt += [np.stack([a, bb, a2], 1), np.stack([a2, bb, b2], 1)]
    last = rings[-1]
    bt.append(np.stack([last, np.full(k, nskin + idx[-1]), np.roll(last, -1)], 1))
    parts.t[-1] = ("abs", np.concatenate(bt))
    bag_d = {name: np.concatenate([sd[loop], np.zeros((2 * k + 1, 3))]) for name, sd in skin_d.items()}
    for name, dj in jaw_shapes(bag_v, wjaw).items():
        bag_d[name] = bag_d.get(name, 0) + np.concatenate([np.zeros((k, 3)), dj[k:]])
    # mouthClose undoes jawOpen on the lips; the bag follows its lip ring only
    added.append((idx, bag_d))

    # ---- teeth
    y = c.seam_y
    uv_, ut, urgb = _teeth_arch(y + 1.05, y - 0.25, 4.75, 2.25, 2.6, 0.3, upper=True)
    ut = _orient_out(uv_, ut, np.array([0, y + 0.5, 2.0]))
    parts.add(uv_, ut, TEETH, urgb, 0.0)
    lv, lt, lrgb = _teeth_arch(y - 0.05, y - 1.05, 4.35, 2.1, 2.5, 0.32, upper=False)
    lt = _orient_out(lv, lt, np.array([0, y - 0.5, 2.0]))
    lid_ = parts.add(lv, lt, TEETH, lrgb, 1.0)
    added.append((lid_, jaw_shapes(lv, np.ones(len(lv)))))

    # ---- tongue: half-flattened ellipsoid on the floor of the mouth
    tv, tt = uv_sphere(list(np.linspace(0, np.pi - 0.25, 11)), 20)
    tc = np.array([0.0, y - 0.95, 2.55])
    tr = np.array([1.55, 0.55, 1.85])
    tvw = tc + tv * tr
    tvw[:, 1] = np.minimum(tvw[:, 1], tc[1] + 0.45)
    tt = _orient_out(tvw, tt, tc)
    tid = parts.add(tvw, tt, TONGUE, TONGUE_RGB, 1.0)
    td = jaw_shapes(tvw, np.ones(len(tvw)))
    f = smoothstep((tvw[:, 2] - (tc[2] - tr[2])) / (2 * tr[2]))[:, None]
    # forward and up over the lower teeth, narrower and thinner towards the tip
    tongue_out = f * [0.0, 0.55, 2.8] + f * (tvw - tc) * [-0.3, -0.35, 0.0]
    td["tongueOut"] = tongue_out + 0.35 * td["jawOpen"]
    added.append((tid, td))
    # the lower teeth and lower lips part for tongueOut
    lip_part = 0.35 * shapes["jawOpen"]
    skin_d["tongueOut"] = s @ lip_part
    for i, (ix, dd) in enumerate(added):
        if ix is lid_:
            dd["tongueOut"] = 0.35 * dd["jawOpen"]
        if ix is idx:  # mouth bag
            dd["tongueOut"] = np.concatenate([skin_d["tongueOut"][loop], 0.35 * dd["jawOpen"][k:] * 1.0])

    # ---- assemble
    hair = _hair_mask(skin_p)
    nv = nskin + parts.count
    verts = np.concatenate([skin_p + _hair_volume(skin_p, hair)] + parts.v)
    tri_list = [tris]
    for t in parts.t:
        if isinstance(t, tuple):
            tri_list.append(t[1])
        elif len(t):
            tri_list.append(t + nskin)
    all_t = np.concatenate(tri_list).astype(np.uint32)
    part = np.concatenate([np.zeros(nskin, np.uint8)] + parts.part)
    skin_rgb = SKIN_RGB * (1 - skin_lip[:, None]) + LIP_RGB * skin_lip[:, None]
    skin_rgb = skin_rgb * (1 - skin_brow[:, None]) + BROW_RGB * skin_brow[:, None]
    skin_rgb = skin_rgb * (1 - hair[:, None]) + HAIR_RGB * hair[:, None]
    rgb = np.concatenate([skin_rgb] + parts.rgb)
    tag = np.concatenate([skin_jaw] + parts.tag)
    uvs = np.concatenate([skin_uv, np.zeros((parts.count, 2), np.float32)])

    deltas = np.zeros((len(BLENDSHAPES), nv, 3))
    bi = {n: i for i, n in enumerate(BLENDSHAPES)}
    for name, d in skin_d.items():
        deltas[bi[name], :nskin] = d
    for ix, dd in added:
        for name, d in dd.items():
            deltas[bi[name], nskin + ix] = d

    shading = np.zeros((len(BLENDSHAPES), nv, 3))
    for name, rgb_offset in crease_colors(skin_p, skin_rgb, skin_lip).items():
        shading[bi[name], :nskin] = rgb_offset
    # the brows' own forehead lines are where their skin bunches; a darkened patch there reads as a smudge
    stretched = {k: v for k, v in skin_d.items() if not k.startswith(("eyeLook", "brow"))}
    for name, rgb_offset in tension_colors(skin_p, tris, stretched, skin_rgb, {"mouthClose": "jawOpen"},
                                             lighten_only=("mouthSmileLeft",)).items():
        shading[bi[name], :nskin] += rgb_offset
    # a fold in the skin darkens it by at most CREASE_DEPTH (the lashes of a closed eye go to
    # black), a highlight goes at most to white
    for name, i in bi.items():
        deepest = skin_rgb if name.startswith("eye") else CREASE_DEPTH * skin_rgb
        shading[i, :nskin] = np.clip(shading[i, :nskin], -deepest, 1.0 - skin_rgb)

    keys = np.concatenate([verts, 10 * part[:, None], 3 * tag[:, None]], 1)
    mirror = mirror_map(keys)
    for i, name in enumerate(BLENDSHAPES):
        other = mirror_name(name)
        if other != name and name.endswith("Left"):
            deltas[bi[other]] = mirror_field(deltas[i], mirror)
            shading[bi[other]] = shading[i][mirror]
        elif other == name:
            deltas[i] = 0.5 * (deltas[i] + mirror_field(deltas[i], mirror))
            shading[i] = 0.5 * (shading[i] + shading[i][mirror])

    return FaceRig(
        vertices=verts.astype(np.float32), triangles=all_t, uvs=uvs.astype(np.float32),
        colors=rgb.astype(np.float32), parts=part, deltas=deltas.astype(np.float32),
        pivot=HEAD_PIVOT.astype(np.float32), shading=shading.astype(np.float32),
        face_box=front_bounds(skin_p[hair < 0.05]))
