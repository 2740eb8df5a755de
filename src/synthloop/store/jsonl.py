"""The one JSON-lines reader: every JSONL file synthloop reads (corpora, training sources, eval sets, its own
`review export`, the collapse lab's samples, generation journals) goes through here.

Lines end at "\\n" only. `str.splitlines()` would also break at U+2028, U+2029, U+0085 (and \\v, \\f, \\x1c-\\x1e),
which JSON allows raw inside strings and which `json.dumps(..., ensure_ascii=False)` leaves raw: a story holding
one would be cut in half. A file is read as bytes and split on b"\\n", so a mistake names its line exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from synthloop.errors import UserError


def lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, the line's bytes without its "\\n", whether the "\\n" was there) for every line."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):  # binary files split on b"\n" and nothing else
            complete = raw.endswith(b"\n")
            yield number, raw[:-1] if complete else raw, complete


def parse_line(raw: bytes) -> Any:
    """One line's JSON value. Raises ValueError (UnicodeDecodeError and json.JSONDecodeError are ValueErrors) or
    RecursionError for a value nested too deeply."""
    return json.loads(raw.decode("utf-8"))


def read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, value) for every non-blank line; a line that is not UTF-8 JSON is a one-line UserError."""
    path = Path(path)
    for number, raw, _ in lines(path):
        if not raw.strip():
            continue
        try:
            yield number, parse_line(raw)
        except UnicodeDecodeError as error:
            raise UserError(f"{path}: line {number}: not UTF-8 text (byte {error.start} of the line)") from error
        except RecursionError as error:
            raise UserError(f"{path}: line {number}: invalid JSON (nested too deeply)") from error
        except ValueError as error:
            message = error.msg if isinstance(error, json.JSONDecodeError) else str(error).split("\n")[0]
            raise UserError(f"{path}: line {number}: invalid JSON ({message})") from error


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages: "a number", "an array", "null"..."""
    if value is None:
        return "null"
    names = ((bool, "true or false"), (int, "a number"), (float, "a number"), (str, "a string"), (list, "an array"))
    return next((name for kind, name in names if isinstance(value, kind)), "an object")


def field_type(row: Any, field: str) -> str:
    """What a line holds instead of an object with `field`: "got an array", "it has no 'text'", "'text' is null"."""
    if not isinstance(row, dict):
        return f"got {json_type(row)}"
    return f"'{field}' is {json_type(row[field])}" if field in row else f"it has no '{field}'"


def write_jsonl(path: Path, rows: Iterable[Any]) -> None:
    """Write one JSON value per line, atomically (the whole file or nothing). Non-ASCII stays escaped (\\uXXXX),
    so no line separator can stand raw inside a string."""
    from synthloop.store.atomic import atomic_write_text

    atomic_write_text(Path(path), "".join(json.dumps(row) + "\n" for row in rows))


def split_lines(text: str) -> list[str]:
    """A text's lines, split at "\\n" only (a trailing "\\r" is cut): for plain one-item-per-line files."""
    return [line.removesuffix("\r") for line in text.split("\n")]
