"""`synthloop quality train`: fit the quality model on labelled stories, check it on held-out ones, write the card.

Labelled stories (a labels JSONL, review decisions) are split: a stratified held-out part is never trained on and
gives the card's figures (AUC, precision and recall at the threshold, calibration). The rest trains the model
together with the unlabelled material: human stories taken as keep-worthy, known-bad output, and coherence
negatives corrupted from the human stories (quality/corrupt.py). The threshold is the lowest score at which
cross-validated predictions on the labelled training stories reach the target precision: the filter should keep
only what a careful reader would keep, at the cost of recall.

The model is a logistic regression (scikit-learn, at training time only): at a few hundred labelled stories a
linear model over standardised features is what the data supports, its weights are readable in the card, and
scoring is a dot product.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthloop.errors import UserError
from synthloop.quality.features import FEATURES, HASH_BUCKETS
from synthloop.quality.labels import Example
from synthloop.quality.model import QualityModel, features_of


@dataclass
class TrainOptions:
    held_out: float = 0.3  # share of the labelled stories kept apart for the card's figures
    target_precision: float = 0.9
    labelled_weight: float = 3.0  # a real judgement counts this many times an assumed one
    sparse_scale: float = 0.5  # weight of the hashed n-grams against the dense features
    regularisation: float = 1.0  # scikit-learn's C (smaller: stronger L2)
    seed: int = 0


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve (the probability a random keep outscores a random drop; ties count half)."""
    positives, negatives = scores[labels], scores[~labels]
    if len(positives) == 0 or len(negatives) == 0:
        return None
    order = np.argsort(np.concatenate([positives, negatives]), kind="mergesort")
    ranks = np.empty(len(order))
    values = np.concatenate([positives, negatives])[order]
    ranks[order] = np.arange(1, len(order) + 1)
    for value in np.unique(values):  # average ranks of ties
        tied = order[values == value]
        ranks[tied] = ranks[tied].mean()
    return float(
        (ranks[: len(positives)].sum() - len(positives) * (len(positives) + 1) / 2) / (len(positives) * len(negatives))
    )


def precision_recall(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    predicted = scores >= threshold
    true_positive = int((predicted & labels).sum())
    return {
        "threshold": round(threshold, 4),
        "kept": int(predicted.sum()),
        "precision": round(true_positive / predicted.sum(), 4) if predicted.any() else None,
        "recall": round(true_positive / labels.sum(), 4) if labels.any() else None,
        "accuracy": round(float((predicted == labels).mean()), 4) if len(labels) else None,
    }


def calibration(labels: np.ndarray, scores: np.ndarray, bins: int = 5) -> list[dict[str, Any]]:
    table = []
    for low in np.linspace(0, 1, bins, endpoint=False):
        inside = (scores >= low) & (scores < low + 1 / bins + (1e-9 if low + 1 / bins >= 1 else 0))
        if inside.any():
            table.append(
                {
                    "scores": f"{low:.1f}-{low + 1 / bins:.1f}",
                    "stories": int(inside.sum()),
                    "mean_score": round(float(scores[inside].mean()), 3),
                    "keep_rate": round(float(labels[inside].mean()), 3),
                }
            )
    return table


def choose_threshold(labels: np.ndarray, scores: np.ndarray, target: float) -> float:
    """The lowest threshold whose precision reaches `target` with at least one keep; 0.5 when none does."""
    for threshold in np.unique(scores):
        predicted = scores >= threshold
        if predicted.any() and (predicted & labels).sum() / predicted.sum() >= target and (predicted & labels).any():
            return float(threshold)
    return 0.5


def split(examples: list[Example], share: float, seed: int) -> tuple[list[Example], list[Example]]:
    labelled = [e for e in examples if e.labelled]
    held: list[Example] = []
    rng = random.Random(f"quality-split:{seed}")
    for keep in (True, False):
        group = [e for e in labelled if e.keep is keep]
        rng.shuffle(group)
        held += group[: round(len(group) * share)]
    held_ids = {id(e) for e in held}
    return [e for e in examples if id(e) not in held_ids], held


def design(
    dense_rows: np.ndarray,
    sparse_rows: list[dict[int, float]],
    mean: np.ndarray,
    scale: np.ndarray,
    sparse_scale: float,
) -> Any:
    """The classifier's input: standardised dense features beside the hashed n-gram counts (times sparse_scale)."""
    from scipy.sparse import csr_matrix, hstack

    rows = [row for row, features in enumerate(sparse_rows) for _ in features]
    cols = [col for features in sparse_rows for col in features]
    values = [value * sparse_scale for features in sparse_rows for value in features.values()]
    sparse = csr_matrix((values, (rows, cols)), shape=(len(sparse_rows), HASH_BUCKETS))
    return hstack([csr_matrix((dense_rows - mean) / scale), sparse]).tocsr()


def fit(examples: list[Example], options: TrainOptions, card: dict[str, Any]) -> QualityModel:
    """Train on `examples`; the returned model's card holds the held-out figures."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    train, held = split(examples, options.held_out, options.seed)
    labels = np.array([e.keep for e in train])
    if labels.all() or not labels.any():
        raise UserError("quality train: the training stories are all keep or all drop; give both kinds")
    dense_rows, sparse_rows = features_of([e.text for e in train])
    mean, scale = dense_rows.mean(0), dense_rows.std(0)
    scale = np.where(scale > 1e-9, scale, 1.0)
    matrix = design(dense_rows, sparse_rows, mean, scale, options.sparse_scale)
    weights = np.array([options.labelled_weight if e.labelled else 1.0 for e in train])
    classifier = LogisticRegression(C=options.regularisation, max_iter=5000, class_weight="balanced")
    folds = min(5, int(labels.sum()), int((~labels).sum()))
    labelled_train = np.array([e.labelled for e in train])
    threshold = 0.5
    if folds >= 2 and labelled_train.any():
        predicted = cross_val_predict(
            classifier, matrix, labels, cv=folds, method="predict_proba", params={"sample_weight": weights}
        )[:, 1]
        threshold = choose_threshold(labels[labelled_train], predicted[labelled_train], options.target_precision)
    classifier.fit(matrix, labels, sample_weight=weights)
    coefficients = classifier.coef_[0]
    model = QualityModel(
        mean,
        scale,
        coefficients[: len(FEATURES)],
        coefficients[len(FEATURES) :] * options.sparse_scale,
        float(classifier.intercept_[0]),
        threshold,
    )
    sources: dict[str, dict[str, int]] = {}
    for example in train:
        counts = sources.setdefault(example.source, {"keep": 0, "drop": 0})
        counts["keep" if example.keep else "drop"] += 1
    figures: dict[str, Any] = {"held_out_stories": len(held)}
    if held:
        held_labels = np.array([e.keep for e in held])
        held_scores = model.score([e.text for e in held])
        figures |= {
            "auc": None if (value := auc(held_labels, held_scores)) is None else round(value, 4),
            "at_threshold": precision_recall(held_labels, held_scores, threshold),
            "calibration": calibration(held_labels, held_scores),
            "held_out_keep": int(held_labels.sum()),
        }
    ranked = sorted(zip(FEATURES, model.dense_weights, strict=True), key=lambda item: -abs(item[1]))
    model.card = {
        **card,
        "training": {"stories": len(train), "by_source": sources},
        "held_out": figures,
        "options": vars(options),
        "dense_weights": {name: round(float(w), 4) for name, w in ranked},
    }
    return model
