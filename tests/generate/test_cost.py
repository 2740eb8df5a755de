"""Cost accounting in generation: per-record cost from the price table, totals, and --max-cost stopping cleanly
before the budget is passed, with the finished shards kept and a rerun with a larger budget completing the run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli, scripted_config
from synthloop.cost import BudgetReached, CostMeter, Price, cost_usd, load_prices
from synthloop.errors import UserError
from synthloop.store.dataset import Dataset

PRICES = '[prices."scripted-1"]\ninput_per_million = 1000\noutput_per_million = 1000\nbatch_discount = 0.5\n'


def content(out: Path) -> list[tuple[str, str]]:
    return sorted((r.id, r.text) for r in Dataset.open(out).iter_records())


def test_price_arithmetic_and_the_batch_discount() -> None:
    price = Price(input_per_million=0.15, output_per_million=0.60, batch_discount=0.5)
    assert cost_usd(price, 1_000_000, 1_000_000, batch=False) == pytest.approx(0.75)
    assert cost_usd(price, 1_000_000, 1_000_000, batch=True) == pytest.approx(0.375)
    meter = CostMeter(price, batch=False, max_tokens=100, max_usd=1e-4)
    meter.check([30])  # before any call: prompt chars / 3 tokens in, max_tokens out: 11*0.15+100*0.6 = 61.65e-6
    with pytest.raises(BudgetReached, match=r"--max-cost 0\.0001 USD reached"):
        meter.check([30, 30])


def test_bad_price_tables_are_one_line_errors(tmp_path: Path) -> None:
    cases = {
        "[prices\n": "not a readable TOML",
        "x = 1\n": 'expected [prices."MODEL"]',
        '[prices."m"]\ninput_per_million = 1\noutput_per_million = -2\n': "output_per_million: Input should be",
        '[prices."m"]\ninput_per_million = 1\noutput_per_million = 1\nbatch_discount = 1\n': "batch_discount",
        '[prices."m"]\ninput_per_million = 1\noutput_per_million = 1\ncurrency = "EUR"\n': "currency",
    }
    for body, message in cases.items():
        path = tmp_path / "p.toml"
        path.write_text(body)
        with pytest.raises(UserError) as raised:
            load_prices(path)
        assert message in str(raised.value) and "\n" not in str(raised.value), str(raised.value)


def test_max_cost_stops_before_the_budget_and_a_rerun_finishes(tmp_path: Path) -> None:
    prices = tmp_path / "prices.toml"
    prices.write_text(PRICES)
    config = scripted_config(tmp_path, n=30)
    budget = 2.0
    stopped = run_cli("generate", "--config", str(config), "--prices", str(prices), "--max-cost", str(budget))
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped: --max-cost 2 USD reached" in stopped.stdout and "rerun with a larger --max-cost" in stopped.stdout
    out = tmp_path / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    assert 0 < manifest["cost"]["usd"] <= budget and manifest["cost"]["stopped"]
    kept = list(Dataset.open(out).iter_records())
    assert 0 < len(kept) < 30 and sum(r.meta["cost_usd"] for r in kept) <= budget
    assert len(list((out / "completions").iterdir())) == len(kept) // 5  # whole shards only; the rest journaled
    finished = run_cli("generate", "--config", str(config), "--prices", str(prices), "--max-cost", "100")
    assert finished.returncode == 0 and "stopped" not in finished.stdout, finished.stdout
    reference = tmp_path / "reference"
    assert run_cli("generate", "--config", str(config), "--out", str(reference)).returncode == 0
    assert content(out) == content(reference)  # nothing lost or duplicated by the stop
    total = json.loads((out / "manifest.json").read_text())["cost"]
    assert total["usd"] == pytest.approx(sum(r.meta["cost_usd"] for r in Dataset.open(out).iter_records()), abs=1e-6)
    assert total["batch_discount"] == 0.0  # not a batch backend: no discount


def test_shards_and_batches_must_hold_whole_calls(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=12)
    config.write_text(config.read_text().replace('name = "tinystories"', 'name = "simplestories"'))
    result = run_cli("generate", "--config", str(config), "--set", "recipe.options={stories_per_call=3}")
    assert result.returncode == 2 and "generate.shard_size = 5: must be a multiple" in result.stderr
    assert not (tmp_path / "out").exists()
