"""The recipe interface: render(index) -> a prompt Record; parse(record, raw) -> the finished Record.

Both are pure: render depends only on (run seed, index, vocabulary, options), so prompt i of a run is the same on
every machine and every rerun; parse depends only on its inputs. A failed parse keeps the raw output in
meta["raw"] and a `parse.*` flag, so curation can see and count it. A recipe is a `Plugin` (synthloop/plugins.py):
subclass `Recipe[MyOptions]` and `self.options` is typed as MyOptions.

An adaptive recipe (`learns_from_shards`) is told, before each shard is rendered, what became of the stories of
the shard before it (`before_shard`), read back from disk: prompt i then depends only on the seed and the finished
shards before it, so resume stays exact.
"""

from __future__ import annotations

import random
import re
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict

from synthloop.plugins import Plugin
from synthloop.records import Record, stable_id
from synthloop.vocab import Vocabulary

if TYPE_CHECKING:
    from synthloop.config import Config

PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|okay|ok|certainly|of course)\b[^\n]*|here(?:'s| is)\b[^\n]*|title\s*:[^\n]*"
    r"|\*\*[^\n]*\*\*|#+ [^\n]*)\n",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"""[.!?]["')\]]?(?=\s|$)""")


class RecipeOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")


RecipeOptionsT = TypeVar("RecipeOptionsT", bound=RecipeOptions)


class Recipe(Plugin[RecipeOptionsT], ABC):
    kind = "recipe"
    Options: ClassVar[type[BaseModel]] = RecipeOptions
    stories_per_call: int = 1  # stories one backend call asks for (they share a `call_key`)

    def __init__(self, options: RecipeOptionsT, vocabulary: Vocabulary, seed: int) -> None:
        super().__init__(options)
        self.vocabulary = vocabulary
        self.seed = seed

    def check(self) -> None:
        """Raise UserError if the recipe cannot work (a missing module of `requires`, an unreadable input)."""
        self.require()

    @property
    def learns_from_shards(self) -> bool:
        """True when render() depends on `before_shard`: the shards then run one after another, locally."""
        return False

    def before_shard(self, index: int, finished: list[Record], cfg: Config) -> None:
        """Called before shard `index` is rendered, with the stories of shard index - 1 as generated (none before
        the first) and the run's config (whose [curate] section says what survives)."""

    def rng(self, index: int) -> random.Random:
        return random.Random(f"{self.name}:{self.seed}:{index}")

    def prompt_seed(self, index: int) -> int:
        return int(stable_id(self.name, self.seed, index, "sampling", length=8), 16) & 0x7FFFFFFF

    def make_record(
        self, index: int, prompt: str, words: dict[str, str], features: list[str], **meta: object
    ) -> Record:
        prompt_id = stable_id(self.name, self.seed, index, prompt)
        return Record(
            id=prompt_id,
            recipe=self.name,
            prompt=prompt,
            prompt_id=prompt_id,
            words=words,
            features=features,
            seed=self.prompt_seed(index),
            meta={"index": index, **meta},
        )

    @abstractmethod
    def render(self, index: int) -> Record:
        """The prompt Record for prompt number `index` of this run (no text yet)."""

    def messages(self, record: Record) -> list[dict[str, str]]:
        return [{"role": "user", "content": record.prompt}]

    def call_key(self, record: Record) -> str:
        """Records with the same key are answered by one backend call (a recipe asking for several stories per
        call gives its stories one key); by default every prompt is its own call."""
        return record.id

    def parse(self, record: Record, raw: str, finish_reason: str) -> Record:
        """Clean the model's output into the story text; see clean_story."""
        text, cut = clean_story(raw, finish_reason)
        record.text = text
        if cut:
            record.meta["cut"] = cut
        if text != raw.strip():
            record.meta["raw"] = raw
        if not text:
            record.flags.append("parse.empty")
        return record


def chat_messages(system_prompt: str, prompt: str) -> list[dict[str, str]]:
    """The chat a recipe sends: its system prompt (none when empty), then the prompt."""
    return ([{"role": "system", "content": system_prompt}] if system_prompt else []) + [
        {"role": "user", "content": prompt}
    ]


def clean_story(raw: str, finish_reason: str) -> tuple[str, str]:
    """Strip chat preambles and markdown, normalise paragraphs, and cut a story that hit max_tokens back to its
    last complete paragraph (or sentence). Returns (text, how it was cut: "", "paragraph" or "sentence")."""
    text = raw.replace("\r\n", "\n").strip()
    while True:
        stripped = PREAMBLE.sub("", text + "\n", count=1).strip()
        if stripped == text:
            break
        text = stripped
    text = text.replace("**", "")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text)]
    paragraphs = [p for p in paragraphs if p]
    cut = ""
    if finish_reason == "length" and paragraphs and not SENTENCE_END.search(paragraphs[-1][-2:] + " "):
        if len(paragraphs) > 1:
            paragraphs, cut = paragraphs[:-1], "paragraph"
        else:
            ends = list(SENTENCE_END.finditer(paragraphs[0]))
            paragraphs, cut = ([paragraphs[0][: ends[-1].end()]] if ends else []), "sentence"
    return "\n\n".join(paragraphs), cut
