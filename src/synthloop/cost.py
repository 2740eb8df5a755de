"""Cost accounting: a price table (USD per million input/output tokens per model, with a batch-API discount),
the cost of every record, and the budget that `--max-cost` enforces. `synthloop plan` uses the same table.

    [prices."gpt-4o-mini"]
    input_per_million = 0.15
    output_per_million = 0.60
    batch_discount = 0.5      # share taken off through a batch API (OpenAI: half price); default 0

The budget is checked before every backend call: the call's cost is estimated (the mean cost per request seen so
far in this run, or, before any, an upper bound: prompt characters / 3 tokens in and `max_tokens` out) and the run
stops cleanly if spent + estimate would pass the budget. Finished shards stay; the unfinished one keeps its
journal, so a rerun with a larger budget continues it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synthloop.errors import UserError


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_per_million: float = Field(ge=0)  # USD per million prompt tokens
    output_per_million: float = Field(ge=0)  # USD per million completion tokens
    batch_discount: float = Field(0.0, ge=0, lt=1)  # share off through a batch API


class BudgetReached(Exception):
    """Raised before a backend call that would take the run past `--max-cost`; the message says by how much."""


def load_prices(path: Path) -> dict[str, Price]:
    """The whole table, every entry validated: one line naming the file, the model and the field otherwise."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise UserError(f"prices {path}: not a readable TOML price table ({error})") from error
    table = data.get("prices")
    if not isinstance(table, dict) or not table:
        raise UserError(f'prices {path}: expected [prices."MODEL"] tables with input_per_million, output_per_million')
    prices: dict[str, Price] = {}
    for model, entry in table.items():
        try:
            prices[model] = Price.model_validate(entry)
        except ValidationError as error:
            first = error.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "entry"
            got = f", got {first['input']!r}" if first["type"] != "missing" else ""
            raise UserError(f"prices {path}: [prices.{model!r}] {field}: {first['msg']}{got}") from error
    return prices


def price_for(prices: dict[str, Price], model: str, path: Path) -> Price:
    if model not in prices:
        raise UserError(
            f"prices {path}: no [prices.{model!r}] entry (have: {', '.join(sorted(prices))}); add the run's model"
        )
    return prices[model]


def cost_usd(price: Price, tokens_in: int, tokens_out: int, batch: bool) -> float:
    full = (tokens_in * price.input_per_million + tokens_out * price.output_per_million) / 1e6
    return full * (1 - price.batch_discount) if batch else full


@dataclass
class CostMeter:
    """The run's price and budget. `spent` counts every backend call of this invocation plus the cost of records
    a resumed run found already done."""

    price: Price
    batch: bool  # the backend goes through a batch API: the discount applies
    max_tokens: int  # the upper bound on output tokens per request, for the first estimate
    max_usd: float | None = None
    spent: float = 0.0
    requests: int = 0  # backend requests made by this invocation
    requests_cost: float = 0.0  # ... and what they cost

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return cost_usd(self.price, tokens_in, tokens_out, self.batch)

    def estimate(self, prompt_chars: list[int]) -> float:
        if self.requests:
            return self.requests_cost / self.requests * len(prompt_chars)
        return sum(self.cost(chars // 3 + 1, self.max_tokens) for chars in prompt_chars)

    def check(self, prompt_chars: list[int], pending: float = 0.0) -> None:
        """Raise BudgetReached if these requests, on top of what is spent and `pending` (requests under way,
        at their estimate), would pass the budget."""
        if self.max_usd is None:
            return
        estimate = self.estimate(prompt_chars)
        if self.spent + pending + estimate > self.max_usd:
            raise BudgetReached(
                f"--max-cost {self.max_usd:g} USD reached: spent {self.spent + pending:.4f} USD, the next call "
                f"({len(prompt_chars)} requests) would cost about {estimate:.4f} USD; finished work is kept, "
                "rerun with a larger --max-cost to continue"
            )

    def observe(self, tokens_in: int, tokens_out: int) -> float:
        cost = self.cost(tokens_in, tokens_out)
        self.spent += cost
        self.requests += 1
        self.requests_cost += cost
        return cost
