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

load_glb_head reads a user's head from any glTF/GLB whose mesh has ARKit-named morph targets;
every size the file declares is checked against what it holds before anything is allocated,
and a file it cannot use is one GltfError naming it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import struct
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

import numpy as np
from pygltflib import (
    ANIM_LINEAR, ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER, FLOAT, SCALAR, UNSIGNED_INT, UNSIGNED_SHORT,
    VEC2, VEC3, VEC4, Accessor, Animation, AnimationChannel, AnimationChannelTarget,
    AnimationSampler, Asset, Attributes, Buffer, BufferView, GLTF2, Material, Mesh, Node,
    PbrMetallicRoughness, Primitive, Scene,
)

from core.arkit import BLENDSHAPES, NUM_BLENDSHAPES
from core.face.rig import FaceRig, vertex_normals
from core.fileio import NotReadable, atomic_write, read_regular
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
_INDEX_COMPONENTS = (5121, 5123, 5125)
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
_NORMALISE = {np.int8: 127.0, np.uint8: 255.0, np.int16: 32767.0, np.uint16: 65535.0}

# Bounds on a head, checked against what a file declares before anything is allocated. A
# detailed head scan has a few hundred thousand vertices; its 52 morph targets at 2**20
# vertices take 650 MB as float32.
MAX_HEAD_BYTES = 2 ** 30            # the file, and any buffer it names
MAX_VERTICES = 2 ** 20              # all the merged primitives' vertices
MAX_TRIANGLES = 2 ** 22
_FLOAT32_MAX = float(np.finfo(np.float32).max)

# The document is read as plain JSON (dicts and lists), every value's type checked where it is
# used: decoding it into pygltflib's dataclasses takes about a millisecond per object, so a
# file of a few megabytes of nodes would take minutes.


