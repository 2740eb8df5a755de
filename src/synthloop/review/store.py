"""The review database: reviewers, items, decisions and an audit log in SQLite (WAL).

Decisions are append-only rows: nothing a reviewer does overwrites anyone's earlier decision, so two reviewers
deciding the same item at the same moment both keep theirs, and the disagreement is visible (`conflicts`). Each
write (decision + its audit row) is one IMMEDIATE transaction, so the database is never left half-written. A
decision carries the id of the newest decision its reviewer saw (`seen`); one that lands after someone else's newer
decision is marked `concurrent` for the item page to show.

Decisions are idempotent: each carries a key, unique per reviewer — the client's own (`key`) or one derived from
what was decided and the `seen` it was decided on — so a post retried after a lost answer, a double click or a
reloaded form stores one decision, not two; the retry gets the stored one back.

Tokens are random 256-bit strings shown once; only their SHA-256 is stored (a fast hash suits tokens of that
entropy, as for API keys).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from synthloop.errors import UserError

ACTIONS = ("accept", "reject", "edit", "tag")
REASONS = ("incoherent", "unsafe", "biased", "off-prompt", "too-hard", "other")
VERDICTS = ("accept", "reject", "edit")  # actions that decide an item; a tag does not
SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviewers (
  name TEXT PRIMARY KEY, token_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id TEXT PRIMARY KEY, position INTEGER NOT NULL, part TEXT NOT NULL, random_key TEXT NOT NULL,
  quality REAL NOT NULL, flagged INTEGER NOT NULL, margin REAL);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, item_id TEXT NOT NULL REFERENCES items(id), reviewer TEXT NOT NULL,
  action TEXT NOT NULL, reason TEXT, note TEXT, text TEXT, tags TEXT, seen INTEGER, concurrent INTEGER NOT NULL,
  created_at TEXT NOT NULL, key TEXT);
CREATE INDEX IF NOT EXISTS decisions_item ON decisions(item_id);
CREATE INDEX IF NOT EXISTS decisions_reviewer ON decisions(reviewer);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, reviewer TEXT, event TEXT NOT NULL, item_id TEXT,
  detail TEXT NOT NULL);
"""


REVIEWER_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
SEEN_MAX = 2**63 - 1  # SQLite INTEGER


class KeyReused(ValueError):
    """A decision key the reviewer already used for a different decision."""


def check_reviewer_name(name: str) -> None:
    if not REVIEWER_NAME.fullmatch(name):
        raise UserError(f"reviewer name {name[:80]!r}: expected 1-64 letters, digits, '-', '_' or '.'")


def decision_key(
    item_id: str, action: str, reason: str | None, note: str | None, text: str | None, tags: list[str], seen: int | None
) -> str:
    """The key of a decision the client gave none for: the same decision on the same seen state is the same key."""
    content = json.dumps([item_id, action, reason, note, text, tags, seen], ensure_ascii=True)
    return "derived:" + hashlib.sha256(content.encode("ascii")).hexdigest()[:32]


def default_db(dataset: Path) -> Path:
    return Path(dataset) / "review" / "review.sqlite"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    position: int
    part: str  # "data" (kept by curation) or "excluded" (rejected by a filter: the flagged queue)
    random_key: str
    quality: float  # lower is worse: the "lowest" queue starts here
    flagged: bool
    margin: float | None = None  # quality.score - threshold (the quality filter's); the "uncertain" queue's key


@dataclass(frozen=True, slots=True)
class Decision:
    id: int
    item_id: str
    reviewer: str
    action: str
    reason: str | None
    note: str | None
    text: str | None
    tags: list[str]
    seen: int | None
    concurrent: bool
    created_at: str
    key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in Decision.__slots__}


class Decided(NamedTuple):
    decision: Decision
    new: bool  # False: a retry of a decision already stored under the same key


