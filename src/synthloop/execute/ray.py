"""Run a step over shards with Ray Data: one `map_batches` over the unfinished shards, each handled by a
long-lived actor that builds the step once (so a backend loads its model once per worker) and runs the shard
exactly as the local executor does — same journals, same atomic part files, same completion markers. A rerun
therefore skips finished shards and resumes unfinished ones whichever executor ran them before.

Local by default (`ray.init` on this machine only: loopback, no dashboard). For a cluster, start one with
`ray start --head` and pass its address (`execute.address = "auto"` or "ray://host:10001"); every node must see
the output folder at the same path (a shared filesystem), since workers write the shards directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from synthloop.errors import UserError
from synthloop.execute.local import Shard, Step, read_parts, run_shard, shard_done
from synthloop.records import Record
from synthloop.store.dataset import Dataset


class ShardActor:
    """A Ray Data actor: builds its shard function once (loading a model, filters...), then runs whole shards."""

    def __init__(self, make_function: Callable[[], Callable[[Shard], None]]) -> None:
        self.function = make_function()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        indexes = []
        for index, rows in zip(batch["index"], batch["inputs"], strict=True):
            self.function(Shard(int(index), [Record.from_row(row) for row in json.loads(rows)]))
            indexes.append(int(index))
        return {"index": indexes}


def shard_runner(
    root: str,
    make_step: Callable[[], Step],
    partition: Callable[[Record], str],
    parts: tuple[str, ...],
    flush_every: int,
    redo: str | None = None,
) -> Callable[[Shard], None]:
    """Runs a shard exactly as the local executor does (journal, atomic parts, completion marker)."""
    dataset, step = Dataset.open(Path(root)), make_step()

    def run(shard: Shard) -> None:
        run_shard(dataset, shard, step, partition, parts, flush_every, lambda records, resumed: None, redo)

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


def map_shards_ray(
    shards: list[Shard],
    make_function: Callable[[], Callable[[Shard], None]],
    workers: int,
    address: str | None,
    on_done: Callable[[int], None],
) -> None:
    """Run make_function()(shard) for every shard on Ray actors; on_done(index) as each finishes (any order)."""
    if not shards:
        return
    start_ray(address, num_cpus=workers if not address else None)
    import ray

    items = [{"index": s.index, "inputs": json.dumps([r.to_row() for r in s.inputs])} for s in shards]
    pipeline = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        ShardActor,
        fn_constructor_args=(make_function,),
        batch_size=1,
        concurrency=min(workers, len(items)),
        num_cpus=1,
    )
    for row in pipeline.iter_rows():
        on_done(int(row["index"]))


def run_shards_ray(
    dataset: Dataset,
    shards: list[Shard],
    make_step: Callable[[], Step],
    partition: Callable[[Record], str],
    parts: tuple[str, ...],
    flush_every: int,
    workers: int,
    address: str | None = None,
    on_records: Callable[[list[Record], bool], None] = lambda records, resumed: None,
    redo: str | None = None,
) -> list[int]:
    """The local executor's contract (run_shards, or with `redo` run_shard's redo of finished shards, whose
    inputs are then every record of the shard), with the shards spread over Ray actors. Returns the indexes of
    the shards found finished (none with `redo`)."""
    todo, finished = [], []
    for shard in shards:
        if redo is None and shard_done(dataset, shard):
            on_records(read_parts(dataset, shard.index, parts), True)
            finished.append(shard.index)
        else:
            todo.append(shard)
    make = partial(shard_runner, str(dataset.root), make_step, partition, parts, flush_every, redo)
    map_shards_ray(todo, make, workers, address, lambda index: on_records(read_parts(dataset, index, parts), False))
    return finished
