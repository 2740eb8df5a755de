"""Compute every metric for a dataset (and its reference corpus), into one JSON-ready dict.

Quadratic or model-based metrics run on seeded samples, and the dict says what was sampled: self-BLEU on
`self_bleu_sample` stories against as many others, embeddings (mean cosine, Vendi, MAUVE) on `embedding_sample`.
Everything else (distinct-n, compression, openings, lengths, readability, coverage, bias) uses every story.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np

from synthloop.curate.text import TextView, flesch_kincaid_grade, sentence_count
from synthloop.metrics.bias import bias_audit
from synthloop.metrics.coverage import coverage, text_coverage
from synthloop.metrics.diversity import (
    compression_ratio,
    distinct_n,
    embedding_diversity,
    opening_concentration,
    self_bleu,
)
from synthloop.metrics.mauve import mauve
from synthloop.records import Record
from synthloop.vocab import Vocabulary

SELF_BLEU_SAMPLE = 200
EMBEDDING_SAMPLE = 256  # full MiniLM is slow (docs/experiments/implementation-choices.md): mean cosine and Vendi score
MAUVE_SAMPLE = 1000  # static MiniLM embeddings (thousands/s): MAUVE needs more points for its clusters


def sample(items: list[Any], size: int, seed: int = 0) -> list[Any]:
    return items if len(items) <= size else random.Random(seed).sample(items, size)


def text_metrics(texts: list[str], seed: int = 0) -> dict[str, Any]:
    """Diversity, length and readability of a list of stories."""
    from synthloop.embeddings.minilm import load_minilm

    views = [TextView(t) for t in texts]
    tokens = [v.plain_words for v in views]
    lengths = [len(t) for t in tokens]
    grades = [flesch_kincaid_grade(v.text, sentence_count(v)) for v in views]
    chosen = sample(texts, EMBEDDING_SAMPLE, seed)
    embeddings = load_minilm().encode(chosen) if chosen else np.zeros((0, 1), np.float32)
    return {
        "stories": len(texts),
        "distinct_1": distinct_n(tokens, 1),
        "distinct_2": distinct_n(tokens, 2),
        "distinct_3": distinct_n(tokens, 3),
        "compression_ratio": compression_ratio(texts),
        "self_bleu": self_bleu(tokens, SELF_BLEU_SAMPLE, SELF_BLEU_SAMPLE, seed),
        "openings": opening_concentration(texts),
        "embedding": embedding_diversity(embeddings) if len(chosen) else {},
        "words": _distribution(lengths),
        "fk_grade": _distribution(grades),
        "lengths": lengths,
        "grades": [round(g, 2) for g in grades],
        "sampled": {"self_bleu": min(len(texts), 2 * SELF_BLEU_SAMPLE), "embedding": len(chosen)},
    }


def _distribution(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {}
    array = np.asarray(values, dtype=float)
    return {
        "mean": float(array.mean()),
        "p10": float(np.percentile(array, 10)),
        "p50": float(np.median(array)),
        "p90": float(np.percentile(array, 90)),
    }


def constraint_success(records: list[Record]) -> dict[str, Any]:
    """Share of stories that used their noun / verb / adjective, and all three, overall and per feature."""
    by_pos: Counter[str] = Counter()
    asked: Counter[str] = Counter()
    by_feature: dict[str, list[int]] = defaultdict(list)
    for record in records:
        missing = set(record.meta.get("missing", []))
        for role in record.words:
            asked[role] += 1
            by_pos[role] += role not in missing
        ok = int(not missing)
        for feature in record.features or ["(none)"]:
            by_feature[feature].append(ok)
    return {
        "by_pos": {role: by_pos[role] / asked[role] for role in asked},
        "all_words": sum(1 for r in records if not r.meta.get("missing")) / len(records) if records else 0.0,
        "by_feature": {f: {"stories": len(v), "all_words": sum(v) / len(v)} for f, v in sorted(by_feature.items())},
    }


def compute_metrics(
    kept: list[Record],
    every: list[Record],
    vocabulary: Vocabulary,
    curation: dict[str, Any] | None,
    reference: list[str] | None,
    reference_name: str | None,
    seed: int = 0,
) -> dict[str, Any]:
    """`kept`: the dataset's stories; `every`: kept and excluded (for constraint success before curation)."""
    texts = [r.text for r in kept]
    metrics: dict[str, Any] = {
        "dataset": text_metrics(texts, seed),
        "coverage": coverage(kept, vocabulary),
        "constraints": constraint_success(every),
        "curation": curation,
        "bias": {"dataset": bias_audit(texts)},
    }
    if reference:
        from synthloop.embeddings.static import load_static

        metrics["reference"] = {"name": reference_name, **text_metrics(reference, seed)}
        metrics["bias"]["reference"] = bias_audit(reference)
        metrics["reference_coverage"] = text_coverage(reference, vocabulary)
        embedder = load_static()
        ours = embedder.encode(sample(texts, MAUVE_SAMPLE, seed))
        theirs = embedder.encode(sample(reference, MAUVE_SAMPLE, seed))
        if len(ours) >= 2 and len(theirs) >= 2:
            metrics["mauve"] = mauve(ours, theirs, seed=seed) | {"sampled": [len(ours), len(theirs)]}
    return metrics
