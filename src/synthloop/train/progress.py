"""A rich progress bar for training: steps, loss and tokens/s. Silent when disabled."""

from __future__ import annotations

from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn


class TrainProgress:
    def __init__(self, total: int, done: int, enabled: bool = True) -> None:
        self._progress = Progress(
            TextColumn("[bold]training"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("steps  loss {task.fields[loss]:.3f}  {task.fields[rate]:>8.0f} tok/s"),
            TimeRemainingColumn(),
            disable=not enabled,
        )
        self._task: TaskID = self._progress.add_task("train", total=total, completed=done, loss=float("nan"), rate=0.0)

    def __enter__(self) -> TrainProgress:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._progress.stop()

    def update(self, step: int, loss: float, rate: float) -> None:
        self._progress.update(self._task, completed=step, loss=loss, rate=rate)
