"""A small client for the OpenAI batch protocol: upload a JSONL file, create a batch, retrieve, list, cancel, and
download a file's content (verified against what the server says the file holds).

Transient failures (429, 5xx, timeouts, dropped connections, a body that is not JSON) are retried with exponential
backoff and jitter, honouring Retry-After; after `max_retries` the call raises UserError naming the request, so
the run stops with one line and a rerun continues from the journal. A 4xx that retrying cannot fix (401, 404,
400) raises UserError at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from synthloop.errors import UserError

RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}
TERMINAL = {"completed", "failed", "expired", "cancelled"}  # a batch in any other status is still running


class Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BatchClient:
    def __init__(
        self,
        base_url: str,
        headers: dict[str, str],
        timeout_s: float,
        max_retries: int,
        backoff_s: float,
        max_retry_after_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.backoff_s = backoff_s
        self.max_retry_after_s = max_retry_after_s
        self.sleep = sleep
        self.http = httpx.Client(timeout=httpx.Timeout(timeout_s), headers=headers)

    def close(self) -> None:
        self.http.close()

    def upload(self, name: str, content: bytes) -> str:
        """POST /files (purpose "batch"); returns the file id."""
        files = {"file": (name, content, "application/jsonl")}
        payload = self._call("POST", "/files", files=files, data={"purpose": "batch"})
        return str(self._field(payload, "id", "POST /files"))

    def find_or_create(
        self, input_file_id: str, endpoint: str, window: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        """The batch made from this input file: found if it exists, else created. A create that timed out may
        still have made the batch, so each retry looks for it first: a batch is never created twice."""
        body = {"input_file_id": input_file_id, "endpoint": endpoint, "completion_window": window, "metadata": metadata}
        last = ""
        for attempt in range(self.max_retries + 1):
            found = self.find_by_input_file(input_file_id)
            if found is not None:
                return found
            try:
                response = self._once("POST", "/batches", json=body)
            except Transient as error:
                last = str(error)
                if attempt < self.max_retries:
                    self.sleep(self._delay(attempt, error.retry_after))
                continue
            payload = self._decode(response, "POST", "/batches")
            self._field(payload, "id", "POST /batches")
            return payload
        raise UserError(
            f"openai-batch: POST {self.base_url}/batches failed {self.max_retries + 1} times ({last}); "
            "rerun the same command to continue"
        )

    def retrieve(self, batch_id: str) -> dict[str, Any]:
        payload = self._call("GET", f"/batches/{batch_id}")
        self._field(payload, "status", f"GET /batches/{batch_id}")
        return payload

    def cancel(self, batch_id: str) -> dict[str, Any]:
        return self._call("POST", f"/batches/{batch_id}/cancel")

    def find_by_input_file(self, input_file_id: str, pages: int = 20) -> dict[str, Any] | None:
        """The batch made from this input file, if one exists: how a run killed between creating a batch and
        journaling its id finds it again instead of paying twice (newest batches first, at most `pages` pages)."""
        after: str | None = None
        for _ in range(pages):
            params = {"limit": 100} | ({"after": after} if after else {})
            payload = self._call("GET", "/batches", params=params)
            batches = payload.get("data") or []
            for batch in batches:
                if isinstance(batch, dict) and batch.get("input_file_id") == input_file_id:
                    return batch
            if not payload.get("has_more") or not batches:
                return None
            after = str(batches[-1].get("id"))
        return None

    def file_bytes(self, file_id: str) -> int | None:
        """GET /files/{id}: the size the server says the file has (None when it does not say)."""
        try:
            payload = self._call("GET", f"/files/{file_id}")
        except UserError:  # a server without the File object (404): the download is checked by Content-Length
            return None
        size = payload.get("bytes")
        return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None

    def content(self, file_id: str) -> bytes:
        """GET /files/{id}/content, checked against the response's Content-Length and the File object's `bytes`,
        and downloaded again while short; a file that stays short raises UserError (the run stops; a rerun
        downloads it again), so a cut download is never read as requests without results."""
        expected = self.file_bytes(file_id)
        got = declared = 0
        for attempt in range(self.max_retries + 1):
            response = self._request("GET", f"/files/{file_id}/content")
            data, length = response.content, response.headers.get("content-length")
            got, declared = len(data), int(length) if length and length.isdigit() else -1
            cut = declared >= 0 and response.num_bytes_downloaded < declared
            if not cut and (expected is None or got == expected):
                return data
            if attempt < self.max_retries:
                self.sleep(self._delay(attempt, None))
        raise UserError(
            f"openai-batch: file {file_id} downloaded short {self.max_retries + 1} times ({got} bytes; Content-Length "
            f"{declared}, the file object says {expected}); nothing was resubmitted: rerun the same command to "
            "download it again"
        )

    def _field(self, payload: dict[str, Any], name: str, what: str) -> Any:
        if name not in payload:
            raise UserError(f"openai-batch: {what} answered without {name!r}: {str(payload)[:200]}")
        return payload[name]

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._decode(self._request(method, path, **kwargs), method, path)

    def _decode(self, response: httpx.Response, method: str, path: str) -> dict[str, Any]:
        try:
            payload = response.json()
        except ValueError as error:
            raise UserError(f"openai-batch: {method} {path} answered a body that is not JSON") from error
        if not isinstance(payload, dict):
            raise UserError(f"openai-batch: {method} {path} answered {type(payload).__name__}, expected an object")
        return payload

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        last = ""
        for attempt in range(self.max_retries + 1):
            try:
                return self._once(method, path, **kwargs)
            except Transient as error:
                last = str(error)
                if attempt == self.max_retries:
                    break
                delay = (
                    error.retry_after
                    if error.retry_after is not None
                    else (random.uniform(0, self.backoff_s * 2**attempt))
                )
                self.sleep(min(delay, self.max_retry_after_s))
        raise UserError(
            f"openai-batch: {method} {self.base_url}{path} failed {self.max_retries + 1} times "
            f"({last}); rerun the same command to continue"
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after_s)
        return random.uniform(0, self.backoff_s * 2**attempt)

    def _once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self.http.request(method, self.base_url + path, **kwargs)
        except httpx.TimeoutException as error:
            raise Transient(f"timeout: {error!r}") from error
        except httpx.TransportError as error:
            raise Transient(f"transport: {error!r}") from error
        if response.status_code in RETRYABLE_STATUS:
            raise Transient(f"HTTP {response.status_code}", _retry_after(response))
        if response.status_code >= 400:
            raise UserError(
                f"openai-batch: {method} {self.base_url}{path} answered HTTP {response.status_code}: "
                f"{' '.join(response.text[:200].split())}"
            )
        return response


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None
