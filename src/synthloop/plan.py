"""`synthloop plan`: estimate tokens, time and cost of a run from a short calibration run.

The calibration generates `calibrate` stories with the configured recipe and backend into a temporary folder
(the same code path as `generate`, retries included), measures tokens in/out per kept story, attempts per story,
wall time and the share that passes the per-story curation filters, and scales them to `-n` stories. Cost comes
from a price table the user supplies (TOML, USD per million tokens):

    [prices."gpt-4o-mini"]
    input_per_million = 0.15
    output_per_million = 0.60
    batch_discount = 0.5    # applied when the backend is openai-batch

It is the table `generate --prices` uses (synthloop/cost.py). A local backend costs nothing but time. The
estimate assumes throughput scales linearly with -n on the same
machine (no warm-up beyond the calibration's, same concurrency).
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

from synthloop.config import Config
from synthloop.cost import cost_usd, load_prices, price_for
from synthloop.errors import UserError


def plan(cfg: Config, n: int, calibrate: int, prices_path: Path | None) -> dict[str, Any]:
    from synthloop.curate.runner import per_story_step
    from synthloop.curate.step import KEPT
    from synthloop.generate.runner import generate
    from synthloop.store.dataset import Dataset
    from synthloop.vocab import load_vocabulary

    if n <= 0 or calibrate <= 0:
        raise UserError("-n and --calibrate must be > 0")
    prices = load_prices(prices_path) if prices_path is not None else None  # checked before any work
    with tempfile.TemporaryDirectory(prefix="synthloop-plan-") as folder:
        run = cfg.model_copy(deep=True)
        run.run.n, run.run.out, run.generate.progress = calibrate, Path(folder) / "calibration", False
        run.guard.reference = None
        run.cost.max_usd = None
        started = time.perf_counter()
        result = generate(run)
        seconds = time.perf_counter() - started
        records = list(Dataset.open(result.out).iter_records())
        step = per_story_step(cfg, load_vocabulary(cfg.vocab.path), [r.text for r in records[:200]])
        kept = [r for r in step.curate_batch(records) if r.meta.get("curation") == KEPT]
    kept_rate = len(kept) / max(1, len(records))
    tokens_in = sum(int(r.meta.get("tokens_in_total", r.tokens_in)) for r in records)
    tokens_out = sum(int(r.meta.get("tokens_out_total", r.tokens_out)) for r in records)
    scale = n / calibrate
    estimate: dict[str, Any] = {
        "calibration": {
            "stories": calibrate,
            "failed": result.failed,
            "seconds": seconds,
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "tokens_per_s": tokens_out / seconds,
            "attempts_per_story": sum(r.attempts for r in records) / max(1, len(records)),
            "kept_rate": kept_rate,
        },
        "n": n,
        "tokens_in": round(tokens_in * scale),
        "tokens_out": round(tokens_out * scale),
        "seconds": seconds * scale,
        "kept_stories": round(kept_rate * n),
        "model": cfg.backend.name if not records else records[0].model,
    }
    if kept_rate:
        estimate["generate_for_n_kept"] = math.ceil(n / kept_rate)  # prompts to generate for n kept stories
    if prices is not None and prices_path is not None:
        from synthloop.generate.runner import build_backend

        backend = build_backend(cfg)
        model = backend.model_name if backend.model_name in prices else estimate["model"]
        estimate["batch"] = backend.uses_batch_api
        price = price_for(prices, model, prices_path)
        estimate["cost_usd"] = cost_usd(price, estimate["tokens_in"], estimate["tokens_out"], estimate["batch"])
    return estimate
