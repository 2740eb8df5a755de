"""The output folder is a plain Parquet dataset that Hugging Face `datasets` reads as-is."""

from pathlib import Path

from conftest import scripted_config
from synthloop.config import load_config
from synthloop.generate.runner import generate


def test_load_dataset_reads_generated_shards(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets

    generate(load_config(scripted_config(tmp_path, n=8)))
    loaded = datasets.load_dataset("parquet", data_files=str(tmp_path / "out" / "data" / "*.parquet"), split="train")
    assert loaded.num_rows == 8
    row = loaded[0]
    assert row["text"] and row["recipe"] == "tinystories"
    assert {item["role"] for item in row["words"]} == {"noun", "verb", "adjective"}
