"""Safety for children: a toxicity/profanity classifier plus a curated child-safety term list.

The classifier is alt-profanity-check (a linear SVM on TF-IDF shipped inside its wheel, MIT), run on a whole batch
at once. The term list (curate/data/child_safety.tsv) names the category of each term, so a reject says why:
`safety.violence`, `safety.adult`, ...; the matched terms are recorded in meta["safety_terms"].
"""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import Field

from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.text import TextView
from synthloop.errors import UserError
from synthloop.plugins import Requirement
from synthloop.records import Record
from synthloop.vocab.inflection import surface_forms

PROFANITY = Requirement("profanity_check", "curate")  # alt-profanity-check


class SafetyOptions(FilterOptions):
    max_profanity_probability: float | None = Field(
        0.8, ge=0, le=1, description="classifier probability above which a story is dropped"
    )
    use_term_list: bool = Field(True, description="drop stories using a term of the child-safety list")
    extra_terms_file: Path | None = Field(None, description="TSV with columns term, category")


def load_terms(extra: Path | None) -> dict[str, tuple[str, str]]:
    """surface form -> (term, category)."""
    text = resources.files("synthloop.curate").joinpath("data", "child_safety.tsv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines(), delimiter="\t"))
    if extra is not None:
        try:
            extra_rows = list(csv.DictReader(Path(extra).read_text(encoding="utf-8").splitlines(), delimiter="\t"))
        except OSError as error:
            raise UserError(f"{extra}: cannot read safety term list ({error})") from error
        if not extra_rows or not {"term", "category"} <= set(extra_rows[0]):
            raise UserError(f"{extra}: expected a TSV with columns 'term' and 'category'")
        rows += extra_rows
    forms: dict[str, tuple[str, str]] = {}
    for row in rows:
        term, category = row["term"].strip().lower(), row["category"].strip()
        for form in surface_forms(term) | {term}:
            forms.setdefault(form, (term, category))
    return forms


class SafetyFilter(Filter[SafetyOptions]):
    name = "safety"
    requires = (PROFANITY,)

    def __init__(self, options: SafetyOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        self.terms = load_terms(options.extra_terms_file) if options.use_term_list else {}
        self._predict: Any = None
        if options.max_profanity_probability is not None:
            self.require()  # only the classifier needs it
            from profanity_check import predict_prob

            self._predict = predict_prob

    def filter(self, record: Record, view: TextView) -> Verdict:
        return self.filter_batch([record], [view])[0]

    def filter_batch(self, records: list[Record], views: list[TextView]) -> list[Verdict]:
        options = self.options
        probabilities = self._predict([r.text for r in records]) if self._predict is not None else None
        verdicts: list[Verdict] = []
        for index, (record, view) in enumerate(zip(records, views, strict=True)):
            reasons = []
            if probabilities is not None:
                probability = float(probabilities[index])
                self.score(record, "profanity", probability)
                if options.max_profanity_probability is not None and probability > options.max_profanity_probability:
                    reasons.append("profanity")
            matched = {self.terms[t] for t in view.words if t in self.terms}
            if matched:
                record.meta["safety_terms"] = sorted(term for term, _ in matched)
                reasons += sorted({category for _, category in matched})
            verdicts.append((False, reasons) if reasons else True)
        return verdicts
