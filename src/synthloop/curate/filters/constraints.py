"""Did the story do what the prompt asked? Required words in any inflection, the instruct recipe's random sentence,
and the features that can be checked from the text (Dialogue -> quoted speech)."""

from __future__ import annotations

import re

from pydantic import Field

from synthloop.curate.base import Filter, FilterOptions, Verdict
from synthloop.curate.text import TextView, normalize
from synthloop.records import Record
from synthloop.vocab.inflection import missing_words

QUOTES = re.compile(r"[\"“”«»]")


class ConstraintsOptions(FilterOptions):
    require_words: bool = Field(True, description="every required word must appear, in any inflection")
    require_sentence: bool = Field(
        True, description="tinystories-instruct: the random sentence must appear (normalised)"
    )
    check_dialogue: bool = Field(True, description="feature Dialogue: at least one pair of quotation marks")


class ConstraintsFilter(Filter[ConstraintsOptions]):
    name = "constraints"

    def filter(self, record: Record, view: TextView) -> Verdict:
        options = self.options
        reasons = []
        if options.require_words and record.words:
            missing = missing_words(record.text, record.words, set(view.words))
            self.score(record, "words_used", 1 - len(missing) / len(record.words))
            record.meta["missing"] = missing
            reasons += [f"missing_{role}" for role in missing]
        sentence = record.meta.get("random_sentence")
        if options.require_sentence and sentence and normalize(sentence) not in normalize(record.text):
            reasons.append("missing_sentence")
        if options.check_dialogue and "Dialogue" in record.features and len(QUOTES.findall(record.text)) < 2:
            reasons.append("no_dialogue")
        return (False, reasons) if reasons else True
