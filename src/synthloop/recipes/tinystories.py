"""The TinyStories recipe (Eldan & Li, 2023): one noun, verb and adjective plus a random subset of story features.

The template is the one recorded in the TinyStories dataset; the feature phrases are the paper's.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import Field

from synthloop.recipes.base import Recipe, RecipeOptions, chat_messages
from synthloop.records import Record
from synthloop.vocab import Vocabulary
from synthloop.vocab.sampler import CoverageSampler, UniformSampler

if TYPE_CHECKING:
    from synthloop.config import Config

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


# A shorter prompt for very small instruct models (SmolLM2-135M), which use all three words far more often with it
# than with TEMPLATE: benchmarks/prompt_styles.py measures it, docs/experiments/prompt-styles.md has the figures.
SMALL_MODEL_TEMPLATE = (
    "Write a short, simple story for young children using these words: {noun}, {verb}, {adjective}.{features}"
)


class TinyStoriesOptions(RecipeOptions):
    template: str = Field(
        TEMPLATE, description='placeholders {noun} {verb} {adjective} {features}; "small-model": the short form'
    )
    features: list[str] = Field(default_factory=lambda: list(FEATURES), description="features that may be sampled")
    max_features: int = Field(
        2, ge=0, le=len(FEATURES), description="each prompt gets 0..max_features of them, uniformly"
    )
    system_prompt: str = Field(
        "You write short, simple stories for small children.", description="the system message; empty: none"
    )
    # How words are drawn: "uniform" (the TinyStories recipe) or "coverage" (asks for words that have not yet
    # survived curation, with partners that usually do; see vocab/sampler.py).
    sampler: Literal["uniform", "coverage"] = Field(
        "uniform", description="uniform: the TinyStories recipe; coverage: favour words not yet kept"
    )
    coverage_strength: float = Field(4.0, gt=0, le=10, description="how hard coverage favours the least-kept words")
    coverage_from: Path | None = Field(None, description="a curated dataset whose kept stories count as kept")

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


def story_prompt(template: str, words: dict[str, str], features: list[str]) -> str:
    return template.format(features=features_sentence(features), **words)


TinyStoriesOptionsT = TypeVar("TinyStoriesOptionsT", bound=TinyStoriesOptions)


class TinyStories(Recipe[TinyStoriesOptionsT]):
    name = "tinystories"
    Options = TinyStoriesOptions

    def __init__(self, options: TinyStoriesOptionsT, vocabulary: Vocabulary, seed: int) -> None:
        super().__init__(options, vocabulary, seed)
        opts = self.options
        self.sampler = (
            CoverageSampler(vocabulary, opts.coverage_strength)
            if opts.sampler == "coverage"
            else (UniformSampler(vocabulary))
        )
        self._judge: Any = None  # the per-story curation step the coverage sampler learns from

    @property
    def learns_from_shards(self) -> bool:
        return isinstance(self.sampler, CoverageSampler)

    def check(self) -> None:
        super().check()
        if self.learns_from_shards and self.options.coverage_from is not None:
            from synthloop.store.dataset import Dataset

            Dataset.open(self.options.coverage_from).check_ids()  # read when the first shard starts

    def before_shard(self, index: int, finished: list[Record], cfg: Config) -> None:
        """The coverage sampler learns which words the stories of the shard before used and which stories survive
        the curation filters that judge one story at a time (constraints, vocab, form, readability, safety; dedup
        needs the whole run)."""
        sampler = self.sampler
        if not isinstance(sampler, CoverageSampler):
            return
        from synthloop.curate.runner import per_story_step
        from synthloop.curate.step import KEPT

        if self._judge is None:
            self._judge = per_story_step(cfg, self.vocabulary, [])
        if index == 0 and self.options.coverage_from is not None:
            from synthloop.store.dataset import Dataset

            for record in Dataset.open(self.options.coverage_from).iter_records():
                sampler.count_kept(record.words)
        words_required = "constraints" in cfg.curate.order  # otherwise leaving a word out costs a story nothing
        for record in self._judge.curate_batch(finished) if finished else []:
            missing = record.meta.get("missing", []) if words_required else []
            sampler.observe(record.words, kept=record.meta.get("curation") == KEPT, missing=missing)

    def sample(self, index: int) -> tuple[dict[str, str], list[str]]:
        rng = self.rng(index)
        words = self.sampler.sample(rng)
        allowed = self.options.features
        count = rng.randint(0, min(self.options.max_features, len(allowed)))
        features = sorted(rng.sample(allowed, count), key=list(FEATURES).index)
        return words, features

    def render(self, index: int) -> Record:
        words, features = self.sample(index)
        prompt = story_prompt(self.options.template, words, features)
        return self.make_record(index, prompt, words, features)

    def messages(self, record: Record) -> list[dict[str, str]]:
        return chat_messages(self.options.system_prompt, record.prompt)
