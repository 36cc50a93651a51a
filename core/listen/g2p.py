"""Pronunciations for the aligner: cmudict (through PocketSphinx) first; numbers are spelled out;
words the dictionary lacks get a rough letter-to-sound pronunciation, good enough for timing."""

from __future__ import annotations

import re

_ONES = "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def spell_number(n: int) -> list[str]:
    if n < 0:
        return ["minus"] + spell_number(-n)
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (spell_number(n % 100) if n % 100 else [])
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        if n >= size:
            head = spell_number(n // size) + [name]
            return head + (spell_number(n % size) if n % size else [])
    return [str(n)]


def _spell_token(tok: str) -> list[str]:
    """Digits, years, decimals, ordinals, percent and currency to words."""
    m = re.fullmatch(r"(\d+)(st|nd|rd|th)", tok)
    if m:
        words = spell_number(int(m.group(1)))
        last = words[-1]
        irregular = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                     "nine": "ninth", "twelve": "twelfth"}
        if last in irregular:
            words[-1] = irregular[last]
        elif last.endswith("y"):
            words[-1] = last[:-1] + "ieth"
        else:
            words[-1] = last + "th"
        return words
    if re.fullmatch(r"\d+\.\d+", tok):
        a, b = tok.split(".")
        return spell_number(int(a)) + ["point"] + [_ONES[int(d)] for d in b]
    if re.fullmatch(r"\d{4}", tok) and 1100 <= int(tok) <= 2099 and int(tok) % 1000 >= 10 and not (2000 <= int(tok) < 2010):
        a, b = int(tok[:2]), int(tok[2:])
        return spell_number(a) + (["hundred"] if b == 0 else (["oh"] + spell_number(b) if b < 10 else spell_number(b)))
    if tok.isdigit():
        return spell_number(int(tok)) if len(tok) <= 12 else [_ONES[int(d)] for d in tok]
    return []


def words_for(text: str) -> list[str]:
    """The lower-case dictionary words a written word is spoken as: "1990" -> nineteen ninety,
    "3.5%" -> three point five percent, "Dr." -> dr, "well-known" -> well known."""
    t = text.lower().replace("’", "'").replace("%", " percent").replace("&", " and ")
    t = re.sub(r"\$(\d[\d,.]*)", r"\1 dollars", t)
    t = re.sub(r"(?<=\d),(?=\d{3})", "", t)
    out: list[str] = []
    for tok in re.split(r"[\s\-–—/]+", t):
        tok = tok.strip(".,!?;:\"()[]{}«»“”'")
        if not tok:
            continue
        m = re.fullmatch(r"(\d+(?:\.\d+)?(?:st|nd|rd|th)?)([a-z']*)", tok)
        if m:
            out += _spell_token(m.group(1))
            if m.group(2):
                out.append(m.group(2).strip("'"))
            continue
        tok = re.sub(r"[^a-z0-9']", "", tok)
        if tok:
            parts = re.findall(r"\d+|[a-z']+", tok)
            for part in parts:
                out += _spell_token(part) if part.isdigit() else [part.strip("'")] if part.strip("'") else []
    return out


# letter-to-sound rules, longest match first
_RULES = [
    ("tion", "SH AH N"), ("sion", "ZH AH N"), ("ough", "AO"), ("augh", "AO"), ("igh", "AY"), ("tch", "CH"),
    ("sch", "S K"), ("dge", "JH"), ("ch", "CH"), ("sh", "SH"), ("th", "TH"), ("ph", "F"), ("ng", "NG"),
    ("ck", "K"), ("qu", "K W"), ("wh", "W"), ("kn", "N"), ("wr", "R"), ("gh", "G"), ("ee", "IY"), ("ea", "IY"),
    ("oo", "UW"), ("ai", "EY"), ("ay", "EY"), ("ei", "EY"), ("ey", "EY"), ("oa", "OW"), ("ou", "AW"),
    ("ow", "OW"), ("oi", "OY"), ("oy", "OY"), ("au", "AO"), ("aw", "AO"), ("ie", "IY"), ("ue", "UW"),
    ("ew", "UW"), ("er", "ER"), ("ir", "ER"), ("ur", "ER"), ("ar", "AA R"), ("or", "AO R"),
    ("a", "AE"), ("b", "B"), ("c", "K"), ("d", "D"), ("e", "EH"), ("f", "F"), ("g", "G"), ("h", "HH"),
    ("i", "IH"), ("j", "JH"), ("k", "K"), ("l", "L"), ("m", "M"), ("n", "N"), ("o", "AA"), ("p", "P"),
    ("q", "K"), ("r", "R"), ("s", "S"), ("t", "T"), ("u", "AH"), ("v", "V"), ("w", "W"), ("x", "K S"),
    ("y", "IY"), ("z", "Z"), ("'", ""),
]


def letter_to_sound(word: str) -> str:
    """A rough ARPAbet pronunciation for a word missing from the dictionary."""
    w = re.sub(r"[^a-z']", "", word.lower())
    if len(w) > 3 and w.endswith("e") and w[-2] not in "aeiouy":
        w = w[:-1]                                   # silent final e
    w = re.sub(r"([bcdfgklmnprstvz])\1", r"\1", w)   # double consonants
    phones: list[str] = []
    i = 0
    while i < len(w):
        for pat, ph in _RULES:
            if w.startswith(pat, i):
                if pat == "c" and w[i + 1:i + 2] in ("e", "i", "y"):
                    ph = "S"
                if pat == "y" and i == 0:
                    ph = "Y"
                if pat == "g" and w[i + 1:i + 2] in ("e", "i", "y") and i > 0:
                    ph = "JH"
                if ph:
                    phones += ph.split()
                i += len(pat)
                break
        else:
            i += 1
    # collapse repeats
    out = [p for j, p in enumerate(phones) if j == 0 or p != phones[j - 1]]
    return " ".join(out) or "AH"
