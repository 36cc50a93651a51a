"""GLB export (core.export.gltf), read back by readers that share no code with the writer.

* a GLB/glTF decoder written here (struct + json + numpy, following the glTF 2.0 spec);
* trimesh (geometry, node transforms, mesh extras; it ignores morph targets and animation);
* Blender's glTF importer (shape keys, keyframes, evaluated weights and head rotation), when
  `blender` is installed. Debian's blender has no numpy of its own, and Debian's
  python3-numpy (1.24) lacks `np.bool`, which Blender 3.4's glTF importer uses; so the test
  lends Blender this interpreter's numpy (same Python 3.11 ABI, numpy 2 has np.bool again).
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import trimesh

from core.arkit import BLENDSHAPES, INDEX, NUM_BLENDSHAPES, NUM_CHANNELS
from core.export.gltf import GltfError, load_glb_head, write_glb
from core.face import load_rig
from core.face.rig import FaceRig, head_rotation
from core.track import FaceTrack


# ----------------------------------------------------------------------------- fixtures

def small_rig() -> FaceRig:
    """A curved 16 x 16 patch (256 vertices, 450 triangles) with 52 distinct deltas, in cm."""
    n = 16
    u, v = np.meshgrid(np.linspace(-1, 1, n), np.linspace(-1, 1, n))
    x, y = 8.0 * u, 10.0 * v
    z = 3.0 * (1 - u ** 2) * (1 - 0.5 * v ** 2)
    verts = np.column_stack([x.ravel(), y.ravel(), z.ravel()]).astype(np.float32)
    tris = []
    for r in range(n - 1):
        for c in range(n - 1):
            a = r * n + c
            tris += [(a, a + 1, a + n + 1), (a, a + n + 1, a + n)]
    nv = len(verts)
    deltas = np.zeros((NUM_BLENDSHAPES, nv, 3), np.float32)
    for k in range(NUM_BLENDSHAPES):
        # Shape k moves a different blob of vertices in a different direction.
        centre = verts[(37 * k) % nv]
        falloff = np.exp(-np.sum((verts - centre) ** 2, axis=1) / 8.0)
        direction = np.array([np.cos(k), np.sin(k), 0.5 + 0.01 * k])
        deltas[k] = (0.2 + 0.02 * k) * falloff[:, None] * direction
    uv = np.column_stack([(u.ravel() + 1) / 2, (v.ravel() + 1) / 2]).astype(np.float32)
    colors = np.column_stack([uv[:, 0], uv[:, 1], np.full(nv, 0.5)]).astype(np.float32)
    return FaceRig(vertices=verts, triangles=np.asarray(tris, np.uint32), uvs=uv, colors=colors,
                   parts=np.zeros(nv, np.uint8), deltas=deltas,
                   pivot=np.array([0.0, -9.0, -4.0], np.float32))


def short_track(frames: int = 24, fps: float = 24.0) -> FaceTrack:
    t = np.arange(frames) / fps
    data = np.zeros((frames, NUM_CHANNELS), np.float32)
    for k in range(NUM_BLENDSHAPES):
        data[:, k] = 0.5 + 0.5 * np.sin(2 * np.pi * (0.5 + 0.05 * k) * t + k)
    data[:, INDEX["headPitch"]] = 0.30 * np.sin(2 * np.pi * 0.7 * t)
    data[:, INDEX["headYaw"]] = 0.45 * np.sin(2 * np.pi * 0.4 * t + 1.0)
    data[:, INDEX["headRoll"]] = 0.20 * np.cos(2 * np.pi * 0.9 * t)
    return FaceTrack(fps, data)


# ----------------------------------------------------------------------------- an independent GLB reader

COMPONENT = {5120: "i1", 5121: "u1", 5122: "<i2", 5123: "<u2", 5125: "<u4", 5126: "<f4"}
WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}


class Glb:
    def __init__(self, path: Path) -> None:
        raw = path.read_bytes()
        magic, version, length = struct.unpack_from("<4sII", raw, 0)
        assert magic == b"glTF" and version == 2 and length == len(raw)
        json_len, json_type = struct.unpack_from("<I4s", raw, 12)
        assert json_type == b"JSON" and json_len % 4 == 0
        self.json = json.loads(raw[20:20 + json_len])
        bin_at = 20 + json_len
        bin_len, bin_type = struct.unpack_from("<I4s", raw, bin_at)
        assert bin_type == b"BIN\x00" and bin_len % 4 == 0 and (bin_at + 8) % 4 == 0
        self.bin = raw[bin_at + 8: bin_at + 8 + bin_len]
        assert self.json["buffers"][0]["byteLength"] <= bin_len

    def accessor(self, index: int) -> np.ndarray:
        acc = self.json["accessors"][index]
        view = self.json["bufferViews"][acc["bufferView"]]
        dtype = np.dtype(COMPONENT[acc["componentType"]])
        width = WIDTH[acc["type"]]
        start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
        assert "byteStride" not in view  # tightly packed
        assert start + acc["count"] * width * dtype.itemsize <= view.get("byteOffset", 0) + view["byteLength"]
        arr = np.frombuffer(self.bin, dtype, acc["count"] * width, start)
        return arr.reshape(acc["count"], width) if width > 1 else arr


def quat_from_matrix(m: np.ndarray) -> np.ndarray:
    """xyzw of a rotation matrix (Shepperd's method), for comparing with the file."""
    m = np.asarray(m, dtype=np.float64)
    tr = np.trace(m)
    if tr > 0:
        s = 2 * np.sqrt(1 + tr)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    else:
        i = int(np.argmax(np.diag(m)))
        j, k = (i + 1) % 3, (i + 2) % 3
        s = 2 * np.sqrt(1 + m[i, i] - m[j, j] - m[k, k])
        q = [0.0] * 4
        q[i] = s / 4
        q[j] = (m[j, i] + m[i, j]) / s
        q[k] = (m[k, i] + m[i, k]) / s
        q[3] = (m[k, j] - m[j, k]) / s
    return np.asarray(q)


def same_rotation(q: np.ndarray, r: np.ndarray) -> float:
    """Distance between a quaternion and a rotation matrix's quaternion (sign-free)."""
    e = quat_from_matrix(r)
    return float(min(np.abs(q - e).max(), np.abs(q + e).max()))


# ----------------------------------------------------------------------------- tests

@pytest.fixture(scope="module")
def written(tmp_path_factory):
    rig, track = small_rig(), short_track()
    path = tmp_path_factory.mktemp("glb") / "head.glb"
    calls: list[float] = []
    write_glb(path, rig, track, progress=calls.append)
    assert calls[0] == 0.0 and calls[-1] == 1.0 and calls == sorted(calls)
    return path, rig, track


def test_glb_structure(written):
    path, rig, track = written
    glb = Glb(path)
    j = glb.json
    assert j["asset"]["version"] == "2.0"
    for view in j["bufferViews"]:
        assert view.get("byteOffset", 0) % 4 == 0
    for acc in j["accessors"]:
        assert acc.get("byteOffset", 0) % 4 == 0

    assert len(j["meshes"]) == 1 and len(j["meshes"][0]["primitives"]) == 1
    mesh = j["meshes"][0]
    prim = mesh["primitives"][0]
    assert mesh["extras"]["targetNames"] == list(BLENDSHAPES)
    assert mesh["weights"] == [0.0] * 52
    assert set(prim["attributes"]) == {"POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0"}

    pos = glb.accessor(prim["attributes"]["POSITION"])
    np.testing.assert_allclose(pos, rig.vertices * 0.01, atol=1e-7)
    acc = j["accessors"][prim["attributes"]["POSITION"]]
    np.testing.assert_allclose(acc["min"], pos.min(axis=0), atol=1e-7)
    np.testing.assert_allclose(acc["max"], pos.max(axis=0), atol=1e-7)
    normals = glb.accessor(prim["attributes"]["NORMAL"])
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    assert normals[:, 2].mean() > 0.5  # the patch faces +Z (counter-clockwise triangles)
    uv = glb.accessor(prim["attributes"]["TEXCOORD_0"])
    np.testing.assert_allclose(uv, rig.uvs, atol=1e-7)  # both put the UV origin at the top left
    np.testing.assert_allclose(glb.accessor(prim["attributes"]["COLOR_0"]), rig.colors, atol=1e-7)
    idx = glb.accessor(prim["indices"]).reshape(-1, 3)
    np.testing.assert_array_equal(idx, rig.triangles)

    assert len(prim["targets"]) == 52
    for k, target in enumerate(prim["targets"]):
        d = glb.accessor(target["POSITION"])
        np.testing.assert_allclose(d, rig.deltas[k] * 0.01, atol=1e-8)
        acc = j["accessors"][target["POSITION"]]
        np.testing.assert_allclose(acc["min"], d.min(axis=0), atol=1e-8)
        np.testing.assert_allclose(acc["max"], d.max(axis=0), atol=1e-8)
        assert "NORMAL" in target

    head, body = j["nodes"][j["scenes"][j["scene"]]["nodes"][0]], None
    assert head["name"] == "Head" and len(head["children"]) == 1
    body = j["nodes"][head["children"][0]]
    assert body["mesh"] == 0
    np.testing.assert_allclose(head["translation"], rig.pivot * 0.01, atol=1e-7)
    np.testing.assert_allclose(body["translation"], -rig.pivot * 0.01, atol=1e-7)


def test_glb_animation(written):
    path, rig, track = written
    glb = Glb(path)
    j = glb.json
    (anim,) = j["animations"]
    by_path = {c["target"]["path"]: c for c in anim["channels"]}
    assert set(by_path) == {"weights", "rotation"}
    head_node = j["scenes"][0]["nodes"][0]
    assert by_path["rotation"]["target"]["node"] == head_node
    assert by_path["weights"]["target"]["node"] == j["nodes"][head_node]["children"][0]

    ws = anim["samplers"][by_path["weights"]["sampler"]]
    rs = anim["samplers"][by_path["rotation"]["sampler"]]
    assert ws["interpolation"] == rs["interpolation"] == "LINEAR"
    times = glb.accessor(ws["input"])
    acc = j["accessors"][ws["input"]]
    assert acc["max"][0] == pytest.approx(track.duration, abs=1e-6)  # animation length
    assert acc["min"][0] == 0.0
    np.testing.assert_allclose(times[:-1], np.arange(track.frames) / track.fps, atol=1e-6)

    weights = glb.accessor(ws["output"]).reshape(len(times), 52)
    np.testing.assert_allclose(weights[:-1], track.weights, atol=1e-7)
    # Linear interpolation of the keys at arbitrary times gives the track's own sampling.
    for t in (0.0, 0.013, 0.37, 0.5, track.duration - 1 / track.fps, track.duration):
        got = np.array([np.interp(t, times, weights[:, k]) for k in range(52)])
        np.testing.assert_allclose(got, track.sample(t)[:52], atol=1e-6)

    quats = glb.accessor(rs["output"])
    assert quats.shape == (len(times), 4)
    for i in range(track.frames):
        assert same_rotation(quats[i], head_rotation(*track.head[i])) < 1e-5
    # Neighbouring keys on the same side, so slerp takes the short way.
    assert (np.einsum("ij,ij->i", quats[1:], quats[:-1]) > 0).all()


def test_trimesh_reads_it(written):
    path, rig, track = written
    scene = trimesh.load(path, force="scene", process=False)
    assert len(scene.geometry) == 1
    node = scene.graph.nodes_geometry[0]
    transform, name = scene.graph[node]
    geom = scene.geometry[name]
    assert len(geom.vertices) == rig.num_vertices
    assert len(geom.faces) == len(rig.triangles)
    assert geom.metadata["targetNames"] == list(BLENDSHAPES)
    world = trimesh.transform_points(geom.vertices, transform)
    np.testing.assert_allclose(world, rig.vertices * 0.01, atol=1e-6)


def test_load_glb_head_round_trip(written):
    path, rig, _ = written
    back = load_glb_head(path)
    np.testing.assert_allclose(back.vertices, rig.vertices, atol=1e-5)
    np.testing.assert_allclose(back.deltas, rig.deltas, atol=1e-6)
    np.testing.assert_allclose(back.uvs, rig.uvs, atol=1e-6)
    np.testing.assert_allclose(back.colors, rig.colors, atol=1e-6)
    np.testing.assert_allclose(back.pivot, rig.pivot, atol=1e-5)
    np.testing.assert_array_equal(back.triangles, rig.triangles)
    assert back.names == BLENDSHAPES


def _retarget_names(src: Path, dst: Path, names: list[str]) -> None:
    """Copy a GLB with its targetNames replaced (JSON chunk rewritten by hand)."""
    raw = src.read_bytes()
    json_len = struct.unpack_from("<I", raw, 12)[0]
    doc = json.loads(raw[20:20 + json_len])
    doc["meshes"][0]["extras"]["targetNames"] = names
    text = json.dumps(doc).encode()
    text += b" " * (-len(text) % 4)
    rest = raw[20 + json_len:]
    dst.write_bytes(struct.pack("<4sII", b"glTF", 2, 12 + 8 + len(text) + len(rest))
                    + struct.pack("<I4s", len(text), b"JSON") + text + rest)


def test_load_glb_head_name_matching(written, tmp_path):
    path, rig, _ = written
    names = [n.upper() if k % 2 else n for k, n in enumerate(BLENDSHAPES)]
    names[INDEX["jawOpen"]] = "JawOpenExtra"     # not an ARKit name: jawOpen reads as zero
    names[INDEX["tongueOut"]] = "custom"
    odd = tmp_path / "odd.glb"
    _retarget_names(path, odd, names)
    back = load_glb_head(odd)
    for k, n in enumerate(BLENDSHAPES):
        if n in ("jawOpen", "tongueOut"):
            assert not back.deltas[k].any()
        else:
            np.testing.assert_allclose(back.deltas[k], rig.deltas[k], atol=1e-6)

    none = tmp_path / "none.glb"
    _retarget_names(path, none, [f"shape{k}" for k in range(52)])
    with pytest.raises(GltfError, match="no mesh with ARKit-named morph targets.*shape0"):
        load_glb_head(none)
    junk = tmp_path / "junk.glb"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(GltfError, match="junk.glb"):
        load_glb_head(junk)


def test_static_export_without_track(tmp_path):
    rig = small_rig()
    path = tmp_path / "static.glb"
    write_glb(path, rig, None, morph_normals=False)
    glb = Glb(path)
    assert "animations" not in glb.json or not glb.json["animations"]
    assert "NORMAL" not in glb.json["meshes"][0]["primitives"][0]["targets"][0]


def test_failed_write_leaves_no_partial_file(tmp_path):
    rig, track = small_rig(), short_track()
    target = tmp_path / "head.glb"
    target.write_bytes(b"previous export")

    def cancel(fraction: float) -> None:
        if fraction > 0.5:
            raise KeyboardInterrupt("user cancelled")

    with pytest.raises(KeyboardInterrupt):
        write_glb(target, rig, track, progress=cancel)
    broken = FaceRig(rig.vertices, rig.triangles + 1000, rig.uvs, rig.colors, rig.parts, rig.deltas, rig.pivot)
    with pytest.raises(ValueError):
        write_glb(target, broken, track)
    assert target.read_bytes() == b"previous export"
    blocked = tmp_path / "blocked.glb"
    blocked.mkdir()
    with pytest.raises(OSError):
        write_glb(blocked, rig, track)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocked.glb", "head.glb"]


def test_write_speed_60s_take_10k_vertices(tmp_path):
    # ~10k vertices: an icosphere of 10242, with dense random deltas (the worst case).
    sphere = trimesh.creation.icosphere(subdivisions=5, radius=9.0)
    nv = len(sphere.vertices)
    rng = np.random.default_rng(0)
    rig = FaceRig(sphere.vertices.astype(np.float32), sphere.faces.astype(np.uint32),
                  rng.uniform(0, 1, (nv, 2)).astype(np.float32), np.full((nv, 3), 0.7, np.float32),
                  np.zeros(nv, np.uint8), rng.normal(0, 0.1, (52, nv, 3)).astype(np.float32),
                  np.zeros(3, np.float32))
    track = FaceTrack(30.0, rng.uniform(0, 1, (1800, NUM_CHANNELS)).astype(np.float32))
    start = time.perf_counter()
    write_glb(tmp_path / "long.glb", rig, track)
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, f"writing took {elapsed:.2f} s"
    glb = Glb(tmp_path / "long.glb")
    assert glb.json["accessors"][glb.json["animations"][0]["samplers"][0]["input"]]["count"] == 1801


def test_real_rig(tmp_path):
    rig = load_rig()
    track = short_track(frames=60, fps=30.0)
    path = tmp_path / "real.glb"
    start = time.perf_counter()
    write_glb(path, rig, track)
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0
    scene = trimesh.load(path, force="scene", process=False)
    (geom,) = scene.geometry.values()
    assert len(geom.vertices) == rig.num_vertices
    assert geom.metadata["targetNames"] == list(BLENDSHAPES)
    back = load_glb_head(path)
    np.testing.assert_allclose(back.vertices, rig.vertices, atol=1e-4)
    np.testing.assert_allclose(back.deltas, rig.deltas, atol=1e-5)


# ----------------------------------------------------------------------------- Blender

BLENDER_SCRIPT = r"""
import json, sys
try:
    import numpy
    lent = False
except ImportError:
    sys.path.insert(0, SHIM)
    import numpy
    lent = True
import bpy
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.render.fps = FPS
scene.render.fps_base = 1.0
bpy.ops.import_scene.gltf(filepath=PATH)
mesh = next(o for o in scene.objects if o.type == "MESH")
head = scene.objects["Head"]
keys = mesh.data.shape_keys
action = keys.animation_data.action
curves = [fc for fc in action.fcurves if fc.data_path.startswith("key_blocks")]
frames = [p.co.x for p in curves[0].keyframe_points]
out = {
    "numpy_lent": lent, "vertices": len(mesh.data.vertices), "parent": mesh.parent.name,
    "shape_keys": [k.name for k in keys.key_blocks],
    "weight_curves": len(curves), "keyframes": sorted({len(fc.keyframe_points) for fc in curves}),
    "first": frames[0], "last": frames[-1], "samples": [],
}
for j in SAMPLE_FRAMES:
    scene.frame_set(int(round(frames[0])) + j)
    out["samples"].append({
        "frame": j,
        "weights": {k.name: k.value for k in keys.key_blocks[1:]},
        "head": [list(r) for r in head.matrix_world.to_3x3()],
    })
print("RESULT" + json.dumps(out))
"""


def run_blender(path: Path, fps: int, sample_frames: list[int], tmp: Path) -> dict:
    blender = shutil.which("blender")
    if blender is None:
        pytest.skip("blender is not installed")
    shim = tmp / "numpy-shim"
    shim.mkdir()
    (shim / "numpy").symlink_to(Path(np.__file__).parent)
    script = (f"SHIM = {str(shim)!r}\nPATH = {str(path)!r}\nFPS = {fps}\n"
              f"SAMPLE_FRAMES = {sample_frames!r}\n" + BLENDER_SCRIPT)
    (tmp / "check.py").write_text(script)
    proc = subprocess.run([blender, "-b", "--factory-startup", "--python-exit-code", "1",
                           "--python", str(tmp / "check.py")],
                          capture_output=True, text=True, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT")]
    if not lines and "No module named 'numpy'" in proc.stdout + proc.stderr:
        pytest.skip("Blender's Python has no numpy (install Debian's python3-numpy)")
    assert lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT"):])


def test_blender_imports_it(written, tmp_path):
    path, rig, track = written
    fps = int(track.fps)
    sample = [0, 5, 11, track.frames - 1]
    out = run_blender(path, fps, sample, tmp_path)
    if out["numpy_lent"]:
        print("note: Blender ran with this interpreter's numpy (python3-numpy is not installed)")
    assert out["vertices"] == rig.num_vertices
    assert out["parent"] == "Head"
    assert out["shape_keys"] == ["Basis"] + list(BLENDSHAPES)
    assert out["weight_curves"] == 52
    assert out["keyframes"] == [track.frames + 1]  # one key per frame + the hold key
    assert out["last"] - out["first"] == pytest.approx(track.frames)  # length == duration
    # glTF is Y up, Blender Z up: (x, y, z)_gltf -> (x, -z, y)_blender.
    c = np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], np.float64)
    for s in out["samples"]:
        j = s["frame"]
        for name in BLENDSHAPES:
            assert s["weights"][name] == pytest.approx(track.weights[j, INDEX[name]], abs=1e-4), (j, name)
        r_gltf = c.T @ np.array(s["head"]) @ c
        np.testing.assert_allclose(r_gltf, head_rotation(*track.head[j]), atol=1e-4)
