"""The openai backend against a real server (llama.cpp's, over the embedded GGUF) and a scripted faulty one."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from llama_server import serve_gguf
from synthloop.backends.base import Prompt
from synthloop.backends.openai import OpenAIBackend, OpenAIOptions

PROMPT = Prompt("p", [{"role": "user", "content": "Write a two-sentence story about a cat."}], 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    with serve_gguf() as base_url:
        yield base_url


@pytest.mark.slow
def test_real_openai_compatible_server(llama_server: str) -> None:
    backend = OpenAIBackend(OpenAIOptions(base_url=llama_server, model="smollm2", max_tokens=40, concurrency=2))
    backend.check()
    prompts = [Prompt(f"p{i}", PROMPT.messages, i) for i in range(3)]
    completions = backend.generate(prompts)
    assert len(completions) == 3
    for completion in completions:
        assert completion.finish_reason in ("stop", "length"), completion.error
        assert completion.text and completion.tokens_in > 5 and 0 < completion.tokens_out <= 40


class Faulty(BaseHTTPRequestHandler):
    """Answers the first `failures` requests with 429 (Retry-After: 0.2) or 503, then succeeds."""

    failures = 2
    seen: ClassVar[list[float]] = []
    status = 429

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Faulty.seen.append(time.monotonic())
        if len(Faulty.seen) <= Faulty.failures:
            self.send_response(Faulty.status)
            if Faulty.status == 429:
                self.send_header("Retry-After", "0.2")
            self.end_headers()
            return
        body = json.dumps(
            {
                "model": "m",
                "choices": [{"message": {"content": "A cat sat."}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 7, "completion_tokens": 4},
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def faulty_server() -> Iterator[str]:
    Faulty.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Faulty)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_retry_after_is_honoured(faulty_server: str) -> None:
    Faulty.failures, Faulty.status = 2, 429
    backend = OpenAIBackend(OpenAIOptions(base_url=faulty_server, max_retries=3, backoff_s=0.0))
    [completion] = backend.generate([PROMPT])
    assert completion.text == "A cat sat." and completion.tokens_in == 7 and completion.tokens_out == 4
    gaps = [b - a for a, b in zip(Faulty.seen, Faulty.seen[1:], strict=False)]
    assert len(Faulty.seen) == 3 and all(gap >= 0.19 for gap in gaps)


def test_gives_up_after_bounded_retries_with_error_recorded(faulty_server: str) -> None:
    Faulty.failures, Faulty.status = 100, 503
    backend = OpenAIBackend(OpenAIOptions(base_url=faulty_server, max_retries=2, backoff_s=0.01))
    [completion] = backend.generate([PROMPT])
    assert completion.finish_reason == "error" and "HTTP 503" in (completion.error or "")
    assert len(Faulty.seen) == 3


def test_unreachable_server_is_a_user_error(tmp_path: Path) -> None:
    from synthloop.errors import UserError

    backend = OpenAIBackend(OpenAIOptions(base_url=f"http://127.0.0.1:{free_port()}/v1", timeout_s=2))
    with pytest.raises(UserError, match="cannot reach"):
        backend.check()
