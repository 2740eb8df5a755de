"""Verification in the collapse lab: a generation's samples pass through curation filters before the next model
trains on them (Feng et al., 2024, "Beyond model collapse: scaling up with synthesized data requires verification").

Two verifiers, built from the public curation API (`per_story_filters`, `CurateStep`):
  form     the per-story filters named in `verifier_filters` with `verifier_options` on top of the curation
           config's settings (which filters and why: docs/experiments/verification-vs-collapse.md)
  curate   the same plus the shipped quality model in "filter" mode (the main config only scores), its threshold
           set where it keeps the share `quality_keeps_real` of the lab's real training documents
So every generation trains on as many *kept* documents as the plain regimes, the samples are drawn in rounds until
`documents` are kept (at most `oversample_cap` x documents drawn; what is missing is recorded as a shortfall).
Round 0 is the generation's own `samples.jsonl`; each later round draws with its own seed and is written as one
file (`round-NNN.json`, atomically, with every sample's verdict and reasons: rejects are kept, not dropped), so a
killed lab resumes at the first missing round and never draws a round twice. `verification.json`, written last,
marks the step done: drawn, kept, kept fraction, reasons, shortfall and what the extra sampling cost.
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from synthloop.collapse.config import LabConfig
from synthloop.curate.base import FilterContext
from synthloop.curate.step import KEPT, CurateStep
from synthloop.errors import UserError
from synthloop.records import Record, stable_id
from synthloop.store.atomic import atomic_write_json
from synthloop.store.jsonl import write_jsonl

SUMMARY = "verification.json"
KEPT_FILE = "kept.jsonl"  # what the next generation trains on
MIN_ROUND = 64  # samples: a round smaller than this costs more in overhead than it saves


class Verifier:
    """One verifier's filters, built (and so validated) before the lab writes anything."""

    def __init__(self, name: str, cfg: LabConfig, real: list[str]) -> None:
        from synthloop.config import load_config
        from synthloop.curate.runner import per_story_filters
        from synthloop.vocab import load_vocabulary

        self.name = name
        main = load_config(cfg.curate_config)
        order = [n for n in cfg.verifier_filters if n != "quality"] + (["quality"] if name == "curate" else [])
        filters = {n: main.curate.filters.get(n, {}) | cfg.verifier_options.get(n, {}) for n in order}
        if "form" in filters:  # the shortest real document the lab cuts (lab.documents)
            filters["form"] = {"min_words": cfg.document_words // 3} | filters["form"]
        self.threshold: float | None = None
        if name == "curate":
            self.threshold = real_quantile_threshold(real, cfg.quality_keeps_real, filters["quality"])
            filters["quality"] = filters["quality"] | {"mode": "filter", "threshold": self.threshold}
        curate = main.curate.model_copy(update={"order": order, "filters": filters})
        context = FilterContext(vocabulary=load_vocabulary(main.vocab.path), sample_texts=real)
        built = per_story_filters(main.model_copy(update={"curate": curate}), context)
        skipped = [n for n in order if n not in {f.name for f in built}]
        if skipped:  # dedup stages judge a whole run, not one sample
            raise UserError(f"verifier_filters: {', '.join(skipped)} cannot judge one sample at a time")
        self.step = CurateStep(built)
        self.settings = {"filters": filters, "threshold": self.threshold}

    def judge(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row with `kept` and `reasons` (the filters' reason codes, e.g. form.repetition)."""
        records = [Record(id=row["id"], text=row["text"], generation=row.get("generation", 0)) for row in rows]
        judged = self.step.curate_batch(records)
        return [
            row | {"kept": record.meta["curation"] == KEPT, "reasons": record.flags, "scores": record.scores}
            for row, record in zip(rows, judged, strict=True)
        ]


def real_quantile_threshold(real: list[str], keeps_real: float, options: dict[str, Any]) -> float:
    """The quality score that the share `keeps_real` of the real documents reach (a lower quantile)."""
    import numpy as np

    from synthloop.quality.model import load_model

    scores = load_model(options.get("model")).score(real)
    return round(float(np.quantile(scores, 1 - keeps_real)), 6)


def next_round_size(target: int, kept: int, drawn: int, cap: int) -> int:
    """Enough samples to reach the target at the kept fraction seen so far (plus 10 %), within the cap."""
    fraction = kept / drawn if drawn and kept else 1 / max(1, cap // max(1, target))
    wanted = math.ceil((target - kept) / fraction * 1.1)
    return max(0, min(cap - drawn, max(MIN_ROUND, wanted)))


def verify(
    folder: Path,
    verifier: Verifier,
    first: list[dict[str, Any]],
    draw: Callable[[int, int], list[str]],
    target: int,
    cap: int,
    lineage: dict[str, Any],
    seed: int,
) -> dict[str, Any]:
    """Verify `first` (round 0), then draw rounds with `draw(count, round seed)` until `target` samples are kept or
    `cap` are drawn; `lineage` (generation, regime) goes on every drawn row. Round seeds derive from `seed`, the
    folder and the round, so a redrawn round asks for the same samples. target 0: verify round 0 only (the last
    generation: nothing trains on its samples)."""
    done = folder / SUMMARY
    if done.exists():
        return dict(json.loads(done.read_text(encoding="utf-8")))
    folder.mkdir(parents=True, exist_ok=True)
    rounds: list[dict[str, Any]] = []
    while True:
        path = folder / f"round-{len(rounds):03d}.json"
        if path.exists():
            rounds.append(dict(json.loads(path.read_text(encoding="utf-8"))))
            continue
        kept, drawn = sum(r["kept"] for r in rounds), sum(r["drawn"] for r in rounds)
        if rounds and (kept >= target or drawn >= cap):
            break
        label = f"{seed}/{folder.parent.name}/{folder.name}"
        if rounds:
            count = next_round_size(target, kept, drawn, cap)
            started = time.perf_counter()
            texts = draw(count, int(stable_id(label, len(rounds), length=8), 16))
            rows = [
                {"id": stable_id(label, len(rounds), i, t), "text": t, **lineage, "round": len(rounds)}
                for i, t in enumerate(texts)
            ]
            seconds = time.perf_counter() - started
        else:
            rows, seconds = first, 0.0  # the generation's own samples: already paid for
        rounds.append(judge_round(path, len(rounds), verifier, rows, seconds))
    kept_rows = [row for r in rounds for row in r["rows"] if row["kept"]]
    write_rows(folder / KEPT_FILE, kept_rows[:target] if target else kept_rows)
    summary = summarise(rounds, target, verifier)
    atomic_write_json(done, summary, indent=1, sort_keys=False)
    return summary


def judge_round(
    path: Path, index: int, verifier: Verifier, rows: list[dict[str, Any]], sample_seconds: float
) -> dict[str, Any]:
    started = time.perf_counter()
    judged = verifier.judge(rows)
    result = {
        "round": index,
        "drawn": len(judged),
        "kept": sum(r["kept"] for r in judged),
        "sample_seconds": round(sample_seconds, 3),
        "verify_seconds": round(time.perf_counter() - started, 3),
        "rows": judged,
    }
    atomic_write_json(path, result, indent=None, sort_keys=False)
    return result


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    keep = ("id", "text", "generation", "regime", "round")
    write_jsonl(path, ({k: r[k] for k in keep if k in r} for r in rows))


def summarise(rounds: list[dict[str, Any]], target: int, verifier: Verifier) -> dict[str, Any]:
    drawn = sum(r["drawn"] for r in rounds)
    kept = sum(r["kept"] for r in rounds)
    reasons: Counter[str] = Counter(reason for r in rounds for row in r["rows"] for reason in row["reasons"])
    first = rounds[0]
    return {
        "verifier": verifier.name,
        "settings": verifier.settings,
        "target": target,
        "drawn": drawn,
        "kept": kept,
        "used": min(kept, target) if target else kept,
        "kept_fraction": kept / drawn if drawn else 0.0,
        "first_round_kept_fraction": first["kept"] / first["drawn"] if first["drawn"] else 0.0,
        "shortfall": max(0, target - kept),
        "rejected_samples": drawn - kept,
        "reasons": dict(reasons.most_common()),
        "rounds": [{k: r[k] for k in ("round", "drawn", "kept", "sample_seconds", "verify_seconds")} for r in rounds],
        "extra_samples": drawn - first["drawn"],
        "extra_seconds": round(sum(r["sample_seconds"] + r["verify_seconds"] for r in rounds), 3),
    }
