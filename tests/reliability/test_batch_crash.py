"""SIGKILL `generate` with the openai-batch backend at each point of a batch's life (while uploading, right after
the batch was created but before its id was journaled, while polling, while downloading the results) and at random
times, rerun, and compare with an uninterrupted run: 0 records lost, 0 duplicated, and no request paid twice."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from crash_harness import check_consistent, crash_and_resume, dataset_content, no_temp_files

from batch_server import batch_config, batch_server
from conftest import cli_env, run_cli
from synthloop.store.dataset import Dataset

N = 12  # two shards of six, one batch each (plus resubmissions of the requests the server fails once)


def command(config: Path) -> list[str]:
    return ["generate", "--config", str(config)]


def expected_submissions(out: Path) -> dict[str, int]:
    """Each request once, and once more if the server failed it the first time (error_mod=5)."""
    records = list(Dataset.open(out).iter_records("data")) + list(Dataset.open(out).iter_records("failed"))
    return {f"{r.id}-{r.seed}": 1 + (r.seed % 5 == 0) for r in records}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> object:
    work = tmp_path_factory.mktemp("reference")
    with batch_server(error_mod=5) as (url, server):
        result = run_cli(*command(batch_config(work, url, n=N)))
        assert result.returncode == 0, result.stderr
        assert server.submissions == expected_submissions(work / "out")
    return dataset_content(work / "out", ("data", "failed"))


@pytest.mark.parametrize("point", ["upload", "create", "poll", "download"])
def test_killed_at_each_batch_step_then_resumed(tmp_path: Path, reference: object, point: str) -> None:
    with batch_server(error_mod=5, pause_at=point) as (url, server):
        config = batch_config(tmp_path, url, n=N)
        process = subprocess.Popen(
            [sys.executable, "-m", "synthloop.cli", *command(config)],
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert server.reached.wait(120), f"the run never reached {point}"
        finally:
            process.kill()
            process.wait()
        check_consistent(tmp_path / "out")
        server.release.set()
        finished = run_cli(*command(config))
        assert finished.returncode == 0, finished.stderr
        out = tmp_path / "out"
        assert dataset_content(out, ("data", "failed")) == reference  # 0 lost, 0 duplicated, same ids and texts
        assert server.submissions == expected_submissions(out)  # and no request submitted twice
    no_temp_files(out)


@pytest.mark.parametrize("seed", range(2))
def test_killed_at_random_times_then_resumed(tmp_path: Path, reference: object, seed: int) -> None:
    with batch_server(error_mod=5) as (url, server):
        config = batch_config(tmp_path, url, n=N)
        rng = random.Random(seed)
        crash_and_resume(command(config), tmp_path / "out", [rng.uniform(0.8, 3.0) for _ in range(3)])
        assert dataset_content(tmp_path / "out", ("data", "failed")) == reference
        assert server.submissions == expected_submissions(tmp_path / "out")
