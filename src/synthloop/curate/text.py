"""Text helpers shared by the filters and dedup: normalisation, sentences, n-grams.

Each is computed once per record and cached on a small `TextView`, since several filters need the same tokens; a
stage's own per-story work (a MinHash signature, an embedding) goes in `view.cache` under the stage's name, so the
dedup pass and the index reuse it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from synthloop.vocab.inflection import word_tokens

SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
NON_WORD = re.compile(r"[^a-z0-9 ]+")
COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")  # diacritics


def normalize(text: str) -> str:
    """Lower case, accents folded, punctuation dropped, whitespace collapsed: the key for exact dedup."""
    folded = text.lower()
    if not folded.isascii():  # the per-character fold only where there is something to fold
        folded = COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return " ".join(NON_WORD.sub(" ", folded).split())


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


@dataclass
class TextView:
    text: str
    cache: dict[str, Any] = field(default_factory=dict, repr=False)  # stage name -> its per-story result

    @cached_property
    def words(self) -> list[str]:
        """Word tokens (lower case, clitics split, hyphen parts added)."""
        return word_tokens(self.text)

    @cached_property
    def plain_words(self) -> list[str]:
        """Whitespace words of the normalised text: what n-gram statistics run on."""
        return normalize(self.text).split()

    @cached_property
    def sentences(self) -> list[str]:
        return [s for s in (part.strip() for part in SENTENCE_SPLIT.split(self.text.strip())) if s]

    @cached_property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.splitlines() if line.strip()]
