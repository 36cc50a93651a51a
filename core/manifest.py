"""The batch manifest: a CSV file with a header row, or JSONL, listing dialogue lines to animate.

    manifest = read_manifest("lines.csv")      # Manifest(path, lines, warnings)
    for line in manifest.lines: line.problem   # "" when the row can run, else why not

`audio` is the only column needed; `id`, `script`, `instruction`, `emotion`, `intensity`, `seed`,
`exports` and `language` are optional, other columns are ignored with a warning. CSV is read strictly (comma,
semicolon or tab; fully quoted headers as spreadsheets write them); a quote left open that would
swallow the rows after it refuses the manifest, naming its line. JSONL lines end only at a newline.
Every number goes through core.limits, the ranges the project loader applies. A row that cannot
run keeps its line with a one-line `problem`; a manifest that cannot be read at all (not a regular
file, too large, not UTF-8) raises ManifestError naming the file.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import limits
from core.fileio import NotReadable, read_regular
from core.instruct.wording import SYNONYMS
from core.listen.language import check_language
from core.limits import MAX_INSTRUCTION_CHARS, MAX_SCRIPT_CHARS
from core.project import EMOTIONS


EXPORT_FORMATS: tuple[str, ...] = ("fbx", "glb", "csv", "mp4")
REPORT_NAME = "report.csv"        # the batch's report, beside the lines' folders: no line takes its name
COLUMNS: tuple[str, ...] = ("id", "audio", "script", "instruction", "emotion", "intensity", "seed", "exports",
                            "language")
_EXTRA = "(cells past the header)"      # where a CSV row's surplus cells go


class ManifestError(ValueError):
    """The manifest as a whole cannot be used; the message names the file and the problem."""


@dataclass
class Line:
    """One row of the manifest, checked. `problem` says why it cannot run ("" when it can)."""

    number: int                      # the row's line number in the manifest file
    id: str
    audio: str                       # the audio file, resolved relative to the manifest
    script: str = ""                 # what is said (aligned instead of the recognised words)
    instruction: str = ""            # one instruction for every segment, instead of the writer's
    emotion: str = ""                # rewrite every segment's instruction for this emotion
    intensity: float | None = None   # ... and/or this intensity (0..1)
    seed: int = 0
    exports: tuple[str, ...] = ()
    language: str = ""               # auto or a Whisper code ("": the batch's --language)
    problem: str = ""


@dataclass
class Manifest:
    path: Path
    lines: list[Line]
    warnings: list[str] = field(default_factory=list)


# --- the manifest -------------------------------------------------------------------------

MAX_MANIFEST_BYTES = 64 * 2 ** 20      # about 400 000 lines of CSV: more is no manifest
MAX_LINES = 200_000                    # lines of one batch (each is held in memory twice, about 1 kB)
# audio files by name: a line of a quoted cell that names one is a row the cell swallowed
_AUDIO_NAME = re.compile(r"\.(wav|wave|flac|ogg|oga|opus|mp3|m4a|aac|aif|aiff|aifc|caf|wma|webm|mp4|mka)\s*$",
                         re.IGNORECASE)


def read_manifest(path: str | os.PathLike, default_exports: tuple[str, ...] = ()) -> Manifest:
    """The manifest's lines: a CSV file with a header row (comma, semicolon or tab separated) or
    JSONL (one JSON object per line; by suffix .jsonl/.ndjson, else by a first character '{').
    Columns: audio (required), id, script, instruction, emotion, intensity, seed, exports, language. A row
    that cannot run gets `problem`; a file that cannot be read at all (or a quote left open, which
    would swallow the rows after it) raises ManifestError naming the file (and the line)."""
    p = Path(path)
    text = _read_text(p)
    if not text.strip():
        raise ManifestError(f"{p}: the manifest is empty")
    jsonl = p.suffix.lower() in (".jsonl", ".ndjson") or (
        p.suffix.lower() not in (".csv", ".tsv", ".txt") and text.lstrip().startswith("{"))
    rows = _jsonl_rows(text, p) if jsonl else _csv_rows(text, p)
    if not rows:
        raise ManifestError(f"{p}: the manifest lists no lines")
    lines: list[Line] = []
    used: dict[str, int] = {REPORT_NAME: 1}            # id: the last suffix given to it (the report's name is taken)
    unused: set[str] = set()
    for number, row in rows:
        if isinstance(row, dict):
            row = {str(k).strip().lower(): v for k, v in row.items()}
            unused |= {k for k in row if k not in COLUMNS and k != _EXTRA}
        line = _line(number, row, p.parent, default_exports)
        given = isinstance(row, dict) and isinstance(row.get("id"), str) and row["id"].strip()
        if line.id in used and line.id != REPORT_NAME and given and not line.problem:
            line.problem = f"id {line.id!r} is used by an earlier line"
        line.id = _unique(line.id, used)
        lines.append(line)
    warnings = []
    if unused:
        many = len(unused)
        shown = sorted(unused)
        names = ", ".join(repr(c[:40]) for c in shown[:10]) + (f" and {len(shown) - 10} more" if many > 10 else "")
        warnings.append(f"{p}: field{'s' if many > 1 else ''} {names} {'are' if many > 1 else 'is'} not used "
                        f"(the fields are {', '.join(COLUMNS)})")
    return Manifest(p, lines, warnings)


def _read_text(p: Path) -> str:
    """The manifest's text: a regular file of at most MAX_MANIFEST_BYTES in UTF-8 (a BOM is
    dropped). A FIFO, a device or a folder is refused without being read (nor waited for)."""
    try:
        data = read_regular(p, "a manifest", MAX_MANIFEST_BYTES,
                            f"the manifest is larger than {MAX_MANIFEST_BYTES // 2 ** 20} MiB, the most that is read "
                            f"(split it into several)")
    except NotReadable as exc:
        raise ManifestError(f"{p}: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{p}: not a text file in UTF-8 ({exc.reason} at byte {exc.start})") from exc


def _csv_reader(text: str, delimiter: str) -> Any:
    # strict: a quote left open or closed in the wrong place is an error, not a cell that runs on
    # over the next rows; skipinitialspace: `"id", "audio"` reads as `id,audio`
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True, skipinitialspace=True)


def _csv_rows(text: str, p: Path) -> list[tuple[int, dict]]:
    header: list[str] = []
    delimiter = None
    failed = ""
    for d in (",", "\t", ";"):
        try:
            cells = next(_csv_reader(text, d), [])
        except csv.Error as exc:
            failed = failed or _csv_problem(p, str(exc), 1, 1, text, d)
            continue
        if "audio" in (c.strip().lower() for c in cells):
            header, delimiter = cells, d
            break
    if delimiter is None and failed:
        raise ManifestError(failed)                     # the header itself cannot be read
    if delimiter is None:
        raise ManifestError(f"{p}: the first row must be a header naming the columns, with at least 'audio' "
                            f"(and any of {', '.join(c for c in COLUMNS if c != 'audio')})")
    names = [c.strip().lower() for c in header]
    reader = _csv_reader(text, delimiter)
    rows = []
    end = 0
    while True:
        start = end + 1                                 # the record's first line
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ManifestError(_csv_problem(p, str(exc), start, reader.line_num, text, delimiter)) from None
        end = reader.line_num
        if start == 1:
            continue                                    # the header
        if not any(c.strip() for c in cells):
            continue                                    # a blank line
        _count_line(p, len(rows))
        if end > start:
            _check_spanning(p, names, cells, start, end, delimiter)
        row: dict[str, Any] = dict(zip(names, cells))
        if len(cells) > len(names):
            row[_EXTRA] = cells[len(names):]
        rows.append((start, row))
    return rows


def _csv_problem(p: Path, error: str, start: int, end: int, text: str, delimiter: str) -> str:
    """The one-line message of a CSV record that cannot be read, by the line it starts on."""
    where = f"{p}: line {start}"
    if "unexpected end of data" in error:
        return (f"{where}: a quote opened on this line is never closed (it would take in every row after it); "
                f"close it, or double a quote meant as text (\"\")")
    if "expected after" in error:
        span = "" if end <= start else f" (the quote opened on line {start} is closed on line {end})"
        last = next(itertools.islice(io.StringIO(text, newline=""), end - 1, None), "")
        if re.search(f'"[ \\t]+(?:{re.escape(delimiter)}|[\\r\\n]|$)', last):
            return f"{where}: a closing quote is followed by a space{span}; remove the space"
        return (f"{where}: a quoted cell goes on after its closing quote{span}; quote the whole cell and double a "
                f"quote meant as text (\"\")")
    if "field larger than field limit" in error:
        return (f"{where}: a cell is longer than {csv.field_size_limit()} characters (a quote that is never "
                f"closed?)")
    if "NUL" in error:
        return f"{p}: line {end}: holds a NUL character (not a text manifest?)"
    return f"{where}: not readable as CSV ({error})"


def _check_spanning(p: Path, names: list[str], cells: list[str], start: int, end: int, delimiter: str) -> None:
    """A quoted cell that runs over several lines: fine for a script, an instruction or a column
    that is not used, unless a line of it reads as a row of the manifest (a closing quote missing:
    the rows in between would be lost); in a column of names or numbers it cannot be meant."""
    for k, cell in enumerate(cells):
        if "\n" not in cell and "\r" not in cell:
            continue
        what = f"the quoted {names[k]!r}" if k < len(names) else "a quoted cell past the header"
        looks_like_rows = any(_AUDIO_NAME.search(part.strip().strip('"'))
                              for text in re.split(r"\r\n|\r|\n", cell)[1:] for part in text.split(delimiter))
        if looks_like_rows or k < len(names) and names[k] in COLUMNS and names[k] not in ("script", "instruction"):
            raise ManifestError(f"{p}: line {start}: {what} runs on to line {end}"
                                f"{', taking in what reads as rows of their own' if looks_like_rows else ''}; "
                                f"a closing quote is missing or misplaced")


class _Unreadable(str):
    """Why a JSONL line is not read (a JSON string on a line of its own is a str, not this)."""


def _count_line(p: Path, before: int) -> None:
    if before >= MAX_LINES:
        raise ManifestError(f"{p}: the manifest lists more than {MAX_LINES} lines, the most one batch runs "
                            f"(split it into several)")


def _jsonl_rows(text: str, p: Path) -> list[tuple[int, Any]]:
    rows: list[tuple[int, Any]] = []
    # lines end at \n (or \r\n) only: a JSON string may hold U+2028, U+0085 and the like, which
    # str.splitlines would also cut at
    start, number = 0, 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        raw = text[start:end].removesuffix("\r")
        start, number = end + 1, number + 1
        if not raw.strip():
            continue
        _count_line(p, len(rows))
        try:
            rows.append((number, json.loads(raw)))
        except (ValueError, RecursionError) as exc:
            rows.append((number, _Unreadable(f"not valid JSON ({' '.join(str(exc).split())[:100]})")))
    return rows


def _line(number: int, row: Any, base: Path, default_exports: tuple[str, ...]) -> Line:
    """A Line from a row (a dict with lower-case keys, any other JSON value, or _Unreadable)."""
    fallback = f"line{number}"
    if isinstance(row, _Unreadable):
        return Line(number, fallback, "", problem=str(row))
    if not isinstance(row, dict):
        return Line(number, fallback, "", problem=f"a JSONL line must be an object, got {type(row).__name__}")
    try:
        audio = _text(row, "audio")
        ident = _safe_id(_text(row, "id") or Path(audio).stem) or fallback
    except ValueError as exc:
        return Line(number, fallback, "", problem=str(exc))
    line = Line(number, ident, "")
    try:
        if audio:
            try:
                line.audio = str((base / Path(audio).expanduser()).resolve())
            except (ValueError, RuntimeError, OSError) as exc:   # a NUL in the name, an unknown ~user
                line.audio = audio
                raise ValueError(f"'audio' is not a usable file name ({_brief(exc)})") from None
        extra = row.get(_EXTRA)
        if isinstance(extra, list) and any(str(c).strip() for c in extra):
            raise ValueError("the row has more cells than the header has columns (quote a text that holds "
                             "the separator)")
        if not audio:
            raise ValueError("no audio file given (the 'audio' field is empty or missing)")
        line.script = _text(row, "script")
        if len(line.script) > MAX_SCRIPT_CHARS:
            raise ValueError(f"a script is at most {MAX_SCRIPT_CHARS} characters (three hours of fast speech), this "
                             f"one has {len(line.script)}")
        line.instruction = " ".join(_text(row, "instruction").split())
        if len(line.instruction) > MAX_INSTRUCTION_CHARS:
            raise ValueError(f"an instruction is at most {MAX_INSTRUCTION_CHARS} characters, this one has "
                             f"{len(line.instruction)}")
        emotion = _text(row, "emotion").lower()
        if emotion:
            line.emotion = emotion if emotion in EMOTIONS else SYNONYMS.get(emotion, "")
            if not line.emotion:
                raise ValueError(f"unknown emotion {_brief(emotion)}; expected one of {', '.join(EMOTIONS)}")
        line.intensity = _number(row, "intensity", limits.INTENSITY)
        seed = _number(row, "seed", limits.SEED)
        line.seed = 0 if seed is None else seed
        line.exports = parse_exports(row.get("exports"), default_exports)
        language = _text(row, "language")
        line.language = check_language(language) if language else ""
    except ValueError as exc:
        line.problem = str(exc)
    return line


def _brief(value: Any) -> str:
    """A value or an error as at most 40 characters of one line."""
    text = " ".join(str(value).split()) if isinstance(value, BaseException) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text(row: dict, key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be text, got {json.dumps(value)[:40]}")
    return value.strip()


def _number(row: dict, key: str, limit: limits.Range) -> Any:
    """The row's number `key` (a JSON number or the text of one) within `limit`, by the check a
    project's loader applies (core.limits); None when it is missing or empty."""
    value = row.get(key)
    if value is None or isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, str):
        value = _parse_number(value.strip())
    if isinstance(value, float) and limit.whole and value.is_integer() and abs(value) < 2 ** 63:
        value = int(value)                              # 3.0: pandas writes whole numbers so in a column with gaps
    return limits.check_number(key, value, limit)


