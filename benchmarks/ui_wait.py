"""Shared by the studio benchmarks: run the Qt event loop until something is true."""

from __future__ import annotations

import time


def wait(app, predicate, timeout: float = 120.0) -> None:
    """Process events until predicate() holds; TimeoutError after `timeout` seconds."""
    end = time.perf_counter() + timeout
    while not predicate():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() > end:
            raise TimeoutError("the studio did not finish its work in time")
