"""Build filters the way the curate runner does, for unit tests."""

from __future__ import annotations

from typing import Any

from synthloop import plugins
from synthloop.config import validate_options
from synthloop.curate.base import Filter
from synthloop.curate.step import CurateStep
from synthloop.curate.text import TextView
from synthloop.records import Record
from synthloop.vocab import load_vocabulary

VOCABULARY = load_vocabulary()


def make(name: str, context: dict[str, Any] | None = None, **options: Any) -> Filter:
    cls = plugins.lookup("filter", name)
    return cls(
        validate_options(cls.Options, options, f"curate.filters.{name}"), {"vocabulary": VOCABULARY, **(context or {})}
    )


def verdict(filter_: Filter, text: str, **fields: Any) -> tuple[bool, list[str]]:
    record = Record(id=fields.pop("id", "r"), text=text, **fields)
    [result] = CurateStep([filter_]).curate_batch([record])
    return result.meta["curation"] == "kept", result.flags


def view(text: str) -> TextView:
    return TextView(text)


STORY = (
    "Once upon a time, there was a little dog named Max. Max liked to run in the park with his red ball. "
    "One day, Max saw a big tree and a happy bird.\n\n"
    '"Hello, bird!" said Max. The bird sang a song, and Max wagged his tail. They played all day in the sun. '
    "When it got dark, Max went home to his mom. He was tired but happy, and he slept in his warm bed."
)
