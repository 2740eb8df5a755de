"""`synthloop report`: metrics.json, a self-contained index.html and the dataset card (README.md) for a dataset.

Works on a curated dataset (kept stories, with curation stats and the excluded stories for constraint success) or
on a raw generated one. A reference corpus (JSON lines with a `text` field, or a synthloop dataset folder) is
measured the same way and compared (MAUVE-style divergence). A dataset that kept no story is a legitimate outcome,
not an error: its report says that nothing was kept and shows what was dropped and why.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthloop.metrics.compute import compute_metrics, constraint_success
from synthloop.metrics.cost import cost_metrics
from synthloop.metrics.parameters import parameter_coverage
from synthloop.metrics.quality import quality_metrics
from synthloop.records import NULL_TEXT, Record
from synthloop.report.card import render_card
from synthloop.report.html import render
from synthloop.store.atomic import atomic_write_json, atomic_write_text
from synthloop.store.dataset import Dataset
from synthloop.store.manifest import Manifest
from synthloop.store.texts import read_texts
from synthloop.vocab import load_vocabulary


@dataclass
class ReportResult:
    out: Path
    metrics: dict[str, Any]


def vocabulary_for(dataset: Dataset) -> Any:
    return load_vocabulary(dataset.provenance.vocab_path)


def recipe_parameters(generation: Manifest) -> dict[str, list[str]] | None:
    """The value lists a parameterised recipe samples from (simplestories), from the run's recipe options."""
    name, options = generation.recipe
    if name != "simplestories":
        return None
    from synthloop.recipes.simplestories import parameter_lists

    return parameter_lists(options)


def find_guard(dataset: Dataset) -> dict[str, Any] | None:
    """The collapse guard's record of the generation run behind this dataset (itself, or the run it came from)."""
    from synthloop.generate.guard import read_guard

    folders = [dataset.root] + [m.source for m in dataset.provenance.lineage() if m.source is not None]
    for folder in folders:
        guard = read_guard(folder)
        if guard is not None:
            return {
                "summary": guard["summary"],
                "checks": (guard["summary"] or {}).get("checks", len(guard["checks"])),
                "config": guard["config"],
                "from": str(folder),
            }
    return None


def nothing_kept_metrics(every: list[Record], curation: dict[str, Any] | None) -> dict[str, Any]:
    """The metrics of a dataset that kept no story with text: what was asked for and what was dropped, and why;
    no text metric (there is no text to measure, nor to compare with a reference corpus)."""
    return {
        "nothing_kept": True,
        "dataset": {"stories": 0},
        "constraints": constraint_success(every),
        "curation": curation,
    }


def report(source: Path, out: Path, reference: Path | None = None, seed: int = 0) -> ReportResult:
    dataset = Dataset.open(source)
    stored = {part: list(dataset.iter_records(part)) for part in ("data", "excluded")}
    # Records without text (a null in a foreign file) are failed records: left out of every metric, and counted.
    without_text = {part: sum(NULL_TEXT in r.flags for r in records) for part, records in stored.items()}
    kept = [r for r in stored["data"] if NULL_TEXT not in r.flags]
    excluded = [r for r in stored["excluded"] if NULL_TEXT not in r.flags]
    every = kept + excluded
    stats_path = dataset.root / "stats.json"
    review = dataset.provenance.review
    if review is not None:  # a reviewed dataset: curation counts live with the curated source
        stats_path = Path(str(dataset.provenance.source or "")) / "stats.json"
    curation = json.loads(stats_path.read_text()) if stats_path.is_file() else None
    reference_texts = read_texts(reference) if reference else None  # read (so checked) even when unused
    if kept:
        name = str(reference) if reference else None
        metrics = compute_metrics(kept, every, vocabulary_for(dataset), curation, reference_texts, name, seed)
    else:  # a legitimate outcome, not an error: the report says that nothing was kept and shows why
        metrics = nothing_kept_metrics(every, curation)
    metrics["source"] = str(dataset.root)
    quality = quality_metrics(kept, excluded)
    if quality is not None:
        metrics["quality"] = quality
    generation = dataset.provenance.generation
    spent = cost_metrics(kept, every, generation.cost)
    if spent is not None:
        metrics["cost"] = spent
    parameters = parameter_coverage(kept, recipe_parameters(generation))
    if parameters is not None:
        metrics["parameters"] = parameters
    if any(without_text.values()):
        metrics["left_out"] = {NULL_TEXT: without_text}
    if review is not None:
        metrics["review"] = review
    guard = find_guard(dataset)
    if guard is not None:
        metrics["guard"] = guard
    out = Path(out)
    atomic_write_json(out / "metrics.json", metrics, indent=1)
    atomic_write_text(out / "index.html", render(metrics, f"synthloop report: {dataset.root.name}"))
    atomic_write_text(out / "README.md", render_card(dataset.provenance, metrics))
    return ReportResult(out=out, metrics=metrics)
