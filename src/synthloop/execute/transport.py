"""What a backend is asked and answers (Prompt, Completion), and how the engine reaches it (Transport).

Kept apart from backends/ so that the engine (execute/engine.py) and the backends can both import it.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType


@dataclass(slots=True)
class Prompt:
    id: str
    messages: list[dict[str, str]]  # chat messages: [{"role": "system"|"user", "content": ...}]
    seed: int


@dataclass(slots=True)
class Completion:
    text: str
    finish_reason: str  # "stop" | "length" | "error"
    tokens_in: int
    tokens_out: int
    latency_s: float  # wall seconds for this completion (for a batch: the batch's time shared out)
    model: str
    error: str | None = None

    @classmethod
    def failed(cls, reason: str, model: str, latency_s: float = 0.0) -> Completion:
        """The completion of a prompt that failed: no text, finish_reason "error", and the reason why."""
        return cls("", "error", 0, 0, latency_s, model, error=reason)


@dataclass(slots=True)
class Retry:
    """A transient failure: send the prompt again after a delay (unless its retries are spent)."""

    reason: str
    after: float | None = None  # the server's Retry-After (seconds), if it sent one


Outcome = Completion | Retry


class Transport(ABC):
    """How an engine sends calls to one backend, for the length of one engine run."""

    call_size: int = 1  # prompts per call
    max_retries: int = 0  # Retry answers allowed per prompt before it fails
    model_name: str = ""

    async def __aenter__(self) -> Transport:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:  # noqa: B027 (optional hook)
        """Release what the run held (connections, threads)."""

    def retry_delay(self, tries: int, after: float | None) -> float:
        """Seconds to wait before the `tries`-th retry of a prompt (`after`: the server's Retry-After)."""
        return after or 0.0

    @abstractmethod
    def window(self) -> int:
        """How many calls may be in flight now (a limiter may change it during the run)."""

    @abstractmethod
    async def send(self, prompts: list[Prompt]) -> list[Outcome]:
        """One outcome per prompt, in order."""


class ThreadTransport(Transport):
    """A blocking batch `generate(prompts)` run in `calls` worker threads, `call_size` prompts per call."""

    def __init__(
        self,
        generate: Callable[[list[Prompt]], list[Completion]],
        call_size: int,
        calls: int = 1,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self.generate = generate
        self.call_size = call_size
        self.calls = calls
        self.on_close = on_close  # tells calls still running in threads to give up (a batch API's polling)
        self.pool = ThreadPoolExecutor(calls, thread_name_prefix="synthloop-call")

    def window(self) -> int:
        return self.calls

    async def send(self, prompts: list[Prompt]) -> list[Outcome]:
        return list(await asyncio.get_running_loop().run_in_executor(self.pool, self.generate, prompts))

    async def aclose(self) -> None:
        if self.on_close is not None:
            self.on_close()
        self.pool.shutdown(wait=False, cancel_futures=True)
