"""`openai-batch`: the same requests as the `openai` backend, sent through an OpenAI-compatible batch API
(half the price at OpenAI, results within `completion_window`).

Each backend call (set `generate.batch_size` to `generate.shard_size` to send a shard as one batch) becomes one
batch: its requests are written as JSONL (one line per prompt, `custom_id` = prompt id and seed), uploaded, and the
batch created; the journal (batch_journal.py) records the batch before every step that waits or spends, so a run
killed before the upload, after the create, while polling or while downloading, and rerun, continues the same
batch. It polls with backoff, downloads the output and error files, maps results back by custom_id, and
resubmits only the requests that failed or expired, at most `max_resubmits` times; a request still failing then
comes back as a failed Completion with its reason. A batch unfinished `deadline_s` after it was submitted stops
the run with one line (nothing is lost: raise the deadline and rerun to keep waiting).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from synthloop.backends.base import Completion, Prompt
from synthloop.backends.batch_client import TERMINAL, BatchClient
from synthloop.backends.batch_journal import (
    COLLECTED,
    PREPARED,
    UPLOADED,
    BatchJournal,
    BatchState,
    failure,
    parse_results,
)
from synthloop.backends.openai import OpenAIBackend, OpenAIOptions
from synthloop.errors import UserError
from synthloop.records import stable_id

ENDPOINT = "/v1/chat/completions"


class OpenAIBatchOptions(OpenAIOptions):
    completion_window: str = Field("24h", description="the batch's completion window (OpenAI offers only 24h)")
    poll_s: float = Field(10.0, gt=0, description="first wait between status checks (s); grows 1.5x per check")
    max_poll_s: float = Field(300.0, gt=0, description="longest wait between two checks (s)")
    deadline_s: float | None = Field(
        26 * 3600.0, gt=0, description="a batch unfinished this long (s) after submission stops the run"
    )
    max_resubmits: int = Field(2, ge=0, le=20, description="new batches for failed/expired requests, per request")


def custom_id(prompt: Prompt) -> str:
    return f"{prompt.id}-{prompt.seed}"


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
    }
    uses_batch_api = True  # cost accounting applies the price table's batch discount

    def __init__(self, options: OpenAIBatchOptions) -> None:
        super().__init__(options)
        self.folder: Path | None = None
        self.journal: BatchJournal | None = None
        self.client: BatchClient | None = None

    def urls(self) -> list[str]:
        urls = super().urls()
        if len(urls) != 1:
            raise UserError("backend.options.base_url: openai-batch sends every batch to one server; give one URL")
        return urls

    def attach(self, folder: Path) -> None:
        self.folder = Path(folder) / "batches"

    def complete(self) -> None:
        if self.folder is not None and self.folder.is_dir():
            BatchJournal(self.folder).drop_outcomes()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def log(self, message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    def _setup(self) -> tuple[BatchJournal, BatchClient]:
        if self.folder is None:
            raise UserError("backend openai-batch keeps its batches in the run folder: use it from synthloop generate")
        if self.journal is None:
            self.journal = BatchJournal(self.folder)
        if self.client is None:
            o = self.options
            self.client = BatchClient(
                self.urls()[0], self._headers(), o.timeout_s, o.max_retries, o.backoff_s, o.max_retry_after_s
            )
        return self.journal, self.client

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        journal, client = self._setup()
        journal.cache.clear()  # parsed results of the batches this call reads, not of the whole run
        bodies = {custom_id(p): self.request_body(p) for p in prompts}
        final: dict[str, Completion] = {}
        while len(final) < len(bodies):
            submit, waiting = self._sort(journal, bodies, final)
            if submit:
                waiting.append(self._prepare(journal, submit))
            for key in dict.fromkeys(waiting):
                self._advance(journal, client, key, bodies)
        return [final[custom_id(p)] for p in prompts]

    def _sort(
        self, journal: BatchJournal, bodies: dict[str, dict[str, Any]], final: dict[str, Completion]
    ) -> tuple[list[str], list[str]]:
        """Which requests need a (new) batch, and which batches to wait for; fills `final` with finished ones."""
        submit: list[str] = []
        waiting: list[str] = []
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
                outcome = journal.outcomes(state.key)[cid]
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

    def _prepare(self, journal: BatchJournal, submit: list[str]) -> str:
        round_ = max(journal.rounds.get(cid, 0) for cid in submit)
        key = f"r{round_}-" + stable_id(round_, *sorted(submit))
        if key not in journal.states:
            journal.save(BatchState(key=key, round=round_, custom_ids=sorted(submit)))
        return key

    def _advance(self, journal: BatchJournal, client: BatchClient, key: str, bodies: dict[str, Any]) -> None:
        """Take one batch from wherever the journal says it is to collected."""
        state = journal.states[key]
        if state.status == PREPARED:
            lines = [
                {"custom_id": cid, "method": "POST", "url": ENDPOINT, "body": bodies[cid]} for cid in state.custom_ids
            ]
            content = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode("utf-8")
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
        if state.status != COLLECTED:
            self._collect(journal, client, state, self._wait(journal, client, state))

    def _wait(self, journal: BatchJournal, client: BatchClient, state: BatchState) -> dict[str, Any]:
        assert state.batch_id is not None
        delay = self.options.poll_s
        batch = client.retrieve(state.batch_id)
        while batch["status"] not in TERMINAL:
            age = time.time() - (state.submitted_at or time.time())
            deadline = self.options.deadline_s
            if deadline is not None and age > deadline:
                raise UserError(
                    f"openai-batch: batch {state.batch_id} is still {batch['status']} {age:.0f} s after it was "
                    f"submitted (backend.options.deadline_s = {deadline:g}); nothing is lost: raise the deadline "
                    "and rerun the same command to keep waiting for it"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, self.options.max_poll_s)
            batch = client.retrieve(state.batch_id)
        return batch

    def _collect(self, journal: BatchJournal, client: BatchClient, state: BatchState, batch: dict[str, Any]) -> None:
        state.output_file_id, state.error_file_id = batch.get("output_file_id"), batch.get("error_file_id")
        where = f"batch {state.batch_id} ({batch['status']})"
        if batch["status"] == "failed" and not state.output_file_id:
            errors = ((batch.get("errors") or {}).get("data") or [{}])[0]
            message = f"batch failed: {errors.get('code', '')} {errors.get('message', '')}".strip()
            outcomes = {cid: failure(message) for cid in state.custom_ids}
            self.log(f"openai-batch: {where}: {message}; its requests are resubmitted (bounded)")
        else:
            output = client.content(state.output_file_id) if state.output_file_id else None
            errors_file = client.content(state.error_file_id) if state.error_file_id else None
            outcomes, notes = parse_results(output, errors_file, state.custom_ids, where)
            for note in notes:
                self.log(note)
        if batch.get("completed_at") and batch.get("created_at"):
            state.extra["seconds"] = float(batch["completed_at"]) - float(batch["created_at"])
        journal.save_outcomes(state.key, outcomes)
        state.status = COLLECTED
        journal.save(state)
