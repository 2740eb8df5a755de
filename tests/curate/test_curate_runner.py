"""`synthloop curate` end to end over a generated dataset: output layout, stats, resume after kill -9, bad input."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli, scripted_config, snapshot
from synthloop.config import load_config
from synthloop.generate.runner import generate
from synthloop.store.dataset import Dataset


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """60 scripted stories; every fourth first attempt leaves its words out (max_attempts=1 keeps it)."""
    config = scripted_config(tmp_path, n=60, skip_words_mod=4)
    generate(load_config(config, ["generate.max_attempts=1"]))
    return tmp_path / "out"


def curate_cli(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("curate", "--in", str(source), "--out", str(out), *extra)


def content(out: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    dataset = Dataset.open(out)
    return {
        r.id: (r.meta["curation"], tuple(r.flags)) for part in ("data", "excluded") for r in dataset.iter_records(part)
    }


def test_curate_writes_kept_excluded_and_stats(generated: Path, tmp_path: Path) -> None:
    out = tmp_path / "curated"
    result = curate_cli(generated, out, "--set", "curate.filters.form={min_words=20}")
    assert result.returncode == 0, result.stderr
    assert "curation:" in result.stdout and "constraints.missing_noun" in result.stdout
    stats = json.loads((out / "stats.json").read_text())
    dataset = Dataset.open(out)
    kept, excluded = list(dataset.iter_records("data")), list(dataset.iter_records("excluded"))
    assert stats["total"] == 60 == len(kept) + len(excluded)
    assert stats["kept"] == len(kept) > 0 and stats["excluded"] == len(excluded) > 0
    assert sum(stats["dropped_first_reason"].values()) == len(excluded)
    assert all(r.flags and r.meta["curation"] == "excluded" for r in excluded)
    assert all(not r.flags and "vocab.oov_rate" in r.scores and "readability.fk_grade" in r.scores for r in kept)
    missing = [r for r in excluded if "constraints.missing_noun" in r.flags]
    assert missing and all(r.meta["missing"] for r in missing)
    assert stats["dropped"].get("constraints.missing_noun") == len(missing)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--set", "curate.order=['constraints', 'sparkle']"], "unknown filter 'sparkle'"),
        (["--set", "curate.order=['exact', 'form']"], "dedup stage 'exact' comes before filter 'form'"),
        (["--set", "curate.filters.vocab={max_oov_rate=2}"], "curate.filters.vocab.max_oov_rate"),
        (["--set", "curate.filters.minhash={threshold=0}"], "curate.filters.minhash.threshold"),
        (["--set", "curate.filters.form={min_words=10}", "--set", "curate.order=['vocab']"], "not in curate.order"),
    ],
)
def test_bad_curate_settings(generated: Path, tmp_path: Path, args: list[str], fragment: str) -> None:
    result = curate_cli(generated, tmp_path / "c", *args)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr


def test_bad_curate_inputs(generated: Path, tmp_path: Path) -> None:
    def one_line(result: subprocess.CompletedProcess[str], fragment: str) -> None:
        assert result.returncode == 2, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and fragment in result.stderr

    one_line(curate_cli(tmp_path / "nowhere", tmp_path / "c"), "no such dataset folder")
    plain = tmp_path / "plain"
    plain.mkdir()
    one_line(curate_cli(plain, tmp_path / "c"), "not a synthloop dataset")
    one_line(curate_cli(generated, generated), "must differ from --in")
    bad_eval = tmp_path / "eval.jsonl"
    bad_eval.write_text("{nope\n")
    one_line(
        curate_cli(generated, tmp_path / "c", "--set", f"curate.filters.decontam={{eval_set='{bad_eval}'}}"),
        "invalid JSON",
    )
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "manifest.json").write_text((generated / "manifest.json").read_text())
    (broken / "data").mkdir()
    (broken / "data" / "part-00000.parquet").write_text("not parquet")
    one_line(curate_cli(broken, tmp_path / "c2"), "not a readable Parquet file")
    done = tmp_path / "done"
    assert curate_cli(generated, done).returncode == 0
    before = snapshot(done)
    one_line(
        curate_cli(generated, done, "--set", "curate.filters.form={min_words=5}"),
        "holds another run's data (different curate.filters.form)",
    )
    assert snapshot(done) == before
