"""The judgement cache: one SQLite file (WAL), keyed by (story text hash, judge model name, rubric digest).

A judgement is stored the moment it is parsed, in one transaction per batch, so a curation killed before its
journal caught up, a resumed one, or a rerun into another folder with the same `cache_path` never asks the judge
about the same story twice. Only successful judgements are stored: a failure is asked again next time. SQLite
makes each write atomic and lets several processes (Ray actors) share the file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from synthloop.errors import UserError

SCHEMA = """
CREATE TABLE IF NOT EXISTS judgements (
  key TEXT PRIMARY KEY, text_hash TEXT NOT NULL, model TEXT NOT NULL, rubric TEXT NOT NULL,
  judgement TEXT NOT NULL, created_at TEXT NOT NULL);
"""


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(story_hash: str, model: str, rubric_digest: str) -> str:
    return hashlib.sha256(f"{story_hash}\x1f{model}\x1f{rubric_digest}".encode()).hexdigest()


class JudgementCache:
    """`path` None keeps judgements in memory only (a judge used outside a curation, e.g. by `synthloop plan`)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.memory: dict[str, dict[str, Any]] = {}
        self._conn: sqlite3.Connection | None = None

    def check(self) -> None:
        """Refuse an existing file that is not a judge cache, before anything is written (opens it read-only)."""
        if self.path is None or not self.path.exists():
            return
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            try:
                conn.execute("SELECT name FROM sqlite_master").fetchall()  # an empty database is fine too
            finally:
                conn.close()
        except sqlite3.DatabaseError as error:
            raise UserError(f"{self.path}: not a usable judge cache ({error})") from error

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            assert self.path is not None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                conn.execute("PRAGMA busy_timeout=30000")
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
            except (OSError, sqlite3.DatabaseError) as error:
                raise UserError(f"{self.path}: not a usable judge cache ({error})") from error
            self._conn = conn
        return self._conn

    def get_many(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        if self.path is None:
            return {k: self.memory[k] for k in keys if k in self.memory}
        found: dict[str, dict[str, Any]] = {}
        conn = self._connection()
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, judgement in conn.execute(f"SELECT key, judgement FROM judgements WHERE key IN ({marks})", chunk):
                found[key] = json.loads(judgement)
        return found

    def put_many(self, rows: list[tuple[str, str, str, str, dict[str, Any]]]) -> None:
        """rows: (key, text hash, model, rubric digest, judgement)."""
        if not rows:
            return
        if self.path is None:
            self.memory.update({row[0]: row[4] for row in rows})
            return
        created = datetime.now(UTC).isoformat(timespec="seconds")
        values = [
            (key, story, model, rubric, json.dumps(data, sort_keys=True), created)
            for key, story, model, rubric, data in rows
        ]
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("INSERT OR REPLACE INTO judgements VALUES (?, ?, ?, ?, ?, ?)", values)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
