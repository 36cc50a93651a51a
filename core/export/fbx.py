"""Binary FBX (7.4) export: the rig's mesh, 52 ARKit blendshape channels, their animated
weights and the animated head rotation.

Scene layout (Y up, Z towards the viewer, centimetres, as FaceRig):

    Head (Model, Null) at rig.pivot, Lcl Rotation animated (pitch, yaw, roll in degrees),
    |                  RotationOrder ZXY so that R = Ry(yaw) Rx(pitch) Rz(roll) exactly as
    |                  core.face.rig.head_rotation composes them
    +-- <name> (Model, Mesh) at -rig.pivot, so the vertices keep the rig's coordinates and
        |                     the head turns about the neck
        +-- Geometry (Mesh): vertices, triangles, normals, UVs, vertex colours, one material
            |                per rig part
            +-- BlendShape deformer
                +-- 52 BlendShapeChannels named by ARKit (eyeBlinkLeft ... tongueOut),
                    each with one Shape (Indexes + Vertices of the moved vertices only) and
                    an animated DeformPercent (0..100, one linear key per track frame)

One AnimationStack (named after `name`) with one AnimationLayer holds all curves.
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np

from core.arkit import BLENDSHAPES, NUM_BLENDSHAPES
from core.export.fbx_binary import (
    CREATION_TIME,
    FBX_VERSION,
    I64,
    KTIME_PER_SECOND,
    Node,
    Raw,
    encode_array,
    file_id,
    prop,
    properties70,
    write_document,
)
from core import __version__
from core.face.rig import PART_NAMES, FaceRig, vertex_normals
from core.fileio import atomic_write
from core.track import FaceTrack

__all__ = ["write_fbx", "HEAD_NODE", "ROTATION_ORDER_ZXY", "fbx_time_mode", "ktimes"]

HEAD_NODE = "Head"
CREATOR = "AVI-Talking Studio FBX exporter"

# FbxEuler::EOrder. eEulerZXY applies Z, then X, then Y: R = Ry Rx Rz.
ROTATION_ORDER_ZXY = 4

# FbxTime::EMode for the standard rates; anything else is eCustom (14) + CustomFrameRate.
_TIME_MODES = (
    (120.0, 1), (100.0, 2), (60.0, 3), (50.0, 4), (48.0, 5), (30.0, 6),
    (30.0 / 1.001, 9), (25.0, 10), (24.0, 11), (24.0 / 1.001, 13),
    (96.0, 15), (72.0, 16), (60.0 / 1.001, 17), (120.0 / 1.001, 18),
)
_TIME_MODE_CUSTOM = 14

# KeyAttrFlags: eInterpolationLinear. Keys sit on every frame, so linear interpolation
# between them is exactly FaceTrack.sample().
_KEY_LINEAR = 0x00000004
# KeyAttrDataFloat: right slope, next left slope, packed weights, packed velocities
# (the FBX SDK's defaults; unused by linear keys).
_KEY_DATA = np.array([0.0, 0.0, 9.419963346924634e-30, 0.0], np.float32)

# A blendshape offset smaller than this (cm) counts as "not moved" and is left out.
MOVED_EPS_CM = 1e-6

Progress = Callable[[float], None]


def fbx_time_mode(fps: float) -> tuple[int, float]:
    """(FBX TimeMode enum, frame rate written as CustomFrameRate) for a frame rate."""
    for rate, mode in _TIME_MODES:
        if abs(fps - rate) < 1e-6 * rate:
            return mode, rate
    return _TIME_MODE_CUSTOM, float(fps)


def ktimes(frames: int, fps: float) -> np.ndarray:
    """FBX times (1/46186158000 s) of frames 0..frames-1, int64, rounded to the nearest."""
    return np.rint(np.arange(frames, dtype=np.float64) * (KTIME_PER_SECOND / fps)).astype(np.int64)


class _Ids:
    """Deterministic, distinct, non-zero object ids (0 is the scene root)."""

    def __init__(self) -> None:
        self._next = 0x2A_0000_0000

    def __call__(self) -> I64:
        self._next += 1
        return I64(self._next)


def _linear_to_srgb(c: np.ndarray) -> np.ndarray:
    c = np.clip(c.astype(np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * np.power(c, 1 / 2.4) - 0.055)


def _model(objects: Node, oid: I64, name: str, kind: str, *, translation, rotation=(0.0, 0.0, 0.0),
           rotation_order: int | None = None) -> Node:
    model = objects.add("Model", oid, f"{name}\x00\x01Model", kind)
    model.add("Version", 232)
    p70 = properties70(model)
    if rotation_order is not None:
        # RotationActive must be on for importers (FBX SDK, Blender) to honour RotationOrder.
        prop(p70, "RotationActive", "bool", "", "", 1)
        prop(p70, "RotationOrder", "enum", "", "", rotation_order)
    prop(p70, "InheritType", "enum", "", "", 1)
    prop(p70, "ScalingMax", "Vector3D", "Vector", "", 0.0, 0.0, 0.0)
    prop(p70, "DefaultAttributeIndex", "int", "Integer", "", 0)
    prop(p70, "Lcl Translation", "Lcl Translation", "", "A", *map(float, translation))
    prop(p70, "Lcl Rotation", "Lcl Rotation", "", "A", *map(float, rotation))
    prop(p70, "Lcl Scaling", "Lcl Scaling", "", "A", 1.0, 1.0, 1.0)
    model.add("MultiLayer", 0)
    model.add("MultiTake", 0)
    model.add("Shading", True)
    model.add("Culling", "CullingOff")
    return model


def _layer_element(geom: Node, kind: str, version: int, name: str, mapping: str, reference: str) -> Node:
    el = geom.add(kind, 0)
    el.add("Version", version)
    el.add("Name", name)
    el.add("MappingInformationType", mapping)
    el.add("ReferenceInformationType", reference)
    return el


def _header(take: str | None) -> list[Node]:
    ext = Node("FBXHeaderExtension")
    ext.add("FBXHeaderVersion", 1003)
    ext.add("FBXVersion", FBX_VERSION)
    ext.add("EncryptionType", 0)
    stamp = ext.add("CreationTimeStamp")
    for key, value in (("Version", 1000), ("Year", 1970), ("Month", 1), ("Day", 1), ("Hour", 10),
                       ("Minute", 0), ("Second", 0), ("Millisecond", 0)):
        stamp.add(key, value)
    ext.add("Creator", CREATOR)
    info = ext.add("SceneInfo", "GlobalInfo\x00\x01SceneInfo", "UserData")
    info.add("Type", "UserData")
    info.add("Version", 100)
    meta = info.add("MetaData")
    meta.add("Version", 100)
    for key in ("Title", "Subject", "Author", "Keywords", "Revision", "Comment"):
        meta.add(key, "")
    p70 = properties70(info)
    prop(p70, "DocumentUrl", "KString", "Url", "", "/avi_talking.fbx")
    prop(p70, "SrcDocumentUrl", "KString", "Url", "", "/avi_talking.fbx")
    for group in ("Original", "LastSaved"):
        prop(p70, group, "Compound", "", "")
        prop(p70, f"{group}|ApplicationVendor", "KString", "", "", "AVI-Talking Studio")
        prop(p70, f"{group}|ApplicationName", "KString", "", "", "AVI-Talking Studio")
        prop(p70, f"{group}|ApplicationVersion", "KString", "", "", __version__)
        prop(p70, f"{group}|DateTime_GMT", "DateTime", "", "", "01/01/1970 00:00:00.000")
        if group == "Original":
            prop(p70, "Original|FileName", "KString", "", "", "/avi_talking.fbx")
    return [ext, Node("FileId", file_id()), Node("CreationTime", CREATION_TIME), Node("Creator", CREATOR)]


def _global_settings(fps: float, stop: int) -> Node:
    mode, rate = fbx_time_mode(fps)
    gs = Node("GlobalSettings")
    gs.add("Version", 1000)
    p70 = properties70(gs)
    for key, value in (("UpAxis", 1), ("UpAxisSign", 1), ("FrontAxis", 2), ("FrontAxisSign", 1),
                       ("CoordAxis", 0), ("CoordAxisSign", 1), ("OriginalUpAxis", 1),
                       ("OriginalUpAxisSign", 1)):
        prop(p70, key, "int", "Integer", "", value)
    prop(p70, "UnitScaleFactor", "double", "Number", "", 1.0)
    prop(p70, "OriginalUnitScaleFactor", "double", "Number", "", 1.0)
    prop(p70, "AmbientColor", "ColorRGB", "Color", "", 0.0, 0.0, 0.0)
    prop(p70, "DefaultCamera", "KString", "", "", "Producer Perspective")
    prop(p70, "TimeMode", "enum", "", "", mode)
    prop(p70, "TimeProtocol", "enum", "", "", 2)
    prop(p70, "SnapOnFrameMode", "enum", "", "", 0)
    prop(p70, "TimeSpanStart", "KTime", "Time", "", I64(0))
    prop(p70, "TimeSpanStop", "KTime", "Time", "", I64(stop))
    prop(p70, "CustomFrameRate", "double", "Number", "", float(rate))
    prop(p70, "TimeMarker", "Compound", "", "")
    prop(p70, "CurrentTimeMarker", "int", "Integer", "", -1)
    return gs


def _definitions(counts: dict[str, int]) -> Node:
    defs = Node("Definitions")
    defs.add("Version", 100)
    defs.add("Count", sum(counts.values()))
    for kind, count in counts.items():
        if count:
            ot = defs.add("ObjectType", kind)
            ot.add("Count", count)
    return defs


def write_fbx(path: str | os.PathLike, rig: FaceRig, track: FaceTrack, *, name: str = "AVITalkingHead",
              progress: Progress | None = None) -> None:
    """Write `rig` animated by `track` as a binary FBX 7.4 file at `path`.

    The file appears complete under `path` or not at all (core.fileio.atomic_write).
    `progress(fraction)` is called now and then with 0..1 if given.
    """
    report = progress or (lambda _f: None)
    report(0.0)
    if not name or "\x00" in name:
        raise ValueError("the FBX object name must be a non-empty string without NUL")
    if tuple(rig.names) != BLENDSHAPES:
        raise ValueError("the rig's blendshapes must be the 52 ARKit shapes in core.arkit order")
    vertices = np.asarray(rig.vertices, np.float64)
    triangles = np.asarray(rig.triangles, np.int64)
    nv, nt = len(vertices), len(triangles)
    if nt and (triangles.min() < 0 or triangles.max() >= nv):
        raise ValueError("rig triangles index vertices that do not exist")
    pivot = np.asarray(rig.pivot, np.float64).reshape(3)
    head_name = HEAD_NODE if name != HEAD_NODE else f"{HEAD_NODE}Pivot"

    frames, fps = track.frames, track.fps
    times = ktimes(frames, fps)
    last = int(times[-1]) if frames else 0
    stop = max(last, int(round(KTIME_PER_SECOND / fps)))  # a one-frame take still spans one frame
    weights = track.weights.astype(np.float64) * 100.0  # FBX DeformPercent
    head_deg = np.degrees(track.head.astype(np.float64))  # pitch, yaw, roll -> X, Y, Z
    first_deg = head_deg[0] if frames else np.zeros(3)
    first_w = weights[0] if frames else np.zeros(NUM_BLENDSHAPES)

    ids = _Ids()
    objects = Node("Objects")
    conns = Node("Connections")

    def oo(child: I64, parent: I64 | int) -> None:
        conns.add("C", "OO", child, I64(parent))

    def op(child: I64, parent: I64, prop_name: str) -> None:
        conns.add("C", "OP", child, parent, prop_name)

    # ---- nodes: Head (Null) at the pivot, the mesh model under it at -pivot
    head_id, head_attr_id, model_id, geom_id = ids(), ids(), ids(), ids()
    attr = objects.add("NodeAttribute", head_attr_id, f"{head_name}\x00\x01NodeAttribute", "Null")
    p70 = properties70(attr)
    prop(p70, "Look", "enum", "", "", 0)
    attr.add("TypeFlags", "Null")
    _model(objects, head_id, head_name, "Null", translation=pivot, rotation=first_deg,
           rotation_order=ROTATION_ORDER_ZXY)
    _model(objects, model_id, name, "Mesh", translation=-pivot)
    oo(head_id, 0)
    oo(head_attr_id, head_id)
    oo(model_id, head_id)

    # ---- geometry
    tri32 = triangles.astype(np.int32)
    pvi = tri32.copy()
    pvi[:, 2] = ~pvi[:, 2]  # the last index of each polygon is stored as -(index + 1)
    corner = Raw(encode_array(tri32, "<i4"))  # polygon-vertex -> vertex, shared by UV and colour
    geom = objects.add("Geometry", geom_id, f"{name}\x00\x01Geometry", "Mesh")
    properties70(geom)
    geom.add("GeometryVersion", 124)
    geom.add("Vertices", vertices)
    geom.add("PolygonVertexIndex", pvi)
    el = _layer_element(geom, "LayerElementNormal", 101, "", "ByVertice", "Direct")
    el.add("Normals", vertex_normals(vertices, triangles))
    el = _layer_element(geom, "LayerElementSmoothing", 102, "", "ByPolygon", "Direct")
    el.add("Smoothing", np.ones(nt, np.int32))
    layer_types = ["LayerElementNormal", "LayerElementSmoothing"]
    colors = np.asarray(rig.colors)
    if colors.size:
        rgba = np.concatenate([_linear_to_srgb(colors), np.ones((nv, 1))], axis=1)
        el = _layer_element(geom, "LayerElementColor", 101, "Col", "ByPolygonVertex", "IndexToDirect")
        el.add("Colors", rgba)
        el.add("ColorIndex", corner)
        layer_types.append("LayerElementColor")
    uvs = np.asarray(rig.uvs)
    if uvs.size:
        el = _layer_element(geom, "LayerElementUV", 101, "UVMap", "ByPolygonVertex", "IndexToDirect")
        # FBX puts the UV origin at the bottom left, the rig (like glTF) at the top left.
        el.add("UV", np.column_stack([uvs[:, 0], 1.0 - uvs[:, 1]]).astype(np.float64))
        el.add("UVIndex", corner)
        layer_types.append("LayerElementUV")
    # One material per rig part used by the triangles (part of each triangle's first vertex).
    tri_part = np.asarray(rig.parts, np.int64)[triangles[:, 0]] if nt else np.zeros(0, np.int64)
    used = [int(p) for p in np.unique(tri_part)] or [0]
    slot = np.zeros(max(used) + 1, np.int32)
    slot[used] = np.arange(len(used), dtype=np.int32)
    el = _layer_element(geom, "LayerElementMaterial", 101, "", "ByPolygon", "IndexToDirect")
    el.add("Materials", slot[tri_part] if nt else np.zeros(0, np.int32))
    layer_types.append("LayerElementMaterial")
    layer = geom.add("Layer", 0)
    layer.add("Version", 100)
    for kind in layer_types:
        le = layer.add("LayerElement")
        le.add("Type", kind)
        le.add("TypedIndex", 0)
    oo(geom_id, model_id)
    for part in used:
        mat_id = ids()
        part_name = PART_NAMES[part] if part < len(PART_NAMES) else f"part{part}"
        sel = np.asarray(rig.parts) == part
        base = colors[sel].mean(axis=0) if colors.size and sel.any() else np.full(3, 0.8)
        mat = objects.add("Material", mat_id, f"{name}_{part_name}\x00\x01Material", "")
        mat.add("Version", 102)
        mat.add("ShadingModel", "phong")
        mat.add("MultiLayer", 0)
        p70 = properties70(mat)
        prop(p70, "DiffuseColor", "Color", "", "A", *map(float, base))
        prop(p70, "DiffuseFactor", "Number", "", "A", 1.0)
        prop(p70, "SpecularColor", "Color", "", "A", 0.2, 0.2, 0.2)
        prop(p70, "SpecularFactor", "Number", "", "A", 0.25)
        prop(p70, "Shininess", "Number", "", "A", 20.0)
        oo(mat_id, model_id)
    report(0.15)

    # ---- blendshapes: one BlendShape deformer, 52 channels, one Shape per channel
    deltas = np.asarray(rig.deltas, np.float32)
    moved = np.any(np.abs(deltas) > MOVED_EPS_CM, axis=2)  # (52, V)
    bs_id = ids()
    bs = objects.add("Deformer", bs_id, f"{name}\x00\x01Deformer", "BlendShape")
    bs.add("Version", 100)
    oo(bs_id, geom_id)
    channel_ids: list[I64] = []
    full = Raw(encode_array(np.array([100.0]), "<f8"))
    for s, shape_name in enumerate(BLENDSHAPES):
        ch_id, shape_id = ids(), ids()
        idx = np.flatnonzero(moved[s]).astype(np.int32)
        if idx.size == 0:
            # Keep the shape valid for every importer (Blender asserts on an empty shape
            # with a FullWeights entry): one vertex with a zero offset.
            idx = np.zeros(1, np.int32)
        shape = objects.add("Geometry", shape_id, f"{shape_name}\x00\x01Geometry", "Shape")
        shape.add("Version", 100)
        shape.add("Indexes", idx)
        shape.add("Vertices", deltas[s, idx].astype(np.float64))
        ch = objects.add("Deformer", ch_id, f"{shape_name}\x00\x01SubDeformer", "BlendShapeChannel")
        ch.add("Version", 100)
        ch.add("DeformPercent", float(first_w[s]))
        ch.add("FullWeights", full)
        oo(ch_id, bs_id)
        oo(shape_id, ch_id)
        channel_ids.append(ch_id)
        if s % 8 == 7:
            report(0.15 + 0.55 * (s + 1) / NUM_BLENDSHAPES)
    report(0.7)

    # ---- animation
    take = name
    n_curves = 0
    n_curve_nodes = 0
    if frames:
        stack_id, layer_id = ids(), ids()
        stack = objects.add("AnimationStack", stack_id, f"{take}\x00\x01AnimStack", "")
        p70 = properties70(stack)
        prop(p70, "LocalStart", "KTime", "Time", "", I64(0))
        prop(p70, "LocalStop", "KTime", "Time", "", I64(stop))
        prop(p70, "ReferenceStart", "KTime", "Time", "", I64(0))
        prop(p70, "ReferenceStop", "KTime", "Time", "", I64(stop))
        objects.add("AnimationLayer", layer_id, "BaseLayer\x00\x01AnimLayer", "")
        oo(layer_id, stack_id)

        key_time = Raw(encode_array(times, "<i8"))
        key_flags = Raw(encode_array(np.array([_KEY_LINEAR], np.int32), "<i4"))
        key_data = Raw(encode_array(_KEY_DATA, "<f4"))
        key_count = Raw(encode_array(np.array([frames], np.int32), "<i4"))

        def curve(values: np.ndarray, node_id: I64, channel: str) -> None:
            cid = ids()
            c = objects.add("AnimationCurve", cid, "\x00\x01AnimCurve", "")
            c.add("Default", float(values[0]))
            c.add("KeyVer", 4008)
            c.add("KeyTime", key_time)
            c.add("KeyValueFloat", values.astype(np.float32))
            c.add("KeyAttrFlags", key_flags)
            c.add("KeyAttrDataFloat", key_data)
            c.add("KeyAttrRefCount", key_count)
            op(cid, node_id, channel)

        for s, ch_id in enumerate(channel_ids):
            cn_id = ids()
            cn = objects.add("AnimationCurveNode", cn_id, "DeformPercent\x00\x01AnimCurveNode", "")
            prop(properties70(cn), "d|DeformPercent", "Number", "", "A", float(first_w[s]))
            oo(cn_id, layer_id)
            op(cn_id, ch_id, "DeformPercent")
            curve(weights[:, s], cn_id, "d|DeformPercent")
        cn_id = ids()
        cn = objects.add("AnimationCurveNode", cn_id, "R\x00\x01AnimCurveNode", "")
        p70 = properties70(cn)
        for axis, value in zip("XYZ", first_deg):
            prop(p70, f"d|{axis}", "Number", "", "A", float(value))
        oo(cn_id, layer_id)
        op(cn_id, head_id, "Lcl Rotation")
        for k, axis in enumerate("XYZ"):
            curve(head_deg[:, k], cn_id, f"d|{axis}")
        n_curve_nodes = NUM_BLENDSHAPES + 1
        n_curves = NUM_BLENDSHAPES + 3
    report(0.9)

    # ---- document
    doc_id = ids()
    docs = Node("Documents")
    docs.add("Count", 1)
    doc = docs.add("Document", doc_id, "Scene", "Scene")
    p70 = properties70(doc)
    prop(p70, "SourceObject", "object", "", "")
    prop(p70, "ActiveAnimStackName", "KString", "", "", take if frames else "")
    doc.add("RootNode", I64(0))

    counts = {
        "GlobalSettings": 1,
        "Model": 2,
        "NodeAttribute": 1,
        "Geometry": 1 + NUM_BLENDSHAPES,
        "Material": len(used),
        "Deformer": 1 + NUM_BLENDSHAPES,
        "AnimationStack": 1 if frames else 0,
        "AnimationLayer": 1 if frames else 0,
        "AnimationCurveNode": n_curve_nodes,
        "AnimationCurve": n_curves,
    }
    takes = Node("Takes")
    takes.add("Current", take if frames else "")
    if frames:
        t = takes.add("Take", take)
        t.add("FileName", f"{take}.tak")
        t.add("LocalTime", I64(0), I64(stop))
        t.add("ReferenceTime", I64(0), I64(stop))

    top = [*_header(take), _global_settings(fps, stop), docs, Node("References"),
           _definitions(counts), objects, conns, takes]
    with atomic_write(path) as f:
        write_document(f, top)
        # Still inside the atomic block: a callback that raises (a cancel) discards the file.
        report(0.99)
    report(1.0)
