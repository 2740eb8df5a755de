"""The `judge` filter: any synthloop backend as an LLM judge that reads each story against a rubric.

This is how the TinyStories paper graded stories (GPT-4 with a rubric), and how the project's labelled stories were
judged (curate/data/RUBRIC.md, the default). The judge answers the rubric's JSON (keep, grammar, consistency,
plot, simplicity 1-10, reason); the answer is parsed robustly (judging/answer.py), an unparseable one is asked
again with a new seed (at most `max_attempts` asks), and the scores go on the record: `judge.keep` (1.0/0.0),
`judge.grammar`, `judge.consistency`, `judge.plot`, `judge.simplicity`. A drop's reason is one of the rubric's codes
(`judge.incoherent`, `judge.meta-talk`, ...; anything else `judge.other`), and a score under its `min_*` bound is
`judge.low_<score>`. A judge that fails (server down, empty or unparseable answers after every attempt, a backend
error) drops the story as `judge.error` with the error in meta["judge"]: a story is never passed unjudged.

By default the judge reads only the stories the filters before it in curate.order kept (`judge_rejected = true`
to read every story). A batch's asks stream through the engine: a server judge keeps its `concurrency` in flight,
a batching backend reads the batch in one call, and an answer that does not parse is asked again at once. Every
judgement is cached on disk by (story text hash, judge model, rubric digest), by default in
the curated output folder (`judge/cache.sqlite`), so a resumed or repeated curation never asks twice. Tokens spent
are kept in meta["judge"] and summed in stats.json.
"""

from __future__ import annotations

import re
from functools import partial
from pathlib import Path
from typing import Any

from pydantic import Field

from synthloop import plugins
from synthloop.backends.base import Backend, Completion, Prompt
from synthloop.config import PluginConfig, validate_options
from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.judging.answer import Judgement, parse_answer
from synthloop.curate.judging.cache import JudgementCache, cache_key, text_hash
from synthloop.curate.judging.rubric import SCORES, load_rubric
from synthloop.curate.text import TextView
from synthloop.execute.engine import Engine, run_sync
from synthloop.records import Record

CACHE_FILE = Path("judge") / "cache.sqlite"  # inside the curated output folder


