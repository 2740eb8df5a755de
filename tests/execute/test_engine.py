"""The streaming engine on a scripted transport: the window is kept full and never passed, a finished call frees
its slot at once, retries go to the front of the queue, transient failures come back after their delay and give up
after max_retries with the reason, and a backend that raises stops the run with its error."""

from __future__ import annotations

import asyncio
import time

import pytest

from synthloop.execute.engine import Engine, send_all
from synthloop.execute.transport import Completion, Outcome, Prompt, Retry, Transport


class Scripted(Transport):
    """Answers each prompt after `delays[prompt.id]` seconds; `fail[prompt.id]` Retry answers first."""

    def __init__(self, window: int, call_size: int = 1, delays: dict[str, float] | None = None) -> None:
        self.size, self.call_size = window, call_size
        self.delays = delays or {}
        self.fail: dict[str, int] = {}
        self.max_retries = 2
        self.in_flight = self.most = 0
        self.sent: list[tuple[str, float]] = []  # (prompt id, time sent)
        self.calls: list[list[str]] = []

    def window(self) -> int:
        return self.size

    async def send(self, prompts: list[Prompt]) -> list[Outcome]:
        self.calls.append([p.id for p in prompts])
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        self.sent += [(p.id, time.monotonic()) for p in prompts]
        await asyncio.sleep(max(self.delays.get(p.id, 0.0) for p in prompts))
        self.in_flight -= 1
        answers: list[Outcome] = []
        for p in prompts:
            if self.fail.get(p.id, 0) > 0:
                self.fail[p.id] -= 1
                answers.append(Retry("HTTP 429", after=0.05))
            else:
                answers.append(Completion(f"story {p.id}", "stop", 1, 1, 0.0, "m"))
        return answers


def prompt(name: str) -> Prompt:
    return Prompt(name, [{"role": "user", "content": name}], 0)


def test_a_slow_request_does_not_hold_back_the_others() -> None:
    """One request takes 0.5 s; with a window of 4, the other 40 (0.01 s each) finish around it, not after it."""
    delays = {"slow": 0.5} | {f"p{i}": 0.01 for i in range(40)}
    transport = Scripted(window=4, delays=delays)
    started = time.monotonic()
    results = asyncio.run(send_all(transport, [prompt("slow")] + [prompt(f"p{i}") for i in range(40)]))
    assert [c.text for c in results] == ["story slow"] + [f"story p{i}" for i in range(40)]
    assert transport.most == 4  # full, never past the window
    assert time.monotonic() - started < 0.5 + 40 * 0.01 / 3  # the 40 ran beside the slow one
    finished_fast = next(t for name, t in transport.sent if name == "p39") - started
    assert finished_fast < 0.5  # the last fast one was sent before the slow one came back


def test_transient_failures_come_back_after_their_delay_and_give_up_bounded() -> None:
    transport = Scripted(window=2)
    transport.fail = {"a": 1, "b": 5}
    results = asyncio.run(send_all(transport, [prompt("a"), prompt("b"), prompt("c")]))
    assert results[0].text == "story a" and results[2].text == "story c"
    assert results[1].finish_reason == "error" and results[1].error == "gave up after 3 attempts: HTTP 429"
    times = [t for name, t in transport.sent if name == "a"]
    assert len(times) == 2 and times[1] - times[0] >= 0.05
    assert len([name for name, _ in transport.sent if name == "b"]) == 3  # max_retries + 1


def test_calls_are_batched_to_call_size_and_a_retry_goes_first() -> None:
    async def scenario() -> list[list[str]]:
        transport = Scripted(window=1, call_size=3)
        engine = Engine(transport)
        for name in "abcde":
            engine.submit(prompt(name), name)
        engine.launch(flush=False)  # one full call; the two left wait for more input
        assert transport.call_size == 3 and len(engine.queue) == 2
        got = await engine.wait()
        engine.submit(prompt("a2"), "a2", first=True)  # a retry of a
        engine.launch(flush=True)
        while len(got) < 6:
            got += await engine.wait()
            engine.launch(flush=True)
        return transport.calls

    assert asyncio.run(scenario()) == [["a", "b", "c"], ["a2", "d", "e"]]


def test_a_backend_that_raises_stops_the_run_with_its_error() -> None:
    class Broken(Scripted):
        async def send(self, prompts: list[Prompt]) -> list[Outcome]:
            raise ValueError("model file vanished")

    with pytest.raises(ValueError, match="model file vanished"):
        asyncio.run(send_all(Broken(window=2), [prompt("a"), prompt("b")]))
