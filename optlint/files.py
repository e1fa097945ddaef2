"""Reading files a hostile tree may hold: only regular files, and never more than a limit.

A FIFO named ``.gitignore`` would block ``open().read()`` forever and a link to
``/dev/zero`` would fill memory; a 15 MB generated module would take minutes to analyze.
Every file optlint reads (sources, notebooks, ``.gitignore``, ``pyproject.toml``) goes
through ``read_regular``: it opens without blocking, checks the opened descriptor (so a
file swapped between a check and the read cannot slip through), and reads at most
``limit`` bytes, deciding "too large" from the size before reading anything.
"""

from __future__ import annotations

import os
import stat

#: ``max-file-size`` default: 3x the largest module in torch or the standard library
#: (``torch/testing/_internal/common_methods_invocations.py``, 1.4 MB).
DEFAULT_MAX_FILE_SIZE = 4 * 1024 * 1024
#: The highest ``max-file-size`` accepted (a bound on memory and time per file).
MAX_FILE_SIZE_LIMIT = 256 * 1024 * 1024
#: Notebooks carry outputs (images, tables) besides code: they may be this many times larger.
NOTEBOOK_SIZE_FACTOR = 16
#: ``.gitignore`` and ``pyproject.toml`` are small text files; anything larger is refused.
SMALL_FILE_LIMIT = 1024 * 1024
SMALL_FILE_LIMIT_NAME = "the limit for ignore and config files"


class NotRegularFile(OSError):
    """A FIFO, socket or device where a file was expected."""


class FileTooLarge(OSError):
    """Larger than the limit; `size` is None where only "more than the limit" is known (a stream)."""

    def __init__(self, size: int | None, limit: int, limit_name: str = "`max-file-size`") -> None:
        if size is None:
            super().__init__(f"too large (more than {limit:,} bytes, the {limit_name})")
        else:
            super().__init__(f"too large ({size:,} bytes; {limit_name} is {limit:,})")
        self.size, self.limit = size, limit


def read_regular(
    path: str | os.PathLike, limit: int, follow_symlinks: bool = True, limit_name: str = "`max-file-size`"
) -> bytes:
    """The bytes of the regular file `path`, or NotRegularFile / FileTooLarge / OSError."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFile(f"not a regular file: {os.fspath(path)}")
        if info.st_size > limit:
            raise FileTooLarge(info.st_size, limit, limit_name)
        chunks, total = [], 0
        while total <= limit:  # the file may grow after fstat: never read past the limit
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:
            raise FileTooLarge(None, limit, limit_name)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_stream(stream, limit: int) -> tuple[bytes, bool]:
    """(what was read of a stream such as standard input, whether it is over `limit`).

    At most ``limit + 1`` bytes are read: one more than the limit tells "too large"."""
    data = stream.read(limit + 1)
    return data, len(data) > limit


def source_limit(path: str, max_file_size: int) -> int:
    return max_file_size * NOTEBOOK_SIZE_FACTOR if path.endswith(".ipynb") else max_file_size


def read_source(path: str, max_file_size: int) -> bytes:
    """A source file or notebook for checking; raises OSError (FileTooLarge included)."""
    return read_regular(path, source_limit(path, max_file_size))
