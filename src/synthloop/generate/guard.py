"""The live collapse guard: while stories are generated, compare the newest ones with a reference corpus.

Every `check_every` new stories it measures the latest `window` stories with the collapse lab's indicators and
compares them with a random sample of the reference *of the same size* (distinct-n and coverage depend on corpus
size, so only size-matched figures are comparable):
  distinct_2 ratio       window distinct-2 / reference distinct-2        (monotony; bound: min_distinct_2_ratio)
  tail coverage ratio    window tail coverage / reference tail coverage (lost tails; bound: min_tail_coverage_ratio)
  JS divergence          unigram Jensen–Shannon divergence from the reference (drift; bound: max_js_divergence)
A check outside a bound warns, or with action "stop" ends generation after the stories already saved (a rerun
resumes; relax the bounds or set action "warn" to go on). `<dataset>/guard.json` holds the summary and the
latest checks (what the report shows); every check is appended to `<dataset>/guard-checks.jsonl`.

The window's word and n-gram counts are kept up to date as stories come and go (metrics/collapse.WindowCounts), so
a story costs one pass whatever `check_every` is, and memory does not grow with the run.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthloop.config import GuardConfig
from synthloop.errors import UserError
from synthloop.metrics.collapse import Reference, WindowCounts, indicators
from synthloop.records import Record
from synthloop.store.atomic import atomic_write_json
from synthloop.vocab.inflection import word_tokens

GUARD_FILE = "guard.json"
CHECKS_FILE = "guard-checks.jsonl"
LATEST = 10  # checks kept in guard.json (and in memory)


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
        self.window: deque[list[str]] = deque()  # the newest stories' word tokens
        self.counts = WindowCounts()
        self.seen = 0
        self.since_check = 0
        self.checks: deque[dict[str, Any]] = deque(maxlen=LATEST)
        self.tally = {"checks": 0, "failed_checks": 0}
        self.saved_at = float("-inf")

    def baseline(self, size: int) -> dict[str, Any]:
        if size not in self.baselines:
            sample = random.Random(size).sample(self.texts, min(size, len(self.texts)))
            self.baselines[size] = indicators(sample, self.reference)
        return self.baselines[size]

    def observe(self, records: list[Record]) -> None:
        for record in records:
            if record.text and record.finish_reason != "error":
                tokens = word_tokens(record.text)
                self.window.append(tokens)
                self.counts.add(tokens)
                if len(self.window) > self.cfg.window:
                    self.counts.remove(self.window.popleft())
                self.seen += 1
                self.since_check += 1
        if self.seen >= self.cfg.min_stories and self.since_check >= self.cfg.check_every:
            self.check()

    def check(self) -> dict[str, Any]:
        self.since_check = 0
        size = len(self.window)
        ours, theirs = self.counts.indicators(self.reference), self.baseline(size)
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
            "size": size,
            "verdict": "fail" if violations else "pass",
            "violations": violations,
            **figures,
            "window": ours,
            "reference_same_size": theirs,
        }
        self.checks.append(check)
        self.tally["checks"] += 1
        self.tally["failed_checks"] += bool(violations)
        self.save(check, now=bool(violations) and cfg.action == "stop")
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
        if self.checks:
            self.save(now=True)
        return self.summary()

    def summary(self) -> dict[str, Any] | None:
        if not self.checks:
            return None
        last = self.checks[-1]
        return {
            "verdict": "fail" if self.tally["failed_checks"] else "pass",
            **self.tally,
            "last": {
                k: last[k]
                for k in ("stories", "distinct_2_ratio", "tail_coverage_ratio", "js_divergence", "violations")
            },
            "action": self.cfg.action,
        }

    def save(self, check: dict[str, Any] | None = None, now: bool = False) -> None:
        """Append the check to the history; rewrite guard.json at most once a second (and when asked: a failed
        check that stops the run, the run's end)."""
        if check is not None:
            with open(self.folder / CHECKS_FILE, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(check, sort_keys=True) + "\n")
        if not now and time.monotonic() - self.saved_at < 1.0:
            return
        self.saved_at = time.monotonic()
        record = {"config": self.cfg.model_dump(mode="json"), "checks": list(self.checks), "summary": self.summary()}
        atomic_write_json(self.folder / GUARD_FILE, record, indent=1, sort_keys=False)


def read_guard(folder: Path) -> dict[str, Any] | None:
    path = Path(folder) / GUARD_FILE
    return json.loads(path.read_text()) if path.is_file() else None
