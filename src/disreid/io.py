"""Files on disk: saves that a kill at any moment cannot destroy, and reads that name a corrupt file.

A folder is replaced by two renames (`path` to `.path.old`, then the finished staging folder to
`path`). A kill between them leaves `.path.old`, the previous copy whole: readers take it
(`current`) and the next save puts it back first (`recover`). Staging folders and temporary files
of interrupted saves (`.path.XXXXXXXX.partial`) are cleared by the next save of the same path.
Everything is created with the modes the umask gives, like any other file of the user's.
"""

from __future__ import annotations

import fcntl
import glob
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PARTIAL = ".partial"
_TOKEN_BYTES = 4  # the staging names' random part: 8 hex digits


class UnreadableFileError(ValueError):
    """A file exists but cannot be read as what it should be: truncated, corrupt or of another format."""


class WriteError(OSError):
    """A save that failed part-way (a full disk, a quota; the writer's own error: safetensors', faiss's,
    torch.save's), named by what it was to replace, which is left as it was."""

    def __init__(self, path: Path, error: Exception) -> None:
        if isinstance(error, WriteError):  # a save within a save: the outer one names it
            reason = error.reason
        elif isinstance(error, OSError) and error.strerror:
            reason = error.strerror
        else:
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        super().__init__(f"{path} could not be written: {reason}")
        self.reason = reason


@contextmanager
def reading(path: str | Path) -> Iterator[None]:
    """Turn whatever a parser raises on a damaged `path` into one `UnreadableFileError` that names it.

    Missing or forbidden files (OSError) pass through: their message names the file already."""
    try:
        yield
    except (OSError, UnreadableFileError):
        raise
    except Exception as error:
        raise unreadable(path, error) from error


def unreadable(path: str | Path, error: BaseException) -> UnreadableFileError:
    """The one-line error for a damaged `path`, with the first line of the parser's complaint."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return UnreadableFileError(f"{path} is damaged (truncated or corrupt?): {lines[0][:200]}")


def read_json(path: str | Path) -> Any:
    path = Path(path)
    with reading(path):
        return json.loads(path.read_text(encoding="utf-8"))


def current(path: str | Path) -> Path:
    """`path`, or the previous copy that an interrupted replacement left aside, for reading."""
    path = Path(path)
    old = _old(path)
    return old if not path.exists() and old.is_dir() else path


def recover(path: str | Path) -> None:
    """Before writing: put back the copy an interrupted replacement left aside, or drop it if the
    replacement got as far as renaming the new copy into place."""
    path = Path(path)
    old = _old(path)
    if old.is_dir():
        if path.exists():
            shutil.rmtree(old)
        else:
            os.replace(old, path)


def clear_partials(path: str | Path) -> None:
    """Remove what interrupted saves of `path` left behind (one save of a path at a time)."""
    path = Path(path)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.{'[0-9a-f]' * 2 * _TOKEN_BYTES}{PARTIAL}"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)


@contextmanager
def atomic_directory(path: str | Path) -> Iterator[Path]:
    """Yield a fresh sibling directory to fill; on success it replaces `path`, on error it is removed.

    At every moment either `path` or `.path.old` holds a complete copy (see the module's docstring)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    recover(path)
    clear_partials(path)
    staging = _create_sibling(path, os.mkdir)
    old = _old(path)
    try:
        yield staging
        _umask_modes(staging)
        if path.exists():
            os.replace(path, old)
        os.replace(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn a failed save of `path` into one `WriteError` that names it. Only around code that does
    nothing but write: anything raised there is the writer's failure, not a finding to pass on."""
    try:
        yield
    except Exception as error:
        raise WriteError(Path(path), error) from error


def _umask_modes(folder: Path) -> None:
    """Give every file in `folder` the mode the umask gives new files: some writers (safetensors) make
    theirs 0600 whatever the umask, and a model shared with another user could not be read."""
    umask = os.umask(0)
    os.umask(umask)
    for file in folder.rglob("*"):
        if file.is_file() and not file.is_symlink():
            file.chmod(0o666 & ~umask)


@contextmanager
def exclusive(path: str | Path) -> Iterator[None]:
    """Hold the lock of `path` (the file `.NAME.lock` beside it) while reading and rewriting it: two
    writers at once would each replace the other's work. A second one is refused at once, by name."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ValueError(
                f"{path} is being written by another process (it holds {lock}): try again once it is done"
            ) from None
        yield  # the lock goes with the file's closing, also when the process dies


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    clear_partials(path)
    temporary = _create_sibling(path, lambda name: os.close(os.open(name, os.O_CREAT | os.O_EXCL, 0o666)))
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, Exception):
            raise WriteError(path, error) from error
        raise


def _old(path: Path) -> Path:
    return path.with_name(f".{path.name}.old")


def _create_sibling(path: Path, create: Callable[[Path], Any]) -> Path:
    """A new file or folder `.NAME.XXXXXXXX.partial` beside `path`, made by `create` (which fails if
    the name is taken), so that its mode honours the umask, unlike `tempfile`'s 0600 and 0700."""
    while True:
        sibling = path.with_name(f".{path.name}.{secrets.token_hex(_TOKEN_BYTES)}{PARTIAL}")
        try:
            create(sibling)
        except FileExistsError:
            continue
        return sibling