class ReviewStore:
    """One SQLite file. Every method opens its own short connection, so threads of the web server never share one."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.connect() as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.executescript(SCHEMA)
                columns = {row["name"] for row in conn.execute("PRAGMA table_info(items)")}
                if "margin" not in columns:  # a database made before the uncertain queue
                    conn.execute("ALTER TABLE items ADD COLUMN margin REAL")
                columns = {row["name"] for row in conn.execute("PRAGMA table_info(decisions)")}
                if "key" not in columns:  # a database made before decisions had keys
                    conn.execute("ALTER TABLE decisions ADD COLUMN key TEXT")
                conn.execute("CREATE UNIQUE INDEX IF NOT EXISTS decisions_key ON decisions(reviewer, key)")
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        except sqlite3.DatabaseError as error:
            raise UserError(f"{self.path}: not a usable review database ({error})") from error

    @contextmanager
    def connect(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=ON")
        try:
            if write:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            else:
                yield conn
        finally:
            conn.close()

    def audit(
        self, conn: sqlite3.Connection, reviewer: str | None, event: str, item_id: str | None, **detail: Any
    ) -> None:
        conn.execute(
            "INSERT INTO audit (at, reviewer, event, item_id, detail) VALUES (?, ?, ?, ?, ?)",
            (now(), reviewer, event, item_id, json.dumps(detail, sort_keys=True)),
        )

    # reviewers ------------------------------------------------------------------------------------------------
    def add_reviewer(self, name: str) -> str:
        """Create a reviewer and return their token (shown once; only its hash is kept)."""
        check_reviewer_name(name)
        token = secrets.token_urlsafe(32)
        with self.connect(write=True) as conn:
            if conn.execute("SELECT 1 FROM reviewers WHERE name = ?", (name,)).fetchone():
                raise UserError(f"reviewer {name!r} already exists in {self.path}")
            conn.execute("INSERT INTO reviewers VALUES (?, ?, ?)", (name, hash_token(token), now()))
            self.audit(conn, None, "add-reviewer", None, name=name)
        return token

    def reviewer_for(self, token: str) -> str | None:
        if not token:
            return None
        with self.connect() as conn:
            row = conn.execute("SELECT name FROM reviewers WHERE token_hash = ?", (hash_token(token),)).fetchone()
        return row["name"] if row else None

    def reviewers(self) -> list[str]:
        with self.connect() as conn:
            return [r["name"] for r in conn.execute("SELECT name FROM reviewers ORDER BY name")]

    # items ----------------------------------------------------------------------------------------------------
    def sync_items(self, items: list[Item]) -> None:
        """Register the dataset's items (idempotent: items already known keep their keys; their margin is
        refreshed, for a database made before margins were stored)."""
        with self.connect(write=True) as conn:
            conn.executemany(
                "INSERT INTO items (id, position, part, random_key, quality, flagged, margin)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET margin = excluded.margin",
                [(i.id, i.position, i.part, i.random_key, i.quality, int(i.flagged), i.margin) for i in items],
            )

    def queue_ids(self, queue: str, reviewer: str) -> list[str]:
        queries = {
            "random": "SELECT id FROM items WHERE part = 'data' ORDER BY random_key",
            "lowest": "SELECT id FROM items WHERE part = 'data' ORDER BY quality, position",
            "flagged": "SELECT id FROM items WHERE flagged = 1 ORDER BY quality, position",
            # Nearest the quality filter's threshold first, kept or excluded: where a label helps it most.
            "uncertain": "SELECT id FROM items WHERE margin IS NOT NULL ORDER BY ABS(margin), position",
            "mine": "SELECT item_id AS id FROM decisions WHERE reviewer = ? GROUP BY item_id ORDER BY MAX(id) DESC",
        }
        if queue not in queries:
            raise KeyError(queue)
        with self.connect() as conn:
            params = (reviewer,) if queue == "mine" else ()
            return [r["id"] for r in conn.execute(queries[queue], params)]

    def decided_by(self, reviewer: str) -> set[str]:
        with self.connect() as conn:
            rows = conn.execute(
                f"SELECT DISTINCT item_id FROM decisions WHERE reviewer = ? AND action IN {VERDICTS}", (reviewer,)
            )
            return {r["item_id"] for r in rows}

    def decided_by_anyone(self) -> set[str]:
        with self.connect() as conn:
            rows = conn.execute(f"SELECT DISTINCT item_id FROM decisions WHERE action IN {VERDICTS}")
            return {r["item_id"] for r in rows}

    def has_item(self, item_id: str) -> bool:
        with self.connect() as conn:
            return conn.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is not None

    # decisions ------------------------------------------------------------------------------------------------
    def decide(
        self,
        item_id: str,
        reviewer: str,
        action: str,
        *,
        reason: str | None = None,
        note: str | None = None,
        text: str | None = None,
        tags: list[str] | None = None,
        seen: int | None = None,
        key: str | None = None,
    ) -> Decided:
        """Append one decision (validated by the caller) and its audit row, in one transaction. The reviewer's
        decision with the same key, if there is one, comes back instead (`new` False); the same key with a
        different decision raises KeyReused. The one way a decision is stored: the form and the JSON API use it."""
        tags = list(tags or [])
        key = key or decision_key(item_id, action, reason, note, text, tags, seen)
        with self.connect(write=True) as conn:
            if conn.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is None:
                raise KeyError(item_id)
            row = conn.execute("SELECT * FROM decisions WHERE reviewer = ? AND key = ?", (reviewer, key)).fetchone()
            if row is not None:
                stored = decision_from_row(row)
                if (
                    stored.item_id,
                    stored.action,
                    stored.reason,
                    stored.note,
                    stored.text,
                    stored.tags,
                    stored.seen,
                ) != (item_id, action, reason, note, text, tags, seen):
                    raise KeyReused(key)
                return Decided(stored, False)
            newest = conn.execute(
                "SELECT MAX(id) AS id FROM decisions WHERE item_id = ? AND reviewer != ?", (item_id, reviewer)
            ).fetchone()["id"]
            concurrent = newest is not None and (seen is None or newest > seen)
            created = now()
            cursor = conn.execute(
                "INSERT INTO decisions (item_id, reviewer, action, reason, note, text, tags, seen, concurrent,"
                " created_at, key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (item_id, reviewer, action, reason, note, text, json.dumps(tags), seen, int(concurrent), created, key),
            )
            decision_id = int(cursor.lastrowid or 0)
            self.audit(
                conn,
                reviewer,
                f"decision.{action}",
                item_id,
                decision=decision_id,
                reason=reason,
                concurrent=concurrent,
                edited_chars=len(text) if text is not None else None,
            )
        return Decided(
            Decision(decision_id, item_id, reviewer, action, reason, note, text, tags, seen, concurrent, created, key),
            True,
        )

    def decisions(self, item_id: str | None = None) -> list[Decision]:
        with self.connect() as conn:
            if item_id is None:
                rows = conn.execute("SELECT * FROM decisions ORDER BY id").fetchall()
            else:
                rows = conn.execute("SELECT * FROM decisions WHERE item_id = ? ORDER BY id", (item_id,)).fetchall()
        return [decision_from_row(r) for r in rows]

    def audit_log(self) -> list[dict[str, Any]]:
        with self.connect() as conn:
            return [
                dict(r) | {"detail": json.loads(r["detail"])} for r in conn.execute("SELECT * FROM audit ORDER BY id")
            ]


def decision_from_row(r: sqlite3.Row) -> Decision:
    return Decision(
        r["id"],
        r["item_id"],
        r["reviewer"],
        r["action"],
        r["reason"],
        r["note"],
        r["text"],
        json.loads(r["tags"] or "[]"),
        r["seen"],
        bool(r["concurrent"]),
        r["created_at"],
        r["key"],
    )


def latest_verdicts(decisions: list[Decision]) -> dict[str, dict[str, Decision]]:
    """item id -> reviewer -> that reviewer's latest verdict (accept, reject or edit) on the item."""
    verdicts: dict[str, dict[str, Decision]] = {}
    for decision in decisions:  # in id order, so later ones win
        if decision.action in VERDICTS:
            verdicts.setdefault(decision.item_id, {})[decision.reviewer] = decision
    return verdicts


def conflicts(decisions: list[Decision]) -> dict[str, dict[str, str]]:
    """Items whose reviewers disagree (one accepts or edits, another rejects): item id -> reviewer -> verdict."""
    found = {}
    for item_id, by_reviewer in latest_verdicts(decisions).items():
        kinds = {"reject" if d.action == "reject" else "accept" for d in by_reviewer.values()}
        if len(kinds) > 1:
            found[item_id] = {name: d.action for name, d in sorted(by_reviewer.items())}
    return found
