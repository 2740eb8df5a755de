"""The curation step: Records in, the same Records out with scores, reasons and a verdict (the step contract).

Filters run batch-wise first, and every filter sees every record, so a reject carries all its reasons (except a
filter with `sees_rejected = False`, such as the LLM judge, which sees only what the filters before it kept). Dedup
stages (stateful filters) then run record by record on the stories that passed, in input order: each compares a
story with the stories kept before it, and a story that passes every stage is remembered by all of them. So the
first story of a cluster is its representative, and a rerun decides exactly as the first run did.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from synthloop.batching import batched
from synthloop.curate.base import Filter, Verdict
from synthloop.curate.text import TextView
from synthloop.execute.step import Step
from synthloop.records import NULL_TEXT, Record

KEPT, EXCLUDED = "kept", "excluded"
PREFILTERED = "prefilter_reasons"


def reasons_of(filter_: Filter, verdict: Verdict) -> list[str]:
    if verdict is True:
        return []
    if verdict is False:
        return [f"{filter_.name}.rejected"]
    assert isinstance(verdict, tuple)
    keep, why = verdict
    if keep:
        return []
    codes = why if isinstance(why, list) else [why]
    return [f"{filter_.name}.{code}" for code in codes] or [f"{filter_.name}.rejected"]


class CurateStep(Step):
    def __init__(self, filters: list[Filter], batch_size: int = 256, mark_reasons: bool = False) -> None:
        self.filters = [f for f in filters if not f.stateful]
        self.dedup = [f for f in filters if f.stateful]
        self.batch_size = batch_size
        # The first stage of a split run (Ray): keep each record's reasons in meta for the dedup stage after.
        self.mark_reasons = mark_reasons

    async def stream(self, records: Iterator[Record]) -> AsyncIterator[list[Record]]:
        # Filters are CPU work (a judge's calls to its backend run their own engine, in a thread of their own).
        for batch in batched(records, self.batch_size):
            yield self.curate_batch(batch)

    def curate_batch(self, records: list[Record]) -> list[Record]:
        views = [TextView(r.text) for r in records]
        # Reasons found earlier by the same filters elsewhere (the Ray executor's parallel filter stage).
        reasons: list[list[str]] = [list(r.meta.pop(PREFILTERED, [])) for r in records]
        # A record without text (a null in a foreign file) is excluded for that reason alone; no filter judges it.
        judged = [i for i, r in enumerate(records) if NULL_TEXT not in r.flags]
        for i in set(range(len(records))) - set(judged):
            reasons[i] = [NULL_TEXT]
        for filter_ in self.filters:
            chosen = judged if filter_.sees_rejected else [i for i in judged if not reasons[i]]
            verdicts = filter_.filter_batch([records[i] for i in chosen], [views[i] for i in chosen]) if chosen else []
            for i, verdict in zip(chosen, verdicts, strict=True):
                reasons[i] += reasons_of(filter_, verdict)
        passed = [i for i in range(len(records)) if not reasons[i]]
        for stage in self.dedup:
            stage.prepare([records[i] for i in passed], [views[i] for i in passed])
        for i in passed:
            for stage in self.dedup:
                reasons[i] += reasons_of(stage, stage.filter(records[i], views[i]))
                if reasons[i]:
                    break
            else:
                for stage in self.dedup:
                    stage.remember(records[i], views[i])
        for record, why in zip(records, reasons, strict=True):
            record.flags = [f for f in record.flags if f not in why] + why
            record.meta["curation"] = EXCLUDED if why else KEPT
            if self.mark_reasons:
                record.meta[PREFILTERED] = why
        return records

    def remember(self, records: list[Record]) -> None:
        """Feed records kept by an earlier (interrupted) run into the dedup indexes, in their original order."""
        kept = [r for r in records if r.meta.get("curation") == KEPT]
        views = [TextView(r.text) for r in kept]
        for stage in self.dedup:
            stage.prepare(kept, views)
            for record, view in zip(kept, views, strict=True):
                stage.remember(record, view)

    def close(self) -> None:
        for filter_ in self.filters + self.dedup:
            filter_.close()
