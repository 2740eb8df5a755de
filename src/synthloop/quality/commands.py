"""`synthloop quality train` and `synthloop quality score`: the command-line face of the quality model.

Both read and validate every input (labels, corpora, review decisions, the model) before they write anything;
outputs are written under a temporary name and renamed, so they exist complete or not at all.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

from synthloop.arguments import Number, seed
from synthloop.errors import UserError


def add_commands(commands: Any) -> None:
    quality = commands.add_parser("quality", help="the quality classifier: train it on labels, score any stories")
    sub = quality.add_subparsers(dest="quality_command", required=True, parser_class=type(quality))
    add_train_command(sub)
    add_score_command(sub)


def add_train_command(sub: Any) -> None:
    train = sub.add_parser("train", help="fit a quality model on labelled stories; writes model.npz and card.json")
    train.add_argument(
        "--labels",
        type=Path,
        action="append",
        default=[],
        metavar="FILE.jsonl",
        help='labelled stories, one {"text", "keep"} per line (repeatable)',
    )
    train.add_argument(
        "--review",
        type=Path,
        action="append",
        default=[],
        metavar="DATASET",
        help="a reviewed dataset: its review decisions are labels (repeatable)",
    )
    train.add_argument(
        "--positives",
        type=Path,
        action="append",
        default=[],
        metavar="FILE|DATASET",
        help="unlabelled stories taken as keep-worthy, e.g. a human corpus (repeatable)",
    )
    train.add_argument(
        "--negatives",
        type=Path,
        action="append",
        default=[],
        metavar="FILE|DATASET",
        help="unlabelled stories taken as not keep-worthy (repeatable)",
    )
    train.add_argument(
        "--corrupt",
        type=Number(int, -1, 10_000_000),
        default=-1,
        metavar="N",
        help="coherence negatives corrupted from the positives (default: as many as positives)",
    )
    train.add_argument(
        "--held-out", type=Number(float, 0, 0.95), default=0.3, help="share of labelled stories kept for the card"
    )
    train.add_argument(
        "--target-precision", type=Number(float, 0.01, 1), default=0.9, help="the threshold reaches this precision"
    )
    train.add_argument("--seed", type=seed(), default=0, help="split and corruption seed")
    train.add_argument("--out", type=Path, required=True, help="the new model folder")
    train.set_defaults(func=cmd_quality_train)


def add_score_command(sub: Any) -> None:
    score = sub.add_parser("score", help='score stories: one {"id", "score", "keep"} line per story')
    score.add_argument(
        "--in",
        dest="input",
        type=Path,
        required=True,
        metavar="FILE.jsonl|DATASET",
        help="a JSONL file with a 'text' field, or a dataset folder (its kept stories)",
    )
    score.add_argument("--out", type=Path, required=True, metavar="SCORES.jsonl", help="where the scores go")
    score.add_argument("--model", type=Path, help="a model folder from `quality train` (default: the shipped one)")
    score.add_argument(
        "--part",
        choices=["data", "excluded", "all"],
        default="data",
        help="for a dataset: kept stories, excluded ones, or both",
    )
    score.set_defaults(func=cmd_quality_score)


def check_output_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UserError(f"--out {out}: already exists; choose a new folder (a model is never overwritten)")


def described(path: Path) -> dict[str, str]:
    """An input as the card records it: its name and, for a file, the SHA-256 of its bytes (no machine-local
    paths, so a rebuilt card is the same on every machine)."""
    path = Path(path)
    entry = {"name": path.name}
    if path.is_file():
        entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return entry


def cmd_quality_train(args: argparse.Namespace) -> int:
    from synthloop.quality.corrupt import corrupt
    from synthloop.quality.labels import Example, read_corpus, read_labels, read_review
    from synthloop.quality.train import TrainOptions, fit

    if not args.labels and not args.review:
        raise UserError("quality train: give labelled stories with --labels FILE.jsonl or --review DATASET")
    check_output_folder(args.out)
    examples: list[Example] = []
    for path in args.labels:
        examples += read_labels(path)
    for path in args.review:
        examples += read_review(path)
    positives = [e for path in args.positives for e in read_corpus(path, True)]
    negatives = [e for path in args.negatives for e in read_corpus(path, False)]
    count = len(positives) if args.corrupt == -1 else args.corrupt
    corrupted = [
        Example(text, False, f"corrupted:{kind}", False)
        for kind, text in corrupt([e.text for e in positives], count, args.seed)
    ]
    options = TrainOptions(held_out=args.held_out, target_precision=args.target_precision, seed=args.seed)
    inputs = {
        "labels": [described(p) for p in args.labels],
        "review": [described(p) for p in args.review],
        "positives": [described(p) for p in args.positives],
        "negatives": [described(p) for p in args.negatives],
        "corrupted": len(corrupted),
    }
    model = fit(examples + positives + negatives + corrupted, options, {"inputs": inputs})
    temporary = args.out.with_name(f".tmp-{args.out.name}-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    model.save(temporary)
    if args.out.exists():
        args.out.rmdir()  # empty (checked above)
    os.replace(temporary, args.out)
    held = model.card["held_out"]
    at = held.get("at_threshold", {})
    print(
        f"quality model: {args.out}  (trained on {model.card['training']['stories']} stories; "
        f"held-out {held['held_out_stories']}: AUC {held.get('auc')}, precision {at.get('precision')}, "
        f"recall {at.get('recall')} at threshold {model.threshold:.3f})"
    )
    return 0


def read_for_scoring(path: Path, part: str) -> list[tuple[str, str | None]]:
    """(id, text or None) per input story; ids from the input, or the line number for a JSONL without ids."""
    from synthloop.quality.labels import json_lines
    from synthloop.store.dataset import Dataset

    if path.is_dir():
        dataset = Dataset.open(path)
        parts = ("data", "excluded") if part == "all" else (part,)
        rows = []
        for name in parts:
            for record in dataset.iter_records(name):
                text = record.text if isinstance(record.text, str) and record.text.strip() else None
                rows.append((str(record.id), text))
        return rows
    rows = []
    for number, row in json_lines(path):
        text = row.get("text")
        if not isinstance(text, str):
            raise UserError(f"{path}: line {number}: expected a string 'text'")
        identifier = row.get("id", number)
        if not isinstance(identifier, (str, int)) or isinstance(identifier, bool):
            raise UserError(f"{path}: line {number}: 'id' should be a string or an integer")
        rows.append((str(identifier), text if text.strip() else None))
    return rows


def cmd_quality_score(args: argparse.Namespace) -> int:
    from synthloop.quality.model import load_model
    from synthloop.store.jsonl import write_jsonl

    if not args.input.exists():
        raise UserError(f"--in {args.input}: no such file or dataset folder")
    if args.out.is_dir():
        raise UserError(f"--out {args.out}: is a folder; expected a file name for the scores (SCORES.jsonl)")
    model = load_model(args.model)
    rows = read_for_scoring(args.input, args.part)
    texts = [text for _, text in rows if text is not None]
    scores = iter(model.score(texts).tolist())
    lines: list[dict[str, object]] = []
    kept = 0
    for identifier, text in rows:
        score = next(scores) if text is not None else None
        keep = score is not None and score >= model.threshold
        kept += keep
        lines.append({"id": identifier, "score": None if score is None else round(score, 6), "keep": keep})
    write_jsonl(args.out, lines)
    print(f"quality: {len(rows)} stories scored, {kept} keep at threshold {model.threshold:.3f} -> {args.out}")
    return 0
