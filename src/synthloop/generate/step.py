"""The generation step: prompt Records in, finished story Records out (the step contract).

A story that misses one of its required words (in any inflection), is shorter than `min_words`, or fails is
generated again with a new seed, up to `max_attempts`; the best attempt is kept (long enough, then fewest missing
words, then a natural stop). Small models often answer with the three words echoed back and one sentence: the
length bound keeps such answers from counting as success. The
attempt seeds derive from the prompt's seed, so a rerun makes the same attempts.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator

from synthloop.backends.base import Backend, Completion, Prompt
from synthloop.batching import batched
from synthloop.recipes.base import Recipe
from synthloop.records import Record, stable_id
from synthloop.vocab.inflection import missing_words


def attempt_seed(record: Record, attempt: int) -> int:
    if attempt == 0:
        return record.seed
    return int(stable_id(record.id, "attempt", attempt, length=8), 16) & 0x7FFFFFFF


def quality(record: Record, min_words: int) -> tuple[int, int, int, int]:
    """Larger is better: (not failed, long enough, -missing words, stopped naturally)."""
    failed = record.finish_reason == "error" or not record.text
    long_enough = len(record.text.split()) >= min_words
    return (
        int(not failed),
        int(long_enough),
        -len(record.meta.get("missing", [])),
        int(record.finish_reason == "stop"),
    )


class GenerateStep:
    def __init__(
        self,
        recipe: Recipe,
        backend: Backend,
        max_attempts: int = 1,
        batch_size: int = 8,
        min_words: int = 0,
        generation: int = 0,
    ) -> None:
        self.generation = generation  # collapse-loop index of the writing model, recorded on every story
        self.min_words = min_words
        self.recipe = recipe
        self.backend = backend
        self.max_attempts = max_attempts
        self.batch_size = batch_size

    def run(self, records: Iterable[Record], rank: int = 0, world_size: int = 1) -> Iterator[Record]:
        for batch in batched(records, self.batch_size):
            yield from self.generate_batch(batch)

    def generate_batch(self, prompts: list[Record]) -> list[Record]:
        best: dict[str, Record] = {}
        spent = {r.id: [0, 0, 0.0, 0] for r in prompts}  # tokens in, tokens out, seconds, attempts: all attempts
        pending = prompts
        for attempt in range(self.max_attempts):
            calls = [Prompt(r.id, self.recipe.messages(r), attempt_seed(r, attempt)) for r in pending]
            completions = self.backend.generate(calls)
            if len(completions) != len(calls):
                raise RuntimeError(f"backend {self.backend.name} returned {len(completions)} for {len(calls)} prompts")
            retry = []
            for prompt, completion in zip(pending, completions, strict=True):
                story = self.finish(prompt, completion, attempt)
                totals = spent[prompt.id]
                totals[0] += completion.tokens_in
                totals[1] += completion.tokens_out
                totals[2] += completion.latency_s
                totals[3] += 1
                previous = best.get(prompt.id)
                if previous is None or quality(story, self.min_words) > quality(previous, self.min_words):
                    best[prompt.id] = story
                if quality(best[prompt.id], self.min_words) < (1, 1, 0, 0):
                    retry.append(prompt)
            pending = retry
            if not pending:
                break
        for story in best.values():
            tokens_in, tokens_out, seconds, attempts = spent[story.id]
            story.attempts = int(attempts)
            story.meta.update(tokens_in_total=tokens_in, tokens_out_total=tokens_out, latency_s_total=seconds)
        return [best[r.id] for r in prompts]

    def finish(self, prompt: Record, completion: Completion, attempt: int) -> Record:
        story = copy.deepcopy(prompt)
        story.backend = self.backend.name
        story.generation = self.generation
        story.model = completion.model or self.backend.model_name
        story.params = self.backend.options.sampling() | {"seed": attempt_seed(prompt, attempt)}
        story.finish_reason = completion.finish_reason
        story.tokens_in = completion.tokens_in
        story.tokens_out = completion.tokens_out
        story.latency_s = completion.latency_s
        story.meta["kept_attempt"] = attempt + 1
        if completion.finish_reason == "error":
            story.flags.append("backend.error")
            story.meta["error"] = completion.error or "unknown error"
            return story
        story = self.recipe.parse(story, completion.text, completion.finish_reason)
        story.meta["missing"] = missing_words(story.text, story.words)
        return story
