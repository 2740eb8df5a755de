"""A simulated OpenAI-compatible chat server (aiohttp, asyncio) for throughput benchmarks and engine tests.

Unlike the threaded fault server, it holds thousands of connections at once on one core. Each request waits for a
slot (`--slots`, the server's own concurrency), then for a latency drawn from a seeded lognormal (`--median`,
`--shape`; `--median 0` answers at once), and answers with a story that uses the prompt's three words and names
its seed (tests/scripted_backend.story), so a client's constraint checks pass on the first attempt and every
client makes exactly one request per prompt. Optional limits answer 429 with Retry-After (and retry-after-ms) the
way OpenAI does: `--rpm` / `--tpm` token buckets refilled continuously (burst: one second's worth), with
`x-ratelimit-*` headers on every answer when `--headers` is given. `--fail-429` answers every request 429.

GET /stats returns what a benchmark reports against: requests served, 429s sent, the sum and list of service
latencies (seconds in a slot, queueing excluded, in the order requests got a slot), the most requests in flight,
and the first arrival and last answer (monotonic seconds); with ?seeds=1 also the seed of every request asked
and answered. A request without messages (a client's start-up probe)
is answered 400 and not counted. POST /reset clears them. Run as a script it prints its URL on stdout and serves until
killed; `serve()` runs it in a thread for tests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scripted_backend import story, words_in
from synthloop.backends.base import Prompt


@dataclass
class Settings:
    median: float = 1.0  # seconds; 0: answer at once
    shape: float = 0.6  # lognormal sigma
    slots: int = 1024
    rpm: float | None = None
    tpm: float | None = None
    headers: bool = False
    fail_429: bool = False
    seed: int = 0


class Bucket:
    """A token bucket refilled continuously at `per_minute / 60` per second, holding at most one second's worth."""

    def __init__(self, per_minute: float) -> None:
        self.per_minute = per_minute
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate)
        self.level = self.capacity
        self.at = time.monotonic()

    def refill(self) -> None:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.at) * self.rate)
        self.at = now

    def wait_for(self, amount: float) -> float:
        """0 (and the amount taken) if `amount` is available now, else the seconds until it would be."""
        self.refill()
        if self.level >= min(amount, self.capacity):
            self.level -= amount
            return 0.0
        return (min(amount, self.capacity) - self.level) / self.rate

    def headers(self, kind: str) -> dict[str, str]:
        self.refill()
        missing = self.capacity - self.level
        return {
            f"x-ratelimit-limit-{kind}": str(int(self.per_minute)),
            f"x-ratelimit-remaining-{kind}": str(max(0, int(self.level))),
            f"x-ratelimit-reset-{kind}": f"{missing / self.rate:.3f}s",
        }


@dataclass
class Stats:
    served: int = 0
    throttled: int = 0
    latencies: list[float] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    first: float | None = None
    last: float | None = None
    asked: list[int] = field(default_factory=list)  # the seed of every request, as it arrived
    answered: list[int] = field(default_factory=list)  # ... of every story sent back

    def as_dict(self, seeds: bool = True) -> dict[str, Any]:
        return ({"asked": self.asked, "answered": self.answered} if seeds else {}) | {
            "served": self.served,
            "throttled": self.throttled,
            "latency_sum": sum(self.latencies),
            "latencies": self.latencies,
            "max_in_flight": self.max_in_flight,
            "first": self.first,
            "last": self.last,
        }


def estimate_tokens(body: dict[str, Any]) -> int:
    chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
    return chars // 4 + int(body.get("max_tokens") or 256)


