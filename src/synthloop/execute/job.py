"""What an executor runs (a Job: a step over shards of a dataset) and the one executor interface.

The runners describe the work and hand it to `executor_for(cfg.execute).run(job)`; they never ask which executor
it is. An executor declares what it can do instead (`in_process`: the step runs in this process, so a recipe
that learns shard by shard or a budget counted here works).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from synthloop.execute.step import Step
from synthloop.records import Record

if TYPE_CHECKING:
    from synthloop.config import ExecuteConfig
    from synthloop.store.dataset import Dataset


@dataclass(slots=True)
class Shard:
    index: int
    inputs: list[Record]


def ignore(records: list[Record], resumed: bool) -> None:
    """The default `on_records`: nobody is counting."""


@dataclass
class Job:
    """A step over shards, resumably: each shard ends as its output parts (`partition(record)` names the part,
    one of `parts`) and a completion marker. `on_records(records, resumed)` is told of every record as it is
    committed (resumed=True for work found already done); if it raises, no new input is started, what is under
    way is finished and committed, and then the error is raised. With `redo` (a part name), finished shards are
    run again for their records in that part; `shards` then hold every record of each shard, in order."""

    dataset: Dataset
    shards: Iterable[Shard]
    step: Step  # the step, built in this process
    partition: Callable[[Record], str]
    parts: tuple[str, ...]
    on_records: Callable[[list[Record], bool], None] = ignore
    redo: str | None = None
    # For executors that run shards in other processes: builds the step there (picklable, e.g. a partial).
    make_step: Callable[[], Step] | None = None
    # Optional split for them: a stateless step that may run anywhere, then a stateful one that must see every
    # record here, in shard order (curation: the filters, then dedup). None: the whole step runs anywhere.
    split: tuple[Callable[[], Step], Step] | None = None
    # A recipe that renders shard k from shard k-1's stories: each shard finishes before the next is read.
    one_shard_at_a_time: bool = False
    # Journals are fsynced after this many committed records (or a second), not after every group.
    sync_every: int = 256


class Executor(ABC):
    in_process: ClassVar[bool] = True

    @abstractmethod
    def run(self, job: Job) -> list[int]:
        """Run every shard of the job to its completion marker; the indexes of the shards found finished."""


def executor_for(cfg: ExecuteConfig) -> Executor:
    if cfg.executor == "ray":
        from synthloop.execute.ray import RayExecutor

        return RayExecutor(cfg.workers, cfg.address)
    from synthloop.execute.local import LocalExecutor

    return LocalExecutor()
