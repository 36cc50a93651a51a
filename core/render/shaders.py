"""Loads GLSL programs from the `shaders` package data."""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import moderngl


@lru_cache(maxsize=None)
def source(name: str) -> str:
    """The text of shaders/<name> (e.g. 'face.vert')."""
    return files("shaders").joinpath(name).read_text(encoding="utf-8")


def program(ctx: moderngl.Context, name: str) -> moderngl.Program:
    """Compile shaders/<name>.vert + shaders/<name>.frag in `ctx`."""
    return ctx.program(vertex_shader=source(f"{name}.vert"), fragment_shader=source(f"{name}.frag"))
