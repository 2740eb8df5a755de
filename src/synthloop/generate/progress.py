"""A rich progress bar for generation: stories done, tokens/s and ETA. Silent when disabled or not a terminal."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from synthloop.records import Record


class GenerationProgress:
    def __init__(self, total: int, enabled: bool = True) -> None:
        self.enabled = enabled
        self._progress = Progress(
            TextColumn("[bold]generating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("stories  {task.fields[rate]:>6.1f} tok/s"),
            TimeRemainingColumn(),
            disable=not enabled,
        )
        self._task: TaskID = self._progress.add_task("generate", total=total, rate=0.0)

    def __enter__(self) -> GenerationProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def update(self, records: list[Record], resumed: bool, tokens: int, seconds: float) -> None:
        rate = tokens / seconds if seconds > 0 else 0.0
        self._progress.update(self._task, advance=len(records), rate=rate)

    def note(self, message: str) -> None:
        """A line above the bar (or on stderr without one): e.g. the collapse guard's warnings."""
        if self.enabled:
            self._progress.console.print(message)
        else:
            print(message, file=sys.stderr)
