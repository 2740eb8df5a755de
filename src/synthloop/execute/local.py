"""Run a job in this process: one streaming pass of its step over every unfinished shard (execute/shards.py keeps
the books), so a step that keeps many requests in flight keeps them in flight across shard boundaries.

Shards are read lazily, as the step pulls input; with `one_shard_at_a_time` (a recipe that learns from the shard
before) each shard is streamed alone and finished before the next one is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from synthloop.execute.engine import run_sync
from synthloop.execute.job import Executor, Job, Shard
from synthloop.execute.shards import ShardBook
from synthloop.execute.step import Step
from synthloop.records import Record
from synthloop.store.atomic import clean_temp_files


class LocalExecutor(Executor):
    in_process = True

    def run(self, job: Job) -> list[int]:
        clean_temp_files(job.dataset.root)
        return run_sync(lambda: run_job(job, job.step))


async def run_job(job: Job, step: Step, shards: Iterable[Shard] | None = None) -> list[int]:
    """Every shard of `shards` (default: the job's) through `step`; the indexes of those found finished."""
    book = ShardBook(job)
    source = job.shards if shards is None else shards
    passes: Iterable[Iterable[Shard]] = ((s,) for s in source) if job.one_shard_at_a_time else (source,)
    try:
        for group in passes:
            if book.stop is not None:
                break
            async for finished in step.stream(inputs(book, group)):
                book.commit(finished)
            book.check_complete()
    finally:
        book.sync()  # what is journaled reaches the disk, however the run ends
    if book.stop is not None:
        raise book.stop
    return book.finished


def inputs(book: ShardBook, shards: Iterable[Shard]) -> Iterator[Record]:
    """The records still to do, shard after shard, opened as the step reaches them; nothing more once stopped."""
    for shard in shards:
        if book.stop is not None:
            return
        if book.skip_if_done(shard):
            continue
        for record in book.begin(shard):
            if book.stop is not None:
                return
            yield record
