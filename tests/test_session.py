"""A long editing session in the real studio, shortened: random edits, undos and regenerations
on a take of real speech; the worker stops, no thread is left and the saved project reopens
identical (benchmarks/bench_session.py, run here on 25 s with 30 operations)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("PySide6", reason="the studio extra is not installed (pip install -e .[studio])")

ROOT = Path(__file__).resolve().parents[1]


def test_thirty_random_operations_leave_a_consistent_project_and_no_thread(qapp):
    # qapp: pytest-xvfb's display is set for the child process too
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_session.py"), "--minutes", "0.42",
                          "--ops", "30", "--seed", "3"], capture_output=True, text=True, timeout=300,
                         env={**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "xcb")})
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "| saved project reopens identical | True |" in out.stdout
    assert "worker stopped: True; new Python threads left: none" in out.stdout
    applied = int(out.stdout.split(" regenerations applied")[0].rsplit("; ", 1)[1])
    assert applied >= 10
