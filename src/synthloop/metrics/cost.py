"""What a dataset cost: tokens and USD of every generated story (kept and excluded, retries included) and per
kept story, from the per-record costs generation wrote (`meta.cost_usd`) and the generation run's manifest."""

from __future__ import annotations

from typing import Any

from synthloop.records import Record


def cost_metrics(kept: list[Record], every: list[Record], generation: dict[str, Any] | None) -> dict[str, Any] | None:
    """None when the run had no price table (no record carries a cost)."""
    priced = [r for r in every if "cost_usd" in r.meta]
    if not priced and not generation:
        return None
    usd = sum(float(r.meta["cost_usd"]) for r in priced)
    result: dict[str, Any] = {
        "usd": usd,
        "tokens_in": sum(int(r.meta.get("tokens_in_total", r.tokens_in)) for r in priced),
        "tokens_out": sum(int(r.meta.get("tokens_out_total", r.tokens_out)) for r in priced),
        "stories": len(priced),
        "usd_per_kept_story": usd / len(kept) if kept else None,
    }
    if generation:  # the whole generation run, failed prompts included
        result["generation_usd"] = generation.get("usd")
        result["batch_discount"] = generation.get("batch_discount")
        result["prices"] = generation.get("prices")
    return result
