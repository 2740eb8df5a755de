"""Shard bookkeeping for executors: what is done, the journal of what finished since, and finishing a shard.

For each shard: if `completions/<shard>` records the same number of inputs, the shard is done and skipped.
Otherwise the records already finished (in the shard's journal, or in part files an interrupted finish left)
are kept, only the rest go through the step, each group of finished records is appended to its shard's journal
the moment it arrives (one write and fsync per shard per group), and when all are in, each output part (e.g. data/
and failed/) is written atomically, then the marker, then the journal is deleted. Killed at any point and rerun,
a shard loses no committed record and duplicates none. Many shards may be open at once: records are routed to
their shard by id.

A finished shard can be run again for the records of one part only (`redo`, e.g. generation's failed/): the
other parts' records stay as they are, the redone ones go through the step, and the shard is finished as above.
A redone record in the journal counts as done, so a rerun continues an interrupted redo rather than starting
it again.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from synthloop.execute.job import Job, Shard
from synthloop.records import Record
from synthloop.store.atomic import atomic_write_json
from synthloop.store.dataset import Dataset, read_shard, shard_name
from synthloop.store.journal import Journal


def marker_path(dataset: Dataset, index: int) -> Path:
    return dataset.root / "completions" / f"{index:05d}"


def shard_done(dataset: Dataset, shard: Shard) -> bool:
    path = marker_path(dataset, shard.index)
    if not path.exists():
        return False
    try:
        return int(json.loads(path.read_text())["inputs"]) == len(shard.inputs)
    except (ValueError, KeyError, TypeError):
        return False


def journal_path(dataset: Dataset, index: int) -> Path:
    return dataset.root / "work" / f"part-{index:05d}.jsonl"


def needs_redo(dataset: Dataset, index: int, redo: str) -> bool:
    """A finished shard has records in the `redo` part, or a journal left by an interrupted redo."""
    return (dataset.part_dir(redo) / shard_name(index)).exists() or journal_path(dataset, index).exists()


def read_parts(dataset: Dataset, index: int, parts: tuple[str, ...]) -> list[Record]:
    found: list[Record] = []
    for part in parts:
        path = dataset.part_dir(part) / shard_name(index)
        if path.exists():
            found.extend(read_shard(path))
    return found


def write_parts(dataset: Dataset, index: int, ordered: list[Record], job: Job) -> None:
    """A finished shard's part files, then its marker (a reader never sees a marker without its data)."""
    for part in job.parts:
        records = [r for r in ordered if job.partition(r) == part]
        path = dataset.part_dir(part) / shard_name(index)
        if records:
            dataset.write_shard(index, records, part)
        elif path.exists():
            path.unlink()  # an earlier, smaller run of this shard had records here; now none
    atomic_write_json(marker_path(dataset, index), {"inputs": len(ordered)}, indent=None)


@dataclass
class OpenShard:
    shard: Shard
    journal: Journal
    done: dict[str, Record]
    remaining: int


@dataclass
class ShardBook:
    """The open shards of one executor run."""

    job: Job
    open: dict[int, OpenShard] = field(default_factory=dict)
    owner: dict[str, int] = field(default_factory=dict)  # record id -> open shard index
    finished: list[int] = field(default_factory=list)  # shards found finished
    stop: BaseException | None = None  # what on_records raised: no new input after it
    unsynced: dict[int, Journal] = field(default_factory=dict)  # journals appended since the last fsync
    since_sync: int = 0
    synced_at: float = field(default_factory=time.monotonic)

    def skip_if_done(self, shard: Shard) -> bool:
        """A finished shard (not being redone) is told to on_records as resumed and skipped."""
        job = self.job
        if job.redo is not None or not shard_done(job.dataset, shard):
            return False
        self.tell(read_parts(job.dataset, shard.index, job.parts), True)
        self.finished.append(shard.index)
        return True

    def begin(self, shard: Shard) -> list[Record]:
        """Open a shard; the records still to run through the step, in order (the shard is finished at once when
        there are none)."""
        job = self.job
        journal = Journal(journal_path(job.dataset, shard.index))
        wanted = {r.id for r in shard.inputs}
        done: dict[str, Record] = {}
        for record in read_parts(job.dataset, shard.index, job.parts):  # the first part's copy wins: a redo cut
            if record.id in wanted and (job.redo is None or job.partition(record) != job.redo):  # short between
                done.setdefault(record.id, record)  # writing two parts leaves two
        for record_id, record in journal.read().items():
            if record_id in wanted:
                done.setdefault(record_id, record)
        if done:
            self.tell(list(done.values()), True)
        todo = [r for r in shard.inputs if r.id not in done]
        opened = OpenShard(shard, journal, done, len(todo))
        if not todo:
            self.finish(opened)
            return []
        self.open[shard.index] = opened
        for record in todo:
            self.owner[record.id] = shard.index
        return todo

    def commit(self, records: list[Record]) -> None:
        """A group of finished records: journaled at once (one append per shard), finished shards written, then
        told. The journals are fsynced every `job.sync_every` records or second (a killed process loses nothing
        written; a machine that goes down, at most what came since)."""
        by_shard: dict[int, list[Record]] = {}
        for record in records:
            index = self.owner.pop(record.id, None)
            if index is None:
                raise RuntimeError(f"the step returned record {record.id}, which no open shard is waiting for")
            by_shard.setdefault(index, []).append(record)
        for index, group in by_shard.items():
            opened = self.open[index]
            opened.journal.append(group, sync=False)
            self.unsynced[index] = opened.journal
            for record in group:
                opened.done[record.id] = record
            opened.remaining -= len(group)
            if opened.remaining == 0:
                self.finish(self.open.pop(index))
        self.since_sync += len(records)
        if self.since_sync >= self.job.sync_every or time.monotonic() - self.synced_at >= 1.0:
            self.sync()
        self.tell(records, False)

    def sync(self) -> None:
        for journal in self.unsynced.values():
            journal.sync()
        self.unsynced.clear()
        self.since_sync, self.synced_at = 0, time.monotonic()

    def finish(self, opened: OpenShard) -> None:
        shard = opened.shard
        write_parts(self.job.dataset, shard.index, [opened.done[r.id] for r in shard.inputs], self.job)
        opened.journal.remove()
        self.unsynced.pop(shard.index, None)

    def tell(self, records: list[Record], resumed: bool) -> None:
        try:
            self.job.on_records(records, resumed)
        except Exception as error:  # e.g. the collapse guard's stop: finish what is under way first
            self.stop = self.stop or error

    def check_complete(self) -> None:
        """After the step ended: every opened shard must be finished, unless the run was told to stop."""
        if self.open and self.stop is None:
            index, opened = next(iter(self.open.items()))
            raise RuntimeError(f"shard {index}: step returned no record for {opened.remaining} input(s)")
