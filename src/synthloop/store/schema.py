"""The column types a dataset shard may hold, checked before a record is read, and one-line reasons for files that
cannot be read at all.

A Parquet file written by another tool can hold a column of the right name and the wrong type: a `text` of
int64, a `meta` of numbers, `words` as a plain list of strings. Read as it is, such a column becomes an empty
story, a crash deep inside a filter or (a string `flags`) a list of single letters. `check_schema` refuses the
file instead, in one line naming the column, its type and the type records.SCHEMA declares. The check is by kind,
not by exact type: any integer width, large strings, dictionary-encoded strings and all-null columns (Arrow type
`null`, read as missing values) are accepted. Absent columns take the Record's defaults, and columns records.SCHEMA
does not name are ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

from synthloop.errors import UserError
from synthloop.records import SCHEMA, Record

TypeCheck = Callable[[pa.DataType], bool]
JSON_COLUMNS = ("params", "meta")  # JSON text of an object


def plain(kind: pa.DataType) -> pa.DataType:
    """The value type of a dictionary-encoded column (pandas categoricals are written so), else the type."""
    return kind.value_type if pa.types.is_dictionary(kind) else kind


def is_string(kind: pa.DataType) -> bool:
    kind = plain(kind)
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def is_integer(kind: pa.DataType) -> bool:
    return pa.types.is_integer(plain(kind))


def is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(plain(kind)) or pa.types.is_floating(plain(kind))


def list_of(item: TypeCheck) -> TypeCheck:
    def check(kind: pa.DataType) -> bool:
        listed = (pa.types.is_list, pa.types.is_large_list, pa.types.is_fixed_size_list, pa.types.is_list_view)
        return any(test(kind) for test in listed) and (pa.types.is_null(kind.value_type) or item(kind.value_type))

    return check


def struct_of(**fields: TypeCheck) -> TypeCheck:
    def check(kind: pa.DataType) -> bool:
        if not pa.types.is_struct(kind):
            return False
        indexes = {name: kind.get_field_index(name) for name in fields}
        return all(index >= 0 and fields[name](kind.field(index).type) for name, index in indexes.items())

    return check


CHECKS: dict[str, TypeCheck] = {name: is_string for name in SCHEMA.names}
CHECKS |= {name: is_integer for name in ("seed", "generation", "tokens_in", "tokens_out", "attempts")}
CHECKS |= {
    "latency_s": is_number,
    "words": list_of(struct_of(role=is_string, word=is_string)),
    "scores": list_of(struct_of(name=is_string, value=is_number)),
    "features": list_of(is_string),
    "flags": list_of(is_string),
}
assert set(CHECKS) == set(SCHEMA.names), "store.schema.CHECKS must cover every column of records.SCHEMA"


def check_schema(path: Path, schema: pa.Schema) -> None:
    """A one-line UserError for the first column of records.SCHEMA that `schema` holds with a type of another
    kind. `id` must be a string column (an all-null id is no id); any other column may be all null."""
    for name in schema.names:
        check = CHECKS.get(name)
        if check is None:
            continue
        kind = schema.field(name).type
        if (pa.types.is_null(kind) and name != "id") or check(kind):
            continue
        raise UserError(f"{path}: column {name} is {kind}; expected {SCHEMA.field(name).type}")


def read_row(path: Path, number: int, row: Mapping[str, Any]) -> Record:
    """The Record of a stored row whose column types passed `check_schema`; a `params` or `meta` cell that is not
    the JSON text of an object is a one-line UserError naming the row."""
    try:
        record: Record | None = Record.from_row(row)
    except (ValueError, RecursionError):
        record = None
    if record is not None and isinstance(record.params, dict) and isinstance(record.meta, dict):
        return record
    for name in JSON_COLUMNS:
        if not is_json_object(row.get(name)):
            raise UserError(f"{path}: row {number}: column {name} is not the JSON text of an object")
    return Record.from_row(row)  # a failure of another kind is a bug: let it raise with its traceback


def is_json_object(text: str | None) -> bool:
    try:
        return isinstance(json.loads(text or "{}"), dict)
    except (ValueError, RecursionError):
        return False


def arrow_reason(error: BaseException) -> str:
    """pyarrow's message for a file it cannot read, as one line: its first line, without the path it repeats
    ("Could not open Parquet input source '<path>': ")."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    first = lines[0] if lines else type(error).__name__
    if first.startswith("Could not open Parquet input source") and "': " in first:
        first = first.split("': ", 1)[1]
    return first
