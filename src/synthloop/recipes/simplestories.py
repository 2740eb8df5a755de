"""A SimpleStories-style recipe (Finke et al., 2025): prompt diversity from many independent parameters.

SimpleStories found that a strong generator's stories are alike when its prompts are: 59 % of TinyStories stories
contain "Once upon a time". Each prompt here draws a theme, a topic, a style, a narrative feature, a grammar
feature, a persona (who tells it) and a paragraph count from the lists below (written for synthloop, sized like
SimpleStories': tens of values each), plus the TinyStories noun, verb and adjective so the `constraints` filter
applies, and optionally asks the model not to open with "Once upon a time". With `stories_per_call = k` one call
asks for k stories ("Story 1:", ...): each story is its own Record (same call key and seed), parse() picks its own
section, and a story the answer lacks comes back empty, so it is recorded as failed while its siblings are kept.
The chosen parameters are in `meta["parameters"]`, the narrative feature also in `features`.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field

from synthloop.recipes.base import Recipe, RecipeOptions, chat_messages, clean_story
from synthloop.records import Record, stable_id
from synthloop.vocab import Vocabulary
from synthloop.vocab.sampler import UniformSampler

THEMES = [
    "friendship",
    "courage",
    "kindness",
    "sharing",
    "honesty",
    "patience",
    "curiosity",
    "teamwork",
    "family",
    "growing up",
    "losing something",
    "helping others",
    "being different",
    "trying again",
    "saying sorry",
    "fear of the dark",
    "a new home",
    "jealousy",
    "gratitude",
    "imagination",
    "fairness",
    "responsibility",
    "keeping a promise",
    "loneliness",
    "forgiveness",
    "hard work",
    "change",
    "nature",
    "wonder",
    "home",
]
TOPICS = [
    "a lost mitten",
    "a rainy day",
    "a birthday party",
    "a garden",
    "the first day of school",
    "a snowman",
    "a trip to the sea",
    "a broken toy",
    "a new baby",
    "a visit to grandma",
    "a bird's nest",
    "the moon",
    "a lemonade stand",
    "a thunderstorm",
    "a library",
    "a picnic",
    "a bus ride",
    "a sick puppy",
    "a treasure map",
    "a bakery",
    "the zoo",
    "a camping night",
    "a kite",
    "a talent show",
    "a farm",
    "a tooth that fell out",
    "a market",
    "a train",
    "a river",
    "a robot friend",
    "a boat",
    "autumn leaves",
    "a music lesson",
    "a dragon",
    "a museum",
]
STYLES = [
    "playful",
    "calm and gentle",
    "funny",
    "exciting",
    "mysterious",
    "warm",
    "silly",
    "poetic",
    "matter-of-fact",
    "suspenseful",
    "cozy",
    "rhyming in places",
    "like a fable",
    "like a bedtime story",
    "like a fairy tale",
    "like a diary entry",
    "like a letter",
    "like a news report for kids",
    "with lots of sounds",
    "dreamy",
    "cheerful",
    "thoughtful",
    "adventurous",
    "quiet",
]
NARRATIVE_FEATURES = {
    "Dialogue": "at least one dialogue",
    "Twist": "a plot twist",
    "BadEnding": "a bad ending",
    "MoralValue": "a moral value",
    "Foreshadowing": "foreshadowing",
    "Conflict": "a conflict",
    "HappyEnding": "a happy ending",
    "Flashback": "a short flashback",
    "Repetition": "a repeated phrase",
    "Surprise": "a surprise",
    "Mystery": "a small mystery that is solved",
    "Journey": "a journey",
    "Lesson": "a lesson learned",
    "Problem": "a problem the hero solves",
    "Cliffhanger": "an open ending",
    "Friendship": "a new friendship",
    "Rescue": "a rescue",
    "Wish": "a wish that comes true",
    "Misunderstanding": "a misunderstanding",
    "CountingDown": "counting down to something",
    "Contrast": "two characters who are very different",
    "Discovery": "a discovery",
}
GRAMMAR_FEATURES = [
    "questions",
    "exclamations",
    "the past tense",
    "the present tense",
    "the future tense",
    "comparatives (bigger, faster)",
    "superlatives (the biggest)",
    "adverbs",
    "compound sentences",
    "a list of three things",
    "short sentences",
    "a conditional (if ... then)",
    "plural nouns",
    "prepositions of place",
    "sound words (onomatopoeia)",
    "a simile",
    "pronouns",
    "negation",
    "because-clauses",
    "time words (first, then, later)",
    "possessives",
    "numbers",
]
PERSONAS = [
    "a kind grandmother",
    "a curious child",
    "a wise old owl",
    "a teacher",
    "a cat",
    "a little robot",
    "a big sister",
    "a storyteller by a fire",
    "a friendly dragon",
    "a toy bear",
    "a father at bedtime",
    "a tree",
    "a ghost who is shy",
    "a ship's captain",
    "a baker",
    "a farmer",
    "a mouse",
    "the moon",
    "a librarian",
    "a five-year-old",
    "a grumpy goat",
    "a pirate",
    "a detective",
    "a fairy",
]
PARAGRAPHS = [1, 2, 3, 4, 5]
OPENING = ' Do not start the story with "Once upon a time".'
ONE = (
    "Write a short story ({paragraphs}) for young children, using only simple words a 5-year-old understands. "
    "Theme: {theme}. Topic: {topic}. Style: {style}. The story should have {feature} and use {grammar}. "
    'Tell it as {persona}. Use the noun "{noun}", the verb "{verb}" and the adjective "{adjective}".{opening}'
)
MANY = (
    "Write {count} different short stories for young children, using only simple words a 5-year-old "
    'understands. Begin each story with its own line "Story N:" (Story 1:, Story 2:, ...).{opening}\n\n{specs}'
)
SPEC = (
    "Story {number}: {paragraphs}; theme: {theme}; topic: {topic}; style: {style}; it has {feature} and uses "
    '{grammar}; told by {persona}; use the noun "{noun}", the verb "{verb}" and the adjective "{adjective}".'
)
HEADING = re.compile(
    r"^[ \t]*(?:#+[ \t]*|\*\*)?story[ \t]+(\d+)[ \t]*(?:\*\*)?[ \t]*[:.)\-]?(?:\*\*)?[ \t]*",
    re.IGNORECASE | re.MULTILINE,
)


def parameter_lists(options: dict[str, Any] | None = None) -> dict[str, list[str]]:
    """Every parameter's possible values (the report measures coverage against these)."""
    return {
        "theme": THEMES,
        "topic": TOPICS,
        "style": STYLES,
        "narrative_feature": list(NARRATIVE_FEATURES),
        "grammar_feature": GRAMMAR_FEATURES,
        "persona": PERSONAS,
        "paragraphs": [str(p) for p in PARAGRAPHS],
    }


