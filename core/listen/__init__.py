"""Listening (stage 1, first half): what was said, when, and how.

    analysis = listen(audio, script=None)          # words, phones, prosody, speech regions
    pieces = segment(analysis, 1.5, 8.0)           # tiling segments with JSON-able evidence
    describe_prosody(pieces[0].evidence)           # "pitch high and rising, loud, fast"

Models come from installed packages only (see core.listen.models); each loads once per process.
"""

from core.listen.describe import describe_prosody
from core.listen.errors import ListenError
from core.listen.listen import listen, place_script
from core.listen.segment import SegmentEvidence, segment
from core.listen.types import FRAME_RATE, Analysis, ListenSettings, Phone, Word, frames_at

__all__ = ["Analysis", "FRAME_RATE", "ListenError", "ListenSettings", "Phone", "SegmentEvidence", "Word",
           "describe_prosody", "frames_at", "listen", "place_script", "segment"]
