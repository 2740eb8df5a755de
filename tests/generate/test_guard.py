"""The live collapse guard: its verdicts on real and monotonous text, and in the generation pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SHARED, run_cli, scripted_config
from synthloop.config import GuardConfig
from synthloop.errors import UserError
from synthloop.generate.guard import CollapseGuard, read_guard
from synthloop.records import Record
from synthloop.store.dataset import Dataset

TINYSTORIES = SHARED / "corpora" / "tinystories_sample.jsonl"


def records(texts: list[str]) -> list[Record]:
    return [Record(id=str(i), text=t, finish_reason="stop") for i, t in enumerate(texts)]


def test_real_text_passes_and_monotonous_text_fails(tmp_path: Path) -> None:
    texts = [json.loads(line)["text"] for line in TINYSTORIES.read_text().splitlines()]
    cfg = GuardConfig(reference=TINYSTORIES, window=200, check_every=200, min_stories=100)
    guard = CollapseGuard(cfg, tmp_path)
    guard.observe(records(texts[-200:]))
    [check] = guard.checks
    assert check["verdict"] == "pass" and 0.9 < check["distinct_2_ratio"] < 1.1 and check["js_divergence"] < 0.1
    same = "Once upon a time, Lily went to the park. She saw a ball and she was happy. The end."
    warnings: list[str] = []
    guard = CollapseGuard(cfg, tmp_path, warn=warnings.append)
    guard.observe(records([same] * 200))
    assert guard.checks[-1]["verdict"] == "fail" and len(guard.checks[-1]["violations"]) == 2  # JS stays < 0.6
    assert warnings and warnings[0].startswith("warning: collapse guard after 200 stories: distinct-2 ratio")
    saved = read_guard(tmp_path)
    assert saved is not None and saved["summary"]["verdict"] == "fail" and saved["summary"]["failed_checks"] == 1
    stopping = CollapseGuard(cfg.model_copy(update={"action": "stop"}), tmp_path)
    with pytest.raises(UserError, match="generation stopped"):
        stopping.observe(records([same] * 200))


def test_guard_in_generation_warns_stops_and_shows_in_the_report(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=60)
    with open(config, "a", encoding="utf-8") as handle:
        handle.write(f'[guard]\nreference = "{TINYSTORIES}"\nwindow = 40\ncheck_every = 20\nmin_stories = 20\n')
    stop = run_cli("generate", "--config", str(config), "--set", "guard.action='stop'")
    assert stop.returncode == 2 and stop.stderr.count("\n") == 1 and "generation stopped" in stop.stderr
    out = tmp_path / "out"
    saved_before = sum(1 for _ in Dataset.open(out).iter_records()) + len(list((out / "work").glob("*.jsonl")))
    assert saved_before >= 1  # what was generated before the stop is kept
    warn = run_cli("generate", "--config", str(config))
    assert warn.returncode == 0, warn.stderr
    assert "warning: collapse guard after" in warn.stderr and "collapse guard: fail" in warn.stdout
    assert len(list(Dataset.open(out).iter_records())) == 60
    report = run_cli("report", "--in", str(out), "--out", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    page = (tmp_path / "report" / "index.html").read_text()
    assert "<h2>Collapse guard</h2>" in page and "Verdict: <b>fail</b>" in page
