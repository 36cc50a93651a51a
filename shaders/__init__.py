"""GLSL shaders loaded at run time by core.render (package data)."""
