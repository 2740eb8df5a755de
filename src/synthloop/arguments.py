"""Typed command-line values: every number an option takes has a declared range, every word a declared set; the
parser that prints a usage mistake as one line; and the checks of output paths every command makes before work.

argparse checks them while parsing, before a command runs, so a bad value is a one-line usage error (exit 2)
that names the option and what it accepts, and nothing has been created or changed on disk. The ranges of options
that feed a typed config (train, collapse, generate) are read from that config's pydantic fields, so the command
line and the Python API accept the same values. Both kinds keep what they accept on themselves (`Number.minimum`
and `.maximum`, `Choices.names` and `.pattern`): tests/test_cli_options.py reads them from the parser to try
every option of every command with values outside them.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import annotated_types
from pydantic import BaseModel

from synthloop.errors import UserError

SEED_MAX = 2**32 - 1  # seeds go to torch.manual_seed, numpy and random: one range that all of them take


class Number:
    """An argparse `type`: an int or a finite float within [minimum, maximum] (inclusive)."""

    def __init__(self, kind: type, minimum: float, maximum: float) -> None:
        if kind not in (int, float):
            raise TypeError(f"Number: kind must be int or float, not {kind!r}")
        if not minimum <= maximum:
            raise ValueError(f"Number: empty range {minimum}..{maximum}")
        self.kind, self.minimum, self.maximum = kind, minimum, maximum
        self.__name__ = kind.__name__  # argparse names the type in some messages

    def describe(self) -> str:
        if self.kind is int:
            return f"a whole number from {int(self.minimum):,} to {int(self.maximum):,}"
        return f"a number from {self.minimum:g} to {self.maximum:g}"

    def __call__(self, text: str) -> int | float:
        try:
            value = int(text, 10) if self.kind is int else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {self.describe()}, got {text[:40]!r}") from None
        if not math.isfinite(value) or not self.minimum <= value <= self.maximum:
            raise argparse.ArgumentTypeError(f"expected {self.describe()}, got {text[:40]!r}")
        return value

    def __repr__(self) -> str:
        return f"Number({self.kind.__name__}, {self.minimum:g}, {self.maximum:g})"


def seed() -> Number:
    return Number(int, 0, SEED_MAX)


def from_field(model: type[BaseModel], name: str) -> Number:
    """The range of a pydantic field (ge/gt/le/lt): what the config accepts, the option accepts."""
    field = model.model_fields[name]
    annotation = field.annotation
    kind = float if annotation is float or "float" in str(annotation) else int
    step = 1 if kind is int else 1e-9  # an exclusive bound, as an inclusive one
    low, high = -math.inf, math.inf
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Ge):
            low = float(rule.ge)  # type: ignore[arg-type]
        elif isinstance(rule, annotated_types.Gt):
            low = float(rule.gt) + step  # type: ignore[arg-type]
        elif isinstance(rule, annotated_types.Le):
            high = float(rule.le)  # type: ignore[arg-type]
        elif isinstance(rule, annotated_types.Lt):
            high = float(rule.lt) - step  # type: ignore[arg-type]
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{model.__name__}.{name}: give the field both bounds to use it as an option")
    if kind is int:
        return Number(int, math.ceil(low), math.floor(high))
    return Number(float, low, high)


class Choices:
    """argparse `choices` that also accept words matching `pattern` (e.g. cuda:1): a container argparse checks
    with `in`, and lists (`names`) in its messages."""

    def __init__(self, *names: str, pattern: str | None = None) -> None:
        self.names = names
        self.pattern = re.compile(pattern) if pattern else None

    def __contains__(self, value: Any) -> bool:
        if not isinstance(value, str):
            return False
        return value in self.names or bool(self.pattern and self.pattern.fullmatch(value))

    def __iter__(self) -> Iterator[str]:
        return iter((*self.names, *([self.pattern.pattern] if self.pattern else [])))

    def __len__(self) -> int:
        return len(self.names)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (with where to look) rather than the usage block plus a line,
    and a number option's help says its range."""

    def add_argument(self, *names: Any, **options: Any) -> argparse.Action:
        kind = options.get("type")
        if isinstance(kind, Number):
            options["help"] = f"{options.get('help') or ''} ({kind.describe()})".strip()
        return super().add_argument(*names, **options)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"synthloop: error: {message} (see `{self.prog} --help`)\n")


def writable_file(path: Path, option: str) -> None:
    """Refuse, before any work, an output file path that names a folder or lies under a file."""
    if path.is_dir():
        raise UserError(f"{option} {path}: is a folder; name the file to write")
    if any(parent.exists() and not parent.is_dir() for parent in path.parents):
        raise UserError(f"{option} {path}: a parent of it is a file, not a folder")


def writable_folder(path: Path, option: str) -> None:
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} {path}: exists and is not a folder")
    if any(parent.exists() and not parent.is_dir() for parent in path.parents):
        raise UserError(f"{option} {path}: a parent of it is a file, not a folder")
