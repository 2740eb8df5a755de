"""The filter interface: implement `filter(record, view)`; the pipeline does the counting and keeps the rejects.

A filter returns True (keep), or (False, reason) where the reason is a short code the pipeline prefixes with the
filter's name (`vocab` + `oov_rate` -> `vocab.oov_rate`). It may also put scores on `record.scores` (prefixed by
its name too) so later stages and the review app can sort by them. Thresholds are typed `X | None`; None switches
that check off. Filters are plugins (synthloop/plugins.py): subclass `Filter[MyOptions]`, register the class
through the `register_filters` hook and name it in `curate.order`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from synthloop.curate.text import TextView
from synthloop.errors import UserError
from synthloop.plugins import Plugin
from synthloop.records import Record
from synthloop.vocab import Vocabulary

if TYPE_CHECKING:
    from synthloop.store.dataset import Dataset

Verdict = bool | tuple[bool, str] | tuple[bool, list[str]]


class FilterOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


OptionsT = TypeVar("OptionsT", bound=FilterOptions)


@dataclass
class FilterContext:
    """Run-wide things a filter may need, beside its options."""

    vocabulary: Vocabulary | None = None  # the run's vocabulary
    sample_texts: list[str] = field(default_factory=list)  # the first input stories (semantic dedup centres on them)
    source: Dataset | None = None  # the dataset being curated
    out: Path | None = None  # the curated output folder (not created yet when filters are built)

    def need_vocabulary(self, who: str) -> Vocabulary:
        if self.vocabulary is None:
            raise UserError(f"the {who} filter needs the run's vocabulary")
        return self.vocabulary


class Filter(Plugin[OptionsT], ABC):
    """Subclass as `Filter[MyOptions]`, so `self.options` is typed as the filter's own options."""

    kind = "filter"
    Options: ClassVar[type[BaseModel]] = FilterOptions
    stateful: ClassVar[bool] = False  # dedup-like: decisions depend on what was kept before
    # False: the filter sees only the stories that no filter before it in curate.order rejected (an expensive one,
    # like the LLM judge, spends nothing on stories already dropped); the others get no verdict or scores from it.
    sees_rejected: bool = True

    def __init__(self, options: OptionsT, context: FilterContext | dict[str, Any] | None = None) -> None:
        """`context`: run-wide things (a plain dict of FilterContext's fields is accepted too)."""
        super().__init__(options)
        self.context = context if isinstance(context, FilterContext) else FilterContext(**(context or {}))

    def content_digest(self) -> str | None:
        """A digest of what decides this filter's verdicts beyond its options (a rubric's text, a model's files),
        or None: curation's fingerprint holds it, so a changed rubric or retrained model is not resumed into."""
        return None

    @abstractmethod
    def filter(self, record: Record, view: TextView) -> Verdict:
        """True to keep; (False, reason) or (False, [reasons]) to drop."""

    def filter_batch(self, records: list[Record], views: list[TextView]) -> list[Verdict]:
        """Override when a filter is faster on a batch (a vectorised model); the default calls filter()."""
        return [self.filter(record, view) for record, view in zip(records, views, strict=True)]

    def prepare(self, records: list[Record], views: list[TextView]) -> None:
        """Stateful filters: precompute per-record work for a batch (signatures, embeddings) before the
        record-by-record decisions."""

    def remember(self, record: Record, view: TextView) -> None:
        """Stateful filters: add a kept record to the index (also called for records kept before a resume)."""

    def close(self) -> None:
        """Release resources."""

    def score(self, record: Record, key: str, value: float) -> None:
        record.scores[f"{self.name}.{key}"] = round(float(value), 6)
