"""The `quality` filter: the quality classifier (synthloop/quality/) as a curation stage.

Every story it sees gets `quality.score` (the model's probability that a careful reader would keep it) and
`quality.margin` (score minus threshold: the review app's "uncertain" queue starts at the smallest |margin|) and
`quality.keep` (1 or 0); a story below the threshold is dropped with `quality.low_score`, or, in "score" mode, only
marked. Scoring is batched and runs on one core at
thousands of stories per second (benchmarks/quality_speed.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.text import TextView
from synthloop.records import Record


class QualityOptions(FilterOptions):
    model: Path | None = Field(None, description="a folder from `synthloop quality train`; None: the shipped model")
    threshold: float | None = Field(
        None, ge=0, le=1, description="score below which a story is dropped; None: the model's own"
    )
    # "filter": drop stories below the threshold; "score": only score them (quality.keep says which the model would
    # keep), for a model not yet validated on this generator's stories.
    mode: Literal["filter", "score"] = Field(
        "filter", description="filter: drop below the threshold; score: only score"
    )


class QualityFilter(Filter[QualityOptions]):
    name = "quality"

    def __init__(self, options: QualityOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        from synthloop.quality.model import load_model

        self.model = load_model(options.model)  # a missing or damaged model fails here, before any work
        self.threshold = self.model.threshold if options.threshold is None else options.threshold

    def content_digest(self) -> str | None:
        return self.model.digest

    def filter(self, record: Record, view: TextView) -> Verdict:
        return self.filter_batch([record], [view])[0]

    def filter_batch(self, records: list[Record], views: list[TextView]) -> list[Verdict]:
        scoreable = [i for i, r in enumerate(records) if isinstance(r.text, str) and r.text.strip()]
        scores = self.model.score([records[i].text for i in scoreable])
        verdicts: list[Verdict] = [(False, "no_text")] * len(records)
        for i, score in zip(scoreable, scores, strict=True):
            self.score(records[i], "score", score)
            self.score(records[i], "margin", score - self.threshold)
            self.score(records[i], "keep", float(score >= self.threshold))
            keep = score >= self.threshold or self.options.mode == "score"
            verdicts[i] = True if keep else (False, "low_score")
        return verdicts
