"""Diversity metrics: is the data monotonous?

distinct-n (Li et al., 2016): unique n-grams over all n-grams in the corpus. Compression ratio: raw bytes over
gzip bytes of the concatenated stories (higher = more redundant). Self-BLEU (Zhu et al., 2018): BLEU-4 of sampled
stories against a disjoint sample of other stories (sampled so it scales; higher = more alike). Opening
concentration: share of stories whose first five words are among the ten most common openings (TinyStories:
"Once upon a time" starts 59 % of stories). Embedding diversity: mean pairwise cosine and the Vendi score
(Friedman & Dieng, 2023): the exponential of the entropy of the eigenvalues of the similarity matrix / n, i.e.
the effective number of distinct stories in the sample.
"""

from __future__ import annotations

import gzip
import math
import random
from collections import Counter
from typing import Any

import numpy as np

from synthloop.curate.text import ngrams, normalize


def distinct_n(token_lists: list[list[str]], n: int) -> float:
    total, unique = 0, set()
    for tokens in token_lists:
        grams = ngrams(tokens, n)
        total += len(grams)
        unique.update(grams)
    return len(unique) / total if total else 0.0


def compression_ratio(texts: list[str]) -> float:
    raw = "\n".join(texts).encode("utf-8")
    return len(raw) / len(gzip.compress(raw, compresslevel=9)) if raw else 0.0


def _bleu(hypothesis: list[str], reference_max: list[Counter[tuple[str, ...]]], reference_lengths: list[int]) -> float:
    if not hypothesis:
        return 0.0
    log_precision = 0.0
    for n in range(1, 5):
        counts = Counter(ngrams(hypothesis, n))
        total = sum(counts.values())
        matched = sum(min(c, reference_max[n - 1].get(g, 0)) for g, c in counts.items())
        if total == 0:
            return 0.0
        # Zero matches get epsilon 0.1 (Chen & Cherry, 2014, method 1) so one empty order does not zero the score.
        log_precision += math.log((matched or 0.1) / total) / 4
    closest = min(reference_lengths, key=lambda length: (abs(length - len(hypothesis)), length))
    brevity = 1.0 if len(hypothesis) >= closest else math.exp(1 - closest / len(hypothesis))
    return brevity * math.exp(log_precision)


def self_bleu(token_lists: list[list[str]], sample: int = 200, references: int = 200, seed: int = 0) -> float:
    """Mean BLEU-4 of `sample` stories against `references` other stories (disjoint samples; a small corpus is
    split in half)."""
    if len(token_lists) < 2:
        return 0.0
    rng = random.Random(seed)
    order = rng.sample(range(len(token_lists)), len(token_lists))
    split = min(references, len(order) // 2)
    refs = [token_lists[i] for i in order[:split]]
    hyps = [token_lists[i] for i in order[split : split + sample]]
    reference_max: list[Counter[tuple[str, ...]]] = []
    for n in range(1, 5):
        merged: Counter[tuple[str, ...]] = Counter()
        for ref in refs:
            merged |= Counter(ngrams(ref, n))
        reference_max.append(merged)
    lengths = [len(r) for r in refs]
    return float(np.mean([_bleu(h, reference_max, lengths) for h in hyps]))


def opening_concentration(texts: list[str], top: int = 10, words: int = 5) -> dict[str, Any]:
    openings = Counter(" ".join(normalize(t).split()[:words]) for t in texts if t.strip())
    total = sum(openings.values())
    common = openings.most_common(top)
    once = sum(1 for t in texts if normalize(t).startswith("once upon a time"))
    return {
        "top10_share": sum(c for _, c in common) / total if total else 0.0,
        "once_upon_a_time_share": once / len(texts) if texts else 0.0,
        "top_openings": [{"opening": o, "share": c / total} for o, c in common],
    }


def embedding_diversity(embeddings: np.ndarray) -> dict[str, float]:
    """Mean pairwise cosine and Vendi score of L2-normalised embeddings (N, D)."""
    n = len(embeddings)
    if n < 2:
        return {"mean_pairwise_cosine": 0.0, "vendi_score": float(n)}
    similarity = embeddings @ embeddings.T
    mean_cosine = (similarity.sum() - np.trace(similarity)) / (n * (n - 1))
    eigenvalues = np.clip(np.linalg.eigvalsh(similarity / n), 0, None)
    eigenvalues = eigenvalues[eigenvalues > 1e-12]
    vendi = float(np.exp(-(eigenvalues * np.log(eigenvalues)).sum()))
    return {"mean_pairwise_cosine": float(mean_cosine), "vendi_score": vendi}
