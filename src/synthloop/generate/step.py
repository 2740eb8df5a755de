"""The generation step: prompt Records in, finished story Records out (the step contract).

A story that misses one of its required words (in any inflection), is shorter than `min_words`, or fails is
generated again with a new seed, up to `max_attempts`; the best attempt is kept (long enough, then fewest missing
words, then a natural stop). Small models often answer with the three words echoed back and one sentence: the
length bound keeps such answers from counting as success. The attempt seeds derive from the prompt's seed, so a
rerun makes the same attempts.

An answer with no story is a failure, whatever the backend: empty or whitespace-only text (a server answering 200
with empty content), or text the recipe's parse cleans down to nothing. It is retried like a backend error and, if
every attempt fails, the prompt goes to failed/ with its reason, never into data/ as done. This step is the one
place that decides it, so every backend (and every plugin backend) gets the same rule.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

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


EMPTY_ANSWER = "empty completion: the backend answered with no text"
NO_STORY = "no story in the completion: parsing left no text (the answer is in meta.raw)"
# What finish() adds to a prompt Record's meta; prompt_of() takes it away again.
GENERATED_META = (
    "kept_attempt",
    "error",
    "raw",
    "cut",
    "missing",
    "tokens_in_total",
    "tokens_out_total",
    "latency_s_total",
)


@dataclass
class Spent:
    """What one prompt's attempts cost together (a several-stories call's share of its tokens and time)."""

    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0
    attempts: int = 0

    def add(self, tokens_in: int, tokens_out: int, seconds: float) -> None:
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        self.seconds += seconds
        self.attempts += 1


def usable(completion: Completion) -> Completion:
    """The completion, or a failed one when it holds no text: an empty answer is a failure, not a story."""
    if completion.finish_reason != "error" and not (isinstance(completion.text, str) and completion.text.strip()):
        return Completion.failed(EMPTY_ANSWER, completion.model, completion.latency_s)
    return completion


def prompt_of(record: Record) -> Record:
    """The prompt Record a generated (here: failed) Record was made from, to generate it again: same id, prompt,
    words, features, seed and recipe meta; nothing of the earlier attempts."""
    meta = {key: value for key, value in record.meta.items() if key not in GENERATED_META}
    return Record(
        id=record.id,
        recipe=record.recipe,
        prompt=record.prompt,
        prompt_id=record.prompt_id,
        words=dict(record.words),
        features=list(record.features),
        seed=record.seed,
        parent_id=record.parent_id,
        meta=meta,
    )


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
        spent = {r.id: Spent() for r in prompts}  # every attempt's, not only the kept one's
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
            for call, answer in zip(calls, completions, strict=True):
                completion = usable(answer)
                if self.meter is not None:
                    self.meter.observe(answer.tokens_in, answer.tokens_out)
                members = groups[call.id]
                for share, prompt in enumerate(members):  # a call's tokens and time are shared by its stories
                    story = self.finish(prompt, completion, attempt, call.seed)
                    spent[prompt.id].add(
                        split(answer.tokens_in, len(members), share),
                        split(answer.tokens_out, len(members), share),
                        answer.latency_s / len(members),
                    )
                    previous = best.get(prompt.id)
                    if previous is None or quality(story, self.min_words) > quality(previous, self.min_words):
                        best[prompt.id] = story
                    if quality(best[prompt.id], self.min_words) < (1, 1, 0, 0):
                        retry.append(prompt)
            pending = retry
            if not pending:
                break
        for story in best.values():
            total = spent[story.id]
            story.attempts = total.attempts
            story.meta.update(
                tokens_in_total=total.tokens_in, tokens_out_total=total.tokens_out, latency_s_total=total.seconds
            )
            if self.meter is not None:
                story.meta["cost_usd"] = self.meter.cost(total.tokens_in, total.tokens_out)
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
            flag = "generate.empty" if completion.error == EMPTY_ANSWER else "backend.error"
            return failed(story, flag, completion.error or "unknown error")
        parsed = self.recipe.parse(copy.deepcopy(story), completion.text, completion.finish_reason)
        if not parsed.text.strip():
            story.meta["raw"] = completion.text
            story.flags += [flag for flag in parsed.flags if flag not in story.flags]  # why parsing left nothing
            return failed(story, "generate.empty", NO_STORY)
        parsed.meta["missing"] = missing_words(parsed.text, parsed.words)
        return parsed


def failed(story: Record, flag: str, reason: str) -> Record:
    """The prompt's failed Record (finish_reason "error", so it goes to failed/), with a flag and the reason."""
    story.finish_reason = "error"
    story.text = ""
    story.flags.append(flag)
    story.meta["error"] = reason
    return story