def _whole(value: object, what: str, where: str, low: int = 0, high: int | None = None) -> int:
    """`value` as a whole number within low..high, or a GltfError naming `what`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f"at least {low}"
        raise GltfError(f"{where}: {what} must be a whole number {bound}, got {repr(value)[:40]}")
    return value


def _list(obj: dict, key: str, what: str, where: str) -> list:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise GltfError(f"{where}: {what} '{key}' is not a list")
    return value


def _entry(items: list, index: object, what: str, where: str) -> dict:
    """items[index], once index is a whole number in range and the item a JSON object."""
    if not items:
        article = "an" if what[0] in "aeiou" else "a"
        raise GltfError(f"{where}: the file refers to {article} {what} it does not have")
    item = items[_whole(index, f"the {what} index", where, 0, len(items) - 1)]
    if not isinstance(item, dict):
        raise GltfError(f"{where}: {what} {index} is not a JSON object")
    return item


def _numbers(value: object, n: int, what: str, where: str) -> np.ndarray:
    """`value` as n finite numbers."""
    if (not isinstance(value, list) or len(value) != n
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value)):
        raise GltfError(f"{where}: {what} must be a list of {n} numbers")
    out = np.asarray(value, dtype=np.float64)
    if not np.isfinite(out).all():
        raise GltfError(f"{where}: {what} holds NaN or infinite values")
    return out


def _read_regular(path: Path, where: str, what: str = "the file") -> bytes:
    """The bytes of a regular file of at most MAX_HEAD_BYTES (core.fileio.read_regular)."""
    try:
        return read_regular(path, "a glTF/GLB file" if what == "the file" else "a buffer file", MAX_HEAD_BYTES,
                            f"{{size_mb:.0f}} MB, more than the {MAX_HEAD_BYTES // 2 ** 20} MB a head may take")
    except NotReadable as exc:
        raise GltfError(f"{where}: {exc}" if what == "the file" else f"{where}: {what}: {exc}") from None


def _parse_gltf(data: bytes, where: str) -> tuple[dict, bytes | None]:
    """The JSON document and the GLB's BIN chunk (None for a .gltf JSON file), chunk sizes
    checked against the file."""
    blob = None
    if data[:4] == b"glTF":
        if len(data) < 20:
            raise GltfError(f"{where}: not a glTF/GLB file (cut inside its header)")
        version, length = struct.unpack_from("<II", data, 4)
        if version != 2:
            raise GltfError(f"{where}: GLB version {version}; this program reads glTF 2.0")
        if length > len(data):
            raise GltfError(f"{where}: the GLB header announces {length} bytes but the file holds "
                            f"{len(data)} (it is truncated)")
        chunks, pos = [], 12
        while pos + 8 <= length:
            size, kind = struct.unpack_from("<I4s", data, pos)
            if pos + 8 + size > length:
                raise GltfError(f"{where}: a GLB chunk announces {size} bytes past the end of the file")
            chunks.append((kind, data[pos + 8:pos + 8 + size]))
            pos += 8 + size
        if not chunks or chunks[0][0] != b"JSON":
            raise GltfError(f"{where}: not a glTF/GLB file (its first chunk is not JSON)")
        text = chunks[0][1]
        blob = next((c for kind, c in chunks[1:] if kind == b"BIN\x00"), None)
    else:
        text = data
    try:
        doc = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise GltfError(f"{where}: not a glTF/GLB file ({_short(e)})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("asset"), dict):
        raise GltfError(f"{where}: not a glTF/GLB file (no glTF asset description)")
    return doc, blob


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return text[:200]


class _Reader:
    """Accessors of one document, each checked against its buffer view and buffer before any
    array is made."""

    def __init__(self, doc: dict, glb_blob: bytes | None, folder: Path, where: str) -> None:
        self.glb_blob, self.folder, self.where = glb_blob, folder, where
        self.accessors = _list(doc, "accessors", "the document's", where)
        self.views = _list(doc, "bufferViews", "the document's", where)
        self.buffer_docs = _list(doc, "buffers", "the document's", where)
        self.buffers: dict[int, bytes] = {}

    def buffer(self, index: object) -> bytes:
        where = self.where
        buf = _entry(self.buffer_docs, index, "buffer", where)
        i = int(index)  # a whole number: _entry checked it
        if i in self.buffers:
            return self.buffers[i]
        declared = _whole(buf.get("byteLength"), f"buffer {i}'s byteLength", where, 0, MAX_HEAD_BYTES)
        uri = buf.get("uri")
        if uri is None:
            if i != 0 or self.glb_blob is None:
                raise GltfError(f"{where}: buffer {i} has no data (no uri, and no GLB binary chunk)")
            data = self.glb_blob
        elif not isinstance(uri, str):
            raise GltfError(f"{where}: buffer {i}'s uri is not text")
        elif uri.startswith("data:"):
            head, _, payload = uri.partition(",")
            if not head.endswith(";base64"):
                raise GltfError(f"{where}: buffer {i}'s data uri is not base64")
            try:
                data = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                raise GltfError(f"{where}: buffer {i}'s data uri is not valid base64") from None
        else:
            name = unquote(uri)
            if "://" in name or "\x00" in name:
                raise GltfError(f"{where}: buffer {i}'s uri is not a local file name ({name[:60]!r})")
            data = _read_regular(self.folder / name, where, f"its buffer file {name[:60]}")
        if len(data) < declared:
            raise GltfError(f"{where}: buffer {i} announces {declared} bytes but holds {len(data)}")
        self.buffers[i] = data
        return data

    def span(self, view_index: object, offset: object, elem: int, count: int, what: str,
             strided: bool) -> tuple[bytes, int, int]:
        """(buffer, start, stride) of `count` elements of `elem` bytes read through a buffer view,
        once they are known to lie inside it and the view inside its buffer."""
        where = self.where
        view = _entry(self.views, view_index, "buffer view", where)
        blob = self.buffer(view.get("buffer"))
        v_off = _whole(view.get("byteOffset", 0), "a buffer view's byteOffset", where)
        v_len = _whole(view.get("byteLength"), "a buffer view's byteLength", where)
        if v_off + v_len > len(blob):
            raise GltfError(f"{where}: a buffer view reads past the end of its buffer "
                            f"({v_off} + {v_len} > {len(blob)} bytes)")
        a_off = _whole(offset if offset is not None else 0, f"{what}'s byteOffset", where)
        step = elem
        if strided and view.get("byteStride"):   # (0 is read as "packed", as three.js and Blender read it)
            step = _whole(view["byteStride"], "a buffer view's byteStride", where, elem, 252)
        need = a_off + step * (count - 1) + elem if count else 0
        if need > v_len:
            raise GltfError(f"{where}: {what} needs {need} bytes of its buffer view, which holds {v_len}")
        return blob, v_off + a_off, step

    def array(self, index: object, count: int | None = None, what: str = "") -> np.ndarray:
        """Accessor `index` as (count, width), float64 for float and normalised data. `count`,
        if given, is the number of elements it must have."""
        where = self.where
        acc = _entry(self.accessors, index, "accessor", where)
        name = f"accessor {index}" + (f" ({what})" if what else "")
        ctype, kind = acc.get("componentType"), acc.get("type")
        if not isinstance(ctype, int) or ctype not in _COMPONENTS or not isinstance(kind, str) or kind not in _WIDTH:
            raise GltfError(f"{where}: {name} has an unknown component type or type "
                            f"({str(ctype)[:20]}, {str(kind)[:20]})")
        dtype = np.dtype(_COMPONENTS[ctype])
        width = _WIDTH[kind]
        # (the largest accessor a head needs is its triangle indices; without a buffer view an
        # accessor is zeros, so its count is the only bound on what it allocates)
        n = _whole(acc.get("count"), f"{name}'s count", where, 0, MAX_TRIANGLES * 3 // width)
        if count is not None and n != count:
            raise GltfError(f"{where}: {name} has {n} elements where {count} are needed")
        elem = dtype.itemsize * width
        if acc.get("bufferView") is None:
            out = np.zeros((n, width), dtype)
        else:
            blob, start, step = self.span(acc["bufferView"], acc.get("byteOffset"), elem, n, name, True)
            if step == elem:
                out = np.frombuffer(blob, dtype, n * width, start).reshape(n, width).copy()
            else:
                rows = np.lib.stride_tricks.as_strided(
                    np.frombuffer(blob, np.uint8, step * (n - 1) + elem, start), (n, elem), (step, 1))
                out = rows.copy().view(dtype).reshape(n, width)
        sparse = acc.get("sparse")
        if sparse is not None:
            if not isinstance(sparse, dict):
                raise GltfError(f"{where}: {name}'s sparse part is not a JSON object")
            k = _whole(sparse.get("count"), f"{name}'s sparse count", where, 0, n)
            indices, values = sparse.get("indices"), sparse.get("values")
            if k:
                if (not isinstance(indices, dict) or not isinstance(values, dict)
                        or indices.get("componentType") not in _INDEX_COMPONENTS):
                    raise GltfError(f"{where}: {name}'s sparse indices or values are missing or of an unknown type")
                itype = np.dtype(_COMPONENTS[indices["componentType"]])
                blob, start, _ = self.span(indices.get("bufferView"), indices.get("byteOffset"), itype.itemsize, k,
                                           f"{name}'s sparse indices", False)
                idx = np.frombuffer(blob, itype, k, start).astype(np.int64)
                if idx.max() >= n:
                    raise GltfError(f"{where}: {name}'s sparse indices go past its {n} elements")
                blob, start, _ = self.span(values.get("bufferView"), values.get("byteOffset"), elem, k,
                                           f"{name}'s sparse values", False)
                out[idx] = np.frombuffer(blob, dtype, k * width, start).reshape(k, width)
        if acc.get("normalized") is True and dtype.type in _NORMALISE:
            return np.maximum(out.astype(np.float64) / _NORMALISE[dtype.type], -1.0)
        return out.astype(np.float64) if dtype.kind == "f" else out


def _node_matrix(node: dict, i: int, where: str) -> np.ndarray:
    if node.get("matrix") is not None:
        return _numbers(node["matrix"], 16, f"node {i}'s matrix", where).reshape(4, 4).T
    m = np.eye(4)
    if node.get("scale") is not None:
        m = np.diag([*_numbers(node["scale"], 3, f"node {i}'s scale", where), 1.0]) @ m
    if node.get("rotation") is not None:
        x, y, z, w = _numbers(node["rotation"], 4, f"node {i}'s rotation", where)
        r = np.array([
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
        rm = np.eye(4)
        rm[:3, :3] = r
        m = rm @ m
    if node.get("translation") is not None:
        tm = np.eye(4)
        tm[:3, 3] = _numbers(node["translation"], 3, f"node {i}'s translation", where)
        m = tm @ m
    return m


def _world_matrices(doc: dict, nodes: list, where: str) -> tuple[dict[int, np.ndarray], dict[int, int]]:
    """World matrix of every node reachable from the scene roots, and its parent (each node is
    visited once, so a cycle or a node shared by two parents cannot make the walk grow)."""
    scenes = _list(doc, "scenes", "the document's", where)
    if scenes:
        scene = _entry(scenes, doc.get("scene", 0), "scene", where)
        roots = _list(scene, "nodes", "the scene's", where)
    else:
        children = set()
        for i in range(len(nodes)):
            children.update(c for c in _list(_entry(nodes, i, "node", where), "children", "a node's", where)
                            if isinstance(c, int))
        roots = [i for i in range(len(nodes)) if i not in children]
    world: dict[int, np.ndarray] = {}
    parent: dict[int, int] = {}
    stack: list[tuple[object, np.ndarray, int]] = [(r, np.eye(4), -1) for r in roots]
    while stack:
        i, above, p = stack.pop()
        node = _entry(nodes, i, "node", where)
        if i in world:
            continue
        world[i] = above @ _node_matrix(node, i, where)
        parent[i] = p
        for c in _list(node, "children", f"node {i}'s", where):
            stack.append((c, world[i], i))
    return world, parent


def load_glb_head(path: str | os.PathLike) -> FaceRig:
    """A user's head from a GLB whose mesh has ARKit-named morph targets -> FaceRig (cm).

    The mesh chosen is the one whose targetNames (mesh.extras, or the primitive's extras)
    match the most ARKit names, case-insensitively; all its triangle primitives are merged.
    Geometry is taken in its rest pose in scene space (node transforms applied, animation
    ignored) and converted from metres to centimetres. Shapes absent from the file get zero
    deltas. The pivot is the world position of an ancestor node named "Head" if there is one
    (as write_glb writes), else the bottom centre of the mesh's bounding box. Colours come from
    COLOR_0 or the material's base colour; all vertices are the "skin" part.

    Anything unusable is one GltfError naming the file: every count, offset and length the
    file declares is checked against the bytes it holds (and against MAX_VERTICES,
    MAX_TRIANGLES, MAX_HEAD_BYTES) before an array is made, so a small file cannot make it
    allocate more than its head needs.
    """
    where = os.fspath(path)
    doc, blob = _parse_gltf(_read_regular(Path(path), where), where)
    try:
        return _head_from(doc, _Reader(doc, blob, Path(path).parent, where), where)
    except GltfError:
        raise
    except MemoryError:
        raise GltfError(f"{where}: not enough memory for the head it describes") from None
    except (IndexError, KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
        # a value of a type or shape no check above foresaw: still one line naming the file
        raise GltfError(f"{where}: the file is damaged ({_short(e)})") from None


def _target_names(mesh: dict) -> list[str]:
    """The morph target names of a mesh (mesh.extras.targetNames, or a primitive's)."""
    primitives = mesh.get("primitives") if isinstance(mesh.get("primitives"), list) else []
    for extras in [mesh.get("extras")] + [p.get("extras") for p in primitives if isinstance(p, dict)]:
        if isinstance(extras, dict) and isinstance(extras.get("targetNames"), list):
            return [str(n) for n in extras["targetNames"]]
    return []


def _head_from(doc: dict, reader: _Reader, where: str) -> FaceRig:
    lookup = {n.lower(): i for i, n in enumerate(BLENDSHAPES)}
    meshes = [m if isinstance(m, dict) else {} for m in _list(doc, "meshes", "the document's", where)]
    nodes = _list(doc, "nodes", "the document's", where)

    best, best_hits = None, 0
    for mi, mesh in enumerate(meshes):
        names = _target_names(mesh)
        hits = len({n.lower() for n in names} & lookup.keys())
        primitives = mesh.get("primitives") if isinstance(mesh.get("primitives"), list) else []
        if hits > best_hits and any(isinstance(p, dict) and p.get("targets") for p in primitives):
            best, best_hits = mi, hits
    if best is None:
        found = sorted({n for m in meshes for n in _target_names(m)})
        detail = f"target names found: {', '.join(n[:40] for n in found[:8])}" if found else "no named morph targets"
        raise GltfError(f"{where}: no mesh with ARKit-named morph targets ({detail})")
    mesh = meshes[best]
    names = _target_names(mesh)

    world, parent = _world_matrices(doc, nodes, where)
    node = next((i for i in sorted(world) if isinstance(nodes[i], dict) and nodes[i].get("mesh") == best), None)
    m = world[node] if node is not None else np.eye(4)
    lin = m[:3, :3]

    # First the vertex counts (as declared, checked), so the deltas of all primitives are
    # allocated once.
    prims: list[tuple[dict, dict, int]] = []
    total = 0
    for prim in _list(mesh, "primitives", "the mesh's", where):
        if not isinstance(prim, dict) or prim.get("mode") not in (None, 4):
            continue
        attributes = prim.get("attributes")
        if not isinstance(attributes, dict) or attributes.get("POSITION") is None:
            continue
        acc = _entry(reader.accessors, attributes["POSITION"], "accessor", where)
        n = _whole(acc.get("count"), f"accessor {attributes['POSITION']} (POSITION)'s count", where, 0, MAX_VERTICES)
        total += n
        if total > MAX_VERTICES:
            raise GltfError(f"{where}: the head has more than {MAX_VERTICES} vertices")
        prims.append((prim, attributes, n))
    if not prims:
        raise GltfError(f"{where}: the morph-target mesh has no triangles")
    d = np.zeros((NUM_BLENDSHAPES, total, 3), np.float32)
    materials = _list(doc, "materials", "the document's", where)

    all_v, all_t, all_uv, all_c = [], [], [], []
    base = 0
    for prim, attributes, n in prims:
        v = reader.array(attributes["POSITION"], n, "POSITION")[:, :3]
        if prim.get("indices") is not None:
            t = reader.array(prim["indices"], None, "indices")
            if t.dtype.kind != "u" or t.shape[1] != 1 or len(t) % 3:
                raise GltfError(f"{where}: the triangle indices are not whole numbers in threes")
            if len(t) and int(t.max()) >= n:
                raise GltfError(f"{where}: a triangle refers to vertex {int(t.max())} of a primitive of {n}")
            t = t.reshape(-1, 3).astype(np.int64)
        else:
            t = np.arange(n - n % 3).reshape(-1, 3)
        uv = (reader.array(attributes["TEXCOORD_0"], n, "TEXCOORD_0")[:, :2]
              if attributes.get("TEXCOORD_0") is not None else np.zeros((n, 2)))
        if attributes.get("COLOR_0") is not None:
            col = reader.array(attributes["COLOR_0"], n, "COLOR_0")[:, :3].astype(np.float64)
            if len(col) and col.max() > 1.0:  # integer colours without the normalized flag
                col = col / 255.0
        else:
            base_col = np.array([0.8, 0.8, 0.8])
            if prim.get("material") is not None:
                pbr = _entry(materials, prim["material"], "material", where).get("pbrMetallicRoughness")
                if isinstance(pbr, dict) and pbr.get("baseColorFactor") is not None:
                    base_col = _numbers(pbr["baseColorFactor"], 4, "a material's baseColorFactor", where)[:3]
            col = np.tile(base_col, (n, 1))
        for k, target in enumerate(_list(prim, "targets", "a primitive's", where)):
            if k >= len(names) or names[k].lower() not in lookup or not isinstance(target, dict):
                continue
            if target.get("POSITION") is not None:
                shape = reader.array(target["POSITION"], n, f"morph target {names[k][:40]}")
                d[lookup[names[k].lower()], base:base + n] = shape[:, :3]
        all_v.append(v)
        all_t.append(t + base)
        all_uv.append(uv)
        all_c.append(col)
        base += n
    triangles = np.concatenate(all_t)
    if len(triangles) > MAX_TRIANGLES:
        raise GltfError(f"{where}: the head has more than {MAX_TRIANGLES} triangles")
    v = np.concatenate(all_v)
    v = (v @ lin.T + m[:3, 3]) / CM_TO_M
    # In place, one shape at a time: no second copy of the (52, V, 3) deltas, and the shapes
    # the file lacks stay untouched zero pages.
    scale = (lin.T / CM_TO_M).astype(np.float32)
    for k in range(NUM_BLENDSHAPES):
        if d[k].any():
            d[k] = d[k] @ scale
    if not _finite32(v) or not _finite32(d):
        raise GltfError(f"{where}: the mesh holds NaN, infinite or out-of-range coordinates")

    pivot = None
    a = parent.get(node, -1) if node is not None else -1
    while a >= 0:
        if str(nodes[a].get("name") or "").lower() == "head":
            pivot = world[a][:3, 3] / CM_TO_M
            break
        a = parent.get(a, -1)
    if pivot is None:
        lo, hi = v.min(axis=0), v.max(axis=0)
        pivot = np.array([(lo[0] + hi[0]) / 2, lo[1], (lo[2] + hi[2]) / 2])
    if not _finite32(np.asarray(pivot, np.float64)):
        raise GltfError(f"{where}: the head node's position is NaN, infinite or out of range")
    return FaceRig(
        vertices=v.astype(np.float32),
        triangles=triangles.astype(np.uint32),
        uvs=np.nan_to_num(np.concatenate(all_uv), posinf=0.0, neginf=0.0).astype(np.float32),
        colors=np.clip(np.nan_to_num(np.concatenate(all_c)), 0.0, 1.0).astype(np.float32),
        parts=np.zeros(len(v), np.uint8),
        deltas=d,
        pivot=np.asarray(pivot, dtype=np.float32),
    )


def _finite32(x: np.ndarray) -> bool:
    """Finite, and finite again as float32."""
    return bool(np.isfinite(x).all()) and (x.size == 0 or float(np.abs(x).max()) <= _FLOAT32_MAX)


__all__ = ["GltfError", "build_glb", "head_quaternions", "load_glb_head",
           "write_glb"]

