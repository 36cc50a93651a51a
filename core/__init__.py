"""AVI-Talking Studio core: everything but the user interface (never imports Qt)."""

__version__ = "0.1.0"
