"""The retry pass: a rerun sends again the prompts that failed in earlier invocations, and nothing else.

Once every shard of the run is finished, each shard that was already finished when this invocation started and
holds failed prompts (or the journal of an interrupted retry) runs again for those prompts only, with their ids
and attempt seeds; every finished story stays as it is. The redo is journaled like any shard, so a kill -9 during
it loses and duplicates nothing, and a rerun continues it. `generate.retry_failed = false` (--no-retry-failed)
skips the pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from synthloop.execute.job import Executor, Job, Shard
from synthloop.execute.shards import needs_redo, read_parts
from synthloop.generate.accounting import Tally
from synthloop.generate.step import prompt_of
from synthloop.records import Record
from synthloop.store.dataset import Dataset

PARTS = ("data", "failed")


def failed_or_data(record: Record) -> str:
    return "failed" if record.finish_reason == "error" else "data"


def redo_shards(dataset: Dataset, finished: list[int]) -> Iterator[Shard]:
    """For each finished shard with failed prompts (or a journal left by an interrupted retry): every record of the
    shard in prompt order, the failed ones turned back into their prompts."""
    for index in finished:
        if not needs_redo(dataset, index, "failed"):
            continue
        stored: dict[str, Record] = {}
        for part in PARTS:  # a data copy wins: a retry cut short between writing data/ and failed/ leaves two
            for record in read_parts(dataset, index, (part,)):
                stored.setdefault(record.id, record)
        ordered = sorted(stored.values(), key=lambda r: int(r.meta.get("index", 0)))
        yield Shard(index, [prompt_of(r) if failed_or_data(r) == "failed" else r for r in ordered])


def retry_failed(
    executor: Executor,
    job: Job,
    finished: list[int],
    tally: Tally,
    observe: Callable[[list[Record]], None] | None,
    note: Callable[[str], None],
) -> None:
    """The second pass over `job`'s dataset: the failed prompts of `finished` shards (found finished by the
    first pass), with what the first pass counted for those shards counted again as it ends up."""
    dataset = job.dataset
    shards = list(redo_shards(dataset, finished))
    if not shards:
        return
    retried = {r.id for shard in shards for r in read_parts(dataset, shard.index, ("failed",))}
    note(f"retrying {len(retried)} failed prompt(s) of earlier runs")
    for shard in shards:
        tally(read_parts(dataset, shard.index, PARTS), True, -1)

    def recount(records: list[Record], resumed: bool) -> None:
        fresh = [r for r in records if r.id in retried and not resumed]
        tally.result.retried += len(fresh)
        tally.result.recovered += sum(r.finish_reason != "error" for r in fresh)
        tally(records, resumed)
        if observe is not None and fresh:
            observe(fresh)

    executor.run(replace(job, shards=shards, on_records=recount, redo="failed"))
