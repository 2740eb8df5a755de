"""Read plain story texts from a synthloop dataset folder (its kept stories) or a JSON-lines file with a `text`
field: the form reference corpora, training sources and evaluation sets take.

A dataset record without text (a null or non-string `text` in a foreign Parquet file, flagged `record.null_text`
when read) is a failed record: it is left out, and a note on stderr says how many were."""

from __future__ import annotations

import sys
from pathlib import Path

from synthloop.errors import UserError
from synthloop.records import NULL_TEXT
from synthloop.store.dataset import Dataset
from synthloop.store.jsonl import field_type, read_jsonl


def read_texts(path: Path, field: str = "text") -> list[str]:
    path = Path(path)
    if path.is_dir():
        texts, skipped = [], 0
        for record in Dataset.open(path).iter_records():
            if NULL_TEXT in record.flags:
                skipped += 1
            else:
                texts.append(record.text)
        if skipped:
            print(f"{path}: left out {skipped} record(s) without text ({NULL_TEXT})", file=sys.stderr)
        if not texts:
            raise UserError(f"{path}: no stories in it")
        return texts
    if not path.is_file():
        raise UserError(f"{path}: no such file or dataset folder")
    texts = []
    for number, row in read_jsonl(path):
        if not isinstance(row, dict) or not isinstance(row.get(field), str):
            found = field_type(row, field)
            raise UserError(f"{path}: line {number}: expected an object with a '{field}' field (a string); {found}")
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
    for _, row in read_jsonl(path):
        value = row.get("generation") if isinstance(row, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            highest = value if highest is None else max(highest, value)
    return highest
