"""An empty outcome is not an error (issue 26, item 9): a run whose curation kept no story ends with exit 0 and a
report that says plainly that nothing was kept and shows what was dropped and why; `synthloop report` on such a
dataset, or on a generated one that holds no story, does the same."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli, scripted_config

DROP_ALL = "curate.filters.form={min_words=1000}"  # every scripted story is shorter


def test_a_run_that_kept_nothing_writes_its_report_and_exits_0(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=6)
    result = run_cli("run", "--config", str(config), "--set", DROP_ALL)
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr and "nothing was kept" in result.stdout
    report = tmp_path / "out-report"
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["nothing_kept"] is True and metrics["dataset"] == {"stories": 0}
    assert metrics["curation"]["kept"] == 0 and metrics["curation"]["dropped"] == {"form.too_short": 6}
    assert metrics["constraints"]["by_pos"] == {"noun": 1.0, "verb": 1.0, "adjective": 1.0}  # what was asked for
    page = (report / "index.html").read_text()
    assert "<h2>Nothing was kept</h2>" in page and "form.too_short" in page
    card = (report / "README.md").read_text()
    assert "- nothing was kept" in card and "dropped `form.too_short`: 6" in card


def test_run_json_says_nothing_was_kept(tmp_path: Path) -> None:
    result = run_cli("run", "--config", str(scripted_config(tmp_path, n=3)), "--set", DROP_ALL, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["report"]["nothing_kept"] is True


def test_report_on_a_dataset_that_kept_nothing(tmp_path: Path) -> None:
    config = str(scripted_config(tmp_path, n=4))
    assert run_cli("generate", "--config", config).returncode == 0
    curated = tmp_path / "curated"
    assert run_cli("curate", "--in", str(tmp_path / "out"), "--out", str(curated), "--set", DROP_ALL).returncode == 0
    result = run_cli("report", "--in", str(curated), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("report: nothing was kept")
    assert json.loads((tmp_path / "report" / "metrics.json").read_text())["curation"]["excluded"] == 4


def test_report_on_a_generated_dataset_without_stories(tmp_path: Path) -> None:
    config = str(scripted_config(tmp_path, n=3, fail_seeds_mod=1))  # every prompt fails
    run_cli("generate", "--config", config, "--set", "generate.max_attempts=1")
    result = run_cli("report", "--in", str(tmp_path / "out"), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert metrics["nothing_kept"] is True and metrics["curation"] is None
    assert "the dataset holds no story with text" in (tmp_path / "report" / "index.html").read_text()
