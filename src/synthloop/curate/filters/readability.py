"""Readability: Flesch-Kincaid grade level, with syllables from the CMU Pronouncing Dictionary.

textstat computes the same formula but fetches CMUdict through nltk.download at run time, which fails offline, and
is much slower per text (docs/experiments/implementation-choices.md); this uses the `cmudict` package's data file
directly (a vowel-group estimate for words it lacks) and is checked against textstat in the tests. The default bound,
grade 7, sits above the TinyStories sample's 99th percentile and below the median of Gutenberg's children's tales
(benchmarks/curate_thresholds.py; docs/experiments/curation-thresholds.md): stories for 3-year-olds should not read
like middle-school text.
"""

from __future__ import annotations

from pydantic import Field

from synthloop.curate.base import Filter, FilterOptions, Verdict
from synthloop.curate.text import TextView, flesch_kincaid_grade, sentence_count
from synthloop.records import Record


class ReadabilityOptions(FilterOptions):
    max_grade: float | None = Field(7.0, description="highest Flesch-Kincaid grade kept")


class ReadabilityFilter(Filter[ReadabilityOptions]):
    name = "readability"

    def filter(self, record: Record, view: TextView) -> Verdict:
        options = self.options
        grade = flesch_kincaid_grade(record.text, sentence_count(view))
        self.score(record, "fk_grade", grade)
        if options.max_grade is not None and grade > options.max_grade:
            return False, "grade"
        return True