class JudgeOptions(FilterOptions):
    # e.g. {name = "openai", options = {base_url = "http://127.0.0.1:8080/v1", model = "..."}}
    backend: PluginConfig = Field(description="the judge's backend: a name and its options")
    rubric: Path | None = Field(None, description="the rubric file; None: the shipped one (curate/data/RUBRIC.md)")
    require_keep: bool = Field(True, description="drop what the judge would not keep")
    min_grammar: int | None = Field(None, ge=1, le=10, description="lowest grammar score kept; None: no bound")
    min_consistency: int | None = Field(None, ge=1, le=10, description="lowest consistency score kept")
    min_plot: int | None = Field(None, ge=1, le=10, description="lowest plot score kept")
    min_simplicity: int | None = Field(None, ge=1, le=10, description="lowest simplicity score kept")
    max_attempts: int = Field(3, ge=1, le=10, description="asks per story until an answer parses, each with a new seed")
    cache_path: Path | None = Field(
        None, description="the judgement cache; None: judge/cache.sqlite in the curated output"
    )
    # False: judge only the stories no filter before `judge` in curate.order dropped (the tokens go where they
    # matter); True: judge every story (e.g. to give a whole sample judge scores, as labels).
    judge_rejected: bool = Field(False, description="judge every story, not only those the filters before kept")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class JudgeFilter(Filter[JudgeOptions]):
    name = "judge"

    def __init__(self, options: JudgeOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        self.sees_rejected = options.judge_rejected
        self.rubric = load_rubric(options.rubric)
        cls = plugins.lookup("backend", options.backend.name)
        backend_options = validate_options(cls.Options, options.backend.options, "curate.filters.judge.backend.options")
        self.backend: Backend = cls(backend_options)
        self.model = self.backend.model_name
        out = self.context.out
        self.cache = JudgementCache(options.cache_path or (Path(out) / CACHE_FILE if out is not None else None))
        self.cache.check()

    def content_digest(self) -> str | None:
        return f"{self.model}:{self.rubric.digest}"

    def filter(self, record: Record, view: TextView) -> Verdict:
        return self.filter_batch([record], [view])[0]

    def filter_batch(self, records: list[Record], views: list[TextView]) -> list[Verdict]:
        hashes = [text_hash(record.text) for record in records]
        keys = [cache_key(h, self.model, self.rubric.digest) for h in hashes]
        outcomes = {key: value | {"cached": True} for key, value in self.cache.get_many(sorted(set(keys))).items()}
        todo = {key: record.text for key, record in zip(keys, records, strict=True) if key not in outcomes}
        fresh = self.ask(todo)
        story_hashes = dict(zip(keys, hashes, strict=True))
        judged = [key for key, value in fresh.items() if "error" not in value]
        self.cache.put_many([(key, story_hashes[key], self.model, self.rubric.digest, fresh[key]) for key in judged])
        outcomes |= {key: value | {"cached": False} for key, value in fresh.items()}
        return [self.verdict(record, outcomes[key]) for record, key in zip(records, keys, strict=True)]

    def ask(self, todo: dict[str, str]) -> dict[str, dict[str, Any]]:
        """Judge each story (key -> text) with bounded retries; key -> {"judgement": ...} or {"error": ...},
        with the attempts and tokens it took. The asks stream through the engine (execute/engine.py): a server
        judge keeps `concurrency` asks in flight, and an answer that does not parse is asked again at once."""
        return run_sync(partial(self.ask_all, todo))

    def prompt(self, key: str, text: str, attempt: int) -> Prompt:
        # A new seed per attempt, the same on a rerun: (story key, attempt).
        return self.rubric.prompt(text, key[:16], int(key[:8], 16) + 1_000_003 * attempt)

    async def ask_all(self, todo: dict[str, str]) -> dict[str, dict[str, Any]]:
        spent = {key: {"attempts": 0, "tokens_in": 0, "tokens_out": 0} for key in todo}
        done: dict[str, dict[str, Any]] = {}
        transport = self.backend.transport(max(1, len(todo)))  # a batching backend reads the batch in one call
        async with transport:
            engine = Engine(transport)
            try:
                for key, text in todo.items():
                    engine.submit(self.prompt(key, text, 0), (key, 0))
                while len(done) < len(todo):
                    engine.launch(flush=True)
                    for (key, attempt), completion in await engine.wait():
                        outcome = self.read(key, completion, spent[key], attempt)
                        if outcome is None:
                            engine.submit(self.prompt(key, todo[key], attempt + 1), (key, attempt + 1), first=True)
                        else:
                            done[key] = outcome
            except Exception as error:  # a backend that raises: every story not judged gets the error, none passes
                for key in todo:
                    message = f"backend {self.model!r} raised {type(error).__name__}: {error}"
                    done.setdefault(key, spent[key] | {"error": message})
            finally:
                await engine.close()
        return done

    def read(self, key: str, completion: Completion, spent: dict[str, Any], attempt: int) -> dict[str, Any] | None:
        """One answer: the outcome, or None to ask again (an answer that does not parse, attempts left)."""
        spent["attempts"] += 1
        spent["tokens_in"] += completion.tokens_in
        spent["tokens_out"] += completion.tokens_out
        if completion.finish_reason == "error":
            return spent | {"error": f"backend failed: {completion.error}"}
        judgement = parse_answer(completion.text)
        bounded = [s for s in SCORES if self.bound(s) is not None]
        missing = [s for s in bounded if judgement is not None and s not in judgement.scores]
        if judgement is not None and not missing:
            return spent | {"judgement": judgement.as_dict()}
        if attempt + 1 < self.options.max_attempts:
            return None
        if not completion.text.strip():
            problem = "empty answer"
        elif judgement is None:
            problem = f"unparseable answer {completion.text[:300]!r}"
        else:
            problem = f"answer without the bounded score(s) {', '.join(missing)}"
        attempts = spent["attempts"]
        return spent | {"error": f"{problem} (after {attempts} attempt{'s' * (attempts != 1)})"}

    def bound(self, score: str) -> int | None:
        value: int | None = getattr(self.options, f"min_{score}")
        return value

    def reason_code(self, reason: str) -> str:
        """The judge's reason as one of the rubric's codes ('Meta talk' -> meta-talk), else 'other'."""
        said = slug(reason)
        codes = {slug(code): code for code in self.rubric.reasons}
        if said in codes:
            return codes[said]
        mentioned = [(said.find(s), code) for s, code in codes.items() if s and s in said]
        return min(mentioned)[1] if mentioned else "other"

    def verdict(self, record: Record, outcome: dict[str, Any]) -> Verdict:
        info = {"model": self.model, "rubric": self.rubric.digest}
        info |= {name: outcome[name] for name in ("cached", "attempts", "tokens_in", "tokens_out")}
        if "error" in outcome:
            record.meta["judge"] = info | {"error": outcome["error"]}
            return False, "error"
        judgement = Judgement.from_dict(outcome["judgement"])
        record.meta["judge"] = info | {"reason": judgement.reason}
        self.score(record, "keep", 1.0 if judgement.keep else 0.0)
        for name, value in judgement.scores.items():
            self.score(record, name, value)
        reasons = [self.reason_code(judgement.reason)] if self.options.require_keep and not judgement.keep else []
        for name in SCORES:
            bound = self.bound(name)
            if bound is not None and judgement.scores[name] < bound:
                reasons.append(f"low_{name}")
        return (False, reasons) if reasons else True

    def close(self) -> None:
        self.cache.close()
        self.backend.close()
