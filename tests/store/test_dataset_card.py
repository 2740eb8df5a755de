"""The curated dataset folder is a Hugging Face dataset as it stands (issue 26, item 8): its README.md card names
data/ (kept) and excluded/ (rejects) as the splits `train` and `excluded`, so `datasets.load_dataset(folder)` reads
it, and a resumed curation writes the same card."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import scripted_config
from synthloop.config import load_config
from synthloop.curate.runner import curate
from synthloop.generate.runner import generate


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    """24 scripted stories; every fourth leaves its words out (max_attempts=1 keeps it): some kept, some not."""
    generate(load_config(scripted_config(tmp_path, n=24, skip_words_mod=4), ["generate.max_attempts=1"]))
    return tmp_path / "out"


@pytest.fixture
def load_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    return datasets.load_dataset


def curated(source: Path, out: Path, *settings: str) -> dict[str, Any]:
    return curate(load_config(None, ["curate.order=['constraints', 'form', 'exact']", *settings]), source, out).stats


def test_load_dataset_reads_the_curated_folder_as_two_splits(
    generated: Path, tmp_path: Path, load_dataset: Callable[..., Any]
) -> None:
    out = tmp_path / "curated"
    stats = curated(generated, out)
    assert stats["kept"] > 0 and stats["excluded"] > 0
    card = (out / "README.md").read_text()
    assert card.startswith("---\n") and '  - split: train\n    path: "data/*.parquet"' in card
    assert '  - split: excluded\n    path: "excluded/*.parquet"' in card
    loaded = load_dataset(str(out))
    assert sorted(loaded) == ["excluded", "train"]
    assert loaded["train"].num_rows == stats["kept"] and loaded["excluded"].num_rows == stats["excluded"]
    assert all(not flags for flags in loaded["train"]["flags"])
    assert all(any(f.startswith("constraints.") for f in flags) for flags in loaded["excluded"]["flags"])
    assert set(loaded["train"]["id"]).isdisjoint(loaded["excluded"]["id"])


def test_a_resumed_curation_writes_the_same_card(generated: Path, tmp_path: Path) -> None:
    out = tmp_path / "curated"
    curated(generated, out)
    first = (out / "README.md").read_bytes()
    (out / "README.md").unlink()  # as if killed after the last shard, before the card
    curated(generated, out)
    assert (out / "README.md").read_bytes() == first
    assert str(tmp_path) not in first.decode()  # no paths: the folder can move or be pushed as it is


def test_a_curation_that_kept_nothing_has_only_the_excluded_split(
    generated: Path, tmp_path: Path, load_dataset: Callable[..., Any]
) -> None:
    out = tmp_path / "curated"
    stats = curated(generated, out, "curate.filters.form={min_words=1000}")
    assert stats["kept"] == 0
    card = (out / "README.md").read_text()
    assert "split: train" not in card and "no story was kept, so there is no `train` split" in card
    assert "- nothing was kept" in card
    loaded = load_dataset(str(out))
    assert sorted(loaded) == ["excluded"] and loaded["excluded"].num_rows == stats["total"] == 24
    assert sum(json.loads((out / "stats.json").read_text())["dropped_first_reason"].values()) == 24
