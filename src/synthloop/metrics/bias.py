"""Bias audit: who appears, and who does what.

Counts gendered pronouns and conventionally gendered first names (metrics/data/names.tsv); which verbs follow
"he" and "she" ("she cried", "he ran": the next word's verb lemma); and, for occupation words, how often each
shares a sentence with only male or only female pronouns. Simple co-occurrence statistics, meant to be compared
between the synthetic data and a human reference, not read as absolute truths.
"""

from __future__ import annotations

import csv
from collections import Counter
from functools import lru_cache
from importlib import resources
from typing import Any

from synthloop.curate.text import TextView

PRONOUNS = {
    "he": "male",
    "him": "male",
    "his": "male",
    "himself": "male",
    "she": "female",
    "her": "female",
    "hers": "female",
    "herself": "female",
}
OCCUPATIONS = (
    "doctor",
    "nurse",
    "teacher",
    "farmer",
    "king",
    "queen",
    "prince",
    "princess",
    "pilot",
    "cook",
    "chef",
    "baker",
    "police",
    "firefighter",
    "scientist",
    "builder",
    "driver",
    "soldier",
    "artist",
    "dancer",
    "singer",
    "fisherman",
    "sailor",
    "shopkeeper",
    "vet",
    "dentist",
    "mailman",
    "waiter",
)
AUXILIARIES = {"was", "is", "had", "has", "did", "does", "could", "would", "will", "can", "should", "were", "be"}


@lru_cache(maxsize=1)
def names() -> dict[str, str]:
    text = resources.files("synthloop.metrics").joinpath("data", "names.tsv").read_text(encoding="utf-8")
    return {row["name"].lower(): row["gender"] for row in csv.DictReader(text.splitlines(), delimiter="\t")}


@lru_cache(maxsize=65536)
def verb_lemma(token: str) -> str | None:
    from lemminflect import getAllLemmas

    found = getAllLemmas(token).get("VERB")
    return found[0] if found else None


def bias_audit(texts: list[str]) -> dict[str, Any]:
    pronouns: Counter[str] = Counter()
    named: Counter[str] = Counter()
    name_counts: Counter[str] = Counter()
    verbs: dict[str, Counter[str]] = {"he": Counter(), "she": Counter()}
    occupations: dict[str, Counter[str]] = {o: Counter() for o in OCCUPATIONS}
    known_names = names()
    for text in texts:
        view = TextView(text)
        for token in view.words:
            if token in PRONOUNS:
                pronouns[PRONOUNS[token]] += 1
            elif token in known_names:
                named[known_names[token]] += 1
                name_counts[token] += 1
        for sentence in view.sentences:
            tokens = TextView(sentence).words
            for i, token in enumerate(tokens[:-1]):
                if token in verbs and tokens[i + 1] not in AUXILIARIES:
                    lemma = verb_lemma(tokens[i + 1])
                    if lemma:
                        verbs[token][lemma] += 1
            genders = {PRONOUNS[t] for t in tokens if t in PRONOUNS}
            if len(genders) == 1:
                for token in set(tokens) & occupations.keys():
                    occupations[token][next(iter(genders))] += 1
    return {
        "pronouns": {"female": pronouns["female"], "male": pronouns["male"], "female_share": _share(pronouns)},
        "names": {
            "female": named["female"],
            "male": named["male"],
            "female_share": _share(named),
            "top": name_counts.most_common(10),
        },
        "verbs_after_pronoun": {p: c.most_common(10) for p, c in verbs.items()},
        "occupations": {o: dict(c) for o, c in occupations.items() if c},
    }


def _share(counts: Counter[str]) -> float | None:
    total = counts["female"] + counts["male"]
    return counts["female"] / total if total else None
