"""Typed configuration: TOML files validated by pydantic, plus `--set key=value` overrides.

Every section forbids unknown keys, so a misspelt option is an error naming the file and the key. Backend and
recipe options are validated by the chosen plugin's own Options model when the run is built.
"""

from __future__ import annotations

import importlib.resources
import sys
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synthloop.errors import UserError


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RunConfig(Section):
    n: int = Field(200, gt=0, le=10**10, description="stories to generate (prompts; each gets one kept completion)")
    seed: int = Field(
        0, ge=0, description="the run's seed: prompt i's words, features and sampling seed derive from it"
    )
    out: Path = Path("data/run1")
    curated_out: Path | None = None  # `synthloop run` curates into this folder; None: "<out>-curated"
    report_out: Path | None = None  # ... and reports into this one; None: "<out>-report"
    reference: Path | None = None  # human stories the report compares with (skipped when the file is absent)
    # Collapse-loop index of the model that writes this data: 0 for a model never trained on synthloop data; a
    # model trained on generation-g synthloop data writes generation g+1 (its run folder's lineage.json says which).
    generation: int = Field(0, ge=0)


class VocabConfig(Section):
    path: Path | None = None  # None: the shipped child vocabulary


class PluginConfig(Section):
    name: str
    options: dict[str, Any] = Field(default_factory=dict)


class GenerateConfig(Section):
    shard_size: int = Field(100, ge=1, le=1_000_000)  # prompts per Parquet shard (the unit of completion)
    # Prompts per call for a backend that batches (a local model), and records per journal fsync; never a barrier:
    # a server backend streams single requests, and finished stories are journaled as they arrive.
    batch_size: int = Field(8, ge=1, le=4096)
    max_attempts: int = Field(2, ge=1, le=20)  # regenerate a story that misses a required word, up to this many
    min_words: int = Field(50, ge=0)  # ...or that is shorter than this many words
    # A rerun sends the prompts that failed in earlier runs again (only those, with the same ids): --no-retry-failed
    retry_failed: bool = True
    progress: bool = True


class ExecuteConfig(Section):
    executor: Literal["local", "ray"] = "local"  # ray: shards run on Ray Data actors (synthloop/execute/ray.py)
    workers: int = Field(2, ge=1, le=10_000)  # Ray actors (each loads the backend once)
    address: str | None = None  # None: a local Ray on this machine; "auto" or "ray://host:10001" for a cluster


DEFAULT_ORDER = ["constraints", "vocab", "form", "readability", "safety", "decontam", "exact", "minhash", "semantic"]


class CurateConfig(Section):
    # Filters run in this order, then the dedup stages (exact, minhash, semantic) in theirs, on what passed; so a
    # dedup stage listed before a filter is refused (curate/runner.py, check_order) rather than silently moved.
    order: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ORDER), description="filters, then dedup stages, in the order they run"
    )
    batch_size: int = Field(256, ge=1, le=100_000, description="records per filter batch and per journal write")
    filters: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per-filter options, e.g. filters.form (synthloop plugins --options)"
    )


class GuardConfig(Section):
    """The live collapse guard (synthloop/generate/guard.py): bounds on the newest stories vs a reference."""

    reference: Path | None = None  # real corpus or an earlier run (JSONL or dataset); None: the guard is off
    window: int = Field(500, ge=20)  # newest stories measured at each check
    check_every: int = Field(250, ge=1)  # stories between checks
    min_stories: int = Field(100, ge=10)  # no verdict before this many stories
    min_distinct_2_ratio: float | None = Field(0.7, gt=0)
    min_tail_coverage_ratio: float | None = Field(0.3, gt=0)
    max_js_divergence: float | None = Field(0.6, gt=0, le=1)
    action: Literal["warn", "stop"] = "warn"


class CostConfig(Section):
    """Cost accounting (synthloop/cost.py): a price table and an optional budget."""

    prices: Path | None = None  # TOML price table (USD per million tokens per model); None: no costs recorded
    max_usd: float | None = Field(None, gt=0)  # stop cleanly before the run's cost would pass this (--max-cost)


