"""The live collapse guard: while stories are generated, compare the newest ones with a reference corpus.

Every `check_every` new stories it measures the latest `window` stories with the collapse lab's indicators and
compares them with a random sample of the reference *of the same size* (distinct-n and coverage depend on corpus
size, so only size-matched figures are comparable):
  distinct_2 ratio       window distinct-2 / reference distinct-2        (monotony; bound: min_distinct_2_ratio)
  tail coverage ratio    window tail coverage / reference tail coverage (lost tails; bound: min_tail_coverage_ratio)
  JS divergence          unigram Jensen–Shannon divergence from the reference (drift; bound: max_js_divergence)
A check outside a bound warns, or with action "stop" ends generation after the stories already saved (a rerun
resumes; relax the bounds or set action "warn" to go on). Every check is kept in `<dataset>/guard.json`, which
the report shows.
"""

from __future__ import annotations

import json
import random
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthloop.config import GuardConfig
from synthloop.errors import UserError
from synthloop.metrics.collapse import Reference, indicators
from synthloop.records import Record
from synthloop.store.atomic import atomic_write_text

GUARD_FILE = "guard.json"


class CollapseGuard:
    def __init__(self, cfg: GuardConfig, folder: Path, warn: Callable[[str], None] = print) -> None:
        from synthloop.store.texts import read_texts

        assert cfg.reference is not None
        self.cfg = cfg
        self.folder = Path(folder)
        self.warn = warn
        self.texts = read_texts(cfg.reference)
        if len(self.texts) < cfg.min_stories:
            raise UserError(
                f"guard.reference {cfg.reference}: {len(self.texts)} texts, need at least {cfg.min_stories}"
            )
        self.reference = Reference.from_texts(self.texts)
        self.baselines: dict[int, dict[str, Any]] = {}
        self.window: deque[str] = deque(maxlen=cfg.window)
        self.seen = 0
        self.since_check = 0
        self.checks: list[dict[str, Any]] = []

    def baseline(self, size: int) -> dict[str, Any]:
        if size not in self.baselines:
            sample = random.Random(size).sample(self.texts, min(size, len(self.texts)))
            self.baselines[size] = indicators(sample, self.reference)
        return self.baselines[size]

    def observe(self, records: list[Record]) -> None:
        for record in records:
            if record.text and record.finish_reason != "error":
                self.window.append(record.text)
                self.seen += 1
                self.since_check += 1
        if self.seen >= self.cfg.min_stories and self.since_check >= self.cfg.check_every:
            self.check()

    def check(self) -> dict[str, Any]:
        self.since_check = 0
        texts = list(self.window)
        ours, theirs = indicators(texts, self.reference), self.baseline(len(texts))
        figures = {
            "distinct_2_ratio": ours["distinct_2"] / theirs["distinct_2"] if theirs["distinct_2"] else 0.0,
            "tail_coverage_ratio": ours["tail_coverage"] / theirs["tail_coverage"] if theirs["tail_coverage"] else 0.0,
            "js_divergence": ours["js_divergence"],
        }
        cfg = self.cfg
        bounds = [
            ("distinct-2 ratio", "distinct_2_ratio", cfg.min_distinct_2_ratio, -1),
            ("tail coverage ratio", "tail_coverage_ratio", cfg.min_tail_coverage_ratio, -1),
            ("JS divergence", "js_divergence", cfg.max_js_divergence, 1),
        ]
        violations = [
            f"{label} {figures[key]:.2f} {'<' if sign < 0 else '>'} {bound}"
            for label, key, bound, sign in bounds
            if bound is not None and (figures[key] - bound) * sign > 0
        ]
        check = {
            "stories": self.seen,
            "size": len(texts),
            "verdict": "fail" if violations else "pass",
            "violations": violations,
            **figures,
            "window": ours,
            "reference_same_size": theirs,
        }
        self.checks.append(check)
        self.save()
        if violations:
            message = f"collapse guard after {self.seen} stories: " + "; ".join(violations)
            if cfg.action == "stop":
                raise UserError(
                    f"{message}; generation stopped (saved stories are kept; rerun resumes after you "
                    "relax the [guard] bounds or set guard.action = 'warn')"
                )
            self.warn(f"warning: {message}")
        return check

    def finish(self) -> dict[str, Any] | None:
        """A last check over whatever came after the previous one; the overall verdict."""
        if self.seen >= self.cfg.min_stories and (self.since_check or not self.checks):
            self.check()
        return summary(self.checks, self.cfg)

    def save(self) -> None:
        record = {
            "config": self.cfg.model_dump(mode="json"),
            "checks": self.checks,
            "summary": summary(self.checks, self.cfg),
        }
        atomic_write_text(self.folder / GUARD_FILE, json.dumps(record, indent=1) + "\n")


def summary(checks: list[dict[str, Any]], cfg: GuardConfig) -> dict[str, Any] | None:
    if not checks:
        return None
    failed = [c for c in checks if c["verdict"] == "fail"]
    return {
        "verdict": "fail" if failed else "pass",
        "checks": len(checks),
        "failed_checks": len(failed),
        "last": {
            k: checks[-1][k]
            for k in ("stories", "distinct_2_ratio", "tail_coverage_ratio", "js_divergence", "violations")
        },
        "action": cfg.action,
    }


def read_guard(folder: Path) -> dict[str, Any] | None:
    path = Path(folder) / GUARD_FILE
    return json.loads(path.read_text()) if path.is_file() else None
