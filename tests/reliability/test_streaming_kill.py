"""SIGKILL `generate` while hundreds of requests are in flight against a server, rerun it, and check what the
streaming engine promises: nothing lost, nothing duplicated, the same ids as an uninterrupted run, and no request
sent a second time whose answer had been committed (only answers still in flight, or not yet journaled when the
kill landed, are asked again)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from crash_harness import check_consistent

from conftest import cli_env, run_cli
from sim_server import serve
from synthloop.store.dataset import Dataset
from synthloop.store.journal import Journal

pytestmark = pytest.mark.slow

N, CONCURRENCY = 2000, 400


def config(tmp_path: Path, url: str, out: Path) -> Path:
    path = tmp_path / f"{out.name}.toml"
    path.write_text(
        f'[run]\nn = {N}\nseed = 5\nout = "{out}"\n[recipe]\nname = "tinystories"\n'
        f'[backend]\nname = "openai"\n[backend.options]\nbase_url = "{url}"\nconcurrency = {CONCURRENCY}\n'
        "[generate]\nshard_size = 100\nmax_attempts = 1\nmin_words = 0\nprogress = false\n",
        encoding="utf-8",
    )
    return path


def committed_seeds(out: Path) -> set[int]:
    """Seeds of the prompts whose stories are on disk: in a finished shard or a shard's journal."""
    seeds = {r.seed for part in ("data", "failed") for r in Dataset.open(out).iter_records(part)}
    for journal in (out / "work").glob("part-*.jsonl"):
        seeds |= {r.seed for r in Journal(journal).read().values()}
    return seeds


def test_killed_with_hundreds_in_flight_loses_nothing_and_pays_nothing_twice(tmp_path: Path) -> None:
    with serve(median=0.5, shape=0.4, slots=1024) as (url, server):
        reference = run_cli("generate", "--config", str(config(tmp_path, url, tmp_path / "reference")))
        assert reference.returncode == 0, reference.stderr
        out = tmp_path / "out"
        command = [sys.executable, "-m", "synthloop.cli", "generate", "--config", str(config(tmp_path, url, out))]
        server.stats.asked.clear()
        process = subprocess.Popen(command, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not (len(server.stats.answered) >= 600 + N and server.stats.in_flight >= 300):
            assert time.monotonic() < deadline and process.poll() is None, "never reached hundreds in flight"
            time.sleep(0.005)
        in_flight = server.stats.in_flight
        process.send_signal(signal.SIGKILL)
        process.wait()
        asked_before = len(server.stats.asked)
        check_consistent(out)
        committed = committed_seeds(out)
        assert 500 <= len(committed) < N
        finished = run_cli("generate", "--config", str(config(tmp_path, url, out)))
        assert finished.returncode == 0, finished.stderr
        asked_again = server.stats.asked[asked_before:]
    records = list(Dataset.open(out).iter_records("data")) + list(Dataset.open(out).iter_records("failed"))
    expected = list(Dataset.open(tmp_path / "reference").iter_records("data"))
    assert sorted(r.id for r in records) == sorted(r.id for r in expected)  # nothing lost, nothing twice
    assert {(r.id, r.text) for r in records} == {(r.id, r.text) for r in expected}
    assert not committed & set(asked_again), "a committed story was asked for again"
    assert len(asked_again) == N - len(committed)  # each prompt not on disk once, no more
    print(f"killed with {in_flight} in flight; {len(committed)} committed; {len(asked_again)} asked again")
