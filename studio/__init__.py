"""AVI-Talking Studio desktop application (PySide6); filled by a later issue."""
