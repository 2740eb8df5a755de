"""The quality filter in the report: how its scores spread over kept and excluded stories, and how its keep
decision agrees with the labels some stories carry.

The quality filter writes `quality.score` (the probability that a story is keep-worthy) and `quality.margin`
(score minus its threshold) on every story it scores; its keep decision is margin >= 0. Labels come from two
sources, each measured on its own: the judge filter (`judge.keep`, 1.0 keep / 0.0 drop) and human review applied
to the dataset (meta["review"]["status"]: "accept" and "rescued" keep, "reject" drops; an edit is left out, since
the score belongs to the text before the edit). Keep is the positive class: precision is the share of the filter's
keeps that the labels keep, recall the share of the labelled keeps that it keeps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from synthloop.records import Record

SCORE, MARGIN, JUDGE_KEEP = "quality.score", "quality.margin", "judge.keep"
REVIEW_LABELS = {"accept": True, "rescued": True, "reject": False}


def judge_label(record: Record) -> bool | None:
    value = record.scores.get(JUDGE_KEEP)
    return None if value is None else value >= 0.5


def review_label(record: Record) -> bool | None:
    review = record.meta.get("review")
    return REVIEW_LABELS.get(review.get("status", "")) if isinstance(review, dict) else None


def agreement(pairs: list[tuple[bool, bool]]) -> dict[str, Any]:
    """(predicted keep, labelled keep) pairs -> confusion counts, precision, recall, accuracy (None if undefined)."""
    tp = sum(1 for predicted, label in pairs if predicted and label)
    fp = sum(1 for predicted, label in pairs if predicted and not label)
    fn = sum(1 for predicted, label in pairs if not predicted and label)
    tn = len(pairs) - tp - fp - fn
    return {
        "labelled": len(pairs),
        "labelled_keep": tp + fn,
        "true_keep": tp,
        "false_keep": fp,
        "false_drop": fn,
        "true_drop": tn,
        "precision": tp / (tp + fp) if tp + fp else None,
        "recall": tp / (tp + fn) if tp + fn else None,
        "accuracy": (tp + tn) / len(pairs) if pairs else None,
    }


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    array = np.asarray(values, dtype=float)
    percentiles = np.percentile(array, [10, 50, 90])
    return {
        "mean": float(array.mean()),
        "p10": float(percentiles[0]),
        "p50": float(percentiles[1]),
        "p90": float(percentiles[2]),
    }


def quality_metrics(kept: list[Record], excluded: list[Record]) -> dict[str, Any] | None:
    """None when no story carries a quality score (the quality filter did not run)."""
    scores = {
        "kept": [round(r.scores[SCORE], 4) for r in kept if SCORE in r.scores],
        "excluded": [round(r.scores[SCORE], 4) for r in excluded if SCORE in r.scores],
    }
    if not scores["kept"] and not scores["excluded"]:
        return None
    labelled = {}
    for source, label_of in (("judge", judge_label), ("review", review_label)):
        pairs = []
        for record in kept + excluded:
            label = label_of(record)
            if MARGIN in record.scores and label is not None:
                pairs.append((record.scores[MARGIN] >= 0, label))
        if pairs:
            labelled[source] = agreement(pairs)
    return {
        "scored": {side: len(values) for side, values in scores.items()},
        "distribution": {side: summary(values) for side, values in scores.items()},
        "scores": scores,
        "labelled": labelled,
    }
