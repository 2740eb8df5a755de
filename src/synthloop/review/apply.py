"""Flow back: reviewers' decisions applied to the dataset, and export for other tools.

`apply` writes a new dataset: a rejected story moves to excluded/ with the reason code `review.<reason>`, an
edited story carries the edited text under a new id whose `parent_id` is the original (which stays readable in
the source), with who/when in `meta["review"]`, and a filter-rejected story a reviewer accepted is rescued into
data/. Stories nobody decided pass through unchanged. When reviewers disagree, `on_conflict` decides: "reject"
(default: one reviewer's reject is enough to exclude), "accept", or "latest". The output folder is built under a
temporary name and renamed into place, so it either exists complete or not at all.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from synthloop.records import Record, stable_id
from synthloop.review.agreement import agreement
from synthloop.review.choices import CONFLICT_RULES
from synthloop.review.store import Decision, ReviewStore, default_db, latest_verdicts
from synthloop.store.atomic import atomic_write_json
from synthloop.store.dataset import Dataset, read_manifest

SHARD = 1000


def open_review(dataset_path: Path, db_path: Path | None) -> tuple[Dataset, ReviewStore]:
    from synthloop.errors import UserError

    source = Dataset.open(dataset_path)
    db = Path(db_path or default_db(source.root))
    if not db.is_file():
        raise UserError(f"{db}: no review database; review the dataset first (synthloop review --in {dataset_path})")
    return source, ReviewStore(db)


def final_verdict(by_reviewer: dict[str, Decision], on_conflict: str) -> Decision:
    ordered = sorted(by_reviewer.values(), key=lambda d: d.id)
    rejects = [d for d in ordered if d.action == "reject"]
    accepts = [d for d in ordered if d.action != "reject"]
    if not rejects or not accepts:
        return ordered[-1]
    if on_conflict == "reject":
        return rejects[-1]
    if on_conflict == "accept":
        return accepts[-1]
    return ordered[-1]


def reviewed(
    record: Record, part: str, verdict: Decision | None, edit: Decision | None, tags: list[str]
) -> tuple[str, Record]:
    """The record as the review leaves it, and the part it goes to."""
    if verdict is None:
        if tags:
            record.meta["review"] = {"status": "unreviewed", "tags": tags}
        return part, record
    info: dict[str, Any] = {
        "status": verdict.action,
        "reviewer": verdict.reviewer,
        "at": verdict.created_at,
        "decision": verdict.id,
        "tags": tags,
    }
    if verdict.action == "reject":
        info.update(reason=verdict.reason, note=verdict.note)
        record.flags = [*record.flags, f"review.{verdict.reason}"]
        record.meta["review"] = info
        return "excluded", record
    if part == "excluded":
        info.update(status="rescued", overridden_flags=record.flags)
        record.flags = []
    if edit is not None:
        info.update(status="edited", editor=edit.reviewer, edited_at=edit.created_at, edit_decision=edit.id)
        original_id = record.id
        record.id = stable_id(original_id, "review-edit", edit.id)
        record.parent_id = original_id
        record.text = edit.text or record.text
    record.meta["review"] = info
    return "data", record


def apply_review(
    dataset_path: Path, out: Path, db_path: Path | None = None, on_conflict: str = "reject"
) -> dict[str, Any]:
    from synthloop.errors import UserError

    if on_conflict not in CONFLICT_RULES:
        raise UserError(f"--on-conflict: expected one of {', '.join(CONFLICT_RULES)}, got {on_conflict!r}")
    source, store = open_review(dataset_path, db_path)
    out = Path(out)
    if out.resolve() == source.root.resolve():
        raise UserError(f"--out {out}: must differ from --in (apply never overwrites its input)")
    if out.exists():
        manifest = read_manifest(out) if out.is_dir() else None
        what = "a finished review dataset" if manifest and manifest.get("kind") == "review" else "something else"
        raise UserError(f"{out}: already exists ({what}); choose a new --out")
    decisions = store.decisions()
    verdicts = latest_verdicts(decisions)
    edits = {d.item_id: d for d in decisions if d.action == "edit"}  # the latest edit of each item
    tags: dict[str, list[str]] = {}
    for d in decisions:
        if d.action == "tag" or d.tags:
            tags.setdefault(d.item_id, []).extend(t for t in d.tags if t not in tags.get(d.item_id, []))
    counts: Counter[str] = Counter()
    parts: dict[str, list[Record]] = {"data": [], "excluded": []}
    for part in ("data", "excluded"):
        for record in source.iter_records(part):
            by = verdicts.get(record.id)
            verdict = final_verdict(by, on_conflict) if by else None
            edit = edits.get(record.id) if verdict is not None and verdict.action != "reject" else None
            target, record = reviewed(record, part, verdict, edit, tags.get(record.id, []))
            counts[f"{part}->{target}"] += 1
            if verdict is not None:
                status = record.meta["review"]["status"]
                counts[f"review.{record.meta['review'].get('reason')}" if status == "reject" else status] += 1
            parts[target].append(record)
    temporary = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    stats = {
        "counts": dict(sorted(counts.items())),
        "kept": len(parts["data"]),
        "excluded": len(parts["excluded"]),
        "agreement": agreement(decisions),
        "on_conflict": on_conflict,
        "decisions": len(decisions),
    }
    dataset = Dataset.create(
        temporary,
        {"kind": "review", "source": str(source.root.resolve()), "source_manifest": source.manifest, "review": stats},
    )
    for part, records in parts.items():
        for index in range(0, len(records), SHARD):
            dataset.write_shard(index // SHARD, records[index : index + SHARD], part)
    atomic_write_json(temporary / "stats.json", stats)
    os.replace(temporary, out)
    return stats
