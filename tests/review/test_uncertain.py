"""The "uncertain" queue in the review store (real SQLite): order by |quality.margin|, records without a margin left
out, and a database made before margins were stored gains the column and the margins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from review_helpers import UNCERTAIN_ORDER, make_dataset

from synthloop.review.items import load_items
from synthloop.review.store import ReviewStore
from synthloop.store.dataset import Dataset

OLD_ITEMS = """CREATE TABLE items (id TEXT PRIMARY KEY, position INTEGER NOT NULL, part TEXT NOT NULL,
  random_key TEXT NOT NULL, quality REAL NOT NULL, flagged INTEGER NOT NULL)"""


def test_uncertain_queue_order(tmp_path: Path) -> None:
    _, items = load_items(Dataset.open(make_dataset(tmp_path / "curated")))
    store = ReviewStore(tmp_path / "review.sqlite")
    store.sync_items(items)
    assert store.queue_ids("uncertain", "anyone") == UNCERTAIN_ORDER
    assert "item100" not in store.queue_ids("lowest", "anyone")  # the excluded story is only in uncertain/flagged


def test_a_database_from_before_margins_is_upgraded(tmp_path: Path) -> None:
    _, items = load_items(Dataset.open(make_dataset(tmp_path / "curated")))
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(OLD_ITEMS)
        db.executemany(
            "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)",
            [(i.id, i.position, i.part, "old-" + i.random_key, i.quality, int(i.flagged)) for i in items],
        )
    db.close()
    store = ReviewStore(path)
    store.sync_items(items)
    assert store.queue_ids("uncertain", "anyone") == UNCERTAIN_ORDER
    with sqlite3.connect(path) as db:  # items already known keep their keys
        assert {row[0][:4] for row in db.execute("SELECT random_key FROM items")} == {"old-"}
    db.close()
