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
from pathlib import Path
from typing import Any

from synthloop.errors import UserError
from synthloop.execute.local import Shard, Step, read_parts, run_shard, shard_done
from synthloop.records import Record
from synthloop.store.dataset import Dataset


class ShardWorker:
    """A Ray Data actor: builds the step once, then runs whole shards."""

    def __init__(self, root: str, make_step: Callable[[], Step], partition: Callable[[Record], str],
                 parts: tuple[str, ...], flush_every: int) -> None:  # fmt: skip
        self.dataset = Dataset.open(Path(root))
        self.step = make_step()
        self.partition, self.parts, self.flush_every = partition, parts, flush_every

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        indexes = []
        for index, rows in zip(batch["index"], batch["inputs"], strict=True):
            shard = Shard(int(index), [Record.from_row(row) for row in json.loads(rows)])
            run_shard(self.dataset, shard, self.step, self.partition, self.parts, self.flush_every,
                       lambda records, resumed: None)  # fmt: skip
            indexes.append(int(index))
        return {"index": indexes}


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
        ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                 logging_level=logging.WARNING, log_to_driver=False)  # fmt: skip


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
) -> None:
    todo = []
    for shard in shards:
        if shard_done(dataset, shard):
            on_records(read_parts(dataset, shard.index, parts), True)
        else:
            todo.append(shard)
    if not todo:
        return
    start_ray(address, num_cpus=workers if not address else None)
    import ray

    items = [{"index": s.index, "inputs": json.dumps([r.to_row() for r in s.inputs])} for s in todo]
    pipeline = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        ShardWorker,
        fn_constructor_args=(str(dataset.root), make_step, partition, parts, flush_every),
        batch_size=1,
        concurrency=min(workers, len(items)),
        num_cpus=1,
    )
    for row in pipeline.iter_rows():  # shards finish in any order; report each as it lands
        on_records(read_parts(dataset, int(row["index"]), parts), False)
