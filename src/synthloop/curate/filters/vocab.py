"""Vocabulary compliance: the share of a story's words that are not in the run's vocabulary (in any inflection).

Names are not counted (a capitalised word that also appears capitalised mid-sentence, and is not a vocabulary
word), nor numbers. The default bound, 0.15, comes from the TinyStories sample in ../shared/corpora measured against
the shipped vocabulary: it sits just above that sample's 99th percentile (benchmarks/curate_thresholds.py;
docs/experiments/curation-thresholds.md).
"""

from __future__ import annotations

import re

from pydantic import Field

from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.text import TextView
from synthloop.records import Record
from synthloop.vocab.inflection import lemmas

CAPITALISED = re.compile(r"(?<![.!?\"“]\s)(?<!^)\b([A-Z][a-z]+)\b")


class VocabularyOptions(FilterOptions):
    max_oov_rate: float | None = Field(
        0.15, ge=0.0, le=1.0, description="share of words outside the vocabulary above which a story is dropped"
    )
    max_listed: int = Field(20, ge=0, description="out-of-vocabulary words recorded on the record")


class VocabularyFilter(Filter[VocabularyOptions]):
    name = "vocab"

    def __init__(self, options: VocabularyOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        self.words = self.context.need_vocabulary(self.name).words

    def in_vocabulary(self, token: str) -> bool:
        return token in self.words or not lemmas(token).isdisjoint(self.words)

    def filter(self, record: Record, view: TextView) -> Verdict:
        options = self.options
        names = {m.lower() for m in CAPITALISED.findall(record.text)}
        counted = [t for t in view.words if "-" not in t and not t.isdigit() and t not in names]
        oov = [t for t in counted if not self.in_vocabulary(t)]
        rate = len(oov) / len(counted) if counted else 0.0
        self.score(record, "oov_rate", rate)
        if oov:
            record.meta["oov_words"] = sorted(set(oov))[: options.max_listed]
        if options.max_oov_rate is not None and rate > options.max_oov_rate:
            return False, "oov_rate"
        return True
