"""Run a job with Ray Data: the unfinished shards go in blocks to long-lived actors, each of which builds the step
once (so a backend loads its model once per worker) and streams its block through it exactly as the local
executor does (execute/local.py: the same engine, journals, atomic part files and completion markers). A rerun
therefore skips finished shards and resumes unfinished ones whichever executor ran them before.

A job with a `split` (curation) runs its stateless step on the actors, each shard's output kept whole in
`work/intermediate/`, then its stateful step here, over those shards in order, to the final parts.

Local by default (`ray.init` on this machine only: loopback, no dashboard). For a cluster, start one with
`ray start --head` and pass its address (`execute.address = "auto"` or "ray://host:10001"); every node must see
the output folder at the same path (a shared filesystem), since workers write the shards directly.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from synthloop.errors import UserError
from synthloop.execute.engine import run_sync
from synthloop.execute.job import Executor, Job, Shard
from synthloop.execute.local import LocalExecutor, run_job
from synthloop.execute.shards import ShardBook, marker_path, read_parts
from synthloop.execute.step import Step
from synthloop.records import Record
from synthloop.store.dataset import Dataset, read_shard, shard_name

INTERMEDIATE = "work/intermediate"  # a split job's first-stage output, one file per input shard
BLOCKS_PER_WORKER = 4  # shards go to actors in this many blocks per worker (balance vs. streaming across shards)


class ShardActor:
    """A Ray Data actor: builds its block function once (loading a model, filters...), then runs blocks."""

    def __init__(self, make_function: Callable[[], Callable[[list[Shard]], None]]) -> None:
        self.function = make_function()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        shards = [
            Shard(int(index), [Record.from_row(row) for row in json.loads(rows)])
            for index, rows in zip(batch["index"], batch["inputs"], strict=True)
        ]
        self.function(shards)
        return {"index": [shard.index for shard in shards]}


def block_runner(
    root: str,
    make_step: Callable[[], Step],
    partition: Callable[[Record], str],
    parts: tuple[str, ...],
    redo: str | None,
) -> Callable[[list[Shard]], None]:
    """On an actor: a block of shards streamed through the actor's own step, exactly as locally."""
    step = make_step()
    job = Job(Dataset.open(Path(root)), (), step, partition, parts, redo=redo)

    def run(shards: list[Shard]) -> None:
        run_sync(lambda: run_job(job, step, shards))

    return run


def first_stage_runner(root: str, make_step: Callable[[], Step]) -> Callable[[list[Shard]], None]:
    """On an actor: a split job's stateless step over each shard, kept whole and in input order."""
    dataset, step = Dataset.open(Path(root)), make_step()

    def run(shards: list[Shard]) -> None:
        for shard in shards:
            by_id = {record.id: record for record in step.run(shard.inputs)}
            dataset.write_shard(shard.index, [by_id[r.id] for r in shard.inputs], INTERMEDIATE)

    return run


def start_ray(address: str | None, num_cpus: int | None) -> None:
    try:
        import ray
    except ImportError as error:
        raise UserError("--executor ray needs Ray: pip install 'synthloop[ray]'") from error
    import logging

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    else:  # this machine only: no dashboard, bound to loopback
        ray.init(
            num_cpus=num_cpus,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            logging_level=logging.WARNING,
            log_to_driver=False,
        )


class RayExecutor(Executor):
    in_process = False

    def __init__(self, workers: int, address: str | None = None) -> None:
        self.workers = workers
        self.address = address

    def map_blocks(
        self,
        shards: list[Shard],
        make_function: Callable[[], Callable[[list[Shard]], None]],
        on_done: Callable[[int], None],
    ) -> None:
        """make_function()(block) for blocks of the shards on Ray actors; on_done(index) as each block ends."""
        if not shards:
            return
        start_ray(self.address, num_cpus=self.workers if not self.address else None)
        import ray

        items = [{"index": s.index, "inputs": json.dumps([r.to_row() for r in s.inputs])} for s in shards]
        block = max(1, math.ceil(len(items) / (self.workers * BLOCKS_PER_WORKER)))
        pipeline = ray.data.from_items(items, override_num_blocks=math.ceil(len(items) / block)).map_batches(
            ShardActor,
            fn_constructor_args=(make_function,),
            batch_size=block,
            concurrency=min(self.workers, len(items)),
            num_cpus=1,
        )
        for row in pipeline.iter_rows():
            on_done(int(row["index"]))

    def run(self, job: Job) -> list[int]:
        if job.one_shard_at_a_time:
            raise UserError("this recipe learns shard by shard; use execute.executor = 'local'")
        dataset, book = job.dataset, ShardBook(job)
        todo = []
        for shard in job.shards:
            if not book.skip_if_done(shard):
                todo.append(shard)
            if book.stop is not None:  # what on_records raised for a finished shard (e.g. the guard's stop)
                raise book.stop
        finished = book.finished
        if job.split is None:
            if job.make_step is None:
                raise RuntimeError("a job for the Ray executor needs make_step (the step is built on each actor)")
            runner = partial(block_runner, str(dataset.root), job.make_step, job.partition, job.parts, job.redo)
            self.map_blocks(todo, runner, partial(self.told, job, {s.index: s for s in todo}))
            return finished
        return finished + self.run_split(job, todo)

    def told(self, job: Job, shards: dict[int, Shard], index: int) -> None:
        """A shard finished on an actor: its records, those that went in already finished (a redo's others)
        told as resumed."""
        before = {r.id for r in shards[index].inputs if r.finish_reason}
        records = read_parts(job.dataset, index, job.parts)
        for resumed in (True, False):
            told = [r for r in records if (r.id in before) == resumed]
            if told:
                job.on_records(told, resumed)

    def run_split(self, job: Job, shards: list[Shard]) -> list[int]:
        """The stateless step on actors for shards without an intermediate file, then the stateful one here."""
        assert job.split is not None
        make_first, second = job.split
        dataset, folder = job.dataset, job.dataset.part_dir(INTERMEDIATE)
        waiting = [
            s
            for s in shards
            if not (folder / shard_name(s.index)).exists() and not marker_path(dataset, s.index).exists()
        ]
        self.map_blocks(waiting, partial(first_stage_runner, str(dataset.root), make_first), lambda index: None)
        staged = []
        for shard in shards:
            path = folder / shard_name(shard.index)
            staged.append(Shard(shard.index, list(read_shard(path)) if path.exists() else shard.inputs))
        found = LocalExecutor().run(replace(job, shards=staged, step=second, split=None))
        shutil.rmtree(folder, ignore_errors=True)  # every shard is complete now
        return found
