"""Atomic file writing: a file appears under its name complete, or not at all.

    with atomic_write("take.fbx") as f: f.write(...)       # a file object
    with atomic_path("take.mp4") as tmp: encode(tmp)        # a temporary name, for writers that want one

The data goes to a hidden temporary file beside the target (`.take.fbx.<random>.part.fbx`), which
is flushed to disk and renamed over the target only when the block succeeds. A symbolic link is
written through: its target file is replaced and the link stays. While a temporary file is being
written it is locked, so the next save beside it can tell a live one from one a killed save left
behind, and removes the stale ones. `before_replace` runs with the folder locked just before the
rename, so a check there (has the file changed since it was read?) and the rename are one step
for every other writer that also locks. Errors name the target, never the temporary file.

Reading what a user names goes through `check_regular` / `read_regular`: a folder, a device, a
FIFO or a socket is refused before anything is read (or waited for), with one wording everywhere.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

try:
    import fcntl
except ImportError:                 # not on Windows: no locks there, writes stay atomic
    fcntl = None


def real_target(path: str | os.PathLike) -> Path:
    """Where writing `path` must go: the file a symbolic link points to, else `path` itself."""
    p = Path(path)
    return Path(os.path.realpath(p)) if p.is_symlink() else p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, before_replace: Callable[[Path], None] | None = None) -> Iterator[Path]:
    """Yield a temporary path beside `path`; on success rename it over `path`.

    For writers that want a file name (PyAV, soundfile). On any exception the
    temporary file is removed and whatever was at `path` before is untouched.
    """
    shown = Path(path)
    target = real_target(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_parts(target)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part" + target.suffix, dir=target.parent)
    except OSError as exc:
        raise _naming(exc, shown) from exc
    tmp_path = Path(tmp)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)        # held until the end: this temporary file is in use
        # mkstemp makes the file private (0600); give it the mode an ordinary new file would get,
        # or keep the mode of the file it replaces.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~umask)
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        with _folder_lock(target.parent):
            if before_replace is not None:
                before_replace(target)
            os.replace(tmp_path, target)
    except BaseException as exc:
        tmp_path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _naming(exc, shown) from exc
        raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, before_replace: Callable[[Path], None] | None = None) -> Iterator[BinaryIO]:
    """Yield a binary file object; it replaces `path` only if the block succeeds."""
    with atomic_path(path, before_replace) as tmp, open(tmp, "wb") as f:
        yield f


def remove_stale_parts(target: Path) -> list[Path]:
    """Delete the temporary files that saves of `target` killed midway left behind (those no
    live save holds locked); returns what was removed."""
    removed = []
    if fcntl is None:
        return removed
    for part in target.parent.glob(f".{target.name}.*.part{target.suffix}"):
        try:
            fd = os.open(part, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue                              # a save in progress holds it
        else:
            part.unlink(missing_ok=True)
            removed.append(part)
        finally:
            os.close(fd)
    return removed


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _naming(exc: OSError, target: Path) -> OSError:
    """The error as 'cannot write <target>: <reason>', whichever file the system named."""
    reason = exc.strerror or str(exc)
    if str(exc).startswith("cannot write "):
        return exc
    named = type(exc)(f"cannot write {target}: {reason}")
    named.errno = exc.errno
    return named


# --- reading what a user names -------------------------------------------------------------

class NotReadable(ValueError):
    """Why a file a user named cannot be read, in words that follow "<path>: " (each caller
    raises its own error, naming the file)."""


def check_regular(path: str | os.PathLike, kind: str) -> os.stat_result:
    """The stat of `path` if it is a regular file (a symlink is followed), else NotReadable:
    'no such file', 'is a folder, not <kind>', 'not a regular file (a device, FIFO or socket);
    give <kind>' (a device such as /dev/zero reads forever, a FIFO blocks), 'cannot read it (...)'."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise NotReadable("no such file") from None
    except (OSError, ValueError) as exc:                 # ValueError: a NUL in the name
        raise NotReadable(f"cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    _check_mode(st, kind)
    return st


def read_regular(path: str | os.PathLike, kind: str, limit: int, too_large: str) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them, else NotReadable (as
    check_regular, or `too_large` formatted with {size_mb} or {size_gib} when the file is larger). The file
    is opened without blocking (a FIFO's open would wait for a writer) and checked on the open
    descriptor, so what is read is what was checked."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise NotReadable("no such file") from None
    except IsADirectoryError:
        raise NotReadable(f"is a folder, not {kind}") from None
    except (OSError, ValueError) as exc:
        raise NotReadable(f"cannot read it ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        st = os.fstat(fd)
        _check_mode(st, kind)
        if st.st_size > limit:
            raise NotReadable(too_large.format(size_mb=st.st_size / 2 ** 20, size_gib=st.st_size / 2 ** 30))
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(st.st_size)       # what fstat saw (read(n) allocates n bytes at once)
    except OSError as exc:
        raise NotReadable(f"cannot read it ({exc.strerror or exc})") from None
    finally:
        os.close(fd)
    return data


def _check_mode(st: os.stat_result, kind: str) -> None:
    if stat.S_ISDIR(st.st_mode):
        raise NotReadable(f"is a folder, not {kind}")
    if not stat.S_ISREG(st.st_mode):
        raise NotReadable(f"not a regular file (a device, FIFO or socket); give {kind}")
