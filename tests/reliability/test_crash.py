"""SIGKILL generate (its first run and its retry of failed prompts), curate and train at random points, rerun,
and compare with an uninterrupted run (a few seeds each here; benchmarks/crash_harness.py runs 20 seeds per
stage)."""

from __future__ import annotations

from pathlib import Path

import pytest
from crash_harness import curate_stage, generate_stage, retry_stage, run_seed, train_stage

from conftest import SHARED

SEEDS = range(2)


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, Path]]:
    made = {}
    for name in ("generate", "retry", "curate", "train"):
        work = tmp_path_factory.mktemp(name)
        stage = {"generate": generate_stage, "retry": retry_stage, "curate": curate_stage}.get(name)
        made[name] = (
            (stage(work) if stage else train_stage(work, SHARED / "corpora" / "tinystories_sample.jsonl")),
            work,
        )
    return made


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", ["generate", "retry", "curate", "train"])
def test_killed_at_random_points_then_resumed_equals_uninterrupted(stages, name: str, seed: int) -> None:  # type: ignore[no-untyped-def]
    stage, work = stages[name]
    landed = run_seed(stage, work, seed)
    assert landed in (0, 1, 2)
