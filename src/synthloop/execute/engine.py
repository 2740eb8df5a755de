"""The streaming engine: keeps a backend busy for a whole run, one call after another with no barrier.

A caller submits prompts (each with a tag of its own) and awaits results; the engine groups queued prompts into
backend calls of the transport's `call_size` (1 for a server request, a batch for a local model or a batch API)
and keeps up to `transport.window()` calls in flight. The moment a call finishes its slot takes the next queued
prompt; a retry goes to the front of the queue at once, never after a batch. A transient failure the transport
reports as `Retry` (a 429, a 5xx, a timeout) frees its slot and comes back after its delay, at most
`transport.max_retries` times; then the prompt's result is a failed Completion naming the last error.

Transports are how a backend plugs in (`Backend.transport`): `ThreadTransport` runs a blocking
`generate(prompts)` in worker threads (local models keep their own batching; plugin backends need nothing more);
the openai backend streams single requests over one HTTP session (backends/openai.py).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from synthloop.execute.transport import Completion, Prompt, Retry, Transport

T = TypeVar("T")


@dataclass(slots=True)
class Item:
    prompt: Prompt
    tag: Any
    tries: int = 0  # transient retries so far


class Engine:
    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.queue: deque[Item] = deque()
        self.in_flight = 0  # prompts in calls under way
        self.waiting = 0  # prompts waiting out a Retry delay
        self.results: list[tuple[Any, Completion]] = []
        self.error: BaseException | None = None
        self.wake = asyncio.Event()
        self.tasks: set[asyncio.Task[None]] = set()
        self.timers: set[asyncio.TimerHandle] = set()

    def submit(self, prompt: Prompt, tag: Any, first: bool = False) -> None:
        """Queue a prompt; `first` puts it at the front (a retry goes before new work)."""
        item = Item(prompt, tag)
        if first:
            self.queue.appendleft(item)
        else:
            self.queue.append(item)

    def room(self) -> int:
        """How many more prompts to queue so the backend stays busy: every slot full, plus one call waiting."""
        wanted = (self.transport.window() + 1) * self.transport.call_size
        return max(0, wanted - len(self.queue) - self.in_flight - self.waiting)

    @property
    def busy(self) -> bool:
        return bool(self.queue or self.tasks or self.timers or self.results)

    def launch(self, flush: bool = False) -> None:
        """Start calls while slots are free; a call smaller than call_size only when `flush` (no more input)."""
        size = self.transport.call_size
        while self.queue and len(self.tasks) < self.transport.window():
            if len(self.queue) < size and not flush:
                return
            batch = [self.queue.popleft() for _ in range(min(size, len(self.queue)))]
            self.in_flight += len(batch)
            task = asyncio.get_running_loop().create_task(self._call(batch))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _call(self, batch: list[Item]) -> None:
        try:
            outcomes = await self.transport.send([item.prompt for item in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"backend returned {len(outcomes)} results for {len(batch)} prompts")
            for item, outcome in zip(batch, outcomes, strict=True):
                if isinstance(outcome, Retry):
                    self._retry(item, outcome)
                else:
                    self.results.append((item.tag, outcome))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a backend that raises stops the run (its message reaches the user)
            self.error = self.error or error
        finally:
            self.in_flight -= len(batch)
            task = asyncio.current_task()
            if task is not None:
                self.tasks.discard(task)  # now, not in a done callback: the slot is free when wait() returns
            self.wake.set()

    def _retry(self, item: Item, retry: Retry) -> None:
        item.tries += 1
        if item.tries > self.transport.max_retries:
            reason = f"gave up after {item.tries} attempts: {retry.reason}"
            self.results.append((item.tag, Completion.failed(reason, self.transport.model_name)))
            return
        self.waiting += 1

        def back() -> None:
            self.timers.discard(handle)
            self.waiting -= 1
            self.queue.appendleft(item)
            self.launch(flush=True)
            self.wake.set()

        handle = asyncio.get_running_loop().call_later(self.transport.retry_delay(item.tries, retry.after), back)
        self.timers.add(handle)

    async def wait(self) -> list[tuple[Any, Completion]]:
        """Every result that came in since the last wait, after at least one (none: nothing is under way)."""
        while not self.results and self.error is None and (self.tasks or self.timers):
            self.wake.clear()
            await self.wake.wait()
        if self.error is not None:
            raise self.error
        found, self.results = self.results, []
        return found

    async def close(self) -> None:
        """Cancel what is still under way (a run that stops on an error)."""
        for handle in self.timers:
            handle.cancel()
        self.timers.clear()
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


async def send_all(transport: Transport, prompts: list[Prompt]) -> list[Completion]:
    """Every prompt through the engine, results in prompt order: a backend's plain `generate` on a transport."""
    results: dict[int, Completion] = {}
    engine = Engine(transport)
    async with transport:
        try:
            for index, prompt in enumerate(prompts):
                engine.submit(prompt, index)
            engine.launch(flush=True)
            while len(results) < len(prompts):
                for index, completion in await engine.wait():
                    results[index] = completion
                engine.launch(flush=True)
        finally:
            await engine.close()
    return [results[index] for index in range(len(prompts))]


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to its end from synchronous code, in a fresh event loop; from a thread of its own when this
    thread already runs a loop (a notebook, or a step called inside the engine)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as error:  # re-raised in the caller's thread
            box["error"] = error

    thread = threading.Thread(target=target, name="synthloop-loop")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]
