"""Form and quality: length, truncation, repetition, garbage or non-English text, assistant meta-talk, prompt echo.

Repetition follows Gopher (Rae et al., 2021) in kind — the share of words inside repeated 5-grams, the share of
repeated sentences — with bounds set from the TinyStories sample (children's stories repeat refrains, so web-text
bounds are too strict; see benchmarks/curate_thresholds.py). Non-English text fails Gopher's stop-word test (fewer
than two of the, be, to, of, and, that, have, with).
"""

from __future__ import annotations

import re
from collections import Counter

from pydantic import Field

from synthloop.curate.base import Filter, FilterOptions, Verdict
from synthloop.curate.text import META_TALK, TextView, ngrams, normalize, repeated_ngram_fraction
from synthloop.records import Record

STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with", "is", "was", "a"})
ALLOWED_CHARS = re.compile(r"[A-Za-z0-9\s.,!?;:'\"“”‘’()\-–—…]")
SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")


class FormOptions(FilterOptions):
    min_words: int | None = Field(
        50, ge=0, description="shorter stories are dropped (TinyStories stories are ~100-250 words)"
    )
    max_words: int | None = Field(1000, ge=1, description="longer stories are dropped")
    # Words inside a 5-gram seen before: well above TinyStories' 99th percentile, far below looping model output
    # (benchmarks/curate_thresholds.py; docs/experiments/curation-thresholds.md).
    max_repeated_5gram_fraction: float | None = Field(
        0.25, ge=0, le=1, description="share of words inside a 5-gram seen before in the story"
    )
    max_repeated_sentence_fraction: float | None = Field(
        0.3, ge=0, le=1, description="share of sentences that repeat an earlier one"
    )
    max_garbage_char_fraction: float | None = Field(
        0.02, ge=0, le=1, description="share of characters outside letters, digits and punctuation"
    )
    min_stop_words: int | None = Field(2, ge=0, description="fewest English stop words (Gopher's English test)")
    reject_meta_talk: bool = Field(True, description="drop assistant talk ('Sure! Here is a story')")
    reject_truncated: bool = Field(True, description="drop a story that does not end a sentence")
    prompt_echo_ngram: int | None = Field(8, ge=3, description="an 8-word span copied from the prompt is an echo")


class FormFilter(Filter[FormOptions]):
    name = "form"

    def filter(self, record: Record, view: TextView) -> Verdict:
        o = self.options
        reasons = []
        words = view.plain_words
        self.score(record, "words", len(words))
        if o.min_words is not None and len(words) < o.min_words:
            reasons.append("too_short")
        if o.max_words is not None and len(words) > o.max_words:
            reasons.append("too_long")
        text = record.text.strip()
        if o.reject_truncated and text and not SENTENCE_END.search(text):
            reasons.append("truncated")
        repeated = repeated_ngram_fraction(words, 5)
        self.score(record, "repeated_5gram_fraction", repeated)
        if o.max_repeated_5gram_fraction is not None and repeated > o.max_repeated_5gram_fraction:
            reasons.append("repetition")
        sentences = [normalize(s) for s in view.sentences]
        if len(sentences) >= 3 and o.max_repeated_sentence_fraction is not None:
            counts = Counter(sentences)
            share = sum(c - 1 for c in counts.values()) / len(sentences)
            if share > o.max_repeated_sentence_fraction:
                reasons.append("repeated_sentences")
        if text and o.max_garbage_char_fraction is not None:
            garbage = 1 - len(ALLOWED_CHARS.findall(text)) / len(text)
            self.score(record, "garbage_char_fraction", garbage)
            if garbage > o.max_garbage_char_fraction:
                reasons.append("garbage_chars")
        if o.min_stop_words is not None and words and len(STOP_WORDS.intersection(words)) < o.min_stop_words:
            reasons.append("not_english")
        if o.reject_meta_talk and META_TALK.search(text):
            reasons.append("meta_talk")
        if o.prompt_echo_ngram and record.prompt and self.echoes_prompt(record, words, o.prompt_echo_ngram):
            reasons.append("prompt_echo")
        return (False, reasons) if reasons else True

    @staticmethod
    def echoes_prompt(record: Record, words: list[str], n: int) -> bool:
        prompt_grams = set(ngrams(normalize(record.prompt).split(), n))
        if prompt_grams and not prompt_grams.isdisjoint(ngrams(words, n)):
            return True
        required = sorted(normalize(w) for w in record.words.values())
        opening = normalize(record.text).split()[: len(required)]
        return bool(required) and sorted(opening) == required  # "Lip, sprinkle, ill. That's a story..."
