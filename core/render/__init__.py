"""Rendering the face with moderngl into whatever context it is handed (EGL or Qt)."""
