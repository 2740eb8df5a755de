"""Generation against a fault-injecting OpenAI-compatible server: every prompt ends done or failed-with-its-error,
none lost or duplicated, Retry-After honoured, concurrency capped."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from conftest import run_cli
from fault_server import EMPTY_CONTENT, FAULTS, RETRY_AFTER_S, fault_server
from synthloop.generate.step import EMPTY_ANSWER
from synthloop.store.dataset import Dataset

pytestmark = pytest.mark.slow


def config(tmp_path: Path, url: str, n: int, concurrency: int, retries: int) -> Path:
    path = tmp_path / "faulty.toml"
    path.write_text(
        f'[run]\nn = {n}\nseed = 3\nout = "{tmp_path / "out"}"\n[recipe]\nname = "tinystories"\n'
        f'[backend]\nname = "openai"\n[backend.options]\nbase_url = "{url}"\nconcurrency = {concurrency}\n'
        f"max_retries = {retries}\nbackoff_s = 0.01\ntimeout_s = 1.0\nmax_retry_after_s = 1.0\n"
        "[generate]\nshard_size = 40\nbatch_size = 20\nmax_attempts = 1\nmin_words = 0\nprogress = false\n"
    )
    return path


def test_every_fault_class_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    rates = {fault: 0.04 for fault in FAULTS}  # ~50 % of requests fail in some way
    n, concurrency, retries = 160, 4, 7
    with fault_server(rates, seed=1, hang_s=1.6) as (url, log):
        result = run_cli("generate", "--config", str(config(tmp_path, url, n, concurrency, retries)))
        assert result.returncode == 0, result.stderr
    dataset = Dataset.open(tmp_path / "out")
    done, failed = list(dataset.iter_records("data")), list(dataset.iter_records("failed"))
    ids = [r.id for r in done + failed]
    assert len(ids) == len(set(ids)) == n  # none lost, none duplicated
    for record in done:  # each story is the answer to its own prompt
        assert re.search(rf"seed {record.seed}\b", record.text), record.text
    for record in failed:  # the backend's retries ran out, or the server's 200 held no story (a failure too)
        served = log.requests[record.seed][-1][1]
        if served in EMPTY_CONTENT:
            assert record.meta["error"] == EMPTY_ANSWER and "generate.empty" in record.flags
        else:
            assert record.meta["error"].startswith(f"gave up after {retries + 1} attempts")
    counts = log.counts()
    assert set(FAULTS) <= set(counts), counts  # every fault class was injected
    assert log.max_in_flight <= concurrency  # no retry storm past the cap
    assert all(len(requests) <= retries + 1 for requests in log.requests.values())
    assert set(log.requests) == {r.seed for r in done + failed}
    for requests in log.requests.values():  # after a 429 with Retry-After, the next try waits at least that long
        for (at, fault), (next_at, _) in itertools.pairwise(requests):
            if fault == "429_retry_after":
                assert next_at - at >= RETRY_AFTER_S - 0.02
    print(f"faults injected: {counts}; done {len(done)}, failed {len(failed)}, max in flight {log.max_in_flight}")


def test_prompts_spread_over_several_servers() -> None:
    from synthloop.backends.base import Prompt
    from synthloop.backends.openai import OpenAIBackend, OpenAIOptions

    messages = [{"role": "user", "content": "A story, please."}]
    with fault_server({}, seed=0) as (first, log_a), fault_server({}, seed=0) as (second, log_b):
        backend = OpenAIBackend(OpenAIOptions(base_url=[first, second], concurrency=4))
        backend.check()
        completions = backend.generate([Prompt(str(seed), messages, seed) for seed in range(10)])
    assert all(f"seed {seed}" in c.text for seed, c in enumerate(completions))
    assert set(log_a.requests) == {0, 2, 4, 6, 8} and set(log_b.requests) == {1, 3, 5, 7, 9}
