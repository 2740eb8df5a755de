"""Any OpenAI-compatible chat-completions server: vLLM, llama.cpp's server, Ollama, OpenAI itself.

Requests run concurrently under a semaphore (`concurrency`), so a batch never opens more connections than that.
Transient failures (429, 5xx, timeouts, dropped connections, malformed bodies) are retried with exponential
backoff and jitter, honouring a server's Retry-After (capped by `max_retry_after_s`); after `max_retries` the prompt
comes back as a Completion with finish_reason "error" and the last error, never as a missing row.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

import httpx
from pydantic import Field

from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.errors import UserError

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}


class OpenAIOptions(SamplingOptions):
    # One server, or several serving the same model: each prompt goes to base_url[seed % len] (spreads the load of
    # one process, or of many Ray workers, over the servers; a retry goes to the same server).
    base_url: str | list[str] = Field(
        "http://127.0.0.1:8080/v1", description="the server, or several serving the same model"
    )
    model: str = Field("default", description="the model name sent with each request")
    api_key_env: str = Field("OPENAI_API_KEY", description="the environment variable holding the key (may be unset)")
    concurrency: int = Field(8, ge=1, le=1024, description="requests in flight at once")
    timeout_s: float = Field(120.0, gt=0, description="seconds per request")
    max_retries: int = Field(5, ge=0, le=50, description="retries of a transient failure before the prompt fails")
    backoff_s: float = Field(0.5, ge=0, description="first backoff (s); doubles each retry, with full jitter")
    max_retry_after_s: float = Field(60.0, ge=0, description="never sleep longer than this for one Retry-After (s)")


class RetryableError(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIBackend(Backend[OpenAIOptions]):
    name = "openai"
    non_content = frozenset(
        {"base_url", "api_key_env", "concurrency", "timeout_s", "max_retries", "backoff_s", "max_retry_after_s"}
    )

    @property
    def model_name(self) -> str:
        return self.options.model

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.options.api_key_env, "")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def check(self) -> None:
        for base in self.urls():
            try:
                httpx.get(
                    base.rstrip("/") + "/models", headers=self._headers(), timeout=min(self.options.timeout_s, 10.0)
                )
            except httpx.HTTPError as error:
                raise UserError(f"backend.options.base_url: cannot reach {base} ({error})") from error

    def urls(self) -> list[str]:
        urls = [self.options.base_url] if isinstance(self.options.base_url, str) else list(self.options.base_url)
        if not urls:
            raise UserError("backend.options.base_url: give at least one server URL")
        return urls

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        return asyncio.run(self._generate_all(prompts))

    async def _generate_all(self, prompts: list[Prompt]) -> list[Completion]:
        limits = httpx.Limits(max_connections=self.options.concurrency)
        semaphore = asyncio.Semaphore(self.options.concurrency)
        timeout = httpx.Timeout(self.options.timeout_s)
        async with httpx.AsyncClient(timeout=timeout, limits=limits, headers=self._headers()) as client:
            return list(await asyncio.gather(*(self._one(client, semaphore, p) for p in prompts)))

    async def _one(self, client: httpx.AsyncClient, semaphore: asyncio.Semaphore, prompt: Prompt) -> Completion:
        body = self.request_body(prompt)
        servers = self.urls()
        url = servers[prompt.seed % len(servers)].rstrip("/") + "/chat/completions"
        last_error = ""
        started = time.perf_counter()
        for attempt in range(self.options.max_retries + 1):
            try:
                async with semaphore:
                    return await self._request(client, url, body, started)
            except RetryableError as error:
                last_error = str(error)
                if attempt == self.options.max_retries:
                    break
                await asyncio.sleep(self._delay(attempt, error.retry_after))
        reason = f"gave up after {self.options.max_retries + 1} attempts: {last_error}"
        return Completion.failed(reason, self.model_name, time.perf_counter() - started)

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

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.options.max_retry_after_s)
        return random.uniform(0, self.options.backoff_s * (2**attempt))

    async def _request(self, client: httpx.AsyncClient, url: str, body: dict[str, Any], started: float) -> Completion:
        try:
            response = await client.post(url, json=body)
        except httpx.TimeoutException as error:
            raise RetryableError(f"timeout: {error!r}") from error
        except httpx.TransportError as error:  # connection refused/reset, body cut short
            raise RetryableError(f"transport: {error!r}") from error
        if response.status_code in RETRYABLE_STATUS:
            raise RetryableError(f"HTTP {response.status_code}", _retry_after(response))
        if response.status_code >= 400:
            # 400/401/404 will not get better by retrying: report it on the record.
            reason = f"HTTP {response.status_code}: {response.text[:200]}"
            return Completion.failed(reason, self.model_name, time.perf_counter() - started)
        try:
            payload = response.json()
            choice = payload["choices"][0]
            text = choice["message"]["content"] or ""
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise RetryableError(f"malformed response body: {error!r}") from error
        usage = payload.get("usage") or {}
        return Completion(
            text=text,
            finish_reason=choice.get("finish_reason") or "stop",
            tokens_in=int(usage.get("prompt_tokens") or 0),
            tokens_out=int(usage.get("completion_tokens") or 0),
            latency_s=time.perf_counter() - started,
            model=str(payload.get("model") or self.model_name),
        )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # HTTP-date form: fall back to our own backoff
