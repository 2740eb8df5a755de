"""Options several commands share (config, cost, retry, reference corpus, --json) and the config they build.

A command that generates reads the shipped config (synthloop/data/tinystories.toml, a copy of
configs/tinystories.toml kept equal by tests/test_config.py) when no --config is given: the defaults are the
measured ones.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from synthloop.arguments import Number, from_field
from synthloop.config import Config, RunConfig
from synthloop.errors import UserError

REFERENCE_HELP = "human stories to compare with (JSONL with 'text', or a dataset folder)"


def config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", type=Path, help="TOML config file (default: the shipped main config, configs/tinystories.toml)"
    )
    parser.add_argument("-n", type=from_field(RunConfig, "n"), help="number of stories (overrides run.n)")
    parser.add_argument("--out", type=Path, help="output dataset folder (overrides run.out)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, e.g. --set backend.options.temperature=0.5",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--executor", choices=["local", "ray"], help="where shards run (overrides execute.executor)")


def retry_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--retry-failed",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="send the prompts that failed in earlier runs again, keeping their ids (default: on; "
        "overrides generate.retry_failed)",
    )


def cost_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prices", type=Path, help='TOML price table: [prices."MODEL"] input/output_per_million')
    parser.add_argument(
        "--max-cost", type=Number(float, 1e-6, 1e9), metavar="USD", help="stop cleanly before the run costs more"
    )


def json_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="print the summary as one JSON object on stdout (the rest: stderr)"
    )


def reference_arg(parser: argparse.ArgumentParser, *old: str, append: bool = False, help: str = REFERENCE_HELP) -> None:
    """--reference, the one name for a human corpus to compare with; `old` spellings stay as hidden aliases so
    existing scripts keep working (deprecated: they are not in --help)."""
    action = "append" if append else "store"
    default: Any = [] if append else None
    parser.add_argument("--reference", type=Path, action=action, default=default, help=help)
    for name in old:
        parser.add_argument(name, dest="reference", type=Path, action=action, default=default, help=argparse.SUPPRESS)


def load(args: argparse.Namespace) -> Config:
    """The command's config: --config (or the shipped one) with its options as overrides."""
    from synthloop.config import load_config, shipped_config

    overrides = list(args.overrides)
    if args.n is not None:
        if args.n <= 0:
            raise UserError(f"-n {args.n}: the number of stories must be > 0")
        overrides.append(f"run.n={args.n}")
    if getattr(args, "out", None) is not None and getattr(args, "out_is_run_out", True):
        overrides.append(f"run.out={str(args.out)!r}")
    if args.no_progress:
        overrides.append("generate.progress=false")
    if getattr(args, "retry_failed", None) is not None:
        overrides.append(f"generate.retry_failed={str(args.retry_failed).lower()}")
    if getattr(args, "executor", None):
        overrides.append(f"execute.executor={args.executor!r}")
    if getattr(args, "prices", None) is not None:
        overrides.append(f"cost.prices={str(args.prices)!r}")
    if getattr(args, "max_cost", None) is not None:
        overrides.append(f"cost.max_usd={args.max_cost!r}")
    if args.config is not None or not getattr(args, "shipped_default", True):
        return load_config(args.config, overrides)
    return load_config(shipped_config(), overrides)


@contextlib.contextmanager
def summary_output(as_json: bool) -> Iterator[None]:
    """With --json, everything the work prints goes to stderr, so stdout holds only the JSON summary."""
    if not as_json:
        yield
        return
    with contextlib.redirect_stdout(sys.stderr):
        yield


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=1, default=str))


def as_dict(result: Any) -> dict[str, Any]:
    """A result dataclass as JSON-ready data, its computed rates included."""
    data = dataclasses.asdict(result)
    for name in ("tokens_per_s", "all_words_rate"):
        if hasattr(result, name):
            data[name] = getattr(result, name)
    return data
