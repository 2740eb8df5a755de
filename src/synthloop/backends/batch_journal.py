"""The batch backend's journal: what was submitted, under which ids, and what came back, kept in the run folder.

One small JSON file per batch (`batches/<key>.json`: its custom_ids, round, input file id, batch id, status) is
written atomically *before* each step that costs money or time (upload, create, wait), so a process killed at any
point and rerun finds the batch again instead of submitting it twice. Results, once downloaded and parsed, go to
`batches/<key>.results.json` before the batch is marked collected; they are dropped when the whole run is done.
`parse_results` turns a batch's output and error files into one outcome per custom_id (pure, tested alone). The
journal is shared by the calls of several batches in flight at once: the backend holds its lock while it changes
it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from synthloop.store.atomic import atomic_write_json

# prepared (journaled, not uploaded) -> uploaded (input file id known) -> a server status (validating, in_progress,
# finalizing, completed, failed, expired, cancelling, cancelled) -> collected (outcomes saved).
PREPARED, UPLOADED, COLLECTED = "prepared", "uploaded", "collected"


@dataclass
class BatchState:
    key: str
    round: int  # 0 for a first submission; n for the n-th resubmission of failed or expired requests
    custom_ids: list[str]
    status: str = PREPARED
    input_file_id: str | None = None
    batch_id: str | None = None
    submitted_at: float | None = None  # unix seconds when this run created (or found) the batch
    output_file_id: str | None = None
    error_file_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the batch's own error message when it failed


class BatchJournal:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.states: dict[str, BatchState] = {}
        self.latest: dict[str, str] = {}  # custom_id -> key of the newest batch holding it
        self.rounds: dict[str, int] = {}  # custom_id -> how many batches held it
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.json")):
                if path.name.endswith(".results.json") or path.name.startswith("."):
                    continue
                self._index(BatchState(**json.loads(path.read_text(encoding="utf-8"))))

    def _index(self, state: BatchState) -> None:
        known = state.key in self.states
        self.states[state.key] = state
        for custom_id in state.custom_ids:
            if not known:
                self.rounds[custom_id] = self.rounds.get(custom_id, 0) + 1
            current = self.states.get(self.latest.get(custom_id, ""))
            if current is None or current.round <= state.round:
                self.latest[custom_id] = state.key

    def save(self, state: BatchState) -> None:
        atomic_write_json(self.folder / f"{state.key}.json", asdict(state), indent=None)
        self._index(state)

    def forget(self, key: str) -> None:
        """Drop a batch that was journaled but never uploaded (its requests will be grouped anew)."""
        state = self.states.pop(key)
        (self.folder / f"{key}.json").unlink(missing_ok=True)
        for custom_id in state.custom_ids:
            self.rounds[custom_id] -= 1
            if self.latest.get(custom_id) == key:
                del self.latest[custom_id]
                holders = [s for s in self.states.values() if custom_id in s.custom_ids]
                if holders:
                    self.latest[custom_id] = max(holders, key=lambda s: s.round).key

    def save_outcomes(self, key: str, outcomes: dict[str, dict[str, Any]]) -> None:
        atomic_write_json(self.folder / f"{key}.results.json", outcomes, indent=None)

    def outcomes(self, key: str) -> dict[str, dict[str, Any]]:
        loaded: dict[str, dict[str, Any]] = json.loads((self.folder / f"{key}.results.json").read_text("utf-8"))
        return loaded

    def drop_outcomes(self) -> None:
        for path in self.folder.glob("*.results.json"):
            path.unlink(missing_ok=True)


def failure(message: str) -> dict[str, Any]:
    return {"error": message}


def parse_results(
    output: bytes | None, errors: bytes | None, wanted: list[str], where: str
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """One outcome per wanted custom_id from a batch's output and error files, and one-line notes on what was
    wrong with them. An outcome is {"text", "finish_reason", "tokens_in", "tokens_out", "model"} or {"error"}.
    A line that is not JSON, or names a custom_id no request of this batch has, is counted in a note and
    skipped; a request with no usable line at all gets an error outcome (so it is resubmitted, never lost)."""
    wanted_set = set(wanted)
    outcomes: dict[str, dict[str, Any]] = {}
    bad: dict[str, list[tuple[str, int]]] = {
        "that do not parse as JSON with a custom_id": [],
        "with a custom_id that matches no request": [],
    }
    for name, content in (("output", output), ("error", errors)):
        for number, line in enumerate((content or b"").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                custom_id = item["custom_id"]
            except (ValueError, KeyError, TypeError):
                bad["that do not parse as JSON with a custom_id"].append((name, number))
                continue
            if custom_id not in wanted_set:
                bad["with a custom_id that matches no request"].append((name, number))
                continue
            outcome = outcome_of(item)
            if "error" not in outcome or custom_id not in outcomes:  # a success wins over an error line
                outcomes[custom_id] = outcome
    notes = [
        f"openai-batch: {where}: {len(lines)} result line(s) {kind} (first: {lines[0][0]} file line {lines[0][1]}); "
        + ("ignored" if kind.startswith("with") else "requests without a result are resubmitted")
        for kind, lines in bad.items()
        if lines
    ]
    for custom_id in wanted:
        outcomes.setdefault(custom_id, failure("no result for this request in the batch's output or error file"))
    return outcomes, notes


def readable_ids(content: bytes | None, wanted: set[str]) -> set[str]:
    """The wanted custom_ids that have a line that parses in a result file (what the batch's request_counts are
    checked against before anything is resubmitted)."""
    found: set[str] = set()
    for line in (content or b"").splitlines():
        try:
            custom_id = json.loads(line)["custom_id"]
        except (ValueError, KeyError, TypeError):
            continue
        if custom_id in wanted:
            found.add(custom_id)
    return found


def outcome_of(item: dict[str, Any]) -> dict[str, Any]:
    """One result line -> an outcome; an HTTP error, a missing choice or an empty completion is a failure."""
    if item.get("error"):
        error = item["error"]
        return failure(
            f"{error.get('code', 'error')}: {error.get('message', '')}" if isinstance(error, dict) else str(error)
        )
    response = item.get("response") or {}
    body = response.get("body") if isinstance(response, dict) else None
    status = response.get("status_code") if isinstance(response, dict) else None
    if status != 200 or not isinstance(body, dict):
        message = body.get("error") if isinstance(body, dict) else None
        return failure(f"HTTP {status}: {str(message)[:200]}")
    try:
        choice = body["choices"][0]
        text = choice["message"]["content"] or ""
    except (KeyError, IndexError, TypeError):
        return failure("malformed response body (no choices[0].message.content)")
    if not text.strip():
        return failure("empty completion")
    usage = body.get("usage") or {}
    return {
        "text": text,
        "finish_reason": choice.get("finish_reason") or "stop",
        "tokens_in": int(usage.get("prompt_tokens") or 0),
        "tokens_out": int(usage.get("completion_tokens") or 0),
        "model": str(body.get("model") or ""),
    }
