"""AVI-Talking Studio's desktop application (PySide6)."""

APP = "AVI-Talking Studio"
