"""Which curation filters can verify the collapse lab's samples: each filter's pass rate on the lab's real documents
and on a generation's samples, and the quality model's score distribution on both.

A verifier for the lab must keep nearly all *real* documents (else it filters register, not quality): this prints,
for the main config's per-story filters at their configs/tinystories.toml settings, the share of the lab's real
training documents each keeps, the reasons it drops the rest, and the same for a lab generation's samples
(`<lab>/gen-0/samples.jsonl` by default), plus quality-score percentiles and the share kept at candidate thresholds.

    PYTHONPATH=src .venv/bin/python benchmarks/collapse_verifiers.py runs/collapse-verify [--samples PATH]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import numpy as np

from synthloop.config import load_config
from synthloop.curate.base import FilterContext
from synthloop.curate.runner import per_story_filters
from synthloop.curate.step import KEPT, CurateStep
from synthloop.records import Record
from synthloop.store.texts import read_texts
from synthloop.vocab import load_vocabulary

ROOT = Path(__file__).resolve().parents[1]


def verdicts(texts: list[str], config: Path) -> dict[str, object]:
    cfg = load_config(config)
    context = FilterContext(vocabulary=load_vocabulary(cfg.vocab.path), sample_texts=texts)
    filters = per_story_filters(cfg, context, leave_out=("decontam", "quality"))
    records = CurateStep(filters).curate_batch([Record(id=str(i), text=t) for i, t in enumerate(texts)])
    by_filter: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for record in records:
        reasons.update(record.flags)
        by_filter.update({flag.split(".")[0] for flag in record.flags})
    kept = sum(r.meta["curation"] == KEPT for r in records)
    return {
        "texts": len(texts),
        "kept_all": round(kept / len(texts), 3),
        "kept_by_filter": {f.name: round(1 - by_filter[f.name] / len(texts), 3) for f in filters},
        "reasons": dict(reasons.most_common(12)),
    }


def quality_scores(texts: list[str]) -> np.ndarray:
    from synthloop.quality.model import load_model

    return load_model(None).score(texts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("lab", type=Path)
    parser.add_argument("--samples", type=Path)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "tinystories.toml")
    args = parser.parse_args()
    corpora = {
        "real documents": read_texts(args.lab / "gen-0" / "train.jsonl"),
        "samples": read_texts(args.samples or args.lab / "gen-0" / "samples.jsonl"),
    }
    scores = {}
    for name, texts in corpora.items():
        print(name, json.dumps(verdicts(texts, args.config), indent=1))
        scores[name] = quality_scores(texts)
        quantiles = np.round(np.quantile(scores[name], [0.1, 0.25, 0.5, 0.75, 0.9]), 3)
        print(f"  quality score p10/p25/p50/p75/p90: {quantiles}")
    real, samples = scores["real documents"], scores["samples"]
    auc = float(np.mean(real[:, None] > samples[None, :]) + 0.5 * np.mean(real[:, None] == samples[None, :]))
    print(f"quality AUC real vs samples: {auc:.3f}")
    for keep_real in (0.95, 0.9, 0.8, 0.5):
        threshold = float(np.quantile(real, 1 - keep_real))
        print(
            f"  threshold {threshold:.4f} keeps {keep_real:.0%} of real documents and "
            f"{np.mean(samples >= threshold):.1%} of samples"
        )


if __name__ == "__main__":
    main()
