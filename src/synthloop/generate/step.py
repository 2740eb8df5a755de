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
from synthloop.cost import CostMeter
from synthloop.recipes.base import Recipe
from synthloop.records import Record, stable_id
from synthloop.vocab.inflection import missing_words


def attempt_seed(record: Record, attempt: int) -> int:
    return call_seed(record, record.id, attempt)


def call_seed(record: Record, key: str, attempt: int) -> int:
    """The sampling seed of a call: the prompt's own seed first, then one derived from the call key per attempt
    (the same for every story of a several-stories call, so a rerun makes the same requests)."""
    if attempt == 0:
        return record.seed
    return int(stable_id(key, "attempt", attempt, length=8), 16) & 0x7FFFFFFF


def split(total: int, parts: int, index: int) -> int:
    """Share `index` of `total` split into `parts` integer shares that add up to `total`."""
    return total // parts + (1 if index < total % parts else 0)


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
        meter: CostMeter | None = None,
    ) -> None:
        self.meter = meter  # prices every call and enforces the budget; None: no cost accounting
        self.generation = generation  # collapse-loop index of the writing model, recorded on every story
        self.min_words = min_words
        self.recipe = recipe
        self.backend = backend
        self.max_attempts = max_attempts
        self.batch_size = batch_size

    def run(self, records: Iterable[Record], rank: int = 0, world_size: int = 1) -> Iterator[Record]:
        batch: list[Record] = []
        for record in records:  # batches of about batch_size prompts that never split a call's stories
            if len(batch) >= self.batch_size and self.recipe.call_key(record) != self.recipe.call_key(batch[-1]):
                yield from self.generate_batch(batch)
                batch = []
            batch.append(record)
        if batch:
            yield from self.generate_batch(batch)

    def generate_batch(self, prompts: list[Record]) -> list[Record]:
        best: dict[str, Record] = {}
        spent = {r.id: [0, 0, 0.0, 0] for r in prompts}  # tokens in, tokens out, seconds, attempts: all attempts
        pending = prompts
        for attempt in range(self.max_attempts):
            groups = self.group(pending)
            calls = [
                Prompt(key, self.recipe.messages(members[0]), call_seed(members[0], key, attempt))
                for key, members in groups.items()
            ]
            if self.meter is not None:
                self.meter.check([sum(len(m["content"]) for m in call.messages) for call in calls])
            completions = self.backend.generate(calls)
            if len(completions) != len(calls):
                raise RuntimeError(f"backend {self.backend.name} returned {len(completions)} for {len(calls)} prompts")
            retry = []
            for call, completion in zip(calls, completions, strict=True):
                if self.meter is not None:
                    self.meter.observe(completion.tokens_in, completion.tokens_out)
                members = groups[call.id]
                for share, prompt in enumerate(members):  # a call's tokens and time are shared by its stories
                    story = self.finish(prompt, completion, attempt, call.seed)
                    totals = spent[prompt.id]
                    totals[0] += split(completion.tokens_in, len(members), share)
                    totals[1] += split(completion.tokens_out, len(members), share)
                    totals[2] += completion.latency_s / len(members)
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
            if self.meter is not None:
                story.meta["cost_usd"] = self.meter.cost(int(tokens_in), int(tokens_out))
        return [best[r.id] for r in prompts]

    def group(self, pending: list[Record]) -> dict[str, list[Record]]:
        """The prompts of one backend call: one each, or the stories a several-stories-per-call recipe asks
        for together (same `call_key`); a resumed group asks again for the stories it still lacks."""
        groups: dict[str, list[Record]] = {}
        for record in pending:
            groups.setdefault(self.recipe.call_key(record), []).append(record)
        return groups

    def finish(self, prompt: Record, completion: Completion, attempt: int, seed: int) -> Record:
        story = copy.deepcopy(prompt)
        story.backend = self.backend.name
        story.generation = self.generation
        story.model = completion.model or self.backend.model_name
        story.params = self.backend.options.sampling() | {"seed": seed}
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
        if not story.text.strip():  # an empty completion (or nothing left after parsing) is a failure, not a story
            story.finish_reason = "error"
            story.meta["error"] = "no story in the completion (" + (", ".join(story.flags) or "empty") + ")"
        return story
