"""Null or non-string `text`/`id` in a Parquet dataset (issue 15, item 10). A record without text is a failed
record: every reader leaves it out with the reason `record.null_text` (curate excludes it, report counts it, train
and tokenizer skip it). A record without a string id is a one-line error before any output exists, and so is a
column of another type (a `text` of numbers: issue 26, item 9)."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import refused_everywhere, run_cli
from synthloop.errors import UserError
from synthloop.records import NULL_TEXT, SCHEMA, Record
from synthloop.store.dataset import Dataset, read_shard
from synthloop.store.texts import read_texts

ROWS = 8
STORY = (
    "Once upon a time, there was a little dog named Max. Max liked to run in the park with his red ball. "
    "He was happy. His mom said he was a good dog, and they went home together."
)


def foreign_dataset(root: Path, text: object = None, id_: object = "ok") -> Path:
    """A dataset whose data shard was written by another tool: row 3's text and id are as given."""
    Dataset.create(root, {"kind": "curate"})
    rows = [
        Record(
            id=f"r{i}",
            text=STORY + f" Story {i}.",
            words={"noun": "dog", "verb": "run", "adjective": "happy"},
            finish_reason="stop",
        ).to_row()
        for i in range(ROWS)
    ]
    rows[3]["text"] = text
    if id_ != "ok":
        rows[3]["id"] = id_
    schema = SCHEMA
    if id_ is None:
        schema = schema.set(0, pa.field("id", pa.string(), nullable=True))
    (root / "data").mkdir()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), root / "data" / "part-00000.parquet")
    return root


def test_a_record_without_text_is_read_as_a_failed_record(tmp_path: Path) -> None:
    root = foreign_dataset(tmp_path / "ds", text=None)
    records = list(read_shard(root / "data" / "part-00000.parquet"))
    assert len(records) == ROWS and records[3].text == "" and NULL_TEXT in records[3].flags
    assert all(NULL_TEXT not in r.flags for i, r in enumerate(records) if i != 3)
    assert len(read_texts(root)) == ROWS - 1  # what tokenizer, train, eval, collapse and the guard read


def test_a_text_column_of_numbers_is_refused_not_read_as_no_text(tmp_path: Path) -> None:
    """A wrong-typed column is an input mistake, not a null (issue 26, item 9): tests/store/test_column_types.py."""
    root = tmp_path / "ds"
    Dataset.create(root, {"kind": "curate"})
    (root / "data").mkdir()
    pq.write_table(pa.table({"id": ["a", "b"], "text": [1, 2]}), root / "data" / "part-00000.parquet")
    with pytest.raises(UserError, match="column text is int64; expected string"):
        list(Dataset.open(root).iter_records())
    with pytest.raises(UserError, match="column text is int64; expected string"):
        read_texts(root)


def test_curate_excludes_it_with_its_reason(tmp_path: Path) -> None:
    from synthloop.config import load_config
    from synthloop.curate.runner import curate

    root = foreign_dataset(tmp_path / "ds")
    result = curate(load_config(None, ["curate.order=['form', 'exact']"]), root, tmp_path / "curated")
    excluded = list(Dataset.open(tmp_path / "curated").iter_records("excluded"))
    assert [r.id for r in excluded if NULL_TEXT in r.flags] == ["r3"]
    assert next(r for r in excluded if r.id == "r3").flags == [NULL_TEXT]  # no filter judged an absent text
    assert result.stats["dropped"][NULL_TEXT] == 1 and result.stats["kept"] + result.stats["excluded"] == ROWS


def test_report_leaves_it_out_and_counts_it(tmp_path: Path) -> None:
    from synthloop.report.runner import report

    result = report(foreign_dataset(tmp_path / "ds"), tmp_path / "report")
    assert result.metrics["left_out"] == {NULL_TEXT: {"data": 1, "excluded": 0}}
    assert result.metrics["dataset"]["stories"] == ROWS - 1


def test_tokenizer_skips_it_with_a_note(tmp_path: Path) -> None:
    root = foreign_dataset(tmp_path / "ds")
    result = run_cli("tokenizer", "--in", str(root), "--vocab-size", "300", "--out", str(tmp_path / "t.json"))
    assert result.returncode == 0, result.stderr
    assert f"left out 1 record(s) without text ({NULL_TEXT})" in result.stderr


@pytest.mark.parametrize("id_", [None, ""])
def test_a_record_without_an_id_is_one_line_before_any_output(tmp_path: Path, id_: object) -> None:
    root = foreign_dataset(tmp_path / "ds", id_=id_)
    with pytest.raises(UserError, match=r"part-00000.parquet: row 3: id is"):
        list(Dataset.open(root).iter_records())
    refused_everywhere(root, tmp_path, "row 3: id is")
    from synthloop.review.app import create_app

    with pytest.raises(UserError, match="row 3: id is"):
        create_app(root)
    assert not (root / "review").exists()  # the review app refuses it before making its database
