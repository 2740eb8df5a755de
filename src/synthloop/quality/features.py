"""Features a story's keep-worthiness is judged by: form, repetition, simplicity, and coherence signals.

Two parts. Dense features (FEATURES, one number each, ~25) measure what the rubric asks in ways that do not depend
on who wrote the story: length and sentence shape, repetition (Gopher-style n-gram and sentence repeats), how many
words a small child knows, meta-talk and prompt-echo markers, and coherence proxies — how much each sentence
continues the one before (static MiniLM cosine and shared content words), whether the second half is about what the
first half was, and whether named characters stay. Sparse features are hashed word unigrams and bigrams (a fastText-
style bag of words), which see topic and phrasing; they are kept weak by the model's regularisation so that the
classifier does not become a detector of one generator's style.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import pairwise

import numpy as np

from synthloop.curate.text import META_TALK, TextView, normalize, repeated_ngram_fraction

HASH_BUCKETS = 1 << 16
NAME = re.compile(r"(?<![.!?\"“]\s)(?<!^)\b([A-Z][a-z]+)\b")
_FUNCTION_WORDS = (
    "a an the and or but so then to of in on at for with from by up down out over under is was were are be been am "
    "i you he she it we they me him her us them my your his its our their this that these those there here not no "
    "yes do did does had has have will would can could said says say very too all some one two what who where when "
    "why how if as just"
)
FUNCTION_WORDS = frozenset(_FUNCTION_WORDS.split())


@lru_cache(maxsize=1)
def simple_words() -> frozenset[str]:
    """Every inflected form of the shipped child vocabulary, plus function words."""
    from synthloop.vocab import load_vocabulary
    from synthloop.vocab.inflection import surface_forms

    forms: set[str] = set(FUNCTION_WORDS)
    for entry in load_vocabulary().entries:
        forms.update(surface_forms(entry.word, entry.pos))
    return frozenset(forms)


def content_words(sentence: str) -> set[str]:
    return {w for w in normalize(sentence).split() if len(w) > 2 and w not in FUNCTION_WORDS}


def sentences_of(text: str) -> list[str]:
    return TextView(text).sentences or [text]


@dataclass
class Story:
    """One story as the dense features see it: what several features share is computed once, on first use."""

    text: str
    vectors: np.ndarray | None = None  # (sentences, D) unit vectors, one per sentence of sentences_of(text)

    @cached_property
    def view(self) -> TextView:
        return TextView(self.text)

    @cached_property
    def sentences(self) -> list[str]:
        return self.view.sentences or [self.text]

    @cached_property
    def sentence_words(self) -> list[int]:
        return [len(s.split()) for s in self.sentences]

    @cached_property
    def mean_sentence_words(self) -> float:
        return sum(self.sentence_words) / len(self.sentence_words)

    @cached_property
    def cosines(self) -> tuple[float, float, float]:
        """(mean and minimum cosine of adjacent sentences, cosine of the two halves' means); 0 without vectors."""
        vectors, sentences = self.vectors, self.sentences
        if vectors is None or len(sentences) < 2:
            return 0.0, 0.0, 0.0
        cos = np.sum(vectors[1:] * vectors[:-1], axis=1)
        middle = len(sentences) // 2
        first, second = vectors[:middle].mean(0), vectors[middle:].mean(0)
        halves = float(first @ second / max(1e-9, float(np.linalg.norm(first) * np.linalg.norm(second))))
        return float(cos.mean()), float(cos.min()), halves

    @cached_property
    def names(self) -> Counter[str]:
        """Capitalised words that are not sentence openers or known words, with their counts."""
        known = simple_words()
        return Counter(m.group(1) for m in NAME.finditer(self.text) if m.group(1).lower() not in known)


DenseFeature = Callable[[Story], float]
DENSE_FEATURES: dict[str, DenseFeature] = {}


def dense_feature(function: DenseFeature) -> DenseFeature:
    """Register a dense feature under its function's name. FEATURES follows the order of registration, and a model
    folder's card and weights follow FEATURES: a new feature goes last and means retraining the shipped model."""
    DENSE_FEATURES[function.__name__] = function
    return function


@dense_feature
def log_words(story: Story) -> float:
    return math.log1p(len(story.view.plain_words))


@dense_feature
def sentences(story: Story) -> float:
    return float(len(story.sentences))


@dense_feature
def mean_sentence_words(story: Story) -> float:
    return story.mean_sentence_words


@dense_feature
def sentence_words_spread(story: Story) -> float:
    mean, lengths = story.mean_sentence_words, story.sentence_words
    return math.sqrt(sum((n - mean) ** 2 for n in lengths) / len(lengths))


@dense_feature
def distinct_1(story: Story) -> float:
    words = story.view.plain_words
    return len(set(words)) / max(1, len(words))


@dense_feature
def repeated_3gram(story: Story) -> float:
    return repeated_ngram_fraction(story.view.plain_words, 3)


@dense_feature
def repeated_5gram(story: Story) -> float:
    return repeated_ngram_fraction(story.view.plain_words, 5)


@dense_feature
def repeated_sentences(story: Story) -> float:
    normal = [normalize(s) for s in story.sentences]
    return sum(c - 1 for c in Counter(normal).values()) / len(normal)


@dense_feature
def has_quotes(story: Story) -> float:
    return float('"' in story.text or "“" in story.text)


@dense_feature
def paragraphs(story: Story) -> float:
    return float(len([p for p in story.text.split("\n\n") if p.strip()]))


@dense_feature
def ends_cleanly(story: Story) -> float:
    stripped = story.text.strip()
    return float(bool(stripped) and stripped[-1] in ".!?\"'”’")


@dense_feature
def simple_word_share(story: Story) -> float:
    known, tokens = simple_words(), story.view.words
    return sum(t in known for t in tokens) / max(1, len(tokens))


@dense_feature
def mean_word_length(story: Story) -> float:
    tokens = story.view.words
    return sum(len(t) for t in tokens) / max(1, len(tokens))


@dense_feature
def meta_talk(story: Story) -> float:
    return float(bool(META_TALK.search(story.text)))


@dense_feature
def opens_once_upon(story: Story) -> float:
    return float(normalize(story.text[:40]).startswith("once upon a time"))


@dense_feature
def adjacent_cosine_mean(story: Story) -> float:
    return story.cosines[0]


@dense_feature
def adjacent_cosine_min(story: Story) -> float:
    return story.cosines[1]


@dense_feature
def halves_cosine(story: Story) -> float:
    return story.cosines[2]


@dense_feature
def content_continuity(story: Story) -> float:
    """Share of sentences sharing a content word with one of the two before."""
    contents = [content_words(s) for s in story.sentences]
    continuing = [
        bool(contents[i] & (contents[i - 1] | (contents[i - 2] if i > 1 else set()))) for i in range(1, len(contents))
    ]
    return sum(continuing) / len(continuing) if continuing else 0.0


@dense_feature
def names(story: Story) -> float:
    return float(len(story.names))


@dense_feature
def names_once_share(story: Story) -> float:
    return sum(1 for c in story.names.values() if c == 1) / max(1, len(story.names))


@dense_feature
def late_names_share(story: Story) -> float:
    """Share of the names first seen in the second half of the story."""
    text, middle = story.text, len(story.text) // 2
    late = {m.group(1) for m in NAME.finditer(text, middle)} - {m.group(1) for m in NAME.finditer(text[:middle])}
    return len(late & set(story.names)) / max(1, len(story.names))


@dense_feature
def questions_share(story: Story) -> float:
    return sum(s.endswith("?") for s in story.sentences) / len(story.sentences)


@dense_feature
def exclaims_share(story: Story) -> float:
    return sum(s.rstrip("\"'”’").endswith("!") for s in story.sentences) / len(story.sentences)


@dense_feature
def commas_per_sentence(story: Story) -> float:
    return story.text.count(",") / len(story.sentences)


@dense_feature
def compression_ratio(story: Story) -> float:
    encoded = story.text.encode("utf-8")
    return len(zlib.compress(encoded)) / max(1, len(encoded))


FEATURES = tuple(DENSE_FEATURES)


def dense(text: str, vectors: np.ndarray | None = None) -> list[float]:
    """The FEATURES of one story; `vectors` (one unit vector per sentence of sentences_of(text)) give the cosine
    features (0 without)."""
    story = Story(text, vectors)
    return [feature(story) for feature in DENSE_FEATURES.values()]


def dense_matrix(texts: list[str], embedder: object | None = None) -> np.ndarray:
    """(N, len(FEATURES)) float32; all sentences of the batch are embedded in one call."""
    split = [sentences_of(t) for t in texts]
    vectors = None
    if embedder is not None:
        vectors = embedder.encode([s for sentences in split for s in sentences])  # type: ignore[attr-defined]
    rows, start = [], 0
    for text, sentences in zip(texts, split, strict=True):
        rows.append(dense(text, None if vectors is None else vectors[start : start + len(sentences)]))
        start += len(sentences)
    return np.asarray(rows, dtype=np.float32)


def hashed(text: str) -> dict[int, float]:
    """Hashed word unigrams and bigrams, log term frequency, L2-normalised: {bucket: value}."""
    words = normalize(text).split()
    grams = Counter(words + [f"{a} {b}" for a, b in pairwise(words)])
    counts: dict[int, float] = {}
    for gram, count in grams.items():
        bucket = zlib.crc32(gram.encode("utf-8")) % HASH_BUCKETS
        counts[bucket] = counts.get(bucket, 0.0) + 1.0 + math.log(count)
    norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {k: v / norm for k, v in counts.items()}
