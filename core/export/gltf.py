"""glTF 2.0 binary (GLB): the head with its 52 ARKit morph targets and the take animated.

Layout of what write_glb produces (metres, Y up, +Z towards the viewer, as glTF wants):

* node 0 "Head": translation = rig pivot, rotation animated per frame (the FaceTrack's head
  pitch/yaw/roll composed as core.face.rig.head_rotation does), children [1];
* node 1 (the mesh node, named `name`): translation = -pivot, so the mesh keeps the rig's
  coordinates and turns about the pivot; it holds mesh 0 and its morph weights are animated;
* mesh 0: one triangle primitive with POSITION, NORMAL, TEXCOORD_0, COLOR_0 and indices, and
  52 morph targets in core.arkit.BLENDSHAPES order (POSITION deltas, NORMAL deltas unless
  morph_normals=False), names in ``mesh.extras.targetNames`` (read by three.js, Babylon.js and
  Blender), default weights all 0;
* animation 0 (named `name`): LINEAR samplers keyed once per frame at i/fps, plus one hold key
  at frames/fps repeating the last frame so the clip lasts exactly track.duration; the
  "weights" output is frames x 52 floats, the "rotation" output xyzw quaternions.

TEXCOORD_0 is written as the rig holds it: both have their origin at the top left.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np
from pygltflib import (
    ANIM_LINEAR, ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, FLOAT, SCALAR, UNSIGNED_INT, UNSIGNED_SHORT,
    VEC2, VEC3, VEC4, Accessor, Animation, AnimationChannel, AnimationChannelTarget,
    AnimationSampler, Asset, Attributes, Buffer, BufferView, GLTF2, Material, Mesh, Node,
    PbrMetallicRoughness, Primitive, Scene,
)

from core.arkit import BLENDSHAPES, NUM_BLENDSHAPES
from core.face.rig import FaceRig, vertex_normals
from core.fileio import atomic_write
from core.track import FaceTrack

CM_TO_M = 0.01
GENERATOR = "AVI-Talking Studio"


class GltfError(ValueError):
    """A glTF/GLB file that cannot be used as a head; the message names the file and why."""


# ----------------------------------------------------------------------------- maths

def head_quaternions(head: np.ndarray) -> np.ndarray:
    """(F, 3) pitch/yaw/roll radians -> (F, 4) unit quaternions xyzw for Ry(yaw) Rx(pitch) Rz(roll).

    Consecutive quaternions are kept in the same hemisphere so LINEAR (slerp) interpolation
    between keys takes the short way.
    """
    h = np.asarray(head, dtype=np.float64).reshape(-1, 3)
    half = h / 2.0
    sp, cp = np.sin(half[:, 0]), np.cos(half[:, 0])
    sy, cy = np.sin(half[:, 1]), np.cos(half[:, 1])
    sr, cr = np.sin(half[:, 2]), np.cos(half[:, 2])
    # qy * qx: (0, sy, 0, cy) * (sp, 0, 0, cp)
    ax, ay, az, aw = cy * sp, sy * cp, -sy * sp, cy * cp
    # (qy qx) * qz with qz = (0, 0, sr, cr)
    x = ax * cr + ay * sr
    y = ay * cr - ax * sr
    z = az * cr + aw * sr
    w = aw * cr - az * sr
    q = np.stack([x, y, z, w], axis=1)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    if len(q) > 1:
        flips = np.cumprod(np.where(np.einsum("ij,ij->i", q[1:], q[:-1]) < 0, -1.0, 1.0))
        q[1:] *= flips[:, None]
    return q


# ----------------------------------------------------------------------------- writing

class _Blob:
    """Accumulates buffer views and accessors over one binary buffer, 4-byte aligned."""

    def __init__(self, gltf: GLTF2) -> None:
        self.gltf = gltf
        self.parts: list[bytes] = []
        self.size = 0

    def view(self, data: np.ndarray, target: int | None = None) -> int:
        raw = np.ascontiguousarray(data).tobytes()
        self.gltf.bufferViews.append(BufferView(buffer=0, byteOffset=self.size, byteLength=len(raw),
                                                target=target))
        self.parts.append(raw)
        self.size += len(raw)
        pad = -self.size % 4
        if pad:
            self.parts.append(b"\x00" * pad)
            self.size += pad
        return len(self.gltf.bufferViews) - 1

    def accessor(self, view: int, component: int, count: int, kind: str, *, offset: int = 0,
                 bounds: np.ndarray | None = None, name: str | None = None) -> int:
        acc = Accessor(bufferView=view, byteOffset=offset, componentType=component, count=count,
                       type=kind, name=name)
        if bounds is not None:
            b = np.asarray(bounds, dtype=np.float32).reshape(count, -1)
            acc.min = [float(x) for x in b.min(axis=0)]
            acc.max = [float(x) for x in b.max(axis=0)]
        self.gltf.accessors.append(acc)
        return len(self.gltf.accessors) - 1

    def array(self, data: np.ndarray, kind: str, target: int | None = None, *,
              bounds: bool = False, name: str | None = None) -> int:
        data = np.ascontiguousarray(data, dtype=np.float32)
        view = self.view(data, target)
        return self.accessor(view, FLOAT, len(data), kind, bounds=data if bounds else None, name=name)

    def bytes(self) -> bytes:
        return b"".join(self.parts)


def build_glb(rig: FaceRig, track: FaceTrack | None, *, name: str = "AVITalkingHead",
              morph_normals: bool = True,
              progress: Callable[[float], None] | None = None) -> bytes:
    """The GLB file contents (see the module docstring for the layout)."""
    report = progress or (lambda _f: None)
    verts = np.asarray(rig.vertices, dtype=np.float64)
    nv = len(verts)
    tris = np.asarray(rig.triangles, dtype=np.int64).reshape(-1, 3)
    if nv == 0 or len(tris) == 0:
        raise ValueError("the rig has no geometry to export")
    if tris.min() < 0 or tris.max() >= nv:
        raise ValueError("the rig's triangles index vertices that do not exist")
    if not np.isfinite(verts).all() or not np.isfinite(rig.deltas).all():
        raise ValueError("the rig holds NaN or infinite coordinates")
    pivot = np.asarray(rig.pivot, dtype=np.float64).reshape(3) * CM_TO_M

    gltf = GLTF2(asset=Asset(version="2.0", generator=GENERATOR))
    blob = _Blob(gltf)
    report(0.0)

    pos = (verts * CM_TO_M).astype(np.float32)
    normals = vertex_normals(pos, tris)
    index_type = UNSIGNED_SHORT if nv < 65535 else UNSIGNED_INT
    flat = tris.reshape(-1).astype(np.uint16 if index_type == UNSIGNED_SHORT else np.uint32)
    idx_acc = blob.accessor(blob.view(flat, ELEMENT_ARRAY_BUFFER), index_type, len(flat), SCALAR)
    attrs = Attributes(
        POSITION=blob.array(pos, VEC3, ARRAY_BUFFER, bounds=True),
        NORMAL=blob.array(normals, VEC3, ARRAY_BUFFER),
        TEXCOORD_0=blob.array(rig.uvs, VEC2, ARRAY_BUFFER),
        COLOR_0=blob.array(np.clip(rig.colors, 0.0, 1.0), VEC3, ARRAY_BUFFER),
    )
    report(0.1)

    # Morph targets: all 52 POSITION deltas in one view, one accessor each (same for NORMAL).
    deltas = (np.asarray(rig.deltas, dtype=np.float64) * CM_TO_M).astype(np.float32)
    pos_view = blob.view(deltas, ARRAY_BUFFER)
    stride = nv * 12
    targets = []
    for k in range(NUM_BLENDSHAPES):
        targets.append(Attributes(POSITION=blob.accessor(pos_view, FLOAT, nv, VEC3, offset=k * stride,
                                                         bounds=deltas[k], name=BLENDSHAPES[k])))
    if morph_normals:
        ndeltas = np.empty((NUM_BLENDSHAPES, nv, 3), np.float32)
        for k in range(NUM_BLENDSHAPES):
            if np.any(deltas[k]):
                ndeltas[k] = vertex_normals(pos + deltas[k], tris) - normals
            else:
                ndeltas[k] = 0.0
            report(0.1 + 0.6 * (k + 1) / NUM_BLENDSHAPES)
        nrm_view = blob.view(ndeltas, ARRAY_BUFFER)
        for k in range(NUM_BLENDSHAPES):
            targets[k].NORMAL = blob.accessor(nrm_view, FLOAT, nv, VEC3, offset=k * stride)
    report(0.7)

    gltf.materials.append(Material(
        name="skin", doubleSided=False,
        pbrMetallicRoughness=PbrMetallicRoughness(baseColorFactor=[1.0, 1.0, 1.0, 1.0],
                                                  metallicFactor=0.0, roughnessFactor=0.6)))
    gltf.meshes.append(Mesh(
        name=name,
        primitives=[Primitive(attributes=attrs, indices=idx_acc, material=0, targets=targets)],
        weights=[0.0] * NUM_BLENDSHAPES,
        extras={"targetNames": list(BLENDSHAPES)},
    ))
    gltf.nodes.append(Node(name="Head", translation=[float(x) for x in pivot], children=[1]))
    gltf.nodes.append(Node(name=name, mesh=0, translation=[float(-x) for x in pivot]))
    gltf.scenes.append(Scene(name=name, nodes=[0]))
    gltf.scene = 0

    if track is not None and track.frames > 0:
        f = track.frames
        times = np.arange(f + 1, dtype=np.float64) / track.fps   # + a hold key at the end
        weights = np.concatenate([track.weights, track.weights[-1:]], axis=0)
        quats = head_quaternions(np.concatenate([track.head, track.head[-1:]], axis=0))
        t_acc = blob.array(times.astype(np.float32), SCALAR, bounds=True, name="time")
        w_acc = blob.array(weights.reshape(-1), SCALAR, name="weights")
        r_acc = blob.array(quats, VEC4, name="head rotation")
        gltf.animations.append(Animation(
            name=name,
            samplers=[AnimationSampler(input=t_acc, output=w_acc, interpolation=ANIM_LINEAR),
                      AnimationSampler(input=t_acc, output=r_acc, interpolation=ANIM_LINEAR)],
            channels=[AnimationChannel(sampler=0, target=AnimationChannelTarget(node=1, path="weights")),
                      AnimationChannel(sampler=1, target=AnimationChannelTarget(node=0, path="rotation"))],
        ))
    report(0.8)

    binary = blob.bytes()
    gltf.buffers.append(Buffer(byteLength=len(binary)))
    gltf.set_binary_blob(binary)
    out = b"".join(gltf.save_to_bytes())
    report(1.0)
    return out


def write_glb(path: str | os.PathLike, rig: FaceRig, track: FaceTrack | None, *,
              name: str = "AVITalkingHead", morph_normals: bool = True,
              progress: Callable[[float], None] | None = None) -> None:
    """Write the head and the take as a GLB (layout in the module docstring).

    progress, if given, is called with a fraction 0..1 as the work advances. The file appears
    complete or not at all: on any error the target is left as it was.
    """
    data = build_glb(rig, track, name=name, morph_normals=morph_normals, progress=progress)
    with atomic_write(path) as f:
        f.write(data)


# ----------------------------------------------------------------------------- reading

_COMPONENTS = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32,
               5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_NORMALISE = {np.int8: 127.0, np.uint8: 255.0, np.int16: 32767.0, np.uint16: 65535.0}


def _accessor_array(gltf: GLTF2, blob: bytes, index: int) -> np.ndarray:
    acc = gltf.accessors[index]
    dtype = np.dtype(_COMPONENTS[acc.componentType])
    width = _WIDTH[acc.type]
    out = np.zeros((acc.count, width), dtype)
    if acc.bufferView is not None:
        view = gltf.bufferViews[acc.bufferView]
        start = (view.byteOffset or 0) + (acc.byteOffset or 0)
        stride = view.byteStride or dtype.itemsize * width
        if stride == dtype.itemsize * width:
            out = np.frombuffer(blob, dtype, acc.count * width, start).reshape(acc.count, width).copy()
        else:
            rows = np.lib.stride_tricks.as_strided(
                np.frombuffer(blob, np.uint8, len(blob) - start, start),
                (acc.count, dtype.itemsize * width), (stride, 1))
            out = rows.copy().view(dtype).reshape(acc.count, width)
    if acc.sparse is not None and acc.sparse.count:
        sp = acc.sparse
        iview = gltf.bufferViews[sp.indices.bufferView]
        idx = np.frombuffer(blob, _COMPONENTS[sp.indices.componentType], sp.count,
                            (iview.byteOffset or 0) + (sp.indices.byteOffset or 0))
        vview = gltf.bufferViews[sp.values.bufferView]
        vals = np.frombuffer(blob, dtype, sp.count * width,
                             (vview.byteOffset or 0) + (sp.values.byteOffset or 0)).reshape(-1, width)
        out = out.copy()
        out[idx.astype(np.int64)] = vals
    if acc.normalized and dtype.type in _NORMALISE:
        return np.maximum(out.astype(np.float64) / _NORMALISE[dtype.type], -1.0)
    return out.astype(np.float64) if dtype.kind == "f" else out


def _node_matrix(node: Node) -> np.ndarray:
    if node.matrix:
        return np.asarray(node.matrix, dtype=np.float64).reshape(4, 4).T
    m = np.eye(4)
    if node.scale:
        m = np.diag([*node.scale, 1.0]) @ m
    if node.rotation:
        x, y, z, w = node.rotation
        r = np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
        rm = np.eye(4)
        rm[:3, :3] = r
        m = rm @ m
    if node.translation:
        tm = np.eye(4)
        tm[:3, 3] = node.translation
        m = tm @ m
    return m


def _world_matrices(gltf: GLTF2) -> tuple[dict[int, np.ndarray], dict[int, list[int]]]:
    """World matrix of every node reachable from the scene roots, and its ancestor chain."""
    roots: list[int]
    if gltf.scenes:
        roots = list(gltf.scenes[gltf.scene or 0].nodes or [])
    else:
        children = {c for n in gltf.nodes for c in (n.children or [])}
        roots = [i for i in range(len(gltf.nodes)) if i not in children]
    world: dict[int, np.ndarray] = {}
    chain: dict[int, list[int]] = {}
    stack = [(r, np.eye(4), []) for r in roots]
    while stack:
        i, parent, anc = stack.pop()
        if i in world:
            continue
        world[i] = parent @ _node_matrix(gltf.nodes[i])
        chain[i] = anc
        for c in gltf.nodes[i].children or []:
            stack.append((c, world[i], anc + [i]))
    return world, chain


def load_glb_head(path: str | os.PathLike) -> FaceRig:
    """A user's head from a GLB whose mesh has ARKit-named morph targets -> FaceRig (cm).

    The mesh chosen is the one whose targetNames (mesh.extras, or the primitive's extras)
    match the most ARKit names, case-insensitively; all its triangle primitives are merged.
    Geometry is taken in its rest pose in scene space (node transforms applied, animation
    ignored) and converted from metres to centimetres. Shapes absent from the file get zero
    deltas. The pivot is the world position of an ancestor node named "Head" if there is one
    (as write_glb writes), else the bottom centre of the mesh's bounding box. Colours come from
    COLOR_0 or the material's base colour; all vertices are the "skin" part.
    """
    where = os.fspath(path)
    try:
        gltf = GLTF2().load(where)
    except Exception as e:  # pygltflib raises many types for foreign files
        raise GltfError(f"{where}: not a glTF/GLB file ({e})") from None
    if gltf is None:
        raise GltfError(f"{where}: not a glTF/GLB file")
    try:
        blob = gltf.binary_blob()
    except Exception:
        blob = None
    if blob is None:
        if gltf.buffers and gltf.buffers[0].uri:
            blob = gltf.load_file_uri(gltf.buffers[0].uri) if not gltf.buffers[0].uri.startswith("data:") \
                else gltf.decode_data_uri(gltf.buffers[0].uri)
        else:
            raise GltfError(f"{where}: the file has no binary buffer")
    blob = bytes(blob)
    lookup = {n.lower(): i for i, n in enumerate(BLENDSHAPES)}

    def names_of(mesh: Mesh) -> list[str]:
        for extras in [mesh.extras] + [p.extras for p in mesh.primitives]:
            if isinstance(extras, dict) and isinstance(extras.get("targetNames"), list):
                return [str(n) for n in extras["targetNames"]]
        return []

    best, best_hits = None, 0
    for mi, mesh in enumerate(gltf.meshes):
        names = names_of(mesh)
        hits = len({n.lower() for n in names} & lookup.keys())
        if hits > best_hits and any(p.targets for p in mesh.primitives):
            best, best_hits = mi, hits
    if best is None:
        found = sorted({n for m in gltf.meshes for n in names_of(m)})
        detail = f"target names found: {', '.join(found[:8])}" if found else "no named morph targets"
        raise GltfError(f"{where}: no mesh with ARKit-named morph targets ({detail})")
    mesh = gltf.meshes[best]
    names = names_of(mesh)

    world, chain = _world_matrices(gltf)
    node_ids = [i for i, n in enumerate(gltf.nodes) if n.mesh == best and i in world]
    node = node_ids[0] if node_ids else None
    m = world[node] if node is not None else np.eye(4)
    lin = m[:3, :3]

    all_v, all_t, all_uv, all_c, all_d = [], [], [], [], []
    base = 0
    for prim in mesh.primitives:
        if prim.mode not in (None, 4) or prim.attributes.POSITION is None:
            continue
        v = _accessor_array(gltf, blob, prim.attributes.POSITION)[:, :3]
        n = len(v)
        if prim.indices is not None:
            t = _accessor_array(gltf, blob, prim.indices).reshape(-1, 3).astype(np.int64)
        else:
            t = np.arange(n - n % 3).reshape(-1, 3)
        uv = (_accessor_array(gltf, blob, prim.attributes.TEXCOORD_0)[:, :2]
              if prim.attributes.TEXCOORD_0 is not None else np.zeros((n, 2)))
        if prim.attributes.COLOR_0 is not None:
            col = _accessor_array(gltf, blob, prim.attributes.COLOR_0)[:, :3].astype(np.float64)
            if col.max() > 1.0:  # integer colours without the normalized flag
                col = col / 255.0
        else:
            base_col = [0.8, 0.8, 0.8]
            if prim.material is not None and gltf.materials[prim.material].pbrMetallicRoughness:
                base_col = (gltf.materials[prim.material].pbrMetallicRoughness.baseColorFactor
                            or [0.8, 0.8, 0.8, 1.0])[:3]
            col = np.tile(np.asarray(base_col, np.float64), (n, 1))
        d = np.zeros((NUM_BLENDSHAPES, n, 3))
        for k, target in enumerate(prim.targets or []):
            if k >= len(names) or names[k].lower() not in lookup:
                continue
            acc = getattr(target, "POSITION", None)
            if acc is None and isinstance(target, dict):
                acc = target.get("POSITION")
            if acc is not None:
                d[lookup[names[k].lower()]] = _accessor_array(gltf, blob, acc)[:, :3]
        all_v.append(v)
        all_t.append(t + base)
        all_uv.append(uv)
        all_c.append(col)
        all_d.append(d)
        base += n
    if not all_v:
        raise GltfError(f"{where}: the morph-target mesh has no triangles")
    v = np.concatenate(all_v)
    v = (v @ lin.T + m[:3, 3]) / CM_TO_M
    d = np.concatenate(all_d, axis=1) @ lin.T / CM_TO_M
    if not np.isfinite(v).all() or not np.isfinite(d).all():
        raise GltfError(f"{where}: the mesh holds NaN or infinite coordinates")

    pivot = None
    if node is not None:
        for a in reversed(chain.get(node, [])):
            if (gltf.nodes[a].name or "").lower() == "head":
                pivot = world[a][:3, 3] / CM_TO_M
                break
    if pivot is None:
        lo, hi = v.min(axis=0), v.max(axis=0)
        pivot = np.array([(lo[0] + hi[0]) / 2, lo[1], (lo[2] + hi[2]) / 2])
    return FaceRig(
        vertices=v.astype(np.float32),
        triangles=np.concatenate(all_t).astype(np.uint32),
        uvs=np.concatenate(all_uv).astype(np.float32),
        colors=np.clip(np.concatenate(all_c), 0.0, 1.0).astype(np.float32),
        parts=np.zeros(len(v), np.uint8),
        deltas=np.ascontiguousarray(d, dtype=np.float32),
        pivot=np.asarray(pivot, dtype=np.float32),
    )


__all__ = ["GltfError", "build_glb", "head_quaternions", "load_glb_head",
           "write_glb"]

