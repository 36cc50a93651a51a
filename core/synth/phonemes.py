"""eSpeak NG (en) phoneme mnemonics to ARPAbet, the phone set the aligner and the teacher use."""

from __future__ import annotations

ESPEAK_TO_ARPABET: dict[str, str] = {
    "@": "AH", "@2": "AH", "@5": "AH", "V": "AH", "a#": "AH", "3": "ER", "3:": "ER", "@L": "L",
    "A:": "AA", "A@": "AA", "0": "AA", "aa": "AE", "a": "AE", "E": "EH", "e@": "EH", "I": "IH",
    "I2": "IH", "I#": "IH", "i@": "IH", "i": "IY", "i:": "IY", "O:": "AO", "O2": "AO", "O@": "AO",
    "o@": "AO", "OI": "OY", "U": "UH", "U@": "UH", "u:": "UW", "aI": "AY", "aI@": "AY",
    "aU": "AW", "aU@": "AW", "eI": "EY", "oU": "OW",
    "b": "B", "d": "D", "D": "DH", "dZ": "JH", "f": "F", "g": "G", "h": "HH", "j": "Y", "k": "K",
    "l": "L", "m": "M", "n": "N", "N": "NG", "p": "P", "r": "R", "s": "S", "S": "SH", "t": "T",
    "t#": "T", "T": "TH", "tS": "CH", "v": "V", "w": "W", "z": "Z", "Z": "ZH", "x": "HH",
    "_": "SIL", "_:": "SIL", "_!": "SIL", "_|": "SIL",
}
VOWELS = {"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"}


def to_arpabet(name: str) -> str | None:
    """ARPAbet for an eSpeak mnemonic; None for markers that are not sounds (';', stress)."""
    if name in ESPEAK_TO_ARPABET:
        return ESPEAK_TO_ARPABET[name]
    stripped = name.rstrip("#:;2!")
    if stripped in ESPEAK_TO_ARPABET:
        return ESPEAK_TO_ARPABET[stripped]
    if not stripped:
        return None
    return "AH" if stripped[0] in "aeiouAEIOU@3" else "SIL"
