"""`synthloop curate`: run the filters and dedup stages over a generated dataset into a curated one.

The output keeps the input's shards: data/ holds the kept stories (with their scores), excluded/ every rejected
story with its reasons and scores, and stats.json the counts. Like generate, it is resumable (kill -9, rerun: the
same output) and refuses an output folder that holds another curation's data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthloop import __version__, plugins
from synthloop.config import Config, validate_options
from synthloop.curate.base import Filter
from synthloop.curate.stats import compute_stats
from synthloop.curate.step import KEPT, CurateStep
from synthloop.errors import UserError
from synthloop.execute.local import Shard, run_shards
from synthloop.records import Record, stable_id
from synthloop.store.atomic import atomic_write_text
from synthloop.store.dataset import Dataset, read_manifest, read_shard
from synthloop.vocab import load_vocabulary

PARTS = ("data", "excluded")


@dataclass
class CurateResult:
    out: Path
    stats: dict[str, Any] = field(default_factory=dict)


def input_vocabulary_path(source: Dataset) -> str | None:
    config = source.manifest.get("config") or {}
    path = (config.get("vocab") or {}).get("path")
    return str(path) if path else None


def build_filters(cfg: Config, context: dict[str, Any]) -> list[Filter]:
    unknown_options = set(cfg.curate.filters) - set(cfg.curate.order)
    if unknown_options:
        raise UserError(f"curate.filters: options for {sorted(unknown_options)}, which are not in curate.order")
    built = []
    for name in cfg.curate.order:
        cls = plugins.lookup("filter", name)
        options = validate_options(cls.Options, cfg.curate.filters.get(name, {}), f"curate.filters.{name}")
        built.append(cls(options, context))
    return built


def open_output(out: Path, source: Dataset, settings: dict[str, Any]) -> Dataset:
    if out.resolve() == source.root.resolve():
        raise UserError(f"--out {out}: must differ from --in (curation never overwrites its input)")
    fingerprint = stable_id(json.dumps(settings, sort_keys=True))
    manifest = read_manifest(out) if out.exists() else None
    if manifest is None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UserError(f"{out}: exists and holds no synthloop manifest; choose another --out")
        return Dataset.create(out, {"kind": "curate", "fingerprint": fingerprint, "settings": settings})
    if manifest.get("kind") != "curate" or manifest.get("fingerprint") != fingerprint:
        raise UserError(f"{out}: holds another run's data (different input or curate settings); choose a new --out")
    return Dataset(out, manifest)


def input_shards(source: Dataset) -> Iterator[Shard]:
    for path in source.shard_paths("data"):
        index = int(path.stem.split("-")[1])
        yield Shard(index, list(read_shard(path)))


def first_texts(source: Dataset, count: int) -> list[str]:
    texts = []
    for record in source.iter_records():
        texts.append(record.text)
        if len(texts) >= count:
            break
    return texts


def curate(cfg: Config, source_path: Path, out: Path) -> CurateResult:
    source = Dataset.open(source_path)
    if not source.shard_paths("data"):
        raise UserError(f"{source_path}: dataset has no data shards to curate")
    vocab_path = cfg.vocab.path or input_vocabulary_path(source)
    vocabulary = load_vocabulary(vocab_path)
    context = {"vocabulary": vocabulary, "sample_texts": first_texts(source, 2000), "source": source}
    filters = build_filters(cfg, context)
    settings = {
        "input": str(source.root.resolve()),
        "input_fingerprint": source.manifest.get("fingerprint"),
        "input_shards": [p.name for p in source.shard_paths("data")],
        "curate": cfg.curate.model_dump(mode="json"),
        "vocabulary": vocabulary.digest(),
    }
    dataset = open_output(Path(out), source, settings)
    step = CurateStep(filters, cfg.curate.batch_size)

    def on_records(records: list[Record], resumed: bool) -> None:
        if resumed:
            step.remember(records)

    try:
        run_shards(dataset, input_shards(source), step, partition=lambda r: "data" if r.meta.get("curation") == KEPT
                   else "excluded", parts=PARTS, flush_every=cfg.curate.batch_size, on_records=on_records)  # fmt: skip
    finally:
        step.close()
    stats = compute_stats(dataset, [f.name for f in filters])
    atomic_write_text(dataset.root / "stats.json", json.dumps(stats, indent=2, sort_keys=True) + "\n")
    dataset.manifest.update(synthloop=__version__, counts={"kept": stats["kept"], "excluded": stats["excluded"]},
                            source_manifest=source.manifest, config=cfg.model_dump(mode="json"))  # fmt: skip
    dataset.save_manifest()
    return CurateResult(out=dataset.root, stats=stats)
