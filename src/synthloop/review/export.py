"""`synthloop review export`: the stories with every reviewer decision, for use in other tools.

- `jsonl`: one line per story — the Record's fields plus `decisions` (every decision, in order) and `verdicts`
  (each reviewer's latest verdict).
- `argilla`: a folder in the layout Argilla 2.x loads (`settings.json` with the fields and questions,
  `records.jsonl` with one record per story: fields, metadata, and each reviewer's answers as `responses` keyed by
  question), so a team can continue the review there (`rg.Dataset.from_disk`-style import, or log the records).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthloop.review.apply import open_review
from synthloop.review.choices import FORMATS
from synthloop.review.store import REASONS, Decision, latest_verdicts
from synthloop.store.atomic import atomic_write_json, atomic_write_text

ARGILLA_SETTINGS = {
    "guidelines": "Accept a story a young child could read that uses the required words; reject it with a reason.",
    "fields": [
        {"name": "prompt", "type": "text", "required": True},
        {"name": "story", "type": "text", "required": True, "use_markdown": False},
    ],
    "questions": [
        {"name": "verdict", "type": "label_selection", "labels": ["accept", "reject"], "required": True},
        {"name": "reason", "type": "label_selection", "labels": list(REASONS), "required": False},
        {"name": "edited_story", "type": "text", "required": False},
        {"name": "note", "type": "text", "required": False},
    ],
    "metadata": [
        {"name": "noun", "type": "terms"},
        {"name": "verb", "type": "terms"},
        {"name": "adjective", "type": "terms"},
        {"name": "features", "type": "terms"},
        {"name": "part", "type": "terms"},
    ],
}


def argilla_record(record: Any, part: str, verdicts: dict[str, Decision]) -> dict[str, Any]:
    responses: dict[str, list[dict[str, Any]]] = {}
    for reviewer, decision in sorted(verdicts.items()):
        answer = "reject" if decision.action == "reject" else "accept"
        responses.setdefault("verdict", []).append({"value": answer, "user_id": reviewer})
        if decision.reason:
            responses.setdefault("reason", []).append({"value": decision.reason, "user_id": reviewer})
        if decision.action == "edit" and decision.text:
            responses.setdefault("edited_story", []).append({"value": decision.text, "user_id": reviewer})
        if decision.note:
            responses.setdefault("note", []).append({"value": decision.note, "user_id": reviewer})
    metadata = {role: [word] for role, word in record.words.items()} | {"features": record.features, "part": [part]}
    return {
        "id": record.id,
        "fields": {"prompt": record.prompt, "story": record.text},
        "metadata": metadata,
        "responses": responses,
        "status": "completed" if verdicts else "pending",
    }


def export(dataset_path: Path, out: Path, fmt: str, db_path: Path | None = None) -> int:
    from synthloop.errors import UserError

    if fmt not in FORMATS:
        raise UserError(f"--format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    if fmt == "jsonl" and out.is_dir():
        raise UserError(f"--out {out}: is a folder; name the .jsonl file to write")
    if fmt == "argilla" and out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder (argilla writes a folder)")
    source, store = open_review(dataset_path, db_path)
    decisions = store.decisions()
    verdicts = latest_verdicts(decisions)
    by_item: dict[str, list[Decision]] = {}
    for d in decisions:
        by_item.setdefault(d.item_id, []).append(d)
    lines = []
    for part in ("data", "excluded"):
        for record in source.iter_records(part):
            if fmt == "argilla":
                row = argilla_record(record, part, verdicts.get(record.id, {}))
            else:
                row = record.to_row() | {"part": part, "params": record.params, "meta": record.meta}
                row["decisions"] = [d.as_dict() for d in by_item.get(record.id, [])]
                row["verdicts"] = {name: d.action for name, d in sorted(verdicts.get(record.id, {}).items())}
            lines.append(json.dumps(row, ensure_ascii=False, sort_keys=True))
    body = "\n".join(lines) + ("\n" if lines else "")
    if fmt == "argilla":
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(out / "settings.json", ARGILLA_SETTINGS, sort_keys=False)
        atomic_write_text(out / "records.jsonl", body)
    else:
        atomic_write_text(out, body)
    return len(lines)
