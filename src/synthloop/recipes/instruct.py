"""The TinyStories-Instruct recipe: stories paired with the instructions that produced them.

Each training example reads (the TinyStories-Instruct format):
    Features: Dialogue, Twist
    Words: jump, ball, happy
    Summary: <one sentence>
    Random sentence: <a sentence the story must contain>
    Story: <the story>
The random sentence is built from vocabulary words with simple templates before generation (so the story can be
asked to contain it); the model writes the summary after the story, and parse() splits the two apart. The
`template` option works as in the tinystories recipe, with one more placeholder, {sentence}.
"""

from __future__ import annotations

import re

from pydantic import Field

from synthloop.recipes.base import clean_story
from synthloop.recipes.tinystories import FEATURES, TinyStories, TinyStoriesOptions, features_sentence
from synthloop.records import Record

TEMPLATE = (
    "Write a short story (3-5 paragraphs) which only uses very simple words that a 3 year old child would "
    'understand. The story should use the verb "{verb}", the noun "{noun}" and the adjective "{adjective}".'
    '{features} The story must contain this sentence: "{sentence}" After the story, write one line that starts '
    'with "Summary:" and tells what happens in the story in one sentence. Remember to only use simple words!'
)
SENTENCES = (
    "The {adjective} {noun} was near the door.",
    "Mom said the {noun} was very {adjective}.",
    "They saw a {adjective} {noun} in the park.",
    "The little girl found a {noun}.",
    "It was a {adjective} day.",
    "The dog looked at the {noun}.",
    "He wanted to play with the {noun}.",
    "She smiled and said thank you.",
)
SUMMARY = re.compile(r"^\s*\**summary\**\s*:\s*", re.IGNORECASE | re.MULTILINE)


def instruct_text(record: Record) -> str:
    """The record as one TinyStories-Instruct training example."""
    lines = []
    if record.features:
        lines.append("Features: " + ", ".join(record.features))
    lines.append("Words: " + ", ".join(record.words[r] for r in ("verb", "noun", "adjective") if r in record.words))
    if record.meta.get("summary"):
        lines.append("Summary: " + record.meta["summary"])
    lines.append("Random sentence: " + record.meta["random_sentence"])
    lines.append("Story: " + record.text.replace("\n\n", "\n"))
    return "\n".join(lines)


class InstructOptions(TinyStoriesOptions):
    template: str = Field(
        TEMPLATE,
        description="placeholders {noun} {verb} {adjective} {features} {sentence}; the default asks for a "
        "summary line too, which parse() splits off",
    )

    def model_post_init(self, context: object) -> None:
        super().model_post_init(context)
        if "{sentence}" not in self.template:
            raise ValueError("template must contain {sentence} (the random sentence the story must contain)")


class TinyStoriesInstruct(TinyStories[InstructOptions]):
    name = "tinystories-instruct"
    Options = InstructOptions

    def render(self, index: int) -> Record:
        words, features = self.sample(index)
        # Not an independent draw: a fresh generator on the same seed as sample()'s replays the stream the words
        # were drawn from, shifted by the one value skipped here, so the sentence is correlated with the words.
        # (Kept as it is: an independent stream would change every existing run's sentences.)
        rng = self.rng(index)
        rng.random()
        other_noun = rng.choice(sorted(e.word for e in self.vocabulary.by_pos["noun"]))
        other_adjective = rng.choice(sorted(e.word for e in self.vocabulary.by_pos["adjective"]))
        sentence = rng.choice(SENTENCES).format(noun=other_noun, adjective=other_adjective)
        sentence = re.sub(r"\b([Aa]) (?=[aeiou])", r"\1n ", sentence)  # "a exciting" -> "an exciting"
        prompt = self.options.template.format(features=features_sentence(features), sentence=sentence, **words)
        return self.make_record(index, prompt, words, features, random_sentence=sentence)

    def parse(self, record: Record, raw: str, finish_reason: str) -> Record:
        parts = SUMMARY.split(raw, maxsplit=1)
        story_raw = parts[0]
        if len(parts) == 2:
            record.meta["summary"] = " ".join(parts[1].strip().split("\n")[0].split())
        else:
            record.flags.append("parse.no_summary")
        record = super().parse(record, story_raw, finish_reason if len(parts) == 1 else "stop")
        if raw.strip() != record.text:
            record.meta["raw"] = raw
        if record.text:
            record.meta["instruct_text"] = instruct_text(record)
        return record


__all__ = ["FEATURES", "TinyStoriesInstruct", "clean_story", "instruct_text"]
