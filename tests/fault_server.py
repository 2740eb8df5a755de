"""A fault-injecting OpenAI-compatible chat server on 127.0.0.1, for the reliability tests and benchmarks.

Each request draws one fault from the configured rates (seeded, so a run is repeatable): 429 with and without
Retry-After, 500/502/503, a hang past the client's timeout, a connection closed mid-body, truncated or invalid
JSON, empty `choices`, a 200 whose content is empty or only whitespace, or a slow drip of the body (one byte at a
time, still inside the timeout). Otherwise it
answers with a story naming the request's seed. It records, per seed, every request's time and the fault served,
and the most requests in flight at once, so a test can check that nothing was lost or duplicated, that
Retry-After was honoured, and that concurrency stayed capped.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from loopback import loopback_http

FAULTS = (
    "429_retry_after",
    "429",
    "500",
    "502",
    "503",
    "hang",
    "close_mid_body",
    "truncated_json",
    "invalid_json",
    "empty_choices",
    "empty_content",
    "blank_content",
    "slow_drip",
)
EMPTY_CONTENT = {"empty_content": "", "blank_content": " \n\t "}  # faults the client sees as a good answer
RETRY_AFTER_S = 0.3


class FaultLog:
    def __init__(self, rates: dict[str, float], seed: int, hang_s: float, client_timeout_s: float) -> None:
        unknown = set(rates) - set(FAULTS)
        assert not unknown, unknown
        self.rates = rates
        self.rng = random.Random(seed)
        self.hang_s = hang_s
        self.client_timeout_s = client_timeout_s  # a hung request stops counting as in flight once the client gave up
        self.lock = threading.Lock()
        self.requests: dict[int, list[tuple[float, str]]] = {}  # seed -> [(time, fault or "ok")]
        self.in_flight = 0
        self.max_in_flight = 0

    def draw(self, seed: int) -> str:
        with self.lock:
            roll, fault = self.rng.random(), "ok"
            for name, rate in self.rates.items():
                if roll < rate:
                    fault = name
                    break
                roll -= rate
            self.requests.setdefault(seed, []).append((time.monotonic(), fault))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            return fault

    def done(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for entries in self.requests.values():
            for _, fault in entries:
                counted[fault] = counted.get(fault, 0) + 1
        return counted


def handler(log: FaultLog) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # /v1/models, for the backend's reachability check
            self.reply(200, json.dumps({"data": [{"id": "faulty"}]}).encode())

        def reply(
            self, status: int, body: bytes, headers: dict[str, str] | None = None, length: int | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            seed = int(request.get("seed", -1))
            fault = log.draw(seed)
            try:
                self.serve(fault, seed)
            except (BrokenPipeError, ConnectionResetError):
                pass
            finally:
                if fault != "hang":
                    log.done()

        def serve(self, fault: str, seed: int) -> None:
            story = f"Story for seed {seed}: a cat and a dog played in the sun."
            choice = {"message": {"content": story}, "finish_reason": "stop"}
            usage = {"prompt_tokens": 9, "completion_tokens": 12}
            good = json.dumps({"model": "faulty", "usage": usage, "choices": [choice]}).encode()
            if fault == "429_retry_after":
                self.reply(429, b'{"error": "slow down"}', {"Retry-After": str(RETRY_AFTER_S)})
            elif fault in ("429", "500", "502", "503"):
                self.reply(int(fault), b'{"error": "injected"}')
            elif fault == "hang":
                time.sleep(max(0.0, log.client_timeout_s - 0.05))
                log.done()  # the client has given up on this one by now
                time.sleep(log.hang_s - log.client_timeout_s)
                self.close_connection = True
            elif fault == "close_mid_body":
                self.reply(200, good[: len(good) // 2], length=len(good))
                self.close_connection = True
            elif fault == "truncated_json":
                self.reply(200, good[: len(good) // 2])
            elif fault == "invalid_json":
                self.reply(200, b"<html>upstream error</html>")
            elif fault == "empty_choices":
                self.reply(200, b'{"model": "faulty", "choices": []}')
            elif fault in EMPTY_CONTENT:
                blank = {"message": {"content": EMPTY_CONTENT[fault]}, "finish_reason": "stop"}
                self.reply(200, json.dumps({"model": "faulty", "usage": usage, "choices": [blank]}).encode())
            elif fault == "slow_drip":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(good)))
                self.end_headers()
                for index in range(0, len(good), 16):
                    self.wfile.write(good[index : index + 16])
                    self.wfile.flush()
                    time.sleep(0.005)
            else:
                self.reply(200, good)

    return Handler


@contextmanager
def fault_server(
    rates: dict[str, float], seed: int = 0, hang_s: float = 2.0, client_timeout_s: float = 1.0
) -> Iterator[tuple[str, FaultLog]]:
    log = FaultLog(rates, seed, hang_s, client_timeout_s)
    with loopback_http(handler(log)) as url:
        yield f"{url}/v1", log


def summary(log: FaultLog) -> dict[str, Any]:
    return {
        "requests": sum(len(v) for v in log.requests.values()),
        "faults": log.counts(),
        "max_in_flight": log.max_in_flight,
    }
