"""Registers the built-in filters through the same `register_filters` hook third-party filters use."""

from __future__ import annotations

from synthloop.curate.decontaminate import Decontaminate
from synthloop.curate.dedup.exact import ExactDedup
from synthloop.curate.dedup.minhash import MinHashDedup
from synthloop.curate.dedup.semantic import SemanticDedup
from synthloop.curate.filters.constraints import Constraints
from synthloop.curate.filters.form import Form
from synthloop.curate.filters.judge import Judge
from synthloop.curate.filters.likelihood import Likelihood
from synthloop.curate.filters.quality import QualityFilter
from synthloop.curate.filters.readability import Readability
from synthloop.curate.filters.safety import Safety
from synthloop.curate.filters.vocabulary import VocabularyFilter
from synthloop.plugins import Register, hookimpl

BUILTIN_FILTERS = (
    Constraints,
    VocabularyFilter,
    Form,
    Readability,
    Safety,
    QualityFilter,
    Likelihood,
    Judge,
    Decontaminate,
    ExactDedup,
    MinHashDedup,
    SemanticDedup,
)


@hookimpl
def register_filters(register: Register) -> None:
    for cls in BUILTIN_FILTERS:
        register(cls)
