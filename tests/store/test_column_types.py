"""Input mistakes, one line each (issue 26, item 9): a dataset column of the wrong type is refused naming the
column and its type before anything is written, a Parquet file pyarrow cannot read is one line (its multi-line
message folded), and a JSON-lines input names the type it found."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import refused_everywhere
from synthloop.errors import UserError
from synthloop.records import Record, to_table
from synthloop.store.dataset import Dataset
from synthloop.store.schema import check_schema
from synthloop.store.texts import read_texts

STORY = "Once upon a time, a little dog named Max ran to the park. He was happy and played all day with his ball."


def dataset_with(root: Path, table: pa.Table | bytes) -> Path:
    """A dataset folder whose one data shard is `table` (or these bytes), as another tool might write it."""
    Dataset.create(root, {"kind": "generate"})
    (root / "data").mkdir()
    shard = root / "data" / "part-00000.parquet"
    if isinstance(table, bytes):
        shard.write_bytes(table)
    else:
        pq.write_table(table, shard)
    return root


def test_an_int64_text_column_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    root = dataset_with(tmp_path / "ds", pa.table({"id": ["a", "b"], "text": [1, 2]}))
    refused_everywhere(root, tmp_path, "part-00000.parquet: column text is int64; expected string")


@pytest.mark.parametrize(
    ("column", "values", "found"),
    [
        ("words", [["dog", "run"]], "column words is list<element: string>"),
        ("scores", pa.array([[("q", 1.0)]], pa.map_(pa.string(), pa.float64())), "column scores is map<string"),
        ("flags", ["bad"], "column flags is string"),  # would be read as the flags b, a, d
        ("meta", [3], "column meta is int64"),
        ("seed", ["7"], "column seed is string"),
        ("latency_s", ["fast"], "column latency_s is string"),
    ],
)
def test_each_wrong_typed_column_is_named_with_its_type(
    tmp_path: Path, column: str, values: object, found: str
) -> None:
    root = dataset_with(tmp_path / "ds", pa.table({"id": ["a"], "text": [STORY], column: values}))
    with pytest.raises(UserError, match=found.replace("[", r"\[")) as error:
        list(Dataset.open(root).iter_records())
    assert "\n" not in str(error.value) and "expected" in str(error.value)
    with pytest.raises(UserError, match=found.replace("[", r"\[")):
        Dataset.open(root).check_ids()  # what curate runs before it creates its output


def test_other_widths_and_encodings_of_the_right_kind_are_read() -> None:
    schema = pa.schema(
        [
            ("id", pa.large_string()),
            ("text", pa.dictionary(pa.int32(), pa.string())),  # a pandas categorical
            ("seed", pa.int32()),
            ("latency_s", pa.int64()),  # whole seconds
            ("features", pa.large_list(pa.string())),
            ("flags", pa.list_(pa.null())),  # only empty lists
            ("prompt", pa.null()),  # all null: read as missing
            ("extra", pa.int8()),  # not a Record column: ignored
        ]
    )
    check_schema(Path("x.parquet"), schema)


def test_meta_that_is_not_json_is_one_line_naming_the_row(tmp_path: Path) -> None:
    rows = [Record(id=f"r{i}", text=STORY).to_row() for i in range(3)]
    rows[2]["meta"] = "{not json"
    root = dataset_with(tmp_path / "ds", pa.Table.from_pylist(rows, schema=to_table([]).schema))
    with pytest.raises(UserError, match=r"part-00000.parquet: row 2: column meta is not the JSON text of an object"):
        list(Dataset.open(root).iter_records())


def malformed_footer() -> bytes:
    """A Parquet file whose footer (the schema) is damaged: pyarrow's message for it ends with a line break."""
    buffer = io.BytesIO()
    pq.write_table(to_table([Record(id="a", text=STORY)]), buffer)
    data = bytearray(buffer.getvalue())
    footer = int.from_bytes(data[-8:-4], "little")
    data[len(data) - 8 - footer] = 0
    return bytes(data)


def test_a_malformed_parquet_schema_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(OSError) as raw:
        pq.ParquetFile(io.BytesIO(malformed_footer()))
    assert "\n" in str(raw.value)  # what would have been quoted into the message
    root = dataset_with(tmp_path / "ds", malformed_footer())
    refused_everywhere(root, tmp_path, "part-00000.parquet: not a readable Parquet file", "thrift")


def test_a_user_error_is_always_one_line() -> None:
    error = UserError("x.parquet: schema mismatch:\nid: string\n  text: int64\n")
    assert str(error) == "x.parquet: schema mismatch: id: string; text: int64"


@pytest.mark.parametrize(
    ("line", "found"),
    [
        ('{"text": 3}', "'text' is a number"),
        ('{"title": "no text"}', "it has no 'text'"),
        ('["a story"]', "got an array"),
        ('{"text": null}', "'text' is null"),
    ],
)
def test_a_jsonl_text_of_another_type_names_it(tmp_path: Path, line: str, found: str) -> None:
    path = tmp_path / "ref.jsonl"
    path.write_text(f'{{"text": "{STORY}"}}\n{line}\n')
    with pytest.raises(UserError, match=f"ref.jsonl: line 2: expected an object with a 'text' field .*; {found}$"):
        read_texts(path)
