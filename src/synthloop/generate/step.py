"""The generation step: prompt Records in, finished story Records out (the step contract), streamed.

A story that misses one of its required words (in any inflection), is shorter than `min_words`, or fails is
generated again with a new seed, up to `max_attempts`; the best attempt is kept (long enough, then fewest missing
words, then a natural stop). Small models often answer with the three words echoed back and one sentence: the
length bound keeps such answers from counting as success. The attempt seeds derive from the prompt's seed, so a
rerun makes the same attempts.

An answer with no story is a failure, whatever the backend: empty or whitespace-only text (a server answering 200
with empty content), or text the recipe's parse cleans down to nothing. It is retried like a backend error and, if
every attempt fails, the prompt goes to failed/ with its reason, never into data/ as done. This step is the one
place that decides it, so every backend (and every plugin backend) gets the same rule.

The step drives the streaming engine (execute/engine.py): it pulls prompts while the engine has room, and each
answer is judged as it arrives: a story that needs another attempt goes back to the front of the queue at once,
a finished one is yielded at once, so the executor journals it at once. With a price table, every call is priced
and the budget checked before it is sent (what is in flight counts as spent); when the budget is reached no new
call starts, the calls under way finish and are kept, and the step ends with BudgetReached.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

from synthloop.backends.base import Backend, Completion, Prompt
from synthloop.cost import BudgetReached, CostMeter
from synthloop.execute.engine import Engine
from synthloop.execute.step import Step
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
    meta = {key: value for key, value in record.meta.items() if key not in GENERATED_META and key != "cost_usd"}
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


def attempt_rank(record: Record, min_words: int) -> tuple[int, int, int, int]:
    """How good an attempt is, larger is better: (not failed, long enough, -missing words, stopped naturally).
    An attempt ranked below GOOD_ENOUGH is tried again while attempts are left."""
    failed = record.finish_reason == "error" or not record.text
    long_enough = len(record.text.split()) >= min_words
    return (
        int(not failed),
        int(long_enough),
        -len(record.meta.get("missing", [])),
        int(record.finish_reason == "stop"),
    )


GOOD_ENOUGH = (1, 1, 0, 0)


@dataclass
class Call:
    """One backend call in the making: the prompts it answers (one, or a several-stories call's) and its attempt."""

    key: str
    members: list[Record]
    attempt: int = 0
    estimate: float = 0.0  # its priced estimate while in flight (USD)


@dataclass
class Progress:
    """A prompt between its first call and its kept attempt."""

    best: Record | None = None
    spent: Spent = field(default_factory=Spent)


class GenerateStep(Step):
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
        self.batch_size = batch_size  # prompts per call for a batching backend (a local model)
        self.in_flight_usd = 0.0

    async def stream(self, records: Iterator[Record]) -> AsyncIterator[list[Record]]:
        transport = self.backend.transport(self.batch_size)
        async with transport:
            engine = Engine(transport)
            try:
                async for finished in self.drive(engine, records):
                    yield finished
            finally:
                await engine.close()

    async def drive(self, engine: Engine, records: Iterator[Record]) -> AsyncIterator[list[Record]]:
        progress: dict[str, Progress] = {}
        group: list[Record] = []  # the members of the next call, still being read
        stopped: BudgetReached | None = None
        exhausted = False
        while True:
            while not exhausted and stopped is None and engine.room() > 0:
                record = next(records, None)
                if record is None or (group and self.recipe.call_key(record) != self.recipe.call_key(group[-1])):
                    stopped = (
                        self.submit(engine, Call(self.recipe.call_key(group[0]), group), progress) if group else None
                    )
                    group = []
                exhausted = record is None
                if record is not None:
                    group.append(record)
            engine.launch(flush=exhausted or stopped is not None)
            if not engine.busy:
                break
            finished: list[Record] = []
            for call, completion in await engine.wait():
                retry = self.settle(call, completion, progress, finished)
                if retry is not None and stopped is None:
                    stopped = self.submit(engine, retry, progress, first=True)
            if finished:
                yield finished
        if stopped is not None:
            raise stopped

    def submit(
        self, engine: Engine, call: Call, progress: dict[str, Progress], first: bool = False
    ) -> BudgetReached | None:
        """Send a call (priced first, against the budget); the budget's stop, if this call would pass it."""
        prompt = Prompt(
            call.key, self.recipe.messages(call.members[0]), call_seed(call.members[0], call.key, call.attempt)
        )
        if self.meter is not None:
            chars = sum(len(m["content"]) for m in prompt.messages)
            try:
                self.meter.check([chars], pending=self.in_flight_usd)
            except BudgetReached as reached:
                for member in call.members:  # not finished: a rerun with a larger budget makes it again
                    progress.pop(member.id, None)
                return reached
            call.estimate = self.meter.estimate([chars])
            self.in_flight_usd += call.estimate
        for member in call.members:
            progress.setdefault(member.id, Progress())
        engine.submit(prompt, call, first=first)
        return None

    def settle(
        self, call: Call, answer: Completion, progress: dict[str, Progress], finished: list[Record]
    ) -> Call | None:
        """Judge one answer for each prompt it serves: kept prompts go to `finished`; the call for the rest."""
        completion = usable(answer)
        if self.meter is not None:
            self.in_flight_usd -= call.estimate
            self.meter.observe(answer.tokens_in, answer.tokens_out)
        again = []
        seed = call_seed(call.members[0], call.key, call.attempt)
        for share, prompt in enumerate(call.members):  # a call's tokens and time are shared by its stories
            state = progress[prompt.id]
            story = self.finish(prompt, completion, call.attempt, seed)
            n = len(call.members)
            state.spent.add(split(answer.tokens_in, n, share), split(answer.tokens_out, n, share), answer.latency_s / n)
            if state.best is None or attempt_rank(story, self.min_words) > attempt_rank(state.best, self.min_words):
                state.best = story
            if attempt_rank(state.best, self.min_words) < GOOD_ENOUGH and call.attempt + 1 < self.max_attempts:
                again.append(prompt)
            else:
                finished.append(self.kept(state))
                del progress[prompt.id]
        return Call(call.key, again, call.attempt + 1) if again else None

    def kept(self, state: Progress) -> Record:
        story, total = state.best, state.spent
        assert story is not None
        story.attempts = total.attempts
        story.meta.update(
            tokens_in_total=total.tokens_in, tokens_out_total=total.tokens_out, latency_s_total=total.seconds
        )
        if self.meter is not None:
            story.meta["cost_usd"] = self.meter.cost(total.tokens_in, total.tokens_out)
        return story

    def generate_batch(self, prompts: list[Record]) -> list[Record]:
        """Every prompt's kept story, in prompt order (for callers outside an executor)."""
        by_id = {record.id: record for record in self.run(prompts)}
        return [by_id[prompt.id] for prompt in prompts]

    def finish(self, prompt: Record, completion: Completion, attempt: int, seed: int) -> Record:
        story = prompt.copy()
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
        parsed = self.recipe.parse(story.copy(), completion.text, completion.finish_reason)
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
