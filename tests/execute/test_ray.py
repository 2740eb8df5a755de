"""Generation on a local Ray (loopback only, no dashboard): the same data as the local executor, and resume
through the same completion markers."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from conftest import run_cli, scripted_config
from synthloop.store.dataset import Dataset

pytestmark = [pytest.mark.slow, pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs ray")]


def content(out: Path) -> dict[str, str]:
    return {r.id: r.text for r in Dataset.open(out).iter_records()}


def ray_generate(config: Path, out: Path) -> list[str]:
    """The arguments of `synthloop generate` on the Ray executor with two workers."""
    return ["generate", "--config", str(config), "--out", str(out), "--executor", "ray", "--set", "execute.workers=2"]


def test_ray_executor_matches_local_and_resumes(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=30, fail_seeds_mod=7)
    local = run_cli("generate", "--config", str(config), "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    args = ray_generate(config, tmp_path / "ray")
    first = run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert content(tmp_path / "ray") == content(tmp_path / "local")
    assert "30 stories" not in first.stdout or "failed" in first.stdout
    # An interrupted run: one shard unfinished (no marker, data gone, a journal of half of it left).
    shard = tmp_path / "ray" / "data" / "part-00002.parquet"
    records = list(Dataset.open(tmp_path / "ray").iter_records())
    (tmp_path / "ray" / "completions" / "00002").unlink()
    shard.unlink()
    failed = tmp_path / "ray" / "failed" / "part-00002.parquet"
    if failed.exists():
        failed.unlink()
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert "resumed: " in again.stdout
    assert (
        content(tmp_path / "ray") == content(tmp_path / "local")
        and len(records) == Dataset.open(tmp_path / "ray").count()
    )
    shutil.rmtree(tmp_path / "ray")


def test_ray_retries_exactly_the_failed_prompts(tmp_path: Path) -> None:
    down = tmp_path / "backend-down"
    down.touch()
    config = scripted_config(tmp_path, n=15, fail_seeds_mod=3, fail_while=str(down))
    assert run_cli("generate", "--config", str(config), "--out", str(tmp_path / "ray")).returncode == 0
    before = content(tmp_path / "ray")
    failed = {r.id for r in Dataset.open(tmp_path / "ray").iter_records("failed")}
    assert failed
    down.unlink()
    again = run_cli(*ray_generate(config, tmp_path / "ray"))
    assert again.returncode == 0, again.stderr
    assert f"retried: {len(failed)} prompts" in again.stdout and "(15 stories, 0 failed)" in again.stdout
    after = content(tmp_path / "ray")
    assert set(after) == set(before) | failed and {k: after[k] for k in before} == before
    assert run_cli("generate", "--config", str(config), "--out", str(tmp_path / "local")).returncode == 0
    local = content(tmp_path / "local")  # a run that never failed: its stories of those prompts are the same
    assert {k: local[k] for k in failed} == {k: after[k] for k in failed}


def test_coverage_sampler_with_ray_is_refused(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=4)
    result = run_cli(
        "generate", "--config", str(config), "--executor", "ray", "--set", "recipe.options={sampler='coverage'}"
    )
    assert result.returncode == 2 and "use execute.executor = 'local'" in result.stderr


def test_ray_curation_matches_local(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=40, skip_words_mod=4)
    assert (
        run_cli(
            "generate", "--config", str(config), "--set", "generate.max_attempts=1", "--set", "generate.shard_size=10"
        ).returncode
        == 0
    )
    source = tmp_path / "out"
    local = run_cli("curate", "--in", str(source), "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    remote = run_cli(
        "curate", "--in", str(source), "--out", str(tmp_path / "ray"), "--set", "execute.workers=2", "--executor", "ray"
    )
    assert remote.returncode == 0, remote.stderr
    for part in ("data", "excluded"):
        ours = {r.id: (r.flags, r.meta["curation"]) for r in Dataset.open(tmp_path / "ray").iter_records(part)}
        theirs = {r.id: (r.flags, r.meta["curation"]) for r in Dataset.open(tmp_path / "local").iter_records(part)}
        assert ours == theirs and ours
    assert (tmp_path / "ray" / "stats.json").read_text() == (tmp_path / "local" / "stats.json").read_text()
    assert not (tmp_path / "ray" / "work" / "prefiltered").exists()
