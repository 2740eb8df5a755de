"""The step contract: Records in, finished Records out. Steps never know how they are launched.

A step implements `stream(records)`: an async iterator that pulls input Records as it has room for them and
yields finished Records in groups, as they finish, in any order (generation keeps hundreds of requests in flight
across shard boundaries this way). Executors (execute/local.py, execute/ray.py) route each finished Record back to
its shard by id and commit each group to the shard's journal at once. `run(records)` is the same contract for a
plain caller: every output Record, in the order they finish.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator

from synthloop.execute.engine import run_sync
from synthloop.records import Record


class Step(ABC):
    @abstractmethod
    def stream(self, records: Iterator[Record]) -> AsyncIterator[list[Record]]:
        """Finished Records in groups as they finish; input is pulled lazily, and when it ends (or the caller
        stops feeding it) the step finishes what it started and ends."""

    def run(self, records: Iterable[Record], rank: int = 0, world_size: int = 1) -> Iterator[Record]:
        async def collect() -> list[Record]:
            return [record async for group in self.stream(iter(records)) for record in group]

        yield from run_sync(collect)

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release what the step holds (models, caches)."""
