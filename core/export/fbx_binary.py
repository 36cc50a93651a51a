"""A small encoder for the FBX binary container (version 7400).

The file is a tree of records. Each record has a name, a list of typed properties and
children; its header holds the absolute file offset where it ends, so the whole tree is
laid out before anything is written. Property type codes:

    C bool (1 byte)  Y int16  I int32  L int64  F float32  D float64
    S string  R raw bytes (both: uint32 length + data)
    b i l f d  arrays: uint32 count, uint32 encoding (0 raw, 1 zlib), uint32 byte length, data

Arrays of more than 128 bytes are zlib-compressed (encoding 1), as the FBX SDK and Blender
do. Properties are encoded when a record is built, so a tree costs its encoded size once.
"""

from __future__ import annotations

import struct
import zlib
from typing import BinaryIO, Iterable

import numpy as np

FBX_VERSION = 7400
KTIME_PER_SECOND = 46186158000

_HEAD_MAGIC = b"Kaydara FBX Binary\x20\x20\x00\x1a\x00"
# The FBX SDK ties FileId, CreationTime and the footer id together; files that carry this
# known-good triple (the one Blender writes) load everywhere.
_FILE_ID = b"\x28\xb3\x2a\xeb\xb6\x24\xcc\xc2\xbf\xc8\xb0\x2a\xa9\x2b\xfc\xf1"
CREATION_TIME = "1970-01-01 10:00:00:000"
_FOOT_ID = b"\xfa\xbc\xab\x09\xd0\xc8\xd4\x66\xb1\x76\xfb\x83\x1c\xf7\x26\x7e"
_FOOT_MAGIC = b"\xf8\x5a\x8c\x6a\xde\xf5\xd9\x7e\xec\xe9\x0c\xe3\x75\x8f\x29\x0b"
_SENTINEL = b"\x00" * 13  # null record closing a list of children (7400: 3 uint32 + 1 byte)

_COMPRESS_ABOVE = 128
_COMPRESS_LEVEL = 1

_ARRAY_CODES = {
    np.dtype("<f8"): b"d",
    np.dtype("<f4"): b"f",
    np.dtype("<i4"): b"i",
    np.dtype("<i8"): b"l",
    np.dtype("bool"): b"b",
}


class I64(int):
    """An int stored as an FBX int64 property (L) rather than int32 (I)."""


class F32(float):
    """A float stored as an FBX float32 property (F) rather than float64 (D)."""


def file_id() -> bytes:
    return _FILE_ID


def encode_array(values: np.ndarray, dtype: str) -> bytes:
    """One array property: type code, count, encoding, byte length, (compressed) data."""
    arr = np.ascontiguousarray(np.asarray(values).ravel(), dtype=np.dtype(dtype).newbyteorder("<"))
    code = _ARRAY_CODES[arr.dtype]
    raw = arr.tobytes()
    if len(raw) > _COMPRESS_ABOVE:
        data, encoding = zlib.compress(raw, _COMPRESS_LEVEL), 1
    else:
        data, encoding = raw, 0
    return code + struct.pack("<3I", arr.size, encoding, len(data)) + data


class Raw:
    """A property already encoded (e.g. an array shared by many records)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


def encode_property(value) -> bytes:
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, (bool, np.bool_)):
        return b"C" + (b"\x01" if value else b"\x00")
    if isinstance(value, I64):
        return b"L" + struct.pack("<q", value)
    if isinstance(value, (int, np.integer)):
        if not -(2**31) <= int(value) < 2**31:
            raise OverflowError(f"{value} does not fit an FBX int32; wrap it in I64")
        return b"I" + struct.pack("<i", int(value))
    if isinstance(value, F32):
        return b"F" + struct.pack("<f", value)
    if isinstance(value, (float, np.floating)):
        return b"D" + struct.pack("<d", float(value))
    if isinstance(value, str):
        data = value.encode("utf-8")
        return b"S" + struct.pack("<I", len(data)) + data
    if isinstance(value, (bytes, bytearray)):
        return b"R" + struct.pack("<I", len(value)) + bytes(value)
    if isinstance(value, np.ndarray):
        dt = value.dtype
        if dt.kind == "f":
            return encode_array(value, "<f4" if dt.itemsize == 4 else "<f8")
        if dt.kind in "iu":
            return encode_array(value, "<i8" if dt.itemsize == 8 else "<i4")
        if dt.kind == "b":
            return encode_array(value, "bool")
    raise TypeError(f"cannot store {type(value).__name__} in an FBX property")


class Node:
    """One FBX record. Properties are encoded at once; children are added with add()."""

    __slots__ = ("name", "_props", "_nprops", "children")

    def __init__(self, name: str, *props) -> None:
        self.name = name.encode("ascii")
        if len(self.name) > 255:
            raise ValueError("FBX record names are at most 255 bytes")
        self._props = b"".join(encode_property(p) for p in props)
        self._nprops = len(props)
        self.children: list[Node] = []

    def add(self, name: str, *props) -> Node:
        child = Node(name, *props)
        self.children.append(child)
        return child

    def append(self, child: Node) -> Node:
        self.children.append(child)
        return child

    # Layout: header (end offset, property count, property bytes, name length, name), the
    # properties, the children and a null record when there are children (or nothing at all).
    def _layout(self, start: int, out: list[bytes]) -> int:
        slot = len(out)
        out.append(b"")
        pos = start + 13 + len(self.name) + len(self._props)
        out.append(self._props)
        if self.children or not self._nprops:
            for child in self.children:
                pos = child._layout(pos, out)
            out.append(_SENTINEL)
            pos += len(_SENTINEL)
        if pos >= 2**32:
            raise OverflowError("FBX 7.4 files are limited to 4 GiB")
        out[slot] = struct.pack("<3IB", pos, self._nprops, len(self._props), len(self.name)) + self.name
        return pos


def properties70(parent: Node) -> Node:
    return parent.add("Properties70")


def prop(p70: Node, name: str, ptype: str, label: str, flags: str, *values) -> Node:
    """A Properties70 entry: P: name, type, label, flags, values..."""
    return p70.add("P", name, ptype, label, flags, *values)


def write_document(f: BinaryIO, top: Iterable[Node], version: int = FBX_VERSION) -> None:
    """Write header, top-level records and footer to a binary file object."""
    head = _HEAD_MAGIC + struct.pack("<I", version)
    out: list[bytes] = [head]
    pos = len(head)
    for node in top:
        pos = node._layout(pos, out)
    out.append(_SENTINEL)
    pos += len(_SENTINEL)
    out.append(_FOOT_ID + b"\x00" * 4)
    pos += 20
    pad = ((pos + 15) & ~15) - pos
    out.append(b"\x00" * (pad or 16))
    out.append(struct.pack("<I", version) + b"\x00" * 120 + _FOOT_MAGIC)
    f.writelines(out)
