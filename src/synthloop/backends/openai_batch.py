"""`openai-batch`: the same requests as the `openai` backend, sent through an OpenAI-compatible batch API
(half the price at OpenAI, results within `completion_window`).

The engine hands the backend up to `requests_per_batch` prompts per call, `batches_in_flight` calls at once (each
in a thread of its own, sharing one journal under a lock). A call's requests are written as JSONL (one line per
prompt, `custom_id` = prompt id and seed), split to respect the API's per-file limits (50,000 requests, 200 MB),
uploaded, and the batches created; the journal (batch_journal.py) records each batch before every step that waits
or spends, so a run killed before the upload, after the create, while polling or while downloading, and rerun,
continues the same batches. It polls them all with backoff, downloads each output and error file (checked against
Content-Length and the File object's `bytes`, downloaded again when short), checks that every request the batch
counts as completed has its result, maps results back by custom_id, and resubmits only the requests that failed
or expired, at most `max_resubmits` times; a request still failing then comes back as a failed Completion with
its reason. A result that cannot be verified stops the run with one line and is never resubmitted (a rerun
downloads it again): no request that succeeded is paid twice. A batch unfinished `deadline_s` after it was
submitted stops the run with one line (nothing is lost: raise the deadline and rerun to keep waiting).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from synthloop.backends.base import Completion, Prompt, ThreadTransport
from synthloop.backends.batch_client import TERMINAL, BatchClient
from synthloop.backends.batch_journal import (
    COLLECTED,
    PREPARED,
    UPLOADED,
    BatchJournal,
    BatchState,
    failure,
    parse_results,
    readable_ids,
)
from synthloop.backends.openai import OpenAIBackend, OpenAIOptions
from synthloop.errors import UserError
from synthloop.records import stable_id

ENDPOINT = "/v1/chat/completions"
MAX_REQUESTS = 50_000  # the batch API's limits per input file
MAX_FILE_BYTES = 200 * 1024 * 1024


class OpenAIBatchOptions(OpenAIOptions):
    completion_window: str = Field("24h", description="the batch's completion window (OpenAI offers only 24h)")
    poll_s: float = Field(10.0, gt=0, description="first wait between status checks (s); grows 1.5x per check")
    max_poll_s: float = Field(300.0, gt=0, description="longest wait between two checks (s)")
    deadline_s: float | None = Field(
        26 * 3600.0, gt=0, description="a batch unfinished this long (s) after submission stops the run"
    )
    max_resubmits: int = Field(2, ge=0, le=20, description="new batches for failed/expired requests, per request")
    requests_per_batch: int = Field(
        10_000, ge=1, le=MAX_REQUESTS, description="prompts per batch (the API allows at most 50,000 per file)"
    )
    batches_in_flight: int = Field(4, ge=1, le=256, description="batches submitted and awaited at once")


def custom_id(prompt: Prompt) -> str:
    return f"{prompt.id}-{prompt.seed}"


def jsonl_line(cid: str, body: dict[str, Any]) -> str:
    return json.dumps({"custom_id": cid, "method": "POST", "url": ENDPOINT, "body": body}, ensure_ascii=False) + "\n"


class OpenAIBatchBackend(OpenAIBackend):
    name = "openai-batch"
    Options = OpenAIBatchOptions
    options: OpenAIBatchOptions
    non_content = OpenAIBackend.non_content | {
        "completion_window",
        "poll_s",
        "max_poll_s",
        "deadline_s",
        "max_resubmits",
        "requests_per_batch",
        "batches_in_flight",
    }
    uses_batch_api = True

    def __init__(self, options: OpenAIBatchOptions) -> None:
        super().__init__(options)
        self.folder: Path | None = None
        self.journal: BatchJournal | None = None
        self.client: BatchClient | None = None
        self.lock = threading.RLock()  # the journal, shared by the batches in flight
        self.stopping = threading.Event()  # the run stopped: threads still polling give up

    def urls(self) -> list[str]:
        urls = super().urls()
        if len(urls) != 1:
            raise UserError("backend.options.base_url: openai-batch sends every batch to one server; give one URL")
        return urls

    def transport(self, batch_size: int = 1) -> ThreadTransport:  # type: ignore[override]
        self.stopping.clear()
        o = self.options
        transport = ThreadTransport(self.generate, o.requests_per_batch, o.batches_in_flight, self.stopping.set)
        transport.model_name = self.model_name
        return transport

    def attach(self, folder: Path) -> None:
        self.folder = Path(folder) / "batches"

    def complete(self) -> None:
        if self.folder is not None and self.folder.is_dir():
            BatchJournal(self.folder).drop_outcomes()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _setup(self) -> tuple[BatchJournal, BatchClient]:
        if self.folder is None:
            raise UserError("backend openai-batch keeps its batches in the run folder: use it from synthloop generate")
        with self.lock:
            if self.journal is None:
                self.journal = BatchJournal(self.folder)
            if self.client is None:
                o = self.options
                self.client = BatchClient(
                    self.urls()[0], self.headers(), o.timeout_s, o.max_retries, o.backoff_s, o.max_retry_after_s
                )
        return self.journal, self.client

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        journal, client = self._setup()
        bodies = {custom_id(p): self.request_body(p) for p in prompts}
        final: dict[str, Completion] = {}
        while len(final) < len(bodies):
            with self.lock:
                submit, waiting = self._sort(journal, bodies, final)
                waiting += self._prepare(journal, submit, bodies)
                waiting = list(dict.fromkeys(waiting))
                for key in waiting:
                    self._submit(journal, client, key, bodies)
            self._await(journal, client, waiting)
        return [final[custom_id(p)] for p in prompts]

    def _sort(
        self, journal: BatchJournal, bodies: dict[str, dict[str, Any]], final: dict[str, Completion]
    ) -> tuple[list[str], list[str]]:
        """Which requests need a (new) batch, and which batches to wait for; fills `final` with finished ones."""
        submit: list[str] = []
        waiting: list[str] = []
        read: dict[str, dict[str, dict[str, Any]]] = {}  # outcomes of the batches this pass reads
        for cid in bodies:
            if cid in final:
                continue
            key = journal.latest.get(cid)
            state = journal.states.get(key or "")
            if state is not None and state.status == PREPARED and not set(state.custom_ids) <= bodies.keys():
                journal.forget(state.key)  # journaled by a differently grouped call, never uploaded
                state = None
            if state is None:
                submit.append(cid)
            elif state.status != COLLECTED:
                waiting.append(state.key)
            else:
                if state.key not in read:
                    read[state.key] = journal.outcomes(state.key)
                outcome = read[state.key][cid]
                if "error" not in outcome:
                    final[cid] = self._completion(outcome, state)
                elif journal.rounds.get(cid, 0) > self.options.max_resubmits:
                    reason = f"batch {state.batch_id}: {outcome['error']} (after {journal.rounds[cid]} batches)"
                    final[cid] = Completion.failed(reason, self.model_name)
                else:
                    submit.append(cid)
        return submit, waiting

    def _completion(self, outcome: dict[str, Any], state: BatchState) -> Completion:
        seconds = float(state.extra.get("seconds", 0.0))
        return Completion(
            outcome["text"],
            outcome["finish_reason"],
            outcome["tokens_in"],
            outcome["tokens_out"],
            seconds / max(1, len(state.custom_ids)),
            outcome.get("model") or self.model_name,
        )

    def _prepare(self, journal: BatchJournal, submit: list[str], bodies: dict[str, Any]) -> list[str]:
        """Journal the requests to submit as batches within the API's per-file limits; their keys."""
        keys: list[str] = []
        chunk: list[str] = []
        size = 0
        for cid in sorted(submit):
            line = len(jsonl_line(cid, bodies[cid]).encode("utf-8"))
            if chunk and (len(chunk) >= self.options.requests_per_batch or size + line > MAX_FILE_BYTES):
                keys.append(self._journal_batch(journal, chunk))
                chunk, size = [], 0
            chunk.append(cid)
            size += line
        if chunk:
            keys.append(self._journal_batch(journal, chunk))
        return keys

    def _journal_batch(self, journal: BatchJournal, chunk: list[str]) -> str:
        round_ = max(journal.rounds.get(cid, 0) for cid in chunk)
        key = f"r{round_}-" + stable_id(round_, *chunk)
        if key not in journal.states:
            journal.save(BatchState(key=key, round=round_, custom_ids=chunk))
        return key

    def _submit(self, journal: BatchJournal, client: BatchClient, key: str, bodies: dict[str, Any]) -> None:
        """Take a journaled batch through upload and create (each step journaled before the next)."""
        state = journal.states[key]
        if state.status == PREPARED:
            content = "".join(jsonl_line(cid, bodies[cid]) for cid in state.custom_ids).encode("utf-8")
            state.input_file_id = client.upload(f"synthloop-{key}.jsonl", content)
            state.status = UPLOADED
            journal.save(state)
        if state.status == UPLOADED:
            assert state.input_file_id is not None
            batch = client.find_or_create(
                state.input_file_id, ENDPOINT, self.options.completion_window, {"synthloop_batch": key}
            )
            state.batch_id, state.status, state.submitted_at = str(batch["id"]), str(batch["status"]), time.time()
            journal.save(state)
            self.log(
                f"openai-batch: submitted batch {state.batch_id} ({len(state.custom_ids)} requests, "
                f"round {state.round}); journal {journal.folder / (key + '.json')}"
            )

    def _await(self, journal: BatchJournal, client: BatchClient, keys: list[str]) -> None:
        """Poll every batch of `keys` (with backoff) until each is finished and collected."""
        pending = [key for key in keys if journal.states[key].status != COLLECTED]
        delay = self.options.poll_s
        while pending:
            for key in list(pending):
                state = journal.states[key]
                assert state.batch_id is not None
                batch = client.retrieve(state.batch_id)
                if batch["status"] in TERMINAL:
                    with self.lock:
                        self._collect(journal, client, state, batch)
                    pending.remove(key)
                else:
                    self._check_deadline(state, batch)
            if pending:
                if self.stopping.wait(delay):
                    raise UserError("openai-batch: the run stopped while batches were pending; rerun to continue")
                delay = min(delay * 1.5, self.options.max_poll_s)

    def _check_deadline(self, state: BatchState, batch: dict[str, Any]) -> None:
        age = time.time() - (state.submitted_at or time.time())
        deadline = self.options.deadline_s
        if deadline is not None and age > deadline:
            raise UserError(
                f"openai-batch: batch {state.batch_id} is still {batch['status']} {age:.0f} s after it was "
                f"submitted (backend.options.deadline_s = {deadline:g}); nothing is lost: raise the deadline "
                "and rerun the same command to keep waiting for it"
            )

    def _collect(self, journal: BatchJournal, client: BatchClient, state: BatchState, batch: dict[str, Any]) -> None:
        state.output_file_id, state.error_file_id = batch.get("output_file_id"), batch.get("error_file_id")
        where = f"batch {state.batch_id} ({batch['status']})"
        if batch["status"] == "failed" and not state.output_file_id:
            errors = ((batch.get("errors") or {}).get("data") or [{}])[0]
            message = f"batch failed: {errors.get('code', '')} {errors.get('message', '')}".strip()
            outcomes = {cid: failure(message) for cid in state.custom_ids}
            self.log(f"openai-batch: {where}: {message}; its requests are resubmitted (bounded)")
        else:
            output = self._verified_output(client, state, batch, where)
            errors_file = client.content(state.error_file_id) if state.error_file_id else None
            outcomes, notes = parse_results(output, errors_file, state.custom_ids, where)
            for note in notes:
                self.log(note)
        if batch.get("completed_at") and batch.get("created_at"):
            state.extra["seconds"] = float(batch["completed_at"]) - float(batch["created_at"])
        journal.save_outcomes(state.key, outcomes)
        state.status = COLLECTED
        journal.save(state)

    def _verified_output(
        self, client: BatchClient, state: BatchState, batch: dict[str, Any], where: str
    ) -> bytes | None:
        """The output file, holding a result for every request the batch counts as completed (downloaded again
        while it does not); a result that stays missing stops the run rather than being paid for twice."""
        completed = (batch.get("request_counts") or {}).get("completed")
        wanted = set(state.custom_ids)
        found = 0
        for _ in range(self.options.max_retries + 1):
            output = client.content(state.output_file_id) if state.output_file_id else None
            found = len(readable_ids(output, wanted))
            if not isinstance(completed, int) or found >= completed:
                return output
        raise UserError(
            f"openai-batch: {where} counts {completed} completed requests but its output file holds "
            f"{found} readable results (downloaded {self.options.max_retries + 1} times); nothing was "
            "resubmitted: rerun the same command to download it again"
        )
