"""The report's quality section: the quality.score distribution over kept and excluded stories, and the quality
filter's keep (margin >= 0) against judge labels and applied review decisions (exact counts on made-up records)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from synthloop.metrics.quality import quality_metrics
from synthloop.records import Record
from synthloop.report.runner import report
from synthloop.store.dataset import Dataset

TEXT = "Tom had a red ball. He ran to the park with it and played with his dog. They were happy all day long."


def scored(name: str, score: float | None, judge: float | None = None, review: str | None = None) -> Record:
    scores = {} if score is None else {"quality.score": score, "quality.margin": round(score - 0.5, 6)}
    if judge is not None:
        scores["judge.keep"] = judge
    meta: dict[str, Any] = {"review": {"status": review}} if review else {}
    return Record(id=name, text=f"{TEXT} ({name})", scores=scores, meta=meta)


KEPT = [
    scored("a", 0.9, judge=1.0),
    scored("b", 0.7, judge=0.0),
    scored("c", 0.6, review="accept"),
    scored("g", 0.45, review="rescued"),
    scored("h", 0.8, review="edited"),
    scored("i", None, judge=1.0),
]
EXCLUDED = [scored("d", 0.3, judge=1.0), scored("e", 0.2, judge=0.0), scored("f", 0.1, review="reject")]


def test_precision_recall_per_label_source() -> None:
    metrics = quality_metrics(KEPT, EXCLUDED)
    assert metrics is not None
    assert metrics["scored"] == {"kept": 5, "excluded": 3}
    assert metrics["scores"]["excluded"] == [0.3, 0.2, 0.1]
    assert metrics["distribution"]["excluded"]["p50"] == pytest.approx(0.2)
    judge = metrics["labelled"]["judge"]  # a (keep, keep), b (keep, drop), d (drop, keep), e (drop, drop); i: no score
    assert (judge["labelled"], judge["true_keep"], judge["false_keep"], judge["false_drop"], judge["true_drop"]) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert judge["precision"] == judge["recall"] == judge["accuracy"] == 0.5
    review = metrics["labelled"]["review"]  # c (keep, keep), g (drop, keep), f (drop, drop); the edit h is left out
    assert review["labelled"] == 3 and review["precision"] == 1.0 and review["recall"] == 0.5
    assert review["accuracy"] == pytest.approx(2 / 3)
    only_drops = quality_metrics([scored("x", 0.2, judge=0.0)], [])
    assert only_drops is not None and only_drops["labelled"]["judge"]["precision"] is None
    assert quality_metrics([scored("y", None, judge=1.0)], []) is None


def test_report_shows_the_quality_section(tmp_path: Path) -> None:
    dataset = Dataset.create(tmp_path / "curated", {"kind": "curate"})
    dataset.write_shard(0, KEPT, "data")
    dataset.write_shard(0, EXCLUDED, "excluded")
    report(tmp_path / "curated", tmp_path / "report")
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    page = (tmp_path / "report" / "index.html").read_text()
    assert metrics["quality"]["labelled"]["judge"]["precision"] == 0.5
    assert "<h2>Quality</h2>" in page and 'alt="quality histogram"' in page
    assert '<span data-metric="quality/labelled/review/accuracy">0.667</span>' in page
    assert '<span data-metric="quality/scored/kept">5</span>' in page

    plain = Dataset.create(tmp_path / "plain", {"kind": "curate"})
    plain.write_shard(0, [scored("z", None)], "data")
    report(tmp_path / "plain", tmp_path / "report2")
    assert "quality" not in json.loads((tmp_path / "report2" / "metrics.json").read_text())
    assert "<h2>Quality</h2>" not in (tmp_path / "report2" / "index.html").read_text()