class Simulator:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.stats = Stats()
        self.slots = asyncio.Semaphore(settings.slots)
        self.requests = Bucket(settings.rpm) if settings.rpm else None
        self.tokens = Bucket(settings.tpm) if settings.tpm else None

    def latency(self) -> float:
        s = self.settings
        return s.median * math.exp(self.rng.gauss(0.0, s.shape)) if s.median > 0 else 0.0

    def limit_headers(self) -> dict[str, str]:
        if not self.settings.headers:
            return {}
        found: dict[str, str] = {}
        for kind, bucket in (("requests", self.requests), ("tokens", self.tokens)):
            if bucket is not None:
                found |= bucket.headers(kind)
        return found

    def throttle(self, body: dict[str, Any]) -> web.Response | None:
        waits = [1.0] if self.settings.fail_429 else []
        if self.requests is not None:
            waits.append(self.requests.wait_for(1))
        if self.tokens is not None and not any(waits):
            waits.append(self.tokens.wait_for(estimate_tokens(body)))
        wait = max(waits, default=0.0)
        if not wait:
            return None
        self.stats.throttled += 1
        headers = {"retry-after": str(math.ceil(wait)), "retry-after-ms": str(math.ceil(wait * 1000))}
        error = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
        return web.json_response(error, status=429, headers=headers | self.limit_headers())

    async def chat(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        try:
            body = json.loads(await request.read())
            messages, seed = body["messages"], int(body.get("seed", 0))
            assert messages and isinstance(messages, list)  # a client's probe with no messages is not counted
        except (ValueError, KeyError, TypeError, AssertionError):
            return web.json_response({"error": {"message": "expected a chat request with messages"}}, status=400)
        self.stats.first = self.stats.first or now
        self.stats.asked.append(seed)
        refused = self.throttle(body)
        if refused is not None:
            return refused
        async with self.slots:
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
            seconds = self.latency()
            self.stats.latencies.append(seconds)  # in the order requests got a slot
            if seconds:
                await asyncio.sleep(seconds)
            self.stats.in_flight -= 1
        text = story(seed, words_in(Prompt(str(seed), messages, seed)))
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in messages) // 4
        payload = {
            "id": f"chatcmpl-{self.stats.served}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "sim"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": len(text.split()),
                "total_tokens": prompt_tokens + len(text.split()),
            },
        }
        self.stats.served += 1
        self.stats.answered.append(seed)
        self.stats.last = time.monotonic()
        return web.json_response(payload, headers=self.limit_headers())

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "sim", "object": "model"}]})

    async def get_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats.as_dict(seeds=request.query.get("seeds") == "1"))

    async def reset(self, request: web.Request) -> web.Response:
        self.stats = Stats()
        self.rng = random.Random(self.settings.seed)
        return web.json_response({"reset": True})

    def app(self) -> web.Application:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        app.router.add_get("/stats", self.get_stats)
        app.router.add_post("/reset", self.reset)
        return app


async def start(settings: Settings, port: int = 0) -> tuple[web.AppRunner, str, Simulator]:
    simulator = Simulator(settings)
    runner = web.AppRunner(simulator.app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=4096, reuse_address=True)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{bound}/v1", simulator


@contextmanager
def serve(**settings: Any) -> Iterator[tuple[str, Simulator]]:
    """The server in a background thread of this process (for tests): yields (base URL, simulator)."""
    loop = asyncio.new_event_loop()
    ready: dict[str, Any] = {}
    started = threading.Event()

    def main() -> None:
        asyncio.set_event_loop(loop)
        ready["runner"], ready["url"], ready["simulator"] = loop.run_until_complete(start(Settings(**settings)))
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=main, daemon=True)
    thread.start()
    started.wait(30)
    try:
        yield ready["url"], ready["simulator"]
    finally:
        asyncio.run_coroutine_threadsafe(ready["runner"].cleanup(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--median", type=float, default=1.0, help="median latency (s); 0: answer at once")
    parser.add_argument("--shape", type=float, default=0.6, help="lognormal shape (sigma)")
    parser.add_argument("--slots", type=int, default=1024, help="requests served at once; the rest queue")
    parser.add_argument("--rpm", type=float, default=None, help="requests per minute before 429s")
    parser.add_argument("--tpm", type=float, default=None, help="tokens per minute before 429s")
    parser.add_argument("--headers", action="store_true", help="send x-ratelimit-* headers")
    parser.add_argument("--fail-429", action="store_true", help="answer every request 429")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = Settings(args.median, args.shape, args.slots, args.rpm, args.tpm, args.headers, args.fail_429, args.seed)

    async def run() -> None:
        _, url, _ = await start(settings, args.port)
        print(url, flush=True)
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()
