"""How well each curation signal ranks keep-worthy stories above the rest, on every labelled file, in one run.

Labelled stories (`text` + `keep` from two blind judges against the rubric): the project's files of generated
stories (src/synthloop/quality/data/labelled_generated*.jsonl; the shipped quality model trained on the first,
labelled_generated.jsonl, only; files without a keep-worthy story show AUC n/a) and
../shared/labels/stories_dev.jsonl (which mixes TinyStories' own stories in: there, telling human from model text
is enough). Baseline: the shipped quality model's score. Against it: the `likelihood`
filter's mean token log-probability under the main generator (embedded model + shipped adapter) and under the
untuned embedded model. Printed per file: AUC of each signal, then, for the likelihood filter, precision and recall
of keep at several thresholds (the share of what it keeps that the judges keep).

    .venv/bin/python benchmarks/likelihood_auc.py [--models tuned,base] [--thresholds -0.85,-0.9,-0.95]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from synthloop.curate.filters.likelihood import LikelihoodFilter, LikelihoodOptions
from synthloop.curate.text import TextView
from synthloop.quality.labels import read_labels
from synthloop.quality.model import load_model
from synthloop.quality.train import auc
from synthloop.records import Record

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    *sorted((ROOT / "src" / "synthloop" / "quality" / "data").glob("labelled_generated*.jsonl")),
    ROOT.parent / "shared" / "labels" / "stories_dev.jsonl",
]
MODELS = {"tuned": "tinystories", "base": None}


def likelihoods(texts: list[str], adapter: str | None) -> tuple[np.ndarray, float]:
    scorer = LikelihoodFilter(LikelihoodOptions(adapter=adapter), {})
    records = [Record(id=str(i), prompt="", text=t) for i, t in enumerate(texts)]
    started = time.perf_counter()
    scorer.filter_batch(records, [TextView(t) for t in texts])
    seconds = time.perf_counter() - started
    scorer.close()
    return np.array([r.scores["likelihood.mean"] for r in records]), len(texts) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="tuned,base", help=f"comma-separated, of {', '.join(MODELS)}")
    parser.add_argument("--thresholds", default="-0.85,-0.9,-0.95,-1.0", help="min_mean_logprob values to tabulate")
    args = parser.parse_args()
    names = [m for m in args.models.split(",") if m]
    try:
        thresholds = [float(t) for t in args.thresholds.split(",") if t]
    except ValueError:
        parser.error("--thresholds: expected comma-separated numbers")
    if not names or any(m not in MODELS for m in names):
        parser.error(f"--models: expected names from {', '.join(MODELS)}")
    files = {path: read_labels(path) for path in FILES if path.is_file()}
    texts = [e.text for examples in files.values() for e in examples]
    quality = load_model(None).score(texts)
    signals = {"quality model (baseline)": quality}
    for name in names:
        scores, rate = likelihoods(texts, MODELS[name])
        signals[f"likelihood ({name})"] = scores
        print(f"likelihood ({name}): {len(texts)} stories scored at {rate:.1f} stories/s", flush=True)
    print("\n| file | stories | keep | " + " | ".join(f"AUC {s}" for s in signals) + " |")
    print("|---|---|---|" + "---|" * len(signals))
    start = 0
    spans = {}
    for path, examples in files.items():
        labels = np.array([e.keep for e in examples])
        spans[path] = (start, start + len(examples), labels)
        cells = [auc(labels, scores[start : start + len(examples)]) for scores in signals.values()]
        shown = " | ".join("n/a" if c is None else f"{c:.2f}" for c in cells)
        print(f"| {path.name} | {len(examples)} | {int(labels.sum())} | {shown} |")
        start += len(examples)
    main_signal = signals[f"likelihood ({names[0]})"]
    print(f"\nlikelihood ({names[0]}) as a filter: kept, and the judges' keep among them (precision), recall")
    print("| file | " + " | ".join(f">= {t}" for t in thresholds) + " |\n|---|" + "---|" * len(thresholds))
    for path, (a, b, labels) in spans.items():
        cells = []
        for t in thresholds:
            kept = main_signal[a:b] >= t
            hits = int((kept & labels).sum())
            cells.append(f"{int(kept.sum())} kept, {hits}/{max(1, int(kept.sum()))} keep, {hits}/{int(labels.sum())}")
        print(f"| {path.name} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
