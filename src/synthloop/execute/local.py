"""Run a step over shards of input Records in this process, resumably (datatrove's completion markers).

For each shard: if `completions/<shard>` records the same number of inputs, the shard is done and skipped.
Otherwise the records already finished (in the shard's journal, or in part files an interrupted finish left)
are kept, only the rest go through the step, each batch of results is appended to the journal as it arrives,
and when all are in, each output part (e.g. data/ and failed/) is written atomically, then the marker, then the
journal is deleted. Killed at any point and rerun, a shard loses no acknowledged record and duplicates none.

A finished shard can be run again for the records of one part only (`redo`, e.g. generation's failed/): the
other parts' records stay as they are, the redone ones go through the step, and the shard is finished as above.
The journal makes that exact under kill -9 too: a redone record in the journal counts as done, so a rerun
continues the interrupted redo rather than starting it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from synthloop.records import Record
from synthloop.store.atomic import atomic_write_text, clean_temp_files
from synthloop.store.dataset import Dataset, read_shard, shard_name
from synthloop.store.journal import Journal


class Step(Protocol):
    def run(self, records: Iterable[Record], rank: int = 0, world_size: int = 1) -> Iterator[Record]: ...


@dataclass(slots=True)
class Shard:
    index: int
    inputs: list[Record]


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


def run_shards(
    dataset: Dataset,
    shards: Iterable[Shard],
    step: Step,
    partition: Callable[[Record], str],
    parts: tuple[str, ...],
    flush_every: int = 8,
    on_records: Callable[[list[Record], bool], None] = lambda records, resumed: None,
) -> list[int]:
    """`partition(record)` names the part (one of `parts`) each output record goes to.
    `on_records(records, resumed)` is told of every record, resumed=True for work found already done.
    Returns the indexes of the shards that were found finished."""
    clean_temp_files(dataset.root)
    finished = []
    for shard in shards:
        if shard_done(dataset, shard):
            on_records(read_parts(dataset, shard.index, parts), True)
            finished.append(shard.index)
            continue
        run_shard(dataset, shard, step, partition, parts, flush_every, on_records)
    return finished


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


def run_shard(
    dataset: Dataset,
    shard: Shard,
    step: Step,
    partition: Callable[[Record], str],
    parts: tuple[str, ...],
    flush_every: int,
    on_records: Callable[[list[Record], bool], None],
    redo: str | None = None,
) -> None:
    """Run one shard to its completion marker. With `redo`, the shard's records in that part are not taken as done
    (unless the journal holds them: an interrupted redo), so they go through the step again; `shard.inputs` must
    then hold every record of the shard, in order, with the redone ones as the step's inputs."""
    journal = Journal(journal_path(dataset, shard.index))
    wanted = {r.id for r in shard.inputs}
    done: dict[str, Record] = {}
    for record in read_parts(dataset, shard.index, parts):  # the first part's copy wins: a redo cut short between
        if record.id in wanted and (redo is None or partition(record) != redo):  # writing two parts leaves two
            done.setdefault(record.id, record)
    for record_id, record in journal.read().items():
        if record_id in wanted:
            done.setdefault(record_id, record)
    if done:
        on_records(list(done.values()), True)
    todo = [r for r in shard.inputs if r.id not in done]
    buffer: list[Record] = []
    for record in step.run(todo):
        buffer.append(record)
        if len(buffer) >= flush_every:
            journal.append(buffer)
            on_records(buffer, False)
            for item in buffer:
                done[item.id] = item
            buffer = []
    journal.append(buffer)
    on_records(buffer, False)
    for item in buffer:
        done[item.id] = item
    missing = wanted - done.keys()
    if missing:
        raise RuntimeError(f"shard {shard.index}: step returned no record for {len(missing)} input(s)")
    ordered = [done[r.id] for r in shard.inputs]
    for part in parts:
        records = [r for r in ordered if partition(r) == part]
        path = dataset.part_dir(part) / shard_name(shard.index)
        if records:
            dataset.write_shard(shard.index, records, part)
        elif path.exists():
            path.unlink()  # an earlier, smaller run of this shard had records here; now none
    atomic_write_text(marker_path(dataset, shard.index), json.dumps({"inputs": len(shard.inputs)}) + "\n")
    journal.remove()
