"""Registers the built-in filters through the same `register_filters` hook third-party filters use."""

from __future__ import annotations

from synthloop.curate.dedup.exact import ExactDedup
from synthloop.curate.dedup.minhash import MinHashDedup
from synthloop.curate.dedup.semantic import SemanticDedup
from synthloop.curate.filters.constraints import ConstraintsFilter
from synthloop.curate.filters.decontam import DecontaminationFilter
from synthloop.curate.filters.form import FormFilter
from synthloop.curate.filters.judge import JudgeFilter
from synthloop.curate.filters.likelihood import LikelihoodFilter
from synthloop.curate.filters.quality import QualityFilter
from synthloop.curate.filters.readability import ReadabilityFilter
from synthloop.curate.filters.safety import SafetyFilter
from synthloop.curate.filters.vocab import VocabularyFilter
from synthloop.plugins import Register, hookimpl

BUILTIN_FILTERS = (
    ConstraintsFilter,
    VocabularyFilter,
    FormFilter,
    ReadabilityFilter,
    SafetyFilter,
    QualityFilter,
    LikelihoodFilter,
    JudgeFilter,
    DecontaminationFilter,
    ExactDedup,
    MinHashDedup,
    SemanticDedup,
)


@hookimpl
def register_filters(register: Register) -> None:
    for cls in BUILTIN_FILTERS:
        register(cls)
