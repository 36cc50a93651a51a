"""Exporters: Live Link Face CSV, glTF/GLB, FBX and MP4 writers (and readers used to verify them)."""
