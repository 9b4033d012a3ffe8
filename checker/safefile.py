"""Reading evidence files safely: regular files only, bounded while reading.

Every file an adapter reads goes through :func:`open_binary`, :func:`read_bytes` or
:func:`text_lines`:

- A FIFO, socket, device or directory is refused *before* anything blocks (the file is
  opened non-blocking and checked with ``fstat``), and so is anything under ``/proc``,
  ``/sys`` or ``/dev`` (``/proc/self/environ`` looks like a regular file of size 0).
- The bytes are counted while they are read — never trusted from ``st_size`` — and reading
  stops past :func:`file_byte_limit` (``settings.max_file_bytes``).

Refusals are :class:`OSError` subclasses with a ``strerror``, so every adapter's existing
"cannot read file: …" handling reports them, located, with its own code.
"""

from __future__ import annotations

import codecs
import io
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar, Token
from pathlib import Path
from typing import IO

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "FileRefused",
    "FileTooLarge",
    "file_byte_limit",
    "open_binary",
    "read_bytes",
    "reset_file_byte_limit",
    "set_file_byte_limit",
    "special_path",
    "text_lines",
]

#: The default of ``settings.max_file_bytes``: 2 GiB.
DEFAULT_MAX_FILE_BYTES = 2 * 1024**3
_LIMIT: ContextVar[int] = ContextVar("aimscheck_file_byte_limit",
                                     default=DEFAULT_MAX_FILE_BYTES)
_SPECIAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


class FileRefused(OSError):
    """Not a regular file (FIFO, socket, device, folder, or a /proc-like file system)."""


class FileTooLarge(OSError):
    """More bytes than the limit were read."""


def file_byte_limit() -> int:
    """The most bytes one evidence file may hold."""
    return _LIMIT.get()


def set_file_byte_limit(limit: int) -> Token[int]:
    """Set the limit for the reads done in this context (used by the pipeline)."""
    return _LIMIT.set(limit)


def reset_file_byte_limit(token: Token[int]) -> None:
    """Undo :func:`set_file_byte_limit`."""
    _LIMIT.reset(token)


def special_path(path: Path) -> bool:
    """True when ``path`` (symlinks followed) lies in /proc, /sys or /dev."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):
        return False
    return any(real == root or root in real.parents for root in _SPECIAL_ROOTS)


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "not a regular file"


def _refuse(path: Path, what: str) -> FileRefused:
    return FileRefused(0, f"refused: {what}; evidence must be a regular file", str(path))


class _Capped(io.RawIOBase):
    """A raw reader that raises FileTooLarge once more than ``limit`` bytes were read."""

    def __init__(self, fd: int, path: Path, limit: int) -> None:
        self._f = io.FileIO(fd, "rb", closefd=True)
        self._path = path
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]  # bytes-like
        n = self._f.readinto(buffer) or 0
        self._read += n
        if self._read > self._limit:
            raise FileTooLarge(0, f"file is larger than {self._limit:,} bytes "
                               "(settings.max_file_bytes); reading stopped", str(self._path))
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def open_binary(path: Path, limit: int | None = None) -> IO[bytes]:
    """Open a regular file for reading, bounded to ``limit`` bytes (default: the setting).

    Raises:
        FileRefused: not a regular file, or in /proc, /sys, /dev.
        OSError: the file cannot be opened.
    """
    if special_path(path):
        raise _refuse(path, "a file in /proc, /sys or /dev")
    # O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _refuse(path, _kind(mode))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        raw = _Capped(fd, path, file_byte_limit() if limit is None else limit)
    except BaseException:
        os.close(fd)
        raise
    return io.BufferedReader(raw)


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """All bytes of a regular file, bounded (see :func:`open_binary`)."""
    with open_binary(path, limit) as fh:
        return fh.read()


def text_lines(fh: IO[bytes], encoding: str = "utf-8-sig") -> Iterator[str]:
    """Decode a binary file line by line, line endings kept, so a bad byte has a line.

    A line that does not decode raises :class:`UnicodeDecodeError`; the caller knows the
    line from how many it got. A ``utf-8-sig`` byte-order mark is dropped from the first
    line only. (UTF-16/32 cannot be split on bytes: those are decoded as a stream.)

    Raises:
        LookupError: unknown encoding (raised before anything is read).
    """
    name = codecs.lookup(encoding).name
    if name.startswith(("utf-16", "utf-32")):
        yield from io.TextIOWrapper(fh, encoding=encoding, newline="")
        return
    rest = "utf-8" if name == "utf-8-sig" else encoding
    first = True
    for raw in fh:
        yield raw.decode(encoding if first else rest)
        first = False