class Config(Section):
    run: RunConfig = Field(default_factory=lambda: RunConfig())
    vocab: VocabConfig = Field(default_factory=lambda: VocabConfig())
    recipe: PluginConfig = Field(default_factory=lambda: PluginConfig(name="tinystories"))
    backend: PluginConfig = Field(default_factory=lambda: PluginConfig(name="embedded"))
    generate: GenerateConfig = Field(default_factory=lambda: GenerateConfig())
    curate: CurateConfig = Field(default_factory=lambda: CurateConfig())
    guard: GuardConfig = Field(default_factory=lambda: GuardConfig())
    execute: ExecuteConfig = Field(default_factory=lambda: ExecuteConfig())
    cost: CostConfig = Field(default_factory=lambda: CostConfig())


def format_validation_error(source: str, error: ValidationError, prefix: str = "") -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in (prefix, *first["loc"]) if part != "")
    extra = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    got = f", got {first['input']!r}" if first["type"] != "missing" and not isinstance(first["input"], dict) else ""
    return f"{source}: {location or 'config'}: {first['msg']}{got}{extra}"


def parse_override(text: str) -> tuple[list[str], Any]:
    """'backend.options.temperature=0.5' -> (['backend', 'options', 'temperature'], 0.5); 'guard.reference=null' ->
    None (TOML has no null: this is how an optional setting is switched off from the command line)."""
    if "=" not in text:
        raise UserError(f"--set {text!r}: expected key=value, e.g. --set run.n=50")
    key, raw = text.split("=", 1)
    path = [part for part in key.strip().split(".") if part]
    if not path:
        raise UserError(f"--set {text!r}: empty key")
    if raw.strip() == "null":
        return path, None
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw  # a bare string: --set run.out=data/x
    return path, value


def shipped_config() -> Path:
    """The main config as the package ships it: what a command uses when no --config is given."""
    return Path(str(importlib.resources.files("synthloop") / "data" / "tinystories.toml"))


def load_config(path: Path | str | None = None, overrides: list[str] | None = None) -> Config:
    data: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        try:
            with open(path, "rb") as handle:
                data = tomllib.load(handle)
        except FileNotFoundError as error:
            raise UserError(f"{path}: config file not found") from error
        except tomllib.TOMLDecodeError as error:
            raise UserError(f"{path}: malformed TOML ({error})") from error
        except (OSError, UnicodeDecodeError) as error:
            raise UserError(f"{path}: cannot read ({error})") from error
    parsed = [parse_override(text) for text in overrides or []]
    switch_plugins(data, parsed, source)
    for text, (keys, value) in zip(overrides or [], parsed, strict=True):
        target = data
        for key in keys[:-1]:
            child = target.setdefault(key, {})
            if not isinstance(child, dict):
                raise UserError(f"--set {text!r}: {key} is not a table")
            target = child
        target[keys[-1]] = value
    try:
        return Config.model_validate(data)
    except ValidationError as error:
        raise UserError(format_validation_error(source, error)) from error


def switch_plugins(data: dict[str, Any], overrides: list[tuple[list[str], Any]], source: str) -> None:
    """`--set backend.name=X` (or recipe.name) naming another plugin than the file's: the file's options belong to
    the old plugin, so the new one starts from its own defaults plus the options given for it on the command line
    (as a config file naming it would). Says so in one line on stderr when a user's options are left behind."""
    for plugin in ("backend", "recipe"):
        names = [value for keys, value in overrides if keys == [plugin, "name"]]
        table = data.get(plugin)
        if not names or not isinstance(table, dict) or table.get("name", names[-1]) == names[-1]:
            continue
        options = table.pop("options", None)
        if options and source != str(shipped_config()):  # the shipped options were nobody's choice: no note
            left = ", ".join(sorted(options))
            print(
                f"note: {plugin}.name={names[-1]} replaces {table.get('name')!r} of {source}; its {plugin}.options "
                f"({left}) are left out: give {names[-1]}'s with --set {plugin}.options.KEY=VALUE",
                file=sys.stderr,
            )


def validate_options(options_model: type[BaseModel], options: dict[str, Any], where: str) -> Any:
    """Validate a plugin's options dict with its own Options model; errors name the config key."""
    try:
        return options_model.model_validate(options)
    except ValidationError as error:
        raise UserError(format_validation_error("config", error, prefix=where)) from error
