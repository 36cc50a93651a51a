"""The built-in preview head: the MediaPipe canonical face with 52 ARKit blendshapes."""

from __future__ import annotations

import functools

from core.face.rig import FaceRig


@functools.lru_cache(maxsize=1)
def load_rig() -> FaceRig:
    """The preview head, built from resources/face/canonical_face.npz (cached; ~0.2 s)."""
    from core.face.build import build_rig

    return build_rig()


__all__ = ["FaceRig", "load_rig"]
