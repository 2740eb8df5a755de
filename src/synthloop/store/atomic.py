"""Atomic file writes: write to a temporary name in the same folder, fsync, then rename.

A reader (or a resumed run) therefore sees either the old file or the complete new one, never a partial file.
Temporary names start with `.tmp-` so `clean_temp_files` can remove leftovers of a killed process.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synthloop.errors import UserError

TEMP_PREFIX = ".tmp-"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, write: Callable[[str], None]) -> None:
    """Call `write(temp_path)`, then move the result to `path` in one rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX + path.name + ".", dir=path.parent)
        os.close(fd)
    except OSError as error:
        raise UserError(f"{path.parent}: cannot write here ({error.strerror or error})") from error
    try:
        write(temp)
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, path)
        _fsync_dir(path.parent)
    except OSError as error:
        _remove_quietly(temp)
        if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise UserError(f"{path}: cannot write ({error.strerror}); earlier files are intact") from error
        raise
    except BaseException:
        _remove_quietly(temp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    def write(temp: str) -> None:
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)

    atomic_write(path, write)


def atomic_write_json(path: Path, value: Any, *, indent: int | None = 2, sort_keys: bool = True) -> None:
    """`value` as JSON text (indented, keys sorted, one final newline), written atomically."""
    atomic_write_text(path, json.dumps(value, indent=indent, sort_keys=sort_keys) + "\n")


def atomic_write_parquet(path: Path, table: pa.Table) -> None:
    atomic_write(path, lambda temp: pq.write_table(table, temp, compression="zstd"))


def clean_temp_files(folder: Path) -> int:
    """Remove temporary files a killed writer left behind; returns how many were removed."""
    removed = 0
    if folder.is_dir():
        for leftover in folder.rglob(TEMP_PREFIX + "*"):
            _remove_quietly(str(leftover))
            removed += 1
    return removed


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
