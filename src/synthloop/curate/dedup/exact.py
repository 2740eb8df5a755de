"""Exact dedup: a 64-bit hash of the normalised text (case, accents, punctuation and spacing folded)."""

from __future__ import annotations

import hashlib

from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.text import TextView, normalize
from synthloop.records import Record


def text_key(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(normalize(text).encode(), digest_size=8).digest(), "little")


class ExactDedup(Filter[FilterOptions]):
    name = "exact"
    stateful = True

    def __init__(self, options: FilterOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        self.kept: dict[int, str] = {}  # text key -> id of the kept record (~100 bytes an entry)

    def filter(self, record: Record, view: TextView) -> Verdict:
        kept_id = self.kept.get(text_key(record.text))
        if kept_id is not None and kept_id != record.id:
            record.meta["duplicate_of"] = record.meta["cluster"] = kept_id
            return False, "duplicate"
        return True

    def remember(self, record: Record, view: TextView) -> None:
        self.kept.setdefault(text_key(record.text), record.id)
