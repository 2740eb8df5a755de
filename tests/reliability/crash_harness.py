"""The crash harness: run a command, SIGKILL it at random points (several times), rerun it to completion, and
compare the result with an uninterrupted run (for generate also its retry of failed prompts). Used by
tests/reliability/test_crash.py (a few seeds per stage) and benchmarks/crash_harness.py (20 seeds per stage).

After every kill it checks what a reader would see: every Parquet shard on disk reads back whole (a write cut
short never leaves a complete-looking file), and no shard is marked complete without its data.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from conftest import cli_env, run_cli, scripted_config
from synthloop.store.dataset import Dataset


def check_consistent(out: Path) -> None:
    if not out.exists():
        return
    for shard in out.rglob("part-*.parquet"):
        pq.read_table(shard)  # raises if a partial file were left under a final name
    markers = out / "completions"
    if markers.is_dir():
        for marker in markers.iterdir():
            if not marker.name.startswith(".tmp-"):
                assert (out / "data" / f"part-{marker.name}.parquet").exists() or any(
                    (out / part / f"part-{marker.name}.parquet").exists() for part in ("failed", "excluded")
                ), f"{marker} marks a shard complete that has no data"


def crash_and_resume(command: list[str], out: Path, kill_times: list[float]) -> int:
    """SIGKILL `command` at each of kill_times (seconds after each start), checking the folder after each kill,
    then run it to completion. Returns how many kills landed while it was still running."""
    landed = 0
    for delay in kill_times:
        process = subprocess.Popen(
            [sys.executable, "-m", "synthloop.cli", *command],
            env=cli_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        landed += process.poll() is None
        process.send_signal(signal.SIGKILL)
        process.wait()
        check_consistent(out)
    finished = run_cli(*command)
    assert finished.returncode == 0, finished.stderr
    return landed


def no_temp_files(out: Path) -> None:
    left = [p for p in out.rglob("*") if p.name.startswith(".tmp-") or ".tmp-" in p.name]
    assert not left, left


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    result = run_cli(*command)
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - started


def dataset_content(out: Path, parts: tuple[str, ...] = ("data",)) -> dict[str, Any]:
    dataset = Dataset.open(out)
    return {part: sorted((r.id, r.text, tuple(r.flags)) for r in dataset.iter_records(part)) for part in parts}


def generate_stage(work: Path) -> tuple[Callable[[Path], list[str]], Callable[[Path], Any], float]:
    """(command for an output folder, its content, the uninterrupted run's wall seconds) for generation."""
    config = scripted_config(work, n=30, delay_s=0.05, fail_seeds_mod=11)

    def command(out: Path) -> list[str]:
        return ["generate", "--config", str(config), "--out", str(out)]

    def content(out: Path) -> Any:
        assert not list((out / "work").glob("*")), "journals left after a finished run"
        return dataset_content(out, ("data", "failed"))

    return command, content, timed(command(work / "reference"))


def retry_stage(work: Path) -> tuple[Callable[[Path], list[str]], Callable[[Path], Any], float]:
    """The retry of failed prompts (generate's second pass): a first run while the backend fails a third of the
    prompts, then the backend recovers and the same command is rerun; that rerun is what gets killed."""
    down = work / "backend-down"
    down.touch()
    config = scripted_config(work, n=24, delay_s=0.1, fail_seeds_mod=2, fail_while=str(down))
    first = work / "first"
    assert run_cli("generate", "--config", str(config), "--out", str(first)).returncode == 0
    assert Dataset.open(first).count("failed") > 0
    down.unlink()

    def command(out: Path) -> list[str]:
        if not out.exists():
            shutil.copytree(first, out)  # every seed retries the same first run
        return ["generate", "--config", str(config), "--out", str(out)]

    def content(out: Path) -> Any:
        assert not list((out / "work").glob("*")), "journals left after a finished retry"
        found = dataset_content(out, ("data", "failed"))
        assert not found["failed"], "the recovered backend still left failed prompts"
        return found

    return command, content, timed(command(work / "reference"))


def curate_stage(work: Path) -> tuple[Callable[[Path], list[str]], Callable[[Path], Any], float]:
    config = scripted_config(work, n=60, skip_words_mod=4)
    assert run_cli("generate", "--config", str(config), "--out", str(work / "generated")).returncode == 0

    def command(out: Path) -> list[str]:
        return ["curate", "--in", str(work / "generated"), "--out", str(out), "--set", "curate.batch_size=4"]

    def content(out: Path) -> Any:
        return dataset_content(out, ("data", "excluded")) | {"stats": json.loads((out / "stats.json").read_text())}

    return command, content, timed(command(work / "reference"))


def train_stage(work: Path, stories: Path) -> tuple[Callable[[Path], list[str]], Callable[[Path], Any], float]:
    def command(out: Path) -> list[str]:
        return [
            "train",
            "--in",
            str(stories),
            "--out",
            str(out),
            "--preset",
            "cpu-test",
            "--max-steps",
            "60",
            "--batch-size",
            "8",
            "--block-size",
            "64",
            "--eval-every",
            "20",
            "--checkpoint-every",
            "5",
            "--no-progress",
        ]

    def content(out: Path) -> Any:
        return [(p["step"], p["loss"]) for p in json.loads((out / "curve.json").read_text())]

    return command, content, timed(command(work / "reference"))


def run_seed(stage: tuple[Callable[[Path], list[str]], Callable[[Path], Any], float], work: Path, seed: int) -> int:
    """One seed: two kills at random points of the run, rerun, compare. Returns kills that landed."""
    command, content, seconds = stage
    rng = random.Random(seed)
    out = work / f"seed{seed}"
    kills = [rng.uniform(0.5, max(0.6, seconds)) for _ in range(2)]
    landed = crash_and_resume(command(out), out, kills)
    assert content(out) == content(work / "reference"), f"seed {seed}: result differs from the uninterrupted run"
    no_temp_files(out)
    return landed
