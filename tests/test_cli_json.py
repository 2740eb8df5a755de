"""`--json` on the summaries of generate, curate and plan: one JSON object on stdout, everything else elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli, scripted_config


def test_generate_curate_and_plan_summaries_as_json(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=3)
    generated = run_cli("generate", "--config", str(config), "--json")
    assert generated.returncode == 0, generated.stderr
    summary = json.loads(generated.stdout)
    assert summary["stories"] == 3 and summary["failed"] == 0 and summary["out"] == str(tmp_path / "out")
    assert 0 <= summary["all_words_rate"] <= 1 and "tokens_per_s" in summary

    curated = run_cli(
        "curate",
        "--in",
        str(tmp_path / "out"),
        "--out",
        str(tmp_path / "c"),
        "--json",
        "--set",
        "curate.order=['constraints', 'exact']",
    )
    assert curated.returncode == 0, curated.stderr
    stats = json.loads(curated.stdout)["stats"]
    assert stats["total"] == 3 and stats["kept"] + stats["excluded"] == 3

    planned = run_cli("plan", "--config", str(config), "-n", "1000", "--calibrate", "2", "--json")
    assert planned.returncode == 0, planned.stderr
    estimate = json.loads(planned.stdout)
    assert estimate["n"] == 1000 and estimate["tokens_in"] == 50 * 1000  # the scripted backend: 50 tokens a prompt
