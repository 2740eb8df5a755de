"""Any OpenAI-compatible chat-completions server: vLLM, llama.cpp's server, Ollama, OpenAI itself.

The streaming engine (execute/engine.py) sends one request per prompt over one aiohttp session, keeping up to
`concurrency` in flight for the whole run (aiohttp, not httpx: httpx's connection pool costs more CPU per request
the more requests are in flight; benchmarks/serving_throughput.py measures both). Client-side limits
(backends/limits.py) pace requests under `max_requests_per_minute` / `max_tokens_per_minute`, or under what the
server's rate-limit headers say, or, with neither, adapt to its 429s, 503s and latency.

Transient failures (429, 5xx, timeouts, dropped connections, malformed bodies) free their slot and are sent again
after the server's Retry-After (capped by `max_retry_after_s`) or an exponential backoff with full jitter; after
`max_retries` the prompt comes back as a Completion with finish_reason "error" and the last error, never as a
missing row. A 4xx that retrying cannot fix (400, 401, 404) fails the prompt at once with the server's message.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
import time
from collections.abc import Mapping
from functools import partial
from typing import Any

from pydantic import Field

from synthloop.backends.base import Backend, Completion, Outcome, Prompt, Retry, SamplingOptions, Transport
from synthloop.backends.limits import HORIZON, Limits
from synthloop.errors import UserError
from synthloop.execute.engine import run_sync, send_all

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
OVERLOAD_STATUS = {502, 503, 504}  # the server (or its proxy) cannot keep up: fewer requests at once


class OpenAIOptions(SamplingOptions):
    # One server, or several serving the same model: each prompt goes to base_url[seed % len] (spreads the load of
    # one process, or of many Ray workers, over the servers; a retry goes to the same server).
    base_url: str | list[str] = Field(
        "http://127.0.0.1:8080/v1", description="the server, or several serving the same model"
    )
    model: str = Field("default", description="the model name sent with each request")
    api_key_env: str = Field("OPENAI_API_KEY", description="the environment variable holding the key (may be unset)")
    concurrency: int = Field(8, ge=1, le=4096, description="requests in flight at once (at most)")
    timeout_s: float = Field(120.0, gt=0, description="seconds per request")
    max_retries: int = Field(5, ge=0, le=50, description="retries of a transient failure before the prompt fails")
    backoff_s: float = Field(0.5, ge=0, description="first backoff (s); doubles each retry, with full jitter")
    max_retry_after_s: float = Field(60.0, ge=0, description="never sleep longer than this for one Retry-After (s)")
    max_requests_per_minute: float | None = Field(
        None, gt=0, description="pace requests under this rate; None: the server's headers, or adapt to 429s"
    )
    max_tokens_per_minute: float | None = Field(
        None, gt=0, description="pace prompt + max_tokens under this rate; None: the server's headers, or adapt"
    )
    adaptive: bool = Field(
        True, description="with no limit set: back off on 429/503 and rising latency, grow back when served"
    )


class OpenAIBackend(Backend[OpenAIOptions]):
    name = "openai"
    non_content = frozenset(
        {
            "base_url",
            "api_key_env",
            "concurrency",
            "timeout_s",
            "max_retries",
            "backoff_s",
            "max_retry_after_s",
            "max_requests_per_minute",
            "max_tokens_per_minute",
            "adaptive",
        }
    )

    def __init__(self, options: OpenAIOptions) -> None:
        super().__init__(options)
        o = self.options
        warn = self.log
        self.limits = Limits(o.concurrency, o.max_requests_per_minute, o.max_tokens_per_minute, o.adaptive, warn)

    @property
    def model_name(self) -> str:
        return self.options.model

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def headers(self) -> dict[str, str]:
        key = os.environ.get(self.options.api_key_env, "")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def urls(self) -> list[str]:
        urls = [self.options.base_url] if isinstance(self.options.base_url, str) else list(self.options.base_url)
        if not urls:
            raise UserError("backend.options.base_url: give at least one server URL")
        return [url.rstrip("/") for url in urls]

    def check(self) -> None:
        super().check()
        timeout = min(self.options.timeout_s, 10.0)
        for base in self.urls():
            reason = run_sync(partial(reachable, base, self.headers(), timeout))
            if reason:
                raise UserError(f"backend.options.base_url: cannot reach {base} ({reason})")

    def transport(self, batch_size: int = 1) -> ChatTransport:
        return ChatTransport(self)

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        return run_sync(lambda: send_all(self.transport(), prompts))

    def close(self) -> None:
        if self.limits.throttled or self.limits.overloaded:
            self.log(
                f"openai: the server answered {self.limits.throttled} request(s) with 429 and "
                f"{self.limits.overloaded} with 503 or a timeout; they were sent again"
            )

    def request_body(self, prompt: Prompt) -> dict[str, Any]:
        """The chat-completions request for one prompt (the batch backend sends the same body in its JSONL)."""
        sampling = self.options.sampling()
        return {
            "model": self.options.model,
            "messages": prompt.messages,
            "temperature": sampling["temperature"],
            "top_p": sampling["top_p"],
            "max_tokens": sampling["max_tokens"],
            "seed": prompt.seed,
            # Not part of OpenAI's API; vLLM, llama.cpp and Ollama accept them, OpenAI ignores unknown sampling keys
            # only for some models, so they are sent only when they differ from "off".
            **({"top_k": sampling["top_k"]} if sampling["top_k"] else {}),
            **({"repeat_penalty": sampling["repeat_penalty"]} if sampling["repeat_penalty"] != 1.0 else {}),
        }


async def reachable(base: str, headers: dict[str, str], timeout_s: float) -> str | None:
    """None if GET {base}/models gets any HTTP answer; else why not."""
    import aiohttp

    try:
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(base + "/models", headers=headers) as r,
        ):
            await r.read()
    except (TimeoutError, aiohttp.ClientError, ValueError) as error:
        return f"{type(error).__name__}: {error}"
    return None


class ChatTransport(Transport):
    """One chat-completions request per call, over one aiohttp session for the engine run."""

    call_size = 1

    def __init__(self, backend: OpenAIBackend) -> None:
        self.backend = backend
        self.options = backend.options
        self.limits = backend.limits
        self.urls = [url + "/chat/completions" for url in backend.urls()]
        self.max_retries = backend.options.max_retries
        self.model_name = backend.model_name
        self.session: Any = None

    async def __aenter__(self) -> ChatTransport:
        import aiohttp

        connector = aiohttp.TCPConnector(limit=self.options.concurrency, limit_per_host=0, ttl_dns_cache=300)
        headers = self.backend.headers() | {"Content-Type": "application/json"}
        timeout = aiohttp.ClientTimeout(total=self.options.timeout_s)
        self.session = aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout)
        return self

    async def aclose(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None

    def window(self) -> int:
        return min(self.limits.window(), self.options.concurrency)

    def retry_delay(self, tries: int, after: float | None) -> float:
        if after is not None:
            return min(after, self.options.max_retry_after_s)
        return random.uniform(0, self.options.backoff_s * 2 ** (tries - 1))

    async def send(self, prompts: list[Prompt]) -> list[Outcome]:
        return [await self.request(prompt) for prompt in prompts]

    async def request(self, prompt: Prompt) -> Outcome:
        import aiohttp

        data = json.dumps(self.backend.request_body(prompt), ensure_ascii=False).encode("utf-8")
        estimate = len(data) // 4 + self.options.max_tokens
        while (wait := self.limits.reserve(estimate)) is None:
            await asyncio.sleep(HORIZON)
        booked_at = time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        started = time.perf_counter()
        try:
            async with self.session.post(self.urls[prompt.seed % len(self.urls)], data=data) as response:
                raw, status, headers = await response.read(), response.status, response.headers
        except TimeoutError:
            self.limits.overload()
            return Retry(f"timeout after {self.options.timeout_s:g} s")
        except (aiohttp.ClientError, ValueError) as error:  # refused, reset, a body cut short
            return Retry(f"transport: {type(error).__name__}: {error}")
        latency = time.perf_counter() - started
        if status in RETRYABLE_STATUS:
            if status == 429:
                self.limits.throttle(headers, booked_at)
            elif status in OVERLOAD_STATUS:
                self.limits.overload()
            return Retry(f"HTTP {status}", retry_after(headers))
        if status >= 400:  # will not get better by retrying: report it on the record
            message = " ".join(raw[:200].decode("utf-8", "replace").split())
            return Completion.failed(f"HTTP {status}: {message}", self.model_name, latency)
        return self.completion(raw, headers, latency, estimate)

    def completion(self, raw: bytes, headers: Mapping[str, str], latency: float, estimate: int) -> Outcome:
        try:
            payload = json.loads(raw)
            choice = payload["choices"][0]
            text = choice["message"]["content"] or ""
            usage = payload.get("usage") or {}
            tokens_in, tokens_out = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            return Retry(f"malformed response body: {type(error).__name__}: {error}")
        self.limits.success(latency, headers)
        self.limits.settle(estimate, tokens_in + tokens_out if usage else None)
        return Completion(
            text=text if isinstance(text, str) else str(text),
            finish_reason=choice.get("finish_reason") or "stop",
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_s=latency,
            model=str(payload.get("model") or self.model_name),
        )


def retry_after(headers: Mapping[str, str]) -> float | None:
    """The server's Retry-After in seconds (retry-after-ms first, then retry-after in seconds; a date: None)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None