class SimpleStoriesOptions(RecipeOptions):
    stories_per_call: int = Field(
        1, ge=1, le=10, description="stories one call asks for (shard and batch sizes: multiples)"
    )
    avoid_once_upon_a_time: bool = Field(True, description='ask the model not to open with "Once upon a time"')
    system_prompt: str = Field(
        "You write short, simple stories for small children.", description="the system message; empty: none"
    )


class SimpleStories(Recipe[SimpleStoriesOptions]):
    name = "simplestories"

    def __init__(self, options: SimpleStoriesOptions, vocabulary: Vocabulary, seed: int) -> None:
        super().__init__(options, vocabulary, seed)
        self.sampler = UniformSampler(vocabulary)
        self.stories_per_call = self.options.stories_per_call

    def draw(self, index: int) -> tuple[dict[str, str], dict[str, Any]]:
        """Story `index`'s words and parameters (depend only on run seed and index)."""
        rng = self.rng(index)
        words = self.sampler.sample(rng)
        parameters = {
            "theme": rng.choice(THEMES),
            "topic": rng.choice(TOPICS),
            "style": rng.choice(STYLES),
            "narrative_feature": rng.choice(list(NARRATIVE_FEATURES)),
            "grammar_feature": rng.choice(GRAMMAR_FEATURES),
            "persona": rng.choice(PERSONAS),
            "paragraphs": rng.choice(PARAGRAPHS),
        }
        return words, parameters

    def render(self, index: int) -> Record:
        k = self.stories_per_call
        group, slot = divmod(index, k)
        drawn = [self.draw(group * k + j) for j in range(k)]
        opening = (
            (OPENING if k == 1 else OPENING.replace("the story", "any story"))
            if (self.options.avoid_once_upon_a_time)
            else ""
        )
        if k == 1:
            prompt = ONE.format(opening=opening, **fields(*drawn[0]))
        else:
            specs = "\n".join(SPEC.format(number=j + 1, **fields(*d)) for j, d in enumerate(drawn))
            prompt = MANY.format(count=k, opening=opening, specs=specs)
        words, parameters = drawn[slot]
        call = stable_id(self.name, self.seed, "call", group)
        record = self.make_record(
            index,
            prompt,
            words,
            [parameters["narrative_feature"]],
            parameters=parameters,
            call=call,
            slot=slot,
            stories_per_call=k,
        )
        record.seed = self.prompt_seed(group * k)  # the call's seed, shared by its stories
        return record

    def call_key(self, record: Record) -> str:
        return str(record.meta.get("call", record.id))

    def messages(self, record: Record) -> list[dict[str, str]]:
        return chat_messages(self.options.system_prompt, record.prompt)

    def parse(self, record: Record, raw: str, finish_reason: str) -> Record:
        sections = split_stories(raw)
        k = int(record.meta.get("stories_per_call", 1))
        number = int(record.meta.get("slot", 0)) + 1
        if k == 1 and not sections:
            return super().parse(record, raw, finish_reason)
        if number not in sections:
            record.text = ""
            record.meta["raw"] = raw
            record.flags.append("parse.missing_story")
            return record
        last = max(sections) == number  # only the last story can have been cut by max_tokens
        record = super().parse(record, sections[number], finish_reason if last else "stop")
        record.meta["raw"] = raw
        return record


def fields(words: dict[str, str], parameters: dict[str, Any]) -> dict[str, Any]:
    count = parameters["paragraphs"]
    return {
        **words,
        **{k: v for k, v in parameters.items() if k not in ("narrative_feature", "grammar_feature")},
        "paragraphs": f"{count} paragraph{'s' if count > 1 else ''}",
        "feature": NARRATIVE_FEATURES[parameters["narrative_feature"]],
        "grammar": parameters["grammar_feature"],
    }


def split_stories(raw: str) -> dict[int, str]:
    """{story number: its text} from an answer with "Story N:" headings; {} when it has none. A number seen
    twice keeps its first section; a heading with nothing after it is not a story."""
    matches = list(HEADING.finditer(raw))
    sections: dict[int, str] = {}
    for position, match in enumerate(matches):
        end = matches[position + 1].start() if position + 1 < len(matches) else len(raw)
        text = clean_story(raw[match.end() : end], "stop")[0]
        if text:
            sections.setdefault(int(match.group(1)), raw[match.end() : end])
    return sections
