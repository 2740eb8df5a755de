"""`synthloop curate`: run the filters and dedup stages over a generated dataset into a curated one.

The output keeps the input's shards: data/ holds the kept stories (with their scores), excluded/ every rejected
story with its reasons and scores, and stats.json the counts. Like generate, it is resumable (kill -9, rerun: the
same output) and refuses an output folder that holds another curation's data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from synthloop import __version__, plugins
from synthloop.config import Config, validate_options
from synthloop.curate.base import Filter, FilterContext
from synthloop.curate.stats import compute_stats
from synthloop.curate.step import KEPT, CurateStep
from synthloop.errors import UserError
from synthloop.execute.job import Job, Shard, executor_for
from synthloop.records import NULL_TEXT, Record
from synthloop.report.card import write_dataset_card
from synthloop.store.atomic import atomic_write_json
from synthloop.store.dataset import Dataset, read_shard
from synthloop.vocab import load_vocabulary

PARTS = ("data", "excluded")


@dataclass
class CurateResult:
    out: Path
    stats: dict[str, Any] = field(default_factory=dict)


def input_vocabulary_path(source: Dataset) -> str | None:
    return source.provenance.vocab_path


def filter_options(cfg: Config) -> list[tuple[type[Filter], Any]]:
    """Each filter of curate.order with its validated options: what `synthloop run` checks before generating."""
    unknown_options = set(cfg.curate.filters) - set(cfg.curate.order)
    if unknown_options:
        raise UserError(f"curate.filters: options for {sorted(unknown_options)}, which are not in curate.order")
    checked: list[tuple[type[Filter], Any]] = []
    for name in cfg.curate.order:
        cls = plugins.lookup("filter", name)
        checked.append((cls, validate_options(cls.Options, cfg.curate.filters.get(name, {}), f"curate.filters.{name}")))
    check_order([cls for cls, _ in checked])
    return checked


def check_order(stages: list[type[Filter]]) -> None:
    """Dedup stages run after every filter (on what the filters kept), so curate.order must say so."""
    dedup = next((cls for cls in stages if cls.stateful), None)
    later = next((cls for cls in stages[stages.index(dedup) :] if not cls.stateful), None) if dedup else None
    if dedup is not None and later is not None:
        raise UserError(
            f"curate.order: dedup stage {dedup.name!r} comes before filter {later.name!r}, but dedup "
            "always runs after the filters; move it after them"
        )


def build_filters(cfg: Config, context: FilterContext) -> list[Filter]:
    return [cls(options, context) for cls, options in filter_options(cfg)]


def per_story_filters(cfg: Config, context: FilterContext, leave_out: tuple[str, ...] = ()) -> list[Filter]:
    """The filters of curate.order that judge one story at a time (not the stateful dedup stages, which need the
    whole run), minus `leave_out`, with their configured options."""
    order = [n for n in cfg.curate.order if n not in leave_out and not plugins.lookup("filter", n).stateful]
    options = {name: value for name, value in cfg.curate.filters.items() if name in order}
    return build_filters(
        cfg.model_copy(update={"curate": cfg.curate.model_copy(update={"order": order, "filters": options})}), context
    )


def per_story_step(cfg: Config, vocabulary: Any, sample_texts: list[str]) -> CurateStep:
    """What a story can be judged by on its own, before the run is complete (per-story filters, without
    decontamination): the coverage sampler's feedback and `synthloop plan` use it."""
    context = FilterContext(vocabulary=vocabulary, sample_texts=sample_texts)
    return CurateStep(per_story_filters(cfg, context, leave_out=("decontam",)))


def open_output(out: Path, source: Dataset, settings: dict[str, Any]) -> Dataset:
    if out.resolve() == source.root.resolve():
        raise UserError(f"--out {out}: must differ from --in (curation never overwrites its input)")
    return Dataset.claim(out, "curate", settings)


def input_shards(source: Dataset) -> Iterator[Shard]:
    for path in source.shard_paths("data"):
        index = int(path.stem.split("-")[1])
        yield Shard(index, list(read_shard(path)))


def first_texts(source: Dataset, count: int) -> list[str]:
    texts = []
    for record in source.iter_records():
        if NULL_TEXT in record.flags:
            continue
        texts.append(record.text)
        if len(texts) >= count:
            break
    return texts


def kept_or_excluded(record: Record) -> str:
    return "data" if record.meta.get("curation") == KEPT else "excluded"


def first_stage(cfg: Config, source_root: str, out_root: str) -> CurateStep:
    """Where shards run in parallel (Ray): the per-story filters alone, each record's reasons kept in its meta for
    the dedup stage that runs after them in this process."""
    source, out = Dataset.open(Path(source_root)), Dataset.open(Path(out_root))
    vocabulary = load_vocabulary(cfg.vocab.path or input_vocabulary_path(source))
    context = FilterContext(vocabulary, first_texts(source, 2000), source, out.root)
    return CurateStep(per_story_filters(cfg, context), cfg.curate.batch_size, mark_reasons=True)


def curate(cfg: Config, source_path: Path, out: Path) -> CurateResult:
    source = Dataset.open(source_path)
    if not source.shard_paths("data"):
        raise UserError(f"{source_path}: dataset has no data shards to curate")
    source.check_ids()  # a null id would fail only when the output is written: find it before creating any
    vocab_path = cfg.vocab.path or input_vocabulary_path(source)
    vocabulary = load_vocabulary(vocab_path)
    # "out": the curated folder (not created yet: filters that keep files there, like the judge's cache, open
    # them on first use, after every setting has been validated).
    context = FilterContext(vocabulary, first_texts(source, 2000), source, Path(out))
    filters = build_filters(cfg, context)
    settings = {
        "input": str(source.root.resolve()),
        "input_fingerprint": source.provenance.fingerprint,
        "input_shards": [p.name for p in source.shard_paths("data")],
        "curate": cfg.curate.model_dump(mode="json"),
        "vocabulary": vocabulary.digest(),
    }
    digests = {f.name: d for f in filters if (d := f.content_digest()) is not None}
    if digests:  # the files behind a filter (a rubric, a model): another one is another curation
        settings["filter_files"] = digests
    dataset = open_output(Path(out), source, settings)
    step = CurateStep(filters, cfg.curate.batch_size)
    dedup = CurateStep([f for f in filters if f.stateful], cfg.curate.batch_size)

    def on_records(records: list[Record], resumed: bool) -> None:
        if resumed:  # the dedup stages (shared by both steps) learn what an earlier run kept
            step.remember(records)

    job = Job(
        dataset,
        input_shards(source),
        step,
        partition=kept_or_excluded,
        parts=PARTS,
        on_records=on_records,
        split=(partial(first_stage, cfg, str(source.root), str(dataset.root)), dedup),
        sync_every=cfg.curate.batch_size,
    )
    try:
        executor_for(cfg.execute).run(job)
    finally:
        step.close()
    stats = compute_stats(dataset, [f.name for f in filters])
    atomic_write_json(dataset.root / "stats.json", stats)
    dataset.manifest.update(
        synthloop=__version__,
        counts={"kept": stats["kept"], "excluded": stats["excluded"]},
        source_manifest=source.manifest,
        config=cfg.model_dump(mode="json"),
    )
    dataset.save_manifest()
    write_dataset_card(dataset, stats)  # README.md: the folder is a Hugging Face dataset (train, excluded)
    return CurateResult(out=dataset.root, stats=stats)
