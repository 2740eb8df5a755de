"""Did a story use a word, in any inflection? (run/ran/running, mouse/mice, happy/happier/happiest)

Surface forms come from lemminflect's lexicon (irregular forms included) with its rule-based fallback for words
outside the lexicon; matching is on whole word tokens, so "cat" is not found inside "catch". Possessives and
contractions are split off ("dog's" -> "dog"), and hyphenated compounds count their parts ("ice-cream" -> "ice",
"cream", "ice-cream").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

WORD_PATTERN = re.compile(r"[a-z]+(?:[-'][a-z]+)*")
UPOS = {"noun": "NOUN", "verb": "VERB", "adjective": "ADJ"}
CLITICS = ("'s", "'ll", "'re", "'ve", "'d", "'m", "n't")


def word_tokens(text: str) -> list[str]:
    """Lower-case word tokens, with clitics split off and hyphenated parts added."""
    tokens = []
    for token in WORD_PATTERN.findall(text.lower().replace("’", "'")):
        if "'" in token:
            for clitic in CLITICS:
                if token.endswith(clitic) and len(token) > len(clitic):
                    token = token[: -len(clitic)]
                    break
            token = token.strip("'")
        if not token:
            continue
        tokens.append(token)
        if "-" in token:
            tokens.extend(part for part in token.split("-") if part)
    return tokens


@lru_cache(maxsize=65536)
def surface_forms(word: str, pos: str | None = None) -> frozenset[str]:
    """Every inflected form of `word` as `pos` (or as any part of speech when pos is None or 'other')."""
    from lemminflect import getAllInflections, getAllInflectionsOOV

    word = word.lower()
    forms = {word}
    upos = UPOS.get(pos or "")
    found = getAllInflections(word, upos=upos) if upos else getAllInflections(word)
    if not found and upos:
        found = getAllInflectionsOOV(word, upos=upos)
    for variants in found.values():
        forms.update(v.lower() for v in variants)
    if pos in (None, "other"):
        forms.update(surface_forms(word, "noun") | surface_forms(word, "verb") | surface_forms(word, "adjective"))
    return frozenset(forms)


def uses_word(tokens: Iterable[str] | frozenset[str] | set[str], word: str, pos: str | None = None) -> bool:
    token_set = tokens if isinstance(tokens, (set, frozenset)) else set(tokens)
    return not token_set.isdisjoint(surface_forms(word, pos))


def missing_words(text: str, words: dict[str, str], tokens: set[str] | None = None) -> list[str]:
    """The roles (noun/verb/adjective/...) whose word does not appear in `text` in any inflection.
    `tokens`: the text's word_tokens as a set, when the caller already has them."""
    tokens = set(word_tokens(text)) if tokens is None else tokens
    return [role for role, word in words.items() if not uses_word(tokens, word, role if role in UPOS else None)]


@lru_cache(maxsize=262144)
def lemmas(token: str) -> frozenset[str]:
    """Possible base forms of a token (for vocabulary compliance): 'mice' -> {'mouse', 'mice'}."""
    from lemminflect import getAllLemmas, getAllLemmasOOV

    found = {token}
    for upos_lemmas in getAllLemmas(token).values():
        found.update(upos_lemmas)
    if len(found) == 1:
        for upos in ("NOUN", "VERB"):
            found.update(getAllLemmasOOV(token, upos).get(upos, ()))
    return frozenset(found)
