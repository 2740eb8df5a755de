"""`synthloop generate`: build the recipe, backend and step from a Config, and run them into a dataset folder.

The output folder is tied to its run by a fingerprint of everything that decides the content (recipe, backend and
its options, vocabulary, seed, attempts, shard size). Rerunning the same command resumes; a larger `run.n` extends
the run; a different configuration pointed at the same folder is refused rather than mixed in.

A rerun also retries the prompts that failed in earlier runs (generate/retry.py). The work runs on the configured
executor (execute/job.py), whose engine keeps the backend busy across shards; what the run counts and costs is
kept by generate/accounting.py.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from synthloop import __version__, plugins
from synthloop.backends.base import Backend
from synthloop.config import Config, validate_options
from synthloop.cost import BudgetReached
from synthloop.errors import UserError
from synthloop.execute.job import Job, Shard, executor_for
from synthloop.generate.accounting import GenerateResult, Tally, cost_meter, cost_summary
from synthloop.generate.progress import GenerationProgress
from synthloop.generate.retry import PARTS, failed_or_data, retry_failed
from synthloop.generate.step import GenerateStep
from synthloop.recipes.base import Recipe
from synthloop.records import Record
from synthloop.store.dataset import Dataset, read_shard, shard_name
from synthloop.vocab import Vocabulary, load_vocabulary

__all__ = ["GenerateResult", "build_backend", "build_recipe", "generate"]


def build_recipe(cfg: Config, vocabulary: Vocabulary) -> Recipe:
    cls = plugins.lookup("recipe", cfg.recipe.name)
    options = validate_options(cls.Options, cfg.recipe.options, "recipe.options")
    recipe: Recipe = cls(options, vocabulary, cfg.run.seed)
    return recipe


def build_backend(cfg: Config) -> Backend:
    cls = plugins.lookup("backend", cfg.backend.name)
    backend: Backend = cls(validate_options(cls.Options, cfg.backend.options, "backend.options"))
    return backend


def fingerprint_settings(cfg: Config, backend: Backend, recipe: Recipe, vocabulary: Vocabulary) -> dict[str, Any]:
    return {
        "recipe": cfg.recipe.name,
        "recipe_options": recipe.options.model_dump(mode="json"),
        "backend": cfg.backend.name,
        "backend_options": backend.content_options(),
        "model": backend.model_name,
        "vocabulary": vocabulary.digest(),
        "seed": cfg.run.seed,
        "max_attempts": cfg.generate.max_attempts,
        "min_words": cfg.generate.min_words,
        "shard_size": cfg.generate.shard_size,
    } | ({"generation": cfg.run.generation} if cfg.run.generation else {})


def open_output(out: Path, settings: dict[str, Any], backend: Backend | None = None) -> Dataset:
    """The generate output folder; a backend option added since an older folder was made counts as its default."""
    defaults = None if backend is None else {"backend_options": backend.content_defaults()}
    return Dataset.claim(out, "generate", settings, defaults)


def prompt_shards(
    recipe: Recipe, n: int, shard_size: int, before_shard: Callable[[int], None] | None = None
) -> Iterator[Shard]:
    """Shards are rendered lazily, one after the previous finished, so an adaptive sampler can learn from it."""
    for index in range(math.ceil(n / shard_size)):
        if before_shard is not None:
            before_shard(index)
        start, end = index * shard_size, min(n, (index + 1) * shard_size)
        yield Shard(index, [recipe.render(i) for i in range(start, end)])


def shard_feedback(cfg: Config, recipe: Recipe, dataset: Dataset) -> Callable[[int], None]:
    """Before shard k, the recipe is told the stories of shard k-1 as stored (an adaptive recipe learns from them)."""

    def before_shard(index: int) -> None:
        path = dataset.part_dir("data") / shard_name(index - 1)
        recipe.before_shard(index, list(read_shard(path)) if index and path.exists() else [], cfg)

    return before_shard


def check_grouping(cfg: Config, recipe: Recipe) -> None:
    """A recipe that asks for k stories per call needs shards made of whole calls (the engine groups a call's
    stories itself, so batches need not be)."""
    k = recipe.stories_per_call
    if cfg.generate.shard_size % k:
        raise UserError(
            f"generate.shard_size = {cfg.generate.shard_size}: must be a multiple of "
            f"recipe.options.stories_per_call = {k}"
        )


def make_step(cfg: Config, recipe: Recipe, backend: Backend) -> GenerateStep:
    return GenerateStep(
        recipe,
        backend,
        cfg.generate.max_attempts,
        cfg.generate.batch_size,
        cfg.generate.min_words,
        generation=cfg.run.generation,
        meter=cost_meter(cfg, backend),
    )


def build_step(cfg: Config) -> GenerateStep:
    """The generation step from a config alone: what each Ray actor builds for itself."""
    backend = build_backend(cfg)
    backend.attach(Path(cfg.run.out))
    return make_step(cfg, build_recipe(cfg, load_vocabulary(cfg.vocab.path)), backend)


def check_executor(cfg: Config, recipe: Recipe, in_process: bool) -> None:
    """What only an executor that runs the step in this process can do."""
    if in_process:
        return
    if recipe.learns_from_shards:
        raise UserError("recipe.options.sampler = 'coverage' learns shard by shard; use execute.executor = 'local'")
    if cfg.cost.max_usd is not None:
        raise UserError("--max-cost counts spending in this process; use execute.executor = 'local'")


def open_guard(cfg: Config, note: Callable[[str], None]) -> Any:
    """The live collapse guard when [guard] names a reference (read and checked before any output), else None."""
    if cfg.guard.reference is None:
        return None
    if not Path(cfg.guard.reference).exists():
        print(f"guard: reference {cfg.guard.reference} not found; the collapse guard is off for this run")
        return None
    from synthloop.generate.guard import CollapseGuard

    return CollapseGuard(cfg.guard, Path(cfg.run.out), warn=note)


def generate(cfg: Config) -> GenerateResult:
    vocabulary = load_vocabulary(cfg.vocab.path)
    recipe = build_recipe(cfg, vocabulary)
    executor = executor_for(cfg.execute)
    check_executor(cfg, recipe, executor.in_process)
    check_grouping(cfg, recipe)
    backend = build_backend(cfg)
    step = make_step(cfg, recipe, backend)  # checks the price table before anything is written
    backend.check()
    settings = fingerprint_settings(cfg, backend, recipe, vocabulary)
    recipe.check()  # before any output
    guard = open_guard(cfg, lambda message: progress.note(message))
    dataset = open_output(Path(cfg.run.out), settings, backend)
    backend.attach(dataset.root)
    result = GenerateResult(out=dataset.root)
    started = time.perf_counter()
    tally = Tally(result, step.meter)

    def count(records: list[Record], resumed: bool) -> None:
        tally(records, resumed)
        progress.update(records, resumed, result.tokens_generated, time.perf_counter() - started)
        if guard is not None:
            guard.observe(records)

    job = make_job(cfg, recipe, dataset, step, count)
    with GenerationProgress(cfg.run.n, enabled=cfg.generate.progress) as progress:
        try:
            finished = executor.run(job)
            if cfg.generate.retry_failed:
                retry_failed(executor, job, finished, tally, guard.observe if guard else None, progress.note)
            backend.complete()
        except BudgetReached as reached:
            result.stopped = str(reached)
        finally:
            backend.close()
        if guard is not None:
            result.guard = guard.finish()
    result.seconds = time.perf_counter() - started
    save_manifest(cfg, dataset, step, result)
    return result


def make_job(
    cfg: Config, recipe: Recipe, dataset: Dataset, step: GenerateStep, count: Callable[[list[Record], bool], None]
) -> Job:
    """The run's prompts, shard by shard (rendered lazily; after the shard before, for a recipe that learns)."""
    adaptive = recipe.learns_from_shards
    feedback = shard_feedback(cfg, recipe, dataset) if adaptive else None
    return Job(
        dataset,
        prompt_shards(recipe, cfg.run.n, cfg.generate.shard_size, feedback),
        step,
        failed_or_data,
        PARTS,
        count,
        make_step=partial(build_step, cfg),
        one_shard_at_a_time=adaptive,
        sync_every=cfg.generate.batch_size,
    )


def save_manifest(cfg: Config, dataset: Dataset, step: GenerateStep, result: GenerateResult) -> None:
    if step.meter is not None:
        result.spent_now_usd = step.meter.requests_cost
        dataset.manifest["cost"] = cost_summary(cfg, step.meter, result)
    dataset.manifest.update(
        n=cfg.run.n,
        synthloop=__version__,
        counts={"stories": dataset.count("data"), "failed": dataset.count("failed")},
        config=cfg.model_dump(mode="json"),
    )
    dataset.save_manifest()
