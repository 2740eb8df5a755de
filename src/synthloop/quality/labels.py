"""Where quality labels come from: JSONL files of {"text", "keep"}, review decisions, and unlabelled corpora.

Every reader validates as it goes and fails with one line naming the file, the line and what was expected, before
anything is trained or written. JSON lines are split on "\\n" only (a story may hold U+2028 inside a string).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from synthloop.errors import UserError
from synthloop.store.jsonl import read_jsonl


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    keep: bool
    source: str  # which input it came from: the file name, "review:<dataset>", "corrupted:<kind>"
    labelled: bool  # True for a real judgement (labels, review); False for assumed (a corpus, a corruption)


def json_lines(path: Path) -> list[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a JSONL file; a line that is not an object is an error."""
    if not Path(path).is_file():
        raise UserError(f"{path}: no such file")
    rows = list(read_jsonl(path))
    for number, row in rows:
        if not isinstance(row, dict):
            raise UserError(f"{path}: line {number}: expected a JSON object")
    return rows


def read_labels(path: Path) -> list[Example]:
    """A labels file: one {"text": str, "keep": bool} per line (other fields ignored)."""
    examples = []
    for number, row in json_lines(path):
        text, keep = row.get("text"), row.get("keep")
        if not isinstance(text, str) or not text.strip():
            raise UserError(f"{path}: line {number}: expected a non-empty string 'text'")
        if not isinstance(keep, bool):
            raise UserError(f"{path}: line {number}: expected 'keep' true or false, got {keep!r}")
        examples.append(Example(text, keep, path.name, True))
    if not examples:
        raise UserError(f"{path}: no labelled stories in it")
    return examples


def read_review(dataset: Path) -> list[Example]:
    """Reviewers' final verdicts on a dataset (accept/edit: keep, reject: drop; a conflict counts as a reject)."""
    from synthloop.review.apply import final_verdict, open_review
    from synthloop.review.store import latest_verdicts

    source, store = open_review(dataset, None)
    verdicts = latest_verdicts(store.decisions())
    examples = []
    for part in ("data", "excluded"):
        for record in source.iter_records(part):
            by_reviewer = verdicts.get(record.id)
            if not by_reviewer or not isinstance(record.text, str) or not record.text.strip():
                continue
            verdict = final_verdict(by_reviewer, "reject")
            text = verdict.text if verdict.action == "edit" and verdict.text else record.text
            examples.append(Example(text, verdict.action != "reject", f"review:{dataset.name}", True))
    if not examples:
        raise UserError(f"{dataset}: no review decisions to learn from")
    return examples


def read_corpus(path: Path, keep: bool) -> list[Example]:
    """Unlabelled stories assumed keep-worthy (a human corpus) or not (known-bad output)."""
    from synthloop.store.texts import read_texts

    return [Example(t, keep, path.name, False) for t in read_texts(path) if t.strip()]
