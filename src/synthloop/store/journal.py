"""Append-only JSON-lines journal of finished records, so a killed generation loses at most the line being written.

Each line is one complete Record; a torn last line (the process died mid-write) is ignored on reading and cut off
before the next append, and a record id seen twice keeps its first copy. When a shard is complete its journal
becomes a Parquet shard and is deleted.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from synthloop.records import Record
from synthloop.store.jsonl import lines, parse_line


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> dict[str, Record]:
        done: dict[str, Record] = {}
        if not self.path.exists():
            return done
        for _, line, complete in lines(self.path):
            if not complete:
                break  # torn write from a killed process: that record was never acknowledged
            try:
                record = Record.from_row(parse_line(line))
            except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                break
            done.setdefault(record.id, record)
        return done

    def append(self, records: list[Record], sync: bool = True) -> None:
        """Append whole lines. Once written they survive the process being killed; `sync` also flushes them to the
        disk (fsync), so they survive the machine going down (a caller may do that less often, with `sync()`)."""
        if not records:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._cut_torn_tail()
        payload = "".join(json.dumps(r.to_row(), ensure_ascii=False) + "\n" for r in records)
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())

    def sync(self) -> None:
        """fsync what was appended without it."""
        if self.path.exists():
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def _cut_torn_tail(self) -> None:
        """Cut a torn last line left by a killed writer, so new lines never glue onto it."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        with open(self.path, "r+b") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":  # rare: read it all only when the tail is torn
                handle.seek(0)
                handle.truncate(handle.read().rfind(b"\n") + 1)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
