"""FBX export read back by independent readers: ufbx (through pyufbx) and Blender.

pyufbx 0.0.7 binds only part of ufbx: no blendshape offsets, no curve evaluation, and its
vertex_positions reads ufbx's double arrays as float32. The C library inside the extension
module exports the whole public ufbx API, so the checks it cannot express go through
ctypes to ufbx itself (`_Ufbx` below): evaluated transforms, blend weights and shape offsets
come from ufbx's own evaluation code, not from anything in this project.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from core.arkit import BLENDSHAPES, NUM_BLENDSHAPES, NUM_CHANNELS
from core.export.fbx import HEAD_NODE, MOVED_EPS_CM, fbx_time_mode, ktimes, write_fbx
from core.face.rig import FaceRig, head_rotation
from core.track import FaceTrack

ufbx = pytest.importorskip("ufbx", reason="pyufbx is a test dependency (pip install pyufbx)")

FPS = 30.0
FRAMES = 24
TONGUE = BLENDSHAPES.index("tongueOut")  # left without any offset, to cover empty shapes

# ---------------------------------------------------------------------------------------
# fixtures: a small synthetic rig and a track with known values


def _sphere(n_lat: int, n_lon: int, radius: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """A UV sphere: poles plus (n_lat - 1) rings of n_lon vertices, CCW from outside."""
    verts = [(0.0, radius, 0.0)]
    for i in range(1, n_lat):
        th = np.pi * i / n_lat
        for j in range(n_lon):
            ph = 2 * np.pi * j / n_lon
            verts.append((radius * np.sin(th) * np.sin(ph), radius * np.cos(th), radius * np.sin(th) * np.cos(ph)))
    verts.append((0.0, -radius, 0.0))
    last = len(verts) - 1
    tris = [(0, 1 + j, 1 + (j + 1) % n_lon) for j in range(n_lon)]
    for i in range(n_lat - 2):
        a, b = 1 + i * n_lon, 1 + (i + 1) * n_lon
        for j in range(n_lon):
            j2 = (j + 1) % n_lon
            tris += [(a + j, b + j, b + j2), (a + j, b + j2, a + j2)]
    a = 1 + (n_lat - 2) * n_lon
    tris += [(a + j, last, a + (j + 1) % n_lon) for j in range(n_lon)]
    return np.asarray(verts, np.float32), np.asarray(tris, np.uint32)


def make_rig(n_lat: int = 14, n_lon: int = 20, seed: int = 7) -> FaceRig:
    v, t = _sphere(n_lat, n_lon)
    v = v + np.array([0.0, 20.0, 1.0], np.float32)  # off the origin, like a head above a neck
    rng = np.random.default_rng(seed)
    n = len(v)
    deltas = np.zeros((NUM_BLENDSHAPES, n, 3), np.float32)
    for s in range(NUM_BLENDSHAPES):
        if s == TONGUE:
            continue
        centre = v[rng.integers(n)]
        falloff = np.clip(1.0 - np.linalg.norm(v - centre, axis=1) / rng.uniform(4.0, 9.0), 0.0, None) ** 2
        deltas[s] = falloff[:, None] * rng.normal(0.0, 0.8, 3).astype(np.float32)
    uvs = np.stack([np.arctan2(v[:, 0], v[:, 2] - 1.0) / (2 * np.pi) + 0.5, (v[:, 1] - 12.0) / 16.0], 1)
    colors = np.tile(np.array([0.8, 0.55, 0.45], np.float32), (n, 1))
    parts = np.zeros(n, np.uint8)
    parts[v[:, 1] < 15.0] = 3  # "teeth": a second material slot
    colors[parts == 3] = (0.9, 0.9, 0.85)
    pivot = np.array([0.0, 11.0, -2.0], np.float32)
    return FaceRig(v, t, uvs.astype(np.float32), colors, parts, deltas, pivot)


def make_track(frames: int = FRAMES, fps: float = FPS) -> FaceTrack:
    k = np.arange(frames)[:, None]
    c = np.arange(NUM_CHANNELS)[None, :]
    data = 0.5 + 0.5 * np.sin(0.37 * k + 0.9 * c)  # distinct smooth curves in 0..1
    data[0, 0] = 0.0  # both ends of the range
    data[1:2, 0] = 1.0
    data[:, 52] = 0.45 * np.sin(0.21 * k[:, 0] + 0.3)  # pitch
    data[:, 53] = -0.6 * np.cos(0.17 * k[:, 0])  # yaw
    data[:, 54] = 0.35 * np.sin(0.29 * k[:, 0] - 1.0)  # roll
    return FaceTrack(fps, data.astype(np.float32))


@pytest.fixture(scope="module")
def rig() -> FaceRig:
    return make_rig()


@pytest.fixture(scope="module")
def track() -> FaceTrack:
    return make_track()


@pytest.fixture(scope="module")
def fbx_file(tmp_path_factory, rig, track) -> Path:
    path = tmp_path_factory.mktemp("fbx") / "head.fbx"
    write_fbx(path, rig, track)
    return path


# ---------------------------------------------------------------------------------------
# ufbx's C API through ctypes (see the module docstring)


class _Vec3(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double), ("z", ctypes.c_double)]


class _Quat(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double), ("z", ctypes.c_double), ("w", ctypes.c_double)]


class _Transform(ctypes.Structure):
    _fields_ = [("translation", _Vec3), ("rotation", _Quat), ("scale", _Vec3)]


def _quat_matrix(q: _Quat) -> np.ndarray:
    x, y, z, w = q.x, q.y, q.z, q.w
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


class _Ufbx:
    """A scene loaded by the ufbx C library, with the evaluation calls pyufbx lacks."""

    _lib = None

    @classmethod
    def lib(cls):
        if cls._lib is None:
            lib = ctypes.CDLL(ufbx._ufbx.__file__)
            vp, size, dbl, cstr = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_double, ctypes.c_char_p
            for fname, res, args in (
                ("ufbx_load_file", vp, [cstr, vp, vp]),
                ("ufbx_free_scene", None, [vp]),
                ("ufbx_find_node", vp, [vp, cstr]),
                ("ufbx_evaluate_transform", _Transform, [vp, vp, dbl]),
                ("ufbx_evaluate_blend_weight", dbl, [vp, vp, dbl]),
                ("ufbx_get_blend_shape_vertex_offset", _Vec3, [vp, size]),
                ("ufbx_wrapper_scene_get_root_node", vp, [vp]),
                ("ufbx_wrapper_scene_get_num_meshes", size, [vp]),
                ("ufbx_wrapper_scene_get_mesh", vp, [vp, size]),
                ("ufbx_wrapper_mesh_get_vertex_positions", vp, [vp, ctypes.POINTER(size)]),
                ("ufbx_wrapper_scene_get_blend_deformer", vp, [vp, size]),
                ("ufbx_wrapper_blend_deformer_get_num_channels", size, [vp]),
                ("ufbx_wrapper_blend_deformer_get_channel", vp, [vp, size]),
                ("ufbx_wrapper_blend_channel_get_name", cstr, [vp]),
                ("ufbx_wrapper_scene_get_num_blend_shapes", size, [vp]),
                ("ufbx_wrapper_scene_get_blend_shape", vp, [vp, size]),
                ("ufbx_wrapper_blend_shape_get_name", cstr, [vp]),
                ("ufbx_wrapper_blend_shape_get_num_offsets", size, [vp]),
            ):
                f = getattr(lib, fname)
                f.restype, f.argtypes = res, args
            cls._lib = lib
        return cls._lib

    def __init__(self, path: Path) -> None:
        self.c = self.lib()
        self.scene = self.c.ufbx_load_file(os.fsencode(path), None, None)
        assert self.scene, f"ufbx could not load {path}"
        # ufbx_scene: ..., ufbx_node *root_node; ufbx_anim *anim; ... (ufbx.h). Find the
        # root pointer in the struct and take the next one: the default animation.
        root = self.c.ufbx_wrapper_scene_get_root_node(self.scene)
        # Read word by word, never past the match (the struct is a few KiB).
        for i in range(1024):
            if ctypes.c_uint64.from_address(self.scene + 8 * i).value == root:
                self.anim = ctypes.c_uint64.from_address(self.scene + 8 * (i + 1)).value
                break
        else:
            raise AssertionError("cannot locate ufbx_scene.root_node")
        assert self.anim

    def close(self) -> None:
        if self.scene:
            self.c.ufbx_free_scene(self.scene)
            self.scene = None

    def __enter__(self) -> _Ufbx:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def anim_time_range(self) -> tuple[float, float]:
        t = (ctypes.c_double * 2).from_address(self.anim)  # ufbx_anim starts with time_begin, time_end
        return t[0], t[1]

    def vertex_positions(self, mesh_index: int = 0) -> np.ndarray:
        mesh = self.c.ufbx_wrapper_scene_get_mesh(self.scene, mesh_index)
        count = ctypes.c_size_t()
        ptr = self.c.ufbx_wrapper_mesh_get_vertex_positions(mesh, ctypes.byref(count))
        return np.ctypeslib.as_array((ctypes.c_double * (3 * count.value)).from_address(ptr)).reshape(-1, 3).copy()

    def transform(self, node_name: str, t: float) -> np.ndarray:
        """4x4 local transform of a node evaluated at time t (s)."""
        node = self.c.ufbx_find_node(self.scene, node_name.encode())
        assert node, node_name
        tr = self.c.ufbx_evaluate_transform(self.anim, node, t)
        m = np.eye(4)
        m[:3, :3] = _quat_matrix(tr.rotation) * np.array([tr.scale.x, tr.scale.y, tr.scale.z])
        m[:3, 3] = tr.translation.x, tr.translation.y, tr.translation.z
        return m

    def channels(self) -> dict[str, int]:
        bd = self.c.ufbx_wrapper_scene_get_blend_deformer(self.scene, 0)
        n = self.c.ufbx_wrapper_blend_deformer_get_num_channels(bd)
        return {self.c.ufbx_wrapper_blend_channel_get_name(self.c.ufbx_wrapper_blend_deformer_get_channel(bd, i)).decode(): i
                for i in range(n)}

    def blend_weight(self, channel: int, t: float) -> float:
        bd = self.c.ufbx_wrapper_scene_get_blend_deformer(self.scene, 0)
        return self.c.ufbx_evaluate_blend_weight(self.anim, self.c.ufbx_wrapper_blend_deformer_get_channel(bd, channel), t)

    def shapes(self) -> dict[str, int]:
        n = self.c.ufbx_wrapper_scene_get_num_blend_shapes(self.scene)
        return {self.c.ufbx_wrapper_blend_shape_get_name(self.c.ufbx_wrapper_scene_get_blend_shape(self.scene, i)).decode(): i
                for i in range(n)}

    def shape_offsets(self, shape: int, vertices) -> tuple[np.ndarray, int]:
        """Offsets of the given vertices (zero where the shape has none) and the shape's count."""
        ptr = self.c.ufbx_wrapper_scene_get_blend_shape(self.scene, shape)
        out = np.empty((len(vertices), 3))
        for k, v in enumerate(vertices):
            o = self.c.ufbx_get_blend_shape_vertex_offset(ptr, int(v))
            out[k] = o.x, o.y, o.z
        return out, self.c.ufbx_wrapper_blend_shape_get_num_offsets(ptr)


