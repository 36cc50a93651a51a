"""Landmark index lists on the MediaPipe canonical face mesh (468 vertices).

The contours are MediaPipe's published connection lists, from
mediapipe/python/solutions/face_mesh_connections.py (Apache-2.0; google-ai-edge/mediapipe):
FACEMESH_LIPS, FACEMESH_LEFT_EYE, FACEMESH_RIGHT_EYE, FACEMESH_LEFT_EYEBROW,
FACEMESH_RIGHT_EYEBROW and FACEMESH_FACE_OVAL, written out here as ordered chains.

MediaPipe's LEFT/RIGHT are the subject's own sides, like ARKit's: the subject's left is +X
in the canonical frame (e.g. landmark 263, the left eye's outer corner, has x = +4.45 cm).
Every chain below runs from the subject's right (-X) to left (+X) or, for eyes and brows,
from the outer corner to the inner one.
"""

from __future__ import annotations

# --- Lips (FACEMESH_LIPS). Corners: outer 61 (right) / 291 (left), inner 78 / 308.
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
MOUTH_CORNERS_OUTER = (61, 291)  # (right, left)
MOUTH_CORNERS_INNER = (78, 308)

# --- Eyes (FACEMESH_LEFT_EYE / FACEMESH_RIGHT_EYE), outer corner -> inner corner.
LEFT_EYE_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
LEFT_EYE_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)

# --- Eyebrows (FACEMESH_LEFT_EYEBROW / FACEMESH_RIGHT_EYEBROW), outer -> inner.
LEFT_BROW_UPPER = (300, 293, 334, 296, 336)
LEFT_BROW_LOWER = (276, 283, 282, 295, 285)
RIGHT_BROW_UPPER = (70, 63, 105, 66, 107)
RIGHT_BROW_LOWER = (46, 53, 52, 65, 55)

# --- Face oval (FACEMESH_FACE_OVAL), clockwise seen from the front starting at the top.
FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378,
             400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21,
             54, 103, 67, 109)

# --- Single points used as anchors (canonical-mesh indices).
NOSE_TIP = 1
NOSE_BRIDGE = 168
CHIN = 152
FOREHEAD = 10
LEFT_NOSE_WING = 358     # alar crease, subject's left
RIGHT_NOSE_WING = 129
LEFT_CHEEK = 425         # cheek beside the nose wing, mouth level above the corner
RIGHT_CHEEK = 205
LEFT_CHEEKBONE = 347     # below the left eye
RIGHT_CHEEKBONE = 118


def interior(chain: tuple[int, ...]) -> tuple[int, ...]:
    """A chain without its two end points (the corners)."""
    return chain[1:-1]
