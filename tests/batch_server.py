"""A local OpenAI-compatible batch API server on 127.0.0.1, for the batch backend's tests and the crash harness.

It speaks the protocol the backend uses (POST /v1/files multipart, GET /v1/files/{id}/content, POST /v1/batches,
GET /v1/batches[/{id}], POST /v1/batches/{id}/cancel, GET /v1/models) and answers bad requests with 4xx JSON,
never 5xx. A batch moves validating -> in_progress -> completed on successive status checks (a count, not a clock,
so tests are repeatable) and ends as scripted: `outcomes[i]` for the i-th batch created ("completed", "failed",
"expired", "never" = stays in_progress); `error_mod` / `empty_mod` make a request whose seed is divisible by it
fail (error file) / come back empty the first time it is seen; `garbage` and `foreign` add a line that is not JSON
and one with an unknown custom_id to the first output file; `fail_create_once` creates the first batch and answers
503; `short_downloads` cuts each file's first downloads short (and says so in Content-Length: only GET
/v1/files/{id}'s `bytes` tells); `lose_results` leaves half the first batch's results out of its output file while
its request_counts still count them. `pause_at` ("upload", "create", "poll", "download")
holds the first such request after the server has acted on it (half the download sent) until `release` is set,
so a test can SIGKILL the client exactly there. It counts, per custom_id, how many batches held it.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import default as email_policy
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from loopback import loopback_http
from scripted_backend import story, words_in
from synthloop.backends.base import Prompt

POLLS_IN_PROGRESS = 2  # status checks a batch spends in_progress


@dataclass
class BatchServerState:
    outcomes: list[str] = field(default_factory=list)
    error_mod: int = 0
    empty_mod: int = 0
    garbage: bool = False
    foreign: bool = False
    pause_at: str | None = None
    fail_create_once: bool = False  # create the first batch, then answer 503 (a create whose answer was lost)
    short_downloads: int = 0  # the first downloads of each file are cut (with a matching Content-Length)
    lose_results: bool = False  # the first batch's output file holds half the results its counts promise
    downloads: dict[str, int] = field(default_factory=dict)  # file id -> times downloaded
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, int] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)  # custom_ids answered once (error_mod/empty_mod fail only those)
    submissions: dict[str, int] = field(default_factory=dict)  # custom_id -> batches that held it

    def pause(self, point: str) -> bool:
        with self.lock:
            if self.pause_at != point:
                return False
            self.pause_at = None
        self.reached.set()
        self.release.wait(30)
        return True

    def new_id(self, prefix: str) -> str:
        return f"{prefix}-{len(self.files) + len(self.batches) + 1:04d}"


def answer(state: BatchServerState, line: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """(result line, goes to the error file) for one request line."""
    cid, body = line["custom_id"], line["body"]
    seed = int(body.get("seed", 0))
    first = cid not in state.seen
    state.seen.add(cid)
    if first and state.error_mod and seed % state.error_mod == 0:
        error = {"status_code": 500, "request_id": "r", "body": {"error": {"message": "injected"}}}
        return {"id": "req", "custom_id": cid, "response": error, "error": None}, True
    text = (
        ""
        if first and state.empty_mod and seed % state.empty_mod == 0
        else story(seed, words_in(Prompt(cid, body["messages"], seed)))
    )
    usage = {"prompt_tokens": 40, "completion_tokens": len(text.split())}
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    response = {"status_code": 200, "request_id": "r", "body": {"model": "batchy", "usage": usage, "choices": [choice]}}
    return {"id": "req", "custom_id": cid, "response": response, "error": None}, False


def finish(state: BatchServerState, batch: dict[str, Any], outcome: str) -> None:
    lines = [json.loads(x) for x in state.files[batch["input_file_id"]].splitlines() if x.strip()]
    batch["completed_at"] = batch["created_at"] + 60
    if outcome == "failed":
        batch["status"] = "failed"
        batch["errors"] = {"data": [{"code": "invalid_request", "message": "injected validation failure"}]}
        return
    output, errors = [], []
    for number, line in enumerate(lines):
        if outcome == "expired" and number % 2 == 1:
            errors.append(
                {
                    "id": "req",
                    "custom_id": line["custom_id"],
                    "response": None,
                    "error": {"code": "batch_expired", "message": "not done in time"},
                }
            )
            continue
        result, is_error = answer(state, line)
        (errors if is_error else output).append(result)
    text = "".join(json.dumps(x) + "\n" for x in output)
    if len(state.batches) == 1 and state.garbage:
        text += '{"custom_id": "cut short\n'
    if len(state.batches) == 1 and state.foreign:
        text += json.dumps({"custom_id": "nobody-0", "response": {"status_code": 200, "body": {}}}) + "\n"
    batch["status"] = "expired" if outcome == "expired" else "completed"
    batch["request_counts"] |= {"completed": len(output), "failed": len(errors)}
    if len(state.batches) == 1 and state.lose_results:  # the server counts results its file does not hold
        text = "".join(json.dumps(x) + "\n" for x in output[: len(output) // 2])
    for name, content in (("output_file_id", text), ("error_file_id", "".join(json.dumps(x) + "\n" for x in errors))):
        if content:
            file_id = state.new_id("file")
            state.files[file_id] = content.encode()
            batch[name] = file_id


def handler(state: BatchServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def reply(self, status: int, payload: Any) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def error(self, status: int, message: str) -> None:
            self.reply(status, {"error": {"message": message, "type": "invalid_request_error"}})

        def do_GET(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a killed client
                self.route_get(self.path.split("?")[0].rstrip("/"))

        def route_get(self, path: str) -> None:
            parts = path.split("/")  # ["", "v1", "files", id, "content"]
            if path == "/v1/models":
                self.reply(200, {"data": [{"id": "batchy"}]})
            elif path == "/v1/batches":
                with state.lock:
                    data = sorted(state.batches.values(), key=lambda b: b["id"], reverse=True)
                self.reply(200, {"object": "list", "data": data, "has_more": False})
            elif len(parts) == 4 and parts[2] == "batches":
                self.retrieve(parts[3])
            elif len(parts) == 5 and parts[2] == "files" and parts[4] == "content":
                self.download(parts[3])
            elif len(parts) == 4 and parts[2] == "files" and parts[3] in state.files:
                self.reply(200, {"id": parts[3], "object": "file", "bytes": len(state.files[parts[3]])})
            else:
                self.error(404, f"no route {path}")

        def retrieve(self, batch_id: str) -> None:
            with state.lock:
                batch = state.batches.get(batch_id)
                if batch is None:
                    return self.error(404, f"no batch {batch_id}")
                state.polls[batch_id] = polls = state.polls.get(batch_id, 0) + 1
                outcome = batch["_outcome"]
                if batch["status"] == "validating":
                    batch["status"] = "in_progress"
                elif batch["status"] == "in_progress" and outcome != "never" and polls > POLLS_IN_PROGRESS:
                    finish(state, batch, outcome)
                elif batch["status"] == "cancelling":
                    batch["status"] = "cancelled"
                snapshot = {k: v for k, v in batch.items() if not k.startswith("_")}
            if snapshot["status"] == "in_progress":
                state.pause("poll")
            self.reply(200, snapshot)

        def download(self, file_id: str) -> None:
            content = state.files.get(file_id)
            if content is None:
                return self.error(404, f"no file {file_id}")
            with state.lock:
                state.downloads[file_id] = state.downloads.get(file_id, 0) + 1
                short = state.downloads[file_id] <= state.short_downloads
            if short:  # a proxy that cuts the body yet says it is whole: only the file's `bytes` shows it
                content = content[: len(content) // 2]
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content[: len(content) // 2])
            self.wfile.flush()
            state.pause("download")
            self.wfile.write(content[len(content) // 2 :])

        def do_POST(self) -> None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.route_post(self.path.rstrip("/"))

        def route_post(self, path: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            parts = path.split("/")
            if path == "/v1/files":
                self.upload(raw)
            elif path == "/v1/batches":
                self.create(raw)
            elif len(parts) == 5 and parts[2] == "batches" and parts[4] == "cancel":
                with state.lock:
                    batch = state.batches.get(parts[3])
                    if batch is None:
                        return self.error(404, f"no batch {parts[3]}")
                    if batch["status"] not in ("completed", "failed", "expired", "cancelled"):
                        batch["status"] = "cancelling"
                    snapshot = {k: v for k, v in batch.items() if not k.startswith("_")}
                self.reply(200, snapshot)
            else:
                self.error(404, f"no route {path}")

        def upload(self, raw: bytes) -> None:
            head = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
            message = BytesParser(policy=email_policy).parsebytes(head + raw)
            fields = (
                {
                    part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                    for part in message.iter_parts()
                }
                if message.is_multipart()
                else {}
            )
            if fields.get("purpose") != b"batch" or not fields.get("file"):
                return self.error(400, "expected multipart fields purpose=batch and file")
            with state.lock:
                file_id = state.new_id("file")
                state.files[file_id] = fields["file"]
            state.pause("upload")
            self.reply(200, {"id": file_id, "object": "file", "purpose": "batch", "bytes": len(fields["file"])})

        def create(self, raw: bytes) -> None:
            try:
                body = json.loads(raw)
                file_id = body["input_file_id"]
            except (ValueError, KeyError, TypeError):
                return self.error(400, "expected JSON with input_file_id")
            if body.get("endpoint") != "/v1/chat/completions" or file_id not in state.files:
                return self.error(400, "unknown input_file_id or endpoint")
            try:
                lines = [json.loads(x) for x in state.files[file_id].splitlines() if x.strip()]
                ids = [line["custom_id"] for line in lines]
            except (ValueError, KeyError, TypeError):
                return self.error(400, "input file is not batch JSONL")
            with state.lock:
                outcome = (
                    state.outcomes[len(state.batches)] if len(state.batches) < len(state.outcomes) else ("completed")
                )
                batch_id = state.new_id("batch")
                for cid in ids:
                    state.submissions[cid] = state.submissions.get(cid, 0) + 1
                state.batches[batch_id] = {
                    "id": batch_id,
                    "object": "batch",
                    "status": "validating",
                    "input_file_id": file_id,
                    "created_at": 1_700_000_000,
                    "metadata": body.get("metadata") or {},
                    "_outcome": outcome,
                    "request_counts": {"total": len(ids)},
                }
                snapshot = {k: v for k, v in state.batches[batch_id].items() if not k.startswith("_")}
            state.pause("create")
            if state.fail_create_once:
                state.fail_create_once = False
                return self.error(503, "injected: the batch was created but this answer is lost")
            self.reply(200, snapshot)

    return Handler


@contextmanager
def batch_server(**settings: Any) -> Iterator[tuple[str, BatchServerState]]:
    state = BatchServerState(**settings)
    with loopback_http(handler(state)) as url:
        try:
            yield f"{url}/v1", state
        finally:
            state.release.set()  # before the shutdown: a request held at a hold point finishes


def batch_config(tmp_path: Path, url: str, n: int = 12, **options: object) -> Path:
    extra = "".join(f"{key} = {value!r}\n" for key, value in options.items())
    path = tmp_path / "batch.toml"
    path.write_text(
        f'[run]\nn = {n}\nseed = 7\nout = "{tmp_path / "out"}"\n[recipe]\nname = "tinystories"\n'
        f'[backend]\nname = "openai-batch"\n[backend.options]\nbase_url = "{url}"\nmodel = "gpt-4o-mini"\n'
        f"poll_s = 0.05\nmax_poll_s = 0.1\n{extra}"
        "[generate]\nshard_size = 6\nbatch_size = 6\nmax_attempts = 1\nmin_words = 0\nprogress = false\n",
        encoding="utf-8",
    )
    return path