def _parse_number(text: str) -> Any:
    """The number a cell holds ("3", "0.9", "1e3"), or the text itself when it holds none (or
    NaN, an infinity, or more digits than a float keeps: shown as written in the message)."""
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


def parse_exports(value: Any, default: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Export formats from "fbx;glb csv" (any of ; , | or spaces) or a list; empty: `default`;
    "none": no exports. An unknown format raises ValueError."""
    if value is None or isinstance(value, str) and not value.strip():
        return tuple(default)
    if isinstance(value, list):
        names = [str(v) for v in value]
    elif isinstance(value, str):
        names = re.split(r"[;,|\s]+", value.strip())
    else:
        raise ValueError(f"'exports' must be text like \"fbx;csv\" or a list, got {json.dumps(value)[:40]}")
    out: list[str] = []
    for name in names:
        name = name.strip().lower().lstrip(".")
        if not name or name == "none":
            continue
        if name not in EXPORT_FORMATS:
            raise ValueError(f"unknown export format {_brief(name)}; use {', '.join(EXPORT_FORMATS)} (or none)")
        if name not in out:
            out.append(name)
    return tuple(out)


def _safe_id(text: str) -> str:
    """A folder and file name: letters, digits, '.', '_' and '-' (others become '_')."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", text.strip()).strip(".")[:120]


def _unique(ident: str, used: dict[str, int]) -> str:
    """`ident`, or `ident-2`, `ident-3`, ... when it is taken; marks what it returns as taken."""
    if ident in used:
        k = used[ident] + 1
        while f"{ident}-{k}" in used:
            k += 1
        used[ident] = k
        ident = f"{ident}-{k}"
    used[ident] = 1
    return ident


