"""`synthloop plan`: a real calibration run through the generate path, scaled to -n, with a user price table."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import run_cli, scripted_config


def test_plan_scales_a_calibration_and_prices_it(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text('[prices."scripted-1"]\ninput_per_million = 0.15\noutput_per_million = 0.60\n')
    config = scripted_config(tmp_path, n=5)
    result = run_cli("plan", "--config", str(config), "-n", "1000000", "--calibrate", "10", "--prices", str(prices))
    assert result.returncode == 0, result.stderr
    tokens = re.search(r"([\d,]+) tokens in, ([\d,]+) out", result.stdout)
    assert tokens is not None
    tokens_in, tokens_out = (int(t.replace(",", "")) for t in tokens.groups())
    assert tokens_in == 50 * 1_000_000  # the scripted backend reports 50 prompt tokens per story
    cost = float(re.search(r"cost: \$([\d,.]+)", result.stdout).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert abs(cost - (tokens_in * 0.15 + tokens_out * 0.60) / 1e6) < 0.01
    assert not (tmp_path / "out").exists()  # the calibration ran in a temporary folder


def test_plan_mistakes_are_one_line(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=5)
    bad = tmp_path / "bad.toml"
    bad.write_text("[prices\n")
    other = tmp_path / "other.toml"
    other.write_text('[prices."gpt-x"]\ninput_per_million = 1\noutput_per_million = 2\n')
    cases = [
        ([], "give the run size with -n"),
        (["-n", "10", "--prices", str(bad)], "not a readable TOML price table"),
        (["-n", "10", "--prices", str(other)], "no [prices.'scripted-1'] entry (have: gpt-x)"),
    ]
    for args, message in cases:
        result = run_cli("plan", "--config", str(config), "--calibrate", "2", *args)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
