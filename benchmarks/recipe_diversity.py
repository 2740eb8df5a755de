"""Diversity side by side: the tinystories and simplestories recipes on the same backend and budget, next to the
TinyStories sample (the baseline a recipe should at least match).

Each recipe generates `-n` stories with the same config (backend, sampling, max_tokens, attempts), then every
column is measured with synthloop's own metrics (metrics/diversity.py, on a size-matched sample of the reference):
top-10 opening share, share of stories starting with / containing "Once upon a time", distinct-1/2/3, sampled
self-BLEU, and the Vendi score of MiniLM embeddings. `keep-worthy` is OPTIONAL: it runs
`synthloop quality score --in FILE --out SCORES.jsonl` (the quality classifier, shipped model) when that command
exists, and counts the lines whose `keep` is true; otherwise (or with --no-quality) the column says n/a.

    .venv/bin/python benchmarks/recipe_diversity.py [--config configs/tinystories.toml] -n 200 --out data/diversity
    # mechanics only, with the scripted test backend (its stories are templated, so the figures mean nothing):
    SYNTHLOOP_PLUGINS=scripted_backend PYTHONPATH=tests:src .venv/bin/python benchmarks/recipe_diversity.py \
        --set backend.name=scripted --set backend.options={} -n 20 --out /tmp/diversity
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

from synthloop.config import load_config, shipped_config
from synthloop.generate.runner import generate
from synthloop.metrics.compute import text_metrics
from synthloop.store.texts import read_texts

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared" / "corpora" / "tinystories_sample.jsonl"
RECIPES = ("tinystories", "simplestories")


def once_upon_a_time(texts: list[str]) -> float:
    return sum("once upon a time" in t.lower() for t in texts) / len(texts) if texts else 0.0


def keep_worthy(texts: list[str], folder: Path, model: Path | None) -> float | None:
    """The quality judge's keep-worthy share, when `synthloop quality score` exists (None otherwise)."""
    probe = subprocess.run(
        [sys.executable, "-m", "synthloop.cli", "quality", "score", "--help"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return None
    stories, scores = folder / "stories.jsonl", folder / "scores.jsonl"
    stories.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    command = [sys.executable, "-m", "synthloop.cli", "quality", "score", "--in", str(stories), "--out", str(scores)]
    command += ["--model", str(model)] if model is not None else []
    scored = subprocess.run(command, capture_output=True, text=True)
    if scored.returncode != 0 or not scores.exists():
        print(f"keep-worthy: n/a ({scored.stderr.strip().splitlines()[-1] if scored.stderr.strip() else 'no scores'})")
        return None
    rows = [json.loads(line) for line in scores.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sum(bool(row.get("keep")) for row in rows) / len(rows) if rows else None


def measure(name: str, texts: list[str], folder: Path, quality: bool, model: Path | None) -> dict[str, Any]:
    metrics = text_metrics(texts)
    openings = metrics["openings"]
    return {
        "name": name,
        "stories": len(texts),
        "top10": openings["top10_share"],
        "starts_once": openings["once_upon_a_time_share"],
        "contains_once": once_upon_a_time(texts),
        "distinct_1": metrics["distinct_1"],
        "distinct_2": metrics["distinct_2"],
        "distinct_3": metrics["distinct_3"],
        "self_bleu": metrics["self_bleu"],
        "vendi": metrics["embedding"].get("vendi_score", 0.0),
        "keep_worthy": keep_worthy(texts, folder, model) if quality else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--config",
        type=Path,
        default=shipped_config(),
        help="the shared config (backend, sampling, attempts); default: the main config",
    )
    parser.add_argument("-n", type=int, default=200, help="stories per recipe (the shared budget)")
    parser.add_argument("--out", type=Path, required=True, help="work folder (one dataset per recipe)")
    parser.add_argument("--reference", type=Path, default=REFERENCE)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--no-quality", action="store_true", help="skip the optional keep-worthy column")
    parser.add_argument("--quality-model", type=Path, help="a `synthloop quality train` model (default: shipped)")
    args = parser.parse_args()
    rows = []
    for recipe in RECIPES:
        overrides = [
            *args.overrides,
            f"recipe.name={recipe!r}",
            f"run.n={args.n}",
            f"run.out={str(args.out / recipe)!r}",
            "generate.progress=false",
        ]
        if recipe == "simplestories":  # the config's options are the tinystories recipe's
            overrides.append("recipe.options={}")
        result = generate(load_config(args.config, overrides))
        texts = read_texts(result.out)
        (args.out / recipe).mkdir(parents=True, exist_ok=True)
        rows.append(
            measure(recipe, texts, args.out / recipe, not args.no_quality, args.quality_model)
            | {"tokens": result.tokens_out}
        )
    reference = read_texts(args.reference)
    reference = random.Random(0).sample(reference, min(args.n, len(reference)))  # size-matched: distinct-n depends on n
    (args.out / "reference").mkdir(parents=True, exist_ok=True)
    rows.append(
        measure(
            f"reference: {args.reference.name}",
            reference,
            args.out / "reference",
            not args.no_quality,
            args.quality_model,
        )
    )
    header = (
        f"{'source':<38} {'n':>5} {'top10':>6} {'OUaT@0':>6} {'OUaT':>6} {'dist1':>6} {'dist2':>6} "
        f"{'dist3':>6} {'sBLEU':>6} {'Vendi':>6} {'keep':>6}"
    )
    print(header)
    for row in rows:
        keep = "n/a" if row["keep_worthy"] is None else f"{row['keep_worthy']:.2f}"
        print(
            f"{row['name'][:38]:<38} {row['stories']:>5} {row['top10']:>6.2f} {row['starts_once']:>6.2f} "
            f"{row['contains_once']:>6.2f} {row['distinct_1']:>6.3f} {row['distinct_2']:>6.3f} "
            f"{row['distinct_3']:>6.3f} {row['self_bleu']:>6.3f} {row['vendi']:>6.1f} {keep:>6}"
        )
    (args.out / "diversity.json").write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    print(
        "OUaT@0: share starting with 'Once upon a time'; OUaT: containing it. keep: `synthloop quality score` "
        "keep-worthy share (n/a: that command or its model is missing)."
    )


if __name__ == "__main__":
    main()
