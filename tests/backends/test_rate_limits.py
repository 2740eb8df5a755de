"""The openai backend against a rate-limited server (tests/sim_server.py): a configured limit paces requests under
it, no limit adapts to the 429s, the server's headers are learned, a server that answers 429 forever gives every
prompt a bounded, recorded give-up, and a limit that is not a positive number is a one-line error."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from sim_server import serve
from synthloop.config import load_config
from synthloop.generate.runner import generate
from synthloop.store.dataset import Dataset


def config(tmp_path: Path, url: str, n: int, **options: object) -> Path:
    extra = "".join(f"{key} = {value!r}\n" for key, value in options.items())
    path = tmp_path / "limited.toml"
    path.write_text(
        f'[run]\nn = {n}\nseed = 1\nout = "{tmp_path / "out"}"\n[recipe]\nname = "tinystories"\n'
        f'[backend]\nname = "openai"\n[backend.options]\nbase_url = "{url}"\nconcurrency = 32\n'
        f"backoff_s = 0.01\n{extra}[generate]\nshard_size = 25\nmax_attempts = 1\nmin_words = 0\nprogress = false\n",
        encoding="utf-8",
    )
    return path


def span(stats: dict[str, object]) -> float:
    return float(stats["last"]) - float(stats["first"])  # type: ignore[arg-type]


def test_a_configured_limit_paces_requests_under_it(tmp_path: Path) -> None:
    with serve(median=0.02, rpm=1200) as (url, server):  # 20 per second, a burst of 20
        result = generate(load_config(config(tmp_path, url, 60, max_requests_per_minute=1200)))
        stats = server.stats.as_dict()
    assert result.stories == 60 and stats["served"] == 60
    assert stats["throttled"] <= 1  # paced, not bounced
    assert span(stats) >= 1.8  # 20 at once, then 40 at 20 per second


def test_without_a_limit_the_client_adapts_and_loses_nothing(tmp_path: Path) -> None:
    with serve(median=0.02, rpm=1200) as (url, server):
        result = generate(load_config(config(tmp_path, url, 100, max_retries=20)))
        stats = server.stats.as_dict()
    assert result.stories == 100 and result.failed == 0 and stats["served"] == 100
    assert 0 < stats["throttled"] < 100


def test_the_servers_rate_limit_headers_are_learned(tmp_path: Path) -> None:
    with serve(median=0.02, rpm=1200, headers=True) as (url, server):
        result = generate(load_config(config(tmp_path, url, 100, max_retries=20)))
        stats = server.stats.as_dict()
    assert result.stories == 100 and stats["served"] == 100
    assert stats["throttled"] <= 32  # at most the first window, sent before any answer said the limit


def test_a_server_that_always_answers_429_gives_bounded_recorded_give_ups(tmp_path: Path) -> None:
    with serve(median=0, fail_429=True) as (url, server):
        result = generate(load_config(config(tmp_path, url, 5, max_retries=2, max_retry_after_s=0.05)))
        throttled = server.stats.throttled
    assert (result.stories, result.failed) == (0, 5) and throttled == 15
    for record in Dataset.open(tmp_path / "out").iter_records("failed"):
        assert record.meta["error"] == "gave up after 3 attempts: HTTP 429"


@pytest.mark.parametrize("option", ["max_requests_per_minute", "max_tokens_per_minute"])
@pytest.mark.parametrize("value", ["0", "-5", "'lots'"])
def test_a_limit_that_is_not_positive_is_a_one_line_error(tmp_path: Path, option: str, value: str) -> None:
    out = tmp_path / "never"
    result = run_cli(
        "generate", "--set", "backend.name=openai", "--set", f"backend.options.{option}={value}", "--out", str(out)
    )
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.strip().count("\n") <= 1 and f"backend.options.{option}" in result.stderr
