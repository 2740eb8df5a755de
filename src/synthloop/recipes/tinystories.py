"""The TinyStories recipe (Eldan & Li, 2023): one noun, verb and adjective plus a random subset of story features.

The template is the one recorded in the TinyStories dataset; the feature phrases are the paper's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from synthloop.recipes.base import Recipe, RecipeOptions
from synthloop.records import Record
from synthloop.vocab import Vocabulary
from synthloop.vocab.sampler import CoverageSampler, UniformSampler

TEMPLATE = (
    "Write a short story (3-5 paragraphs) which only uses very simple words that a 3 year old child would "
    'understand. The story should use the verb "{verb}", the noun "{noun}" and the adjective "{adjective}".'
    "{features} Remember to only use simple words!"
)
FEATURES = {
    "Dialogue": "the story should contain at least one dialogue",
    "Twist": "something unexpected happens / there is a plot twist",
    "BadEnding": "the story has a bad ending",
    "MoralValue": "the story has a moral value",
    "Foreshadowing": "the narrative uses foreshadowing or setup and payoff",
    "Conflict": "the story has some form of conflict",
}


# A shorter prompt for very small instruct models (SmolLM2-135M): measured on 16 prompts at temperature 0.3 it used
# all three words in 7 stories against 1 of 12 for TEMPLATE (see benchmarks/prompt_styles.py).
SMALL_MODEL_TEMPLATE = (
    "Write a short, simple story for young children using these words: {noun}, {verb}, {adjective}.{features}"
)


class TinyStoriesOptions(RecipeOptions):
    # Placeholders: {noun} {verb} {adjective} {features}; "small-model" names SMALL_MODEL_TEMPLATE.
    template: str = TEMPLATE
    features: list[str] = Field(default_factory=lambda: list(FEATURES))  # which features may be sampled
    max_features: int = Field(2, ge=0, le=len(FEATURES))  # each prompt gets 0..max_features of them, uniformly
    system_prompt: str = "You write short, simple stories for small children."
    # How words are drawn: "uniform" (the TinyStories recipe) or "coverage" (asks for words that have not yet
    # survived curation, with partners that usually do; see vocab/sampler.py). coverage_strength: how hard it
    # favours the least-kept words. coverage_from: a curated dataset whose kept stories count as used.
    sampler: Literal["uniform", "coverage"] = "uniform"
    coverage_strength: float = Field(4.0, gt=0, le=10)
    coverage_from: Path | None = None

    def model_post_init(self, context: object) -> None:
        if self.template == "small-model":
            self.template = SMALL_MODEL_TEMPLATE
        for placeholder in ("{noun}", "{verb}", "{adjective}", "{features}"):
            if placeholder not in self.template:
                raise ValueError(f"template must contain {placeholder}")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ValueError(f"unknown feature(s) {unknown}; known: {', '.join(FEATURES)}")


def features_sentence(features: list[str]) -> str:
    if not features:
        return ""
    return " The story has the following features: " + ", ".join(FEATURES[f] for f in features) + "."


class TinyStories(Recipe):
    name = "tinystories"
    Options = TinyStoriesOptions

    def __init__(self, options: RecipeOptions, vocabulary: Vocabulary, seed: int) -> None:
        super().__init__(options, vocabulary, seed)
        opts = self._opts
        self.sampler = CoverageSampler(vocabulary, opts.coverage_strength) if opts.sampler == "coverage" else (
            UniformSampler(vocabulary))  # fmt: skip

    @property
    def _opts(self) -> TinyStoriesOptions:
        assert isinstance(self.options, TinyStoriesOptions)
        return self.options

    def sample(self, index: int) -> tuple[dict[str, str], list[str]]:
        rng = self.rng(index)
        words = self.sampler.sample(rng)
        allowed = self._opts.features
        count = rng.randint(0, min(self._opts.max_features, len(allowed)))
        features = sorted(rng.sample(allowed, count), key=list(FEATURES).index)
        return words, features

    def render(self, index: int) -> Record:
        words, features = self.sample(index)
        prompt = self._opts.template.format(features=features_sentence(features), **words)
        return self.make_record(index, prompt, words, features)

    def messages(self, record: Record) -> list[dict[str, str]]:
        system = self._opts.system_prompt
        return ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": record.prompt}
        ]
