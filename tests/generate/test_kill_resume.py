"""Kill -9 a generation at random points, rerun the same command, and compare with an uninterrupted run."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import cli_env, run_cli, scripted_config
from synthloop.store.dataset import Dataset


def dataset_content(out: Path) -> dict[str, str]:
    return {r.id: r.text for r in Dataset.open(out).iter_records()}


def kill_and_resume(config: Path, kill_after_s: float) -> int:
    """Start generate, SIGKILL it after kill_after_s, then rerun to completion. Returns the number of kills."""
    process = subprocess.Popen(
        [sys.executable, "-m", "synthloop.cli", "generate", "--config", str(config)],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(kill_after_s)
    killed = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = run_cli("generate", "--config", str(config))
    assert finished.returncode == 0, finished.stderr
    return int(killed)


@pytest.mark.parametrize("seed", range(5))
def test_kill_9_at_random_point_loses_and_duplicates_nothing(tmp_path: Path, seed: int) -> None:
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    reference = run_cli("generate", "--config", str(scripted_config(reference_dir, n=24, delay_s=0.1)))
    assert reference.returncode == 0, reference.stderr
    expected = dataset_content(reference_dir / "out")

    killed_dir = tmp_path / "killed"
    killed_dir.mkdir()
    config = scripted_config(killed_dir, n=24, delay_s=0.1)
    kills = kill_and_resume(config, random.Random(seed).uniform(0.6, 2.2))
    out = killed_dir / "out"
    assert dataset_content(out) == expected
    assert Dataset.open(out).count() == 24  # no duplicate rows in any shard
    assert not [p for p in out.rglob("*") if p.name.startswith(".tmp-")]
    assert not list((out / "work").glob("*"))
    assert kills in (0, 1)
