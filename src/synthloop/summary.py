"""Short human summaries printed at the end of a command."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from synthloop.curate.runner import CurateResult
from synthloop.generate.runner import GenerateResult


def print_generate_summary(result: GenerateResult) -> None:
    print(f"dataset: {result.out}/data  ({result.stories} stories, {result.failed} failed)")
    if result.resumed:
        print(f"resumed: {result.resumed} records were already done")
    if result.retried:
        print(f"retried: {result.retried} prompts that had failed before; {result.recovered} are stories now")
    print(
        f"tokens:  {result.tokens_out} in kept stories; {result.tokens_generated} generated now "
        f"in {result.seconds:.1f} s ({result.tokens_per_s:.1f} tok/s)"
    )
    print(f"all three words used: {result.all_words_used}/{result.stories} ({result.all_words_rate:.0%})")
    if result.cost_usd is not None:
        print(
            f"cost:    {result.cost_usd:.4f} USD for the run's records ({result.tokens_in_total} tokens in, "
            f"{result.tokens_out_total} out, retries included); this invocation's calls: {result.spent_now_usd:.4f} USD"
        )
    if result.stopped:
        print(f"stopped: {result.stopped}")
    if result.guard:
        last = result.guard["last"]
        print(
            f"collapse guard: {result.guard['verdict']} ({result.guard['failed_checks']} of {result.guard['checks']} "
            f"checks failed; last: distinct-2 ratio {last['distinct_2_ratio']:.2f}, tail coverage ratio "
            f"{last['tail_coverage_ratio']:.2f}, JS divergence {last['js_divergence']:.2f}); {result.out}/guard.json"
        )


def print_curate_summary(result: CurateResult) -> None:
    stats = result.stats
    table = Table(title=f"curation: {stats['kept']} kept of {stats['total']} ({stats['kept_rate']:.0%})")
    table.add_column("reason")
    table.add_column("dropped (any reason)", justify="right")
    table.add_column("dropped (first reason)", justify="right")
    for reason, count in sorted(stats["dropped"].items(), key=lambda item: -item[1]):
        table.add_row(reason, str(count), str(stats["dropped_first_reason"].get(reason, 0)))
    Console().print(table)
    print(f"curated: {result.out}/data  (rejects with reasons: {result.out}/excluded, counts: {result.out}/stats.json)")
    judged = quality_judged(result.out)
    if judged is not None:
        print(f"quality model: {judged[0]} of {judged[1]} kept stories judged keep-worthy (quality.keep)")


def quality_judged(folder: Path) -> tuple[int, int] | None:
    """(kept stories the quality model judges keep-worthy, kept stories it scored), or None without scores."""
    from synthloop.store.dataset import Dataset

    marks = [r.scores["quality.keep"] for r in Dataset.open(folder).iter_records() if "quality.keep" in r.scores]
    return (sum(m >= 0.5 for m in marks), len(marks)) if marks else None
