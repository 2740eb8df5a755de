"""A synthloop dataset folder: a manifest plus Parquet shards of Records.

Layout (every file written atomically):
    manifest.json          what made the data (kind, config, fingerprint) and the counts
    data/part-00000.parquet ...   the records; `datasets.load_dataset("parquet", data_files=".../data/*.parquet")`
    failed/part-00000.parquet ... prompts that failed after bounded retries, with their error (generate)
    excluded/part-00000.parquet . rejected records with their reasons (curate)
    work/                  journals of unfinished shards (generate resume); empty when the run is complete
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synthloop.errors import UserError
from synthloop.records import Record, stable_id, to_table
from synthloop.store.atomic import atomic_write_json, atomic_write_parquet
from synthloop.store.claim import claim
from synthloop.store.manifest import Manifest
from synthloop.store.schema import arrow_reason, check_schema, read_row

MANIFEST_NAME = "manifest.json"
FORMAT = "synthloop-dataset/1"


def shard_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


class Dataset:
    """A dataset folder on disk. `Dataset.open` validates; `Dataset.create` starts or continues one."""

    def __init__(self, root: Path, manifest: dict[str, Any]) -> None:
        self.root = Path(root)
        self.manifest = manifest

    @property
    def provenance(self) -> Manifest:
        """The manifest, typed, with the lineage of runs that made this dataset."""
        return Manifest(self.manifest)

    def part_dir(self, part: str) -> Path:
        return self.root / part

    @classmethod
    def open(cls, root: Path) -> Dataset:
        root = Path(root)
        if not root.is_dir():
            raise UserError(f"{root}: no such dataset folder")
        manifest = read_manifest(root)
        if manifest is None:
            raise UserError(f"{root}: not a synthloop dataset (no {MANIFEST_NAME}); pass a folder made by synthloop")
        return cls(root, manifest)

    @classmethod
    def claim(cls, root: Path, kind: str, settings: dict[str, Any], defaults: dict[str, Any] | None = None) -> Dataset:
        """The output dataset of a `kind` run with these settings: the one already in `root` (a resume), or a new
        one. Refuses (writing nothing) a folder that holds anything else, naming the settings that differ;
        `defaults` stand for settings an older folder did not record (store/claim.py)."""
        root = Path(root)
        if claim(root, kind, settings, MANIFEST_NAME, in_manifest=True, defaults=defaults):
            manifest = read_manifest(root)
            assert manifest is not None  # claim found it
            return cls(root, manifest)
        fingerprint = stable_id(json.dumps(settings, sort_keys=True))
        return cls.create(root, {"kind": kind, "fingerprint": fingerprint, "settings": settings})

    @classmethod
    def create(cls, root: Path, manifest: dict[str, Any]) -> Dataset:
        dataset = cls(Path(root), dict(manifest, format=FORMAT))
        dataset.save_manifest()
        return dataset

    def save_manifest(self) -> None:
        atomic_write_json(self.root / MANIFEST_NAME, self.manifest)

    def shard_paths(self, part: str = "data") -> list[Path]:
        folder = self.part_dir(part)
        return sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []

    def write_shard(self, index: int, records: list[Record], part: str = "data") -> Path:
        path = self.part_dir(part) / shard_name(index)
        atomic_write_parquet(path, to_table(records))
        return path

    def iter_records(self, part: str = "data") -> Iterator[Record]:
        for path in self.shard_paths(part):
            yield from read_shard(path)

    def check_ids(self, parts: tuple[str, ...] = ("data",)) -> None:
        """Raise a one-line UserError when a shard of these parts holds a column of the wrong type
        (store/schema.py) or a record with a null, empty or non-string id. Reads only the schemas and the id
        column, so a command can check its whole input before it creates any output."""
        for part in parts:
            for path in self.shard_paths(part):
                try:
                    column = pq.read_table(path, columns=["id"]).column("id")
                    schema = pq.read_schema(path)
                except (OSError, KeyError, pa.ArrowInvalid) as error:
                    reason = arrow_reason(error)
                    raise UserError(f"{path}: not a readable Parquet file with an id column ({reason})") from error
                if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
                    raise UserError(f"{path}: column id is {column.type}; every record needs a string id")
                check_schema(path, schema)
                for row, value in enumerate(column.to_pylist()):
                    check_id(path, row, value)

    def count(self, part: str = "data") -> int:
        return sum(pq.ParquetFile(path).metadata.num_rows for path in self.shard_paths(part))


def read_manifest(root: Path) -> dict[str, Any] | None:
    path = Path(root) / MANIFEST_NAME
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(f"{path}: not valid JSON ({error})") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise UserError(f"{path}: not a synthloop manifest (expected format {FORMAT!r})")
    return manifest


def read_shard(path: Path) -> Iterator[Record]:
    try:
        parquet = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as error:
        raise UserError(f"{path}: not a readable Parquet file ({arrow_reason(error)})") from error
    missing = [name for name in ("id", "text") if name not in parquet.schema_arrow.names]
    if missing:
        raise UserError(f"{path}: schema mismatch, missing column(s) {', '.join(missing)}")
    check_schema(path, parquet.schema_arrow)
    number = 0
    for batch in parquet.iter_batches(batch_size=2048):
        for row in batch.to_pylist():
            check_id(path, number, row.get("id"))
            number += 1
            yield read_row(path, number - 1, row)


def check_id(path: Path, row: int, value: object) -> None:
    if not isinstance(value, str) or not value:
        raise UserError(f"{path}: row {row}: id is {value!r}; every record needs a non-empty string id")
