"""The ranges every number and size in the program is held to, and the one check that applies them.

The command line, the project loader and saver, the batch manifest and the studio all check
through `check_number` against these ranges, so a value one of them accepts is one every other
accepts (a project the program wrote always opens again) and no setting can make a run
unbounded in time or memory.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    whole: bool = False          # a whole number (int), not a fraction
    unit: str = ""

    def describe(self) -> str:
        kind = "a whole number" if self.whole else "a number"
        unit = f" {self.unit}" if self.unit else ""
        return f"{kind} from {_show(self.low)} to {_show(self.high)}{unit}"


def _show(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


FPS = Range(1, 240, unit="frames per second")
STEPS = Range(1, 200, whole=True)                  # sampling steps; 8 is the default, 50 already looks no better
GUIDANCE = Range(0, 20)
SEED = Range(0, 2 ** 63 - 1, whole=True)           # what torch's generator takes, whole
INTENSITY = Range(0, 1)
VIDEO_SIZE = Range(16, 4096, whole=True, unit="pixels")
SEGMENT_SECONDS = Range(0.2, 600, unit="seconds")
LIVE_SECONDS = Range(0.1, 3 * 3600, unit="seconds")   # a live take: at most the longest take a project holds
TAKE_TIME = Range(0, 3 * 3600, unit="seconds")        # a time in a take (an export range), up to the longest audio
WORKERS = Range(1, 1024, whole=True)              # batch worker processes, and threads per worker
CAPTURE_VALUE = Range(-1000, 1000)                # a weight (0..1) or angle (radians) in a capture: room for overshoot

MAX_INSTRUCTION_CHARS = 2000        # an instruction is a sentence or two; the text encoder reads 256 tokens
# what is said in three hours (the longest audio) of fast speech; aligning a longer text costs
# time and memory without end (1 MB of script on 3.5 s of speech: 42 s and 2.2 GB)
MAX_SCRIPT_CHARS = 300_000
MAX_PROJECT_JSON = 64 * 2 ** 20     # project.json: settings, segments and their evidence
MAX_MEMBER_BYTES = 2 ** 31          # any other member of a project (3 h of 48 kHz stereo WAV is 1.9 GiB)
MAX_MEMBER_RATIO = 200              # a zip member that inflates more than this from a large size is a bomb
MAX_INFLATED_UNCHECKED = 32 * 2 ** 20


def check_number(name: str, value: object, r: Range) -> float | int:
    """`value` as a number within `r`, or ValueError saying '<name> must be <range>, got <value>'."""
    if not _within(value, r):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ValueError(f"{name} must be {r.describe()}, got {shown}")
    return int(value) if r.whole else float(value)


def _within(value: object, r: Range) -> bool:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return False
    if isinstance(value, numbers.Integral):          # compared exactly: 10**400 is not turned into a float
        return r.low <= value <= r.high
    if r.whole:
        return False
    x = float(value)
    return math.isfinite(x) and r.low <= x <= r.high