def _check_with_ufbx(path: Path, rig: FaceRig, track: FaceTrack, *, vertex_sample=None) -> None:
    """Everything the ufbx checks share: the synthetic and the real rig go through it."""
    nv, nt = rig.num_vertices, len(rig.triangles)
    with ufbx.load_file(str(path)) as scene:
        assert scene.metadata.version == 7400
        axes = scene.settings.axes
        assert axes.up == ufbx.CoordinateAxis.COORDINATE_AXIS_POSITIVE_Y
        assert axes.front == ufbx.CoordinateAxis.COORDINATE_AXIS_POSITIVE_Z
        assert axes.right == ufbx.CoordinateAxis.COORDINATE_AXIS_POSITIVE_X
        assert scene.settings.unit_meters == pytest.approx(0.01)
        assert scene.settings.frames_per_second == pytest.approx(track.fps)

        # nodes: Head (null) at the pivot -> mesh model
        (mesh,) = scene.meshes
        assert mesh.num_vertices == nv and mesh.num_faces == nt and mesh.num_triangles == nt
        assert np.array_equal(np.asarray(mesh.indices, np.int64).reshape(-1, 3), rig.triangles.astype(np.int64))
        assert all(n == 3 for _, n in mesh.faces)
        assert mesh.vertex_normals is not None and mesh.vertex_uvs is not None
        head = scene.find_node(HEAD_NODE)
        assert head is not None and head.parent is not None and head.parent.is_root
        mesh_node = next(n for n in scene.nodes if n.mesh is not None)
        assert mesh_node.name == "AVITalkingHead" and mesh_node.parent.name == HEAD_NODE

        # blendshapes
        (deformer,) = mesh.blend_deformers
        assert [c.name for c in deformer.channels] == list(BLENDSHAPES)
        assert sorted(s.name for s in scene.blend_shapes) == sorted(BLENDSHAPES)

        # animation: one stack, one layer, a key per frame on all 55 curves
        (stack,) = scene.anim_stacks
        assert len(stack.layers) == 1
        assert stack.time_begin == pytest.approx(0.0)
        assert stack.time_end == pytest.approx(max(track.frames - 1, 1) / track.fps)
        curves = scene.anim_curves
        assert len(curves) == NUM_BLENDSHAPES + 3
        assert all(c.num_keyframes == track.frames for c in curves)
        assert all(c.min_time == pytest.approx(0.0) and c.max_time == pytest.approx((track.frames - 1) / track.fps)
                   for c in curves)
        # curve value ranges: DeformPercent (0..100) for each channel, degrees for the head
        ranges = sorted((round(c.min_value, 3), round(c.max_value, 3)) for c in curves)
        expected = [(float(lo), float(hi)) for lo, hi in zip(track.weights.min(0) * 100.0, track.weights.max(0) * 100.0)]
        expected += [(float(lo), float(hi)) for lo, hi in zip(np.degrees(track.head.min(0)), np.degrees(track.head.max(0)))]
        np.testing.assert_allclose(np.array(ranges), np.array(sorted((round(a, 3), round(b, 3)) for a, b in expected)),
                                   atol=2e-3)

    with _Ufbx(path) as u:
        np.testing.assert_allclose(u.vertex_positions(), rig.vertices, atol=1e-6)
        assert u.anim_time_range[1] == pytest.approx((track.frames - 1) / track.fps)

        # each channel's shape holds exactly the rig's deltas of the moved vertices
        shapes = u.shapes()
        verts = np.arange(nv) if vertex_sample is None else np.asarray(vertex_sample)
        for s, name in enumerate(BLENDSHAPES):
            offsets, count = u.shape_offsets(shapes[name], verts)
            np.testing.assert_allclose(offsets, rig.deltas[s, verts], atol=1e-6, err_msg=name)
            moved = int(np.count_nonzero(np.any(np.abs(rig.deltas[s]) > MOVED_EPS_CM, axis=1)))
            assert count == max(moved, 1), name  # only moved vertices (one zero entry if none)

        # weights at frame times and between frames (linear keys = FaceTrack.sample)
        channels = u.channels()
        times = list(track.times()) + [(k + 0.5) / track.fps for k in range(0, track.frames - 1, 3)]
        for s, name in enumerate(BLENDSHAPES):
            got = np.array([u.blend_weight(channels[name], t) for t in times])
            want = np.array([track.sample(t)[s] for t in times])
            np.testing.assert_allclose(got, want, atol=1e-5, err_msg=name)

        # the evaluated head rotation is head_rotation(pitch, yaw, roll); the head turns the
        # mesh about the pivot: world(v) = pivot + R (v - pivot)
        probe = rig.vertices[:: max(1, nv // 50)].astype(np.float64)
        mesh_local = u.transform("AVITalkingHead", 0.0)
        for k in range(track.frames):
            t = k / track.fps
            head_m = u.transform(HEAD_NODE, t)
            r = head_rotation(*track.head[k].astype(np.float64))
            np.testing.assert_allclose(head_m[:3, :3], r, atol=1e-5, err_msg=f"frame {k}")
            world = (head_m @ mesh_local @ np.c_[probe, np.ones(len(probe))].T).T[:, :3]
            np.testing.assert_allclose(world, rig.pivot + (probe - rig.pivot) @ r.T, atol=1e-4)


# ---------------------------------------------------------------------------------------
# tests


def test_ufbx_reads_mesh_blendshapes_and_animation(fbx_file, rig, track):
    _check_with_ufbx(fbx_file, rig, track)


def test_ufbx_materials_and_layers(fbx_file, rig):
    with ufbx.load_file(str(fbx_file)) as scene:
        (mesh,) = scene.meshes
        assert [m.name for m in mesh.materials] == ["AVITalkingHead_skin", "AVITalkingHead_teeth"]
        face_mat = np.asarray(mesh.face_material)
        assert np.array_equal(face_mat, (rig.parts[rig.triangles[:, 0]] == 3).astype(face_mat.dtype))
        assert mesh.vertex_color is not None


def _records(data: bytes, start: int, end: int, path: str = ""):
    """Walk FBX 7.4 binary records: yields (path, property bytes) for every record."""
    pos = start
    while pos < end:
        rec_end, nprops, plen, nlen = struct.unpack_from("<3IB", data, pos)
        if rec_end == 0:
            return
        name = data[pos + 13: pos + 13 + nlen].decode()
        props_at = pos + 13 + nlen
        yield f"{path}/{name}", data[props_at: props_at + plen]
        yield from _records(data, props_at + plen, rec_end, f"{path}/{name}")
        pos = rec_end


def test_file_layout_and_compressed_arrays(fbx_file, rig):
    data = fbx_file.read_bytes()
    assert data.startswith(b"Kaydara FBX Binary  \x00\x1a\x00") and struct.unpack_from("<I", data, 23)[0] == 7400
    records = list(_records(data, 27, len(data)))
    top = [p for p, _ in records if p.count("/") == 1]
    assert top == ["/FBXHeaderExtension", "/FileId", "/CreationTime", "/Creator", "/GlobalSettings",
                   "/Documents", "/References", "/Definitions", "/Objects", "/Connections", "/Takes"]
    arrays = {}
    for p, props in records:
        if p in ("/Objects/Geometry/Vertices", "/Objects/Geometry/PolygonVertexIndex",
                 "/Objects/AnimationCurve/KeyValueFloat", "/Objects/AnimationCurve/KeyTime"):
            code = props[:1]
            count, encoding, nbytes = struct.unpack_from("<3I", props, 1)
            payload = props[13:13 + nbytes]
            itemsize = {b"d": 8, b"l": 8, b"f": 4, b"i": 4}[code]
            raw = zlib.decompress(payload) if encoding == 1 else payload
            assert len(raw) == count * itemsize
            if count * itemsize > 128:
                assert encoding == 1, p
            arrays.setdefault(p, []).append(np.frombuffer(raw, {b"d": "<f8", b"l": "<i8", b"f": "<f4", b"i": "<i4"}[code]))
    # The first Geometry is the mesh: its vertices and the negative-end polygon convention.
    np.testing.assert_allclose(arrays["/Objects/Geometry/Vertices"][0].reshape(-1, 3), rig.vertices, atol=1e-6)
    pvi = arrays["/Objects/Geometry/PolygonVertexIndex"][0].reshape(-1, 3)
    assert (pvi[:, :2] >= 0).all() and (pvi[:, 2] < 0).all()
    assert np.array_equal(np.c_[pvi[:, :2], ~pvi[:, 2]], rig.triangles.astype(np.int32))
    assert len(arrays["/Objects/AnimationCurve/KeyTime"]) == NUM_BLENDSHAPES + 3
    assert data.endswith(b"\xf8\x5a\x8c\x6a\xde\xf5\xd9\x7e\xec\xe9\x0c\xe3\x75\x8f\x29\x0b")


def test_other_frame_rates_and_time(tmp_path, rig):
    assert fbx_time_mode(30.0) == (6, 30.0)
    assert fbx_time_mode(24.0) == (11, 24.0)
    assert fbx_time_mode(15.0) == (14, 15.0)
    assert ktimes(3, 30.0).tolist() == [0, 1539538600, 3079077200]
    track = make_track(frames=9, fps=15.0)
    path = tmp_path / "slow.fbx"
    write_fbx(path, rig, track)
    with ufbx.load_file(str(path)) as scene:
        assert scene.settings.frames_per_second == pytest.approx(15.0)
        assert scene.anim_stacks[0].time_end == pytest.approx(8 / 15.0)
    with _Ufbx(path) as u:
        ch = u.channels()["jawOpen"]
        s = BLENDSHAPES.index("jawOpen")
        for k in range(9):
            assert u.blend_weight(ch, k / 15.0) == pytest.approx(float(track.weights[k, s]), abs=1e-6)


def test_single_and_zero_frame_tracks(tmp_path, rig):
    one = make_track(frames=1)
    write_fbx(tmp_path / "one.fbx", rig, one)
    with _Ufbx(tmp_path / "one.fbx") as u:
        np.testing.assert_allclose(u.transform(HEAD_NODE, 0.0)[:3, :3], head_rotation(*one.head[0]), atol=1e-5)
    write_fbx(tmp_path / "none.fbx", rig, FaceTrack.zeros(0))
    with ufbx.load_file(str(tmp_path / "none.fbx")) as scene:
        assert scene.meshes[0].num_vertices == rig.num_vertices
        assert len(scene.anim_curves) == 0
        assert [c.name for c in scene.blend_deformers[0].channels] == list(BLENDSHAPES)


def test_progress_is_reported(tmp_path, rig, track):
    seen: list[float] = []
    write_fbx(tmp_path / "p.fbx", rig, track, progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and len(seen) >= 5
    assert seen == sorted(seen)


def test_failed_export_leaves_no_file(tmp_path, rig, track):
    # a directory that cannot be made (its parent is a file)
    blocker = tmp_path / "not_a_dir"
    blocker.write_bytes(b"x")
    with pytest.raises(OSError):
        write_fbx(blocker / "sub" / "head.fbx", rig, track)
    assert blocker.read_bytes() == b"x"

    # an unwritable directory (root ignores permissions, so only where it applies)
    if hasattr(os, "geteuid") and os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        try:
            with pytest.raises(OSError):
                write_fbx(locked / "head.fbx", rig, track)
            assert list(locked.iterdir()) == []
        finally:
            locked.chmod(0o700)

    # a failure while the file is being written (a progress callback cancelling at the
    # end): no file appears, and an existing file is untouched
    target = tmp_path / "head.fbx"

    def cancel(fraction: float) -> None:
        if fraction > 0.95:
            raise KeyboardInterrupt("cancelled")

    with pytest.raises(KeyboardInterrupt):
        write_fbx(target, rig, track, progress=cancel)
    assert not target.exists()
    target.write_bytes(b"previous export")
    with pytest.raises(KeyboardInterrupt):
        write_fbx(target, rig, track, progress=cancel)
    assert target.read_bytes() == b"previous export"

    # invalid input fails before anything is written
    bad = FaceRig(rig.vertices, rig.triangles + np.uint32(rig.num_vertices), rig.uvs, rig.colors, rig.parts,
                  rig.deltas, rig.pivot)
    with pytest.raises(ValueError):
        write_fbx(target, bad, track)
    assert target.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["head.fbx", "not_a_dir"]  # no temporary leftovers


def test_write_speed_60s_take_10k_vertices(tmp_path):
    rig = make_rig(n_lat=100, n_lon=100)  # 9902 vertices, 19800 triangles
    rng = np.random.default_rng(3)
    rig.deltas[:] = rng.normal(0.0, 0.1, rig.deltas.shape).astype(np.float32)  # worst case: all vertices move
    data = rng.random((1800, NUM_CHANNELS)).astype(np.float32)
    data[:, 52:] -= 0.5
    track = FaceTrack(30.0, data)
    t0 = time.perf_counter()
    write_fbx(tmp_path / "big.fbx", rig, track)
    elapsed = time.perf_counter() - t0
    print(f"\nFBX write, {rig.num_vertices} vertices x 52 full shapes, 1800 frames: {elapsed:.2f} s")
    assert elapsed < 5.0
    with ufbx.load_file(str(tmp_path / "big.fbx")) as scene:
        assert all(c.num_keyframes == 1800 for c in scene.anim_curves)
        assert all(s.num_offsets == rig.num_vertices for s in scene.blend_shapes)


def test_real_rig(tmp_path):
    from core.face import load_rig  # the built-in head (core.face); no skip if it is missing

    rig = load_rig()
    track = make_track(frames=12)
    path = tmp_path / "real.fbx"
    write_fbx(path, rig, track, name="AVITalkingHead")
    sample = np.unique(np.r_[np.linspace(0, rig.num_vertices - 1, 400).astype(int),
                             np.flatnonzero(np.abs(rig.deltas[BLENDSHAPES.index("jawOpen")]).max(1) > 0)[:200]])
    _check_with_ufbx(path, rig, track, vertex_sample=sample)


# ---------------------------------------------------------------------------------------
# Blender

_BLENDER_SCRIPT = r"""
import json, sys
import bpy
src, out, frames = sys.argv[sys.argv.index("--") + 1:]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.fbx(filepath=src)
mesh_obj = next(o for o in bpy.data.objects if o.type == "MESH")
head = mesh_obj.parent
key = mesh_obj.data.shape_keys
res = {
    "objects": sorted(o.name for o in bpy.data.objects),
    "mesh": [len(mesh_obj.data.vertices), len(mesh_obj.data.polygons)],
    "uv_layers": len(mesh_obj.data.uv_layers),
    "loop0": [mesh_obj.data.loops[0].vertex_index, list(mesh_obj.data.uv_layers[0].data[0].uv)],
    "materials": [m.name for m in mesh_obj.data.materials],
    "head": head.name if head else None,
    "head_type": head.type if head else None,
    "shape_keys": [kb.name for kb in key.key_blocks] if key else [],
    "fps": bpy.context.scene.render.fps / bpy.context.scene.render.fps_base,
    "curves": {},
    "head_world": {},
}
if key and key.animation_data and key.animation_data.action:
    for fc in key.animation_data.action.fcurves:
        name = fc.data_path.split('"')[1]
        res["curves"][name] = [list(kp.co) for kp in fc.keyframe_points]
for f in map(int, frames.split(",")):
    bpy.context.scene.frame_set(f)
    res["head_world"][f] = [list(row) for row in head.matrix_world]
with open(out, "w") as fh:
    json.dump(res, fh)
"""


@pytest.mark.skipif(shutil.which("blender") is None, reason="Blender is not installed (Debian package `blender`)")
def test_blender_imports_shape_keys_and_animation(fbx_file, rig, track, tmp_path):
    script = tmp_path / "dump.py"
    script.write_text(_BLENDER_SCRIPT)
    out = tmp_path / "dump.json"
    probe = [0, 5, 11, track.frames - 1]
    # Blender's FBX importer starts animation at frame 1 (its anim_offset default).
    cmd = ["blender", "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(script), "--",
           str(fbx_file), str(out), ",".join(str(k + 1) for k in probe)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0 and out.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    res = json.loads(out.read_text())

    assert res["mesh"] == [rig.num_vertices, len(rig.triangles)]
    assert res["uv_layers"] == 1
    # The rig's UV origin is top left, Blender's bottom left: v comes back flipped.
    vertex, uv = res["loop0"]
    np.testing.assert_allclose(uv, [rig.uvs[vertex, 0], 1 - rig.uvs[vertex, 1]], atol=1e-5)
    assert res["materials"] == ["AVITalkingHead_skin", "AVITalkingHead_teeth"]
    assert res["head"] == HEAD_NODE and res["head_type"] == "EMPTY"
    assert res["shape_keys"] == ["Basis", *BLENDSHAPES]
    assert res["fps"] == pytest.approx(track.fps)
    assert sorted(res["curves"]) == sorted(BLENDSHAPES)
    for s, name in enumerate(BLENDSHAPES):
        keys = np.array(res["curves"][name])
        assert len(keys) == track.frames, name
        np.testing.assert_allclose(keys[:, 0], np.arange(1, track.frames + 1), atol=1e-3)
        np.testing.assert_allclose(keys[:, 1], track.weights[:, s], atol=1e-3, err_msg=name)
        assert keys[:, 1].min() == pytest.approx(track.weights[:, s].min(), abs=1e-3)
        assert keys[:, 1].max() == pytest.approx(track.weights[:, s].max(), abs=1e-3)

    # Blender converts Y-up to Z-up on the root (x, y, z) -> (x, -z, y) and cm to m, so the
    # head's world matrix is 0.01 * C @ R and its origin 0.01 * C @ pivot.
    c = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    for k in probe:
        m = np.array(res["head_world"][str(k + 1)])
        scale = np.linalg.norm(m[:3, 0])
        assert scale == pytest.approx(0.01, rel=1e-4)
        np.testing.assert_allclose(m[:3, :3] / scale, c @ head_rotation(*track.head[k]), atol=1e-4, err_msg=f"frame {k}")
        np.testing.assert_allclose(m[:3, 3], 0.01 * c @ rig.pivot, atol=1e-6)
