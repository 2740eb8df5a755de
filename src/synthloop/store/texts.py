"""Read plain story texts from a synthloop dataset folder (its kept stories) or a JSON-lines file with a `text`
field: the form reference corpora, training sources and evaluation sets take."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthloop.errors import UserError
from synthloop.store.dataset import Dataset


def read_json_lines(path: Path, expected: str = "JSON lines") -> list[tuple[int, Any]]:
    """(line number, value) for every non-blank line of a JSONL file. Lines are split on "\n" only: U+2028, U+2029
    and U+0085 may stand raw inside a JSON string (str.splitlines would cut the string there)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text (byte {error.start}); {expected}") from error
    rows = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rows.append((number, json.loads(line)))
        except json.JSONDecodeError as error:
            raise UserError(f"{path}: line {number}: invalid JSON ({error.msg})") from error
    return rows


def read_texts(path: Path, field: str = "text") -> list[str]:
    path = Path(path)
    if path.is_dir():
        return [r.text for r in Dataset.open(path).iter_records()]
    if not path.is_file():
        raise UserError(f"{path}: no such file or dataset folder")
    texts = []
    for number, row in read_json_lines(path, f"expected JSON lines with a '{field}' field"):
        if not isinstance(row, dict) or not isinstance(row.get(field), str):
            raise UserError(f"{path}: line {number}: expected an object with a '{field}' field")
        texts.append(row[field])
    if not texts:
        raise UserError(f"{path}: no stories in it")
    return texts


def max_generation(path: Path) -> int | None:
    """The highest collapse-loop `generation` among the stories at `path`: None for human text (a JSONL file
    without `generation` fields), else 0 for data from a model never trained on synthloop data, g+1 for data from
    a model trained on generation-g data."""
    path = Path(path)
    if path.is_dir():
        return max((r.generation for r in Dataset.open(path).iter_records()), default=None)
    highest = None
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if '"generation"' in line:
                value = json.loads(line).get("generation")
                if isinstance(value, int):
                    highest = value if highest is None else max(highest, value)
    return highest
