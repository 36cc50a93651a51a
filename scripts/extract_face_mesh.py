#!/usr/bin/env python3
"""Extract the MediaPipe canonical face mesh into resources/face/canonical_face.npz.

Source: the npm package ``@mediapipe/face_mesh@0.4.1657299874`` (Apache-2.0). Its file
``face_mesh_solution_packed_assets.data`` is an Emscripten file package; the loader script
``face_mesh_solution_packed_assets_loader.js`` lists the files inside it with byte ranges.
One of them is ``geometry_pipeline_metadata_landmarks.binarypb``, a serialized
``mediapipe.face_geometry.GeometryPipelineMetadata`` protobuf:

    message GeometryPipelineMetadata {
      optional Mesh3d canonical_mesh = 1;
      repeated WeightedLandmarkRef procrustes_landmark_basis = 2;
      optional InputSource input_source = 3;
    }
    message Mesh3d {
      optional VertexType vertex_type = 1;        // VERTEX_PT: x, y, z, u, v
      optional PrimitiveType primitive_type = 2;  // TRIANGLE
      repeated float vertex_buffer = 3;
      repeated uint32 index_buffer = 4;
    }

This script decodes it with a minimal protobuf wire-format reader (no protobuf dependency)
and writes vertices (468, 3) float32 in centimetres, uvs (468, 2) float32 and triangles
(898, 3) uint32.

Usage:
    python scripts/extract_face_mesh.py                 # runs `npm pack` in a temp dir
    python scripts/extract_face_mesh.py PATH            # PATH: a .tgz or an unpacked folder
    python scripts/extract_face_mesh.py PATH -o out.npz
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

PACKAGE = "@mediapipe/face_mesh"
VERSION = "0.4.1657299874"
DATA_FILE = "face_mesh_solution_packed_assets.data"
LOADER_FILE = "face_mesh_solution_packed_assets_loader.js"
EMBEDDED = "geometry_pipeline_metadata_landmarks.binarypb"
# Known location of the embedded file in VERSION (used as a cross-check only).
KNOWN_RANGE = (3737848, 3757224)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "resources" / "face" / "canonical_face.npz"


# --------------------------------------------------------------------------- protobuf wire
def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("malformed varint")


def parse_fields(buf: bytes) -> list[tuple[int, int, object]]:
    """Decode one protobuf message into (field number, wire type, value) tuples.

    Values: int for varints (0), bytes for length-delimited (2), raw 4/8 bytes for
    fixed32 (5) / fixed64 (1). Groups (3, 4) are not supported.
    """
    out: list[tuple[int, int, object]] = []
    pos = 0
    n = len(buf)
    while pos < n:
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire} for field {field}")
        if pos > n:
            raise ValueError("truncated message")
        out.append((field, wire, value))
    return out


def _packed_varints(buf: bytes) -> list[int]:
    vals, pos = [], 0
    while pos < len(buf):
        v, pos = _varint(buf, pos)
        vals.append(v)
    return vals


def parse_mesh3d(buf: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Mesh3d bytes -> (vertex_buffer float32 (N,), index_buffer uint32 (M,))."""
    floats: list[float] = []
    indices: list[int] = []
    for field, wire, value in parse_fields(buf):
        if field == 1 and wire == 0 and value != 0:
            raise ValueError(f"unexpected vertex_type {value} (want VERTEX_PT = 0)")
        if field == 2 and wire == 0 and value != 0:
            raise ValueError(f"unexpected primitive_type {value} (want TRIANGLE = 0)")
        if field == 3:                        # repeated float vertex_buffer
            if wire == 2:                     # packed
                floats.extend(struct.unpack(f"<{len(value) // 4}f", value))
            elif wire == 5:
                floats.append(struct.unpack("<f", value)[0])
        elif field == 4:                      # repeated uint32 index_buffer
            if wire == 2:
                indices.extend(_packed_varints(value))
            elif wire == 0:
                indices.append(value)
    return np.asarray(floats, np.float32), np.asarray(indices, np.uint32)


def parse_geometry_pipeline_metadata(buf: bytes) -> dict[str, np.ndarray]:
    meshes = [v for f, w, v in parse_fields(buf) if f == 1 and w == 2]
    if len(meshes) != 1:
        raise ValueError(f"expected one canonical_mesh, found {len(meshes)}")
    vb, ib = parse_mesh3d(meshes[0])
    if vb.size % 5 or ib.size % 3:
        raise ValueError("vertex/index buffer sizes are not multiples of 5/3")
    vb = vb.reshape(-1, 5)
    tris = ib.reshape(-1, 3)
    if tris.max() >= len(vb):
        raise ValueError("triangle index out of range")
    return {
        "vertices": np.ascontiguousarray(vb[:, :3], np.float32),
        "uvs": np.ascontiguousarray(vb[:, 3:], np.float32),
        "triangles": np.ascontiguousarray(tris, np.uint32),
    }


# --------------------------------------------------------------------------- package
def embedded_range(loader_js: str, name: str = EMBEDDED) -> tuple[int, int]:
    """Byte range of `name` inside the packed .data file, from the loader's metadata."""
    m = re.search(r"loadPackage\((\{.*?\})\);", loader_js, re.S)
    if not m:
        raise ValueError("no loadPackage({...}) metadata in the loader script")
    meta = json.loads(m.group(1))
    for entry in meta["files"]:
        if entry["filename"].endswith("/" + name):
            return int(entry["start"]), int(entry["end"])
    raise ValueError(f"{name} not listed in the loader metadata")


def _package_dir(source: Path, tmp: Path) -> Path:
    if source.is_dir():
        return source / "package" if (source / "package" / DATA_FILE).exists() else source
    with tarfile.open(source) as tf:
        tf.extractall(tmp, filter="data")
    return tmp / "package"


def npm_pack(tmp: Path) -> Path:
    spec = f"{PACKAGE}@{VERSION}"
    print(f"npm pack {spec} ...", file=sys.stderr)
    out = subprocess.run(["npm", "pack", spec, "--silent"], cwd=tmp, check=True,
                         capture_output=True, text=True).stdout.strip().splitlines()[-1]
    return tmp / out


def extract(source: Path | None = None) -> dict[str, np.ndarray]:
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        if source is None:
            source = npm_pack(tmp)
        pkg = _package_dir(Path(source), tmp)
        meta = json.loads((pkg / "package.json").read_text())
        if meta.get("version") != VERSION:
            print(f"warning: package version {meta.get('version')} != {VERSION}", file=sys.stderr)
        start, end = embedded_range((pkg / LOADER_FILE).read_text())
        if meta.get("version") == VERSION and (start, end) != KNOWN_RANGE:
            raise ValueError(f"unexpected byte range {start}-{end}")
        blob = (pkg / DATA_FILE).read_bytes()[start:end]
    mesh = parse_geometry_pipeline_metadata(blob)
    if mesh["vertices"].shape != (468, 3) or mesh["triangles"].shape != (898, 3):
        raise ValueError(f"unexpected mesh shape {mesh['vertices'].shape} {mesh['triangles'].shape}")
    return mesh


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", nargs="?", type=Path,
                    help="npm tarball or unpacked package folder (default: npm pack)")
    ap.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    mesh = extract(args.source)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.output, **mesh)
    v, t = mesh["vertices"], mesh["triangles"]
    print(f"wrote {args.output}: {len(v)} vertices, {len(t)} triangles, "
          f"extent {np.ptp(v, axis=0).round(2)} cm")
    return 0


if __name__ == "__main__":
    sys.exit(main())
