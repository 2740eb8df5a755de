"""`synthloop curate`: run the filters and dedup stages over a generated dataset into a curated one.

The output keeps the input's shards: data/ holds the kept stories (with their scores), excluded/ every rejected
story with its reasons and scores, and stats.json the counts. Like generate, it is resumable (kill -9, rerun: the
same output) and refuses an output folder that holds another curation's data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthloop import __version__, plugins
from synthloop.config import Config, validate_options
from synthloop.curate.base import Filter, FilterContext
from synthloop.curate.stats import compute_stats
from synthloop.curate.step import KEPT, PREFILTERED, CurateStep
from synthloop.errors import UserError
from synthloop.execute.local import Shard, run_shards
from synthloop.records import NULL_TEXT, Record
from synthloop.report.card import write_dataset_card
from synthloop.store.atomic import atomic_write_json
from synthloop.store.dataset import Dataset, read_shard, shard_name
from synthloop.vocab import load_vocabulary

PARTS = ("data", "excluded")
PREFILTER_PART = "work/prefiltered"  # the Ray executor's filter-stage output, one file per input shard


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


def filter_runner(cfg: Config, source_root: str, out_root: str) -> Callable[[Shard], None]:
    """On a Ray actor: the per-story filters over one shard, verdicts kept in a prefiltered shard file."""
    source, out = Dataset.open(Path(source_root)), Dataset.open(Path(out_root))
    vocabulary = load_vocabulary(cfg.vocab.path or input_vocabulary_path(source))
    context = FilterContext(vocabulary, first_texts(source, 2000), source, out.root)
    step = CurateStep(per_story_filters(cfg, context), cfg.curate.batch_size)

    def run(shard: Shard) -> None:
        records = step.curate_batch(shard.inputs)
        for record in records:
            record.meta[PREFILTERED] = [f for f in record.flags if f.split(".")[0] in cfg.curate.order]
        out.write_shard(shard.index, records, PREFILTER_PART)

    return run


def prefilter_with_ray(cfg: Config, source: Dataset, out: Dataset) -> list[Shard]:
    """Stage 1 of curation on Ray: shards without a prefiltered file (or a completion marker) get one."""
    from functools import partial

    from synthloop.execute.local import marker_path
    from synthloop.execute.ray import map_shards_ray

    shards = list(input_shards(source))
    folder = out.part_dir(PREFILTER_PART)
    todo = [s for s in shards if not (folder / shard_name(s.index)).exists() and not marker_path(out, s.index).exists()]
    map_shards_ray(
        todo,
        partial(filter_runner, cfg, str(source.root), str(out.root)),
        cfg.execute.workers,
        cfg.execute.address,
        on_done=lambda index: None,
    )
    prefiltered = []
    for shard in shards:
        path = folder / shard_name(shard.index)
        prefiltered.append(Shard(shard.index, list(read_shard(path)) if path.exists() else shard.inputs))
    return prefiltered


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
    on_ray = cfg.execute.executor == "ray"  # filters in parallel on Ray, then dedup here, in order
    step = CurateStep([f for f in filters if f.stateful] if on_ray else filters, cfg.curate.batch_size)

    def on_records(records: list[Record], resumed: bool) -> None:
        if resumed:
            step.remember(records)

    shards: Iterable[Shard] = prefilter_with_ray(cfg, source, dataset) if on_ray else input_shards(source)
    try:
        run_shards(
            dataset,
            shards,
            step,
            partition=kept_or_excluded,
            parts=PARTS,
            flush_every=cfg.curate.batch_size,
            on_records=on_records,
        )
    finally:
        step.close()
    if on_ray:
        import shutil

        shutil.rmtree(dataset.part_dir(PREFILTER_PART), ignore_errors=True)  # every shard is complete now
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
