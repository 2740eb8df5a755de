"""What the reviewer sees of a dataset: the items, their queue keys, and the story split into highlight segments.

Items are the curated dataset's kept stories (data/) plus, for the flagged queue, the stories a filter rejected
(excluded/), so a human can rescue a false reject. The "lowest" queue orders by a triage score made of the
curation scores that are present (not the quality model's score, which is "quality.*"; the store keeps it in its
`quality` column, named before the quality model existed): words used minus repetition, out-of-vocabulary rate
and profanity probability (each in 0..1), so the least faithful, most repetitive, hardest or least safe stories
come first. The "uncertain" queue orders by the quality filter's margin (`quality.margin`: its score minus its
threshold, written on every record it scores, kept or excluded), nearest zero first: the labels that teach the
classifier most.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from synthloop.records import Record
from synthloop.review.store import Item
from synthloop.store.dataset import Dataset
from synthloop.vocab.inflection import UPOS, surface_forms

WORD = re.compile(r"[A-Za-z]+(?:['’-][A-Za-z]+)*")
PENALTIES = ("form.repeated_5gram_fraction", "vocab.oov_rate", "safety.profanity")
MARGIN = "quality.margin"


def triage_score(record: Record) -> float:
    score = record.scores.get("constraints.words_used", 1.0)
    return round(score - sum(record.scores.get(name, 0.0) for name in PENALTIES), 6)


@dataclass(slots=True)
class Segment:
    text: str
    role: str | None = None  # the required word's role when this segment is one of its forms


def highlight(text: str, words: dict[str, str]) -> list[Segment]:
    """Split text into plain runs and required-word runs (any inflection: 'ran' for 'run', 'balls' for 'ball')."""
    forms: dict[str, str] = {}
    for role, word in words.items():
        for form in surface_forms(word, role if role in UPOS else None):
            forms.setdefault(form, role)
    segments: list[Segment] = []
    last = 0
    for match in WORD.finditer(text):
        token = match.group(0).lower().replace("’", "'")
        base = re.sub(r"'(s|ll|re|ve|d|m)$|n't$", "", token)
        found = forms.get(token) or forms.get(base)
        if found is None:
            continue
        if match.start() > last:
            segments.append(Segment(text[last : match.start()]))
        segments.append(Segment(match.group(0), found))
        last = match.end()
    if last < len(text):
        segments.append(Segment(text[last:]))
    return segments


def load_items(dataset: Dataset) -> tuple[dict[str, Record], list[Item]]:
    records: dict[str, Record] = {}
    items: list[Item] = []
    for part in ("data", "excluded"):
        for record in dataset.iter_records(part):
            if record.id in records:
                continue
            records[record.id] = record
            key = hashlib.sha256(f"review:{record.id}".encode()).hexdigest()
            flagged = part == "excluded" or bool(record.flags)
            margin = record.scores.get(MARGIN)
            items.append(Item(record.id, len(items), part, key, triage_score(record), flagged, margin))
    return records, items
