"""The collapse lab's settings (pydantic, extra="forbid") and its two presets.

`cpu` runs 6 generations x 3 regimes on 2 CPU cores in under 30 minutes: a 96-wide, 3-layer GPT with a 128-token
context, trained for a fixed number of steps per generation (the same compute for every regime, so "accumulate"
sees each example fewer times as its data grows). `miniature` checks the mechanics in seconds.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from synthloop.arguments import SEED_MAX
from synthloop.errors import UserError
from synthloop.train.config import MIN_VOCAB, preset_shape

REGIME_NAMES = ("replace", "accumulate", "mix")


class LabConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    real: Path  # JSONL (or dataset) of real human text: generation 0 trains on it
    out: Path
    generations: int = Field(6, ge=1, le=50)  # generation 0 plus this many - 1 retrained on model output
    regimes: list[str] = ["replace", "accumulate", "mix:0.1"]
    documents: int = Field(2000, ge=10, le=10_000_000)  # real training documents; each generation samples as many
    document_words: int = Field(90, ge=10, le=100_000)  # real stories are cut into documents of about this many words
    held_out_fraction: float = Field(0.1, gt=0, lt=0.5)  # of the real stories, kept aside for perplexity
    preset: str = "collapse-cpu"
    vocab_size: int = Field(2048, ge=MIN_VOCAB, le=65535)
    steps: int = Field(250, ge=1, le=100_000_000)  # training steps per generation
    batch_size: int = Field(32, ge=1, le=65_536)
    learning_rate: float = Field(2e-3, gt=0, le=10)
    temperature: float = Field(1.0, gt=0, le=100)  # 1.0 with no top-k: plain ancestral sampling (Shumailov et al.)
    top_k: int | None = Field(None, ge=1, le=65535)
    sample_tokens: int = Field(127, ge=8, le=65_536)
    seed: int = Field(0, ge=0, le=SEED_MAX)
    threads: int | None = Field(None, ge=1, le=4096)

    @field_validator("preset")
    @classmethod
    def known_preset(cls, preset: str) -> str:
        preset_shape(preset)  # a training preset (synthloop/train/config.py)
        return preset

    @field_validator("regimes")
    @classmethod
    def known_regimes(cls, regimes: list[str]) -> list[str]:
        for regime in regimes:
            parse_regime(regime)
        if len(set(regimes)) != len(regimes):
            raise ValueError("each regime once")
        return regimes


def parse_regime(regime: str) -> tuple[str, float]:
    """'replace' | 'accumulate' | 'mix:<fraction of real data added, 0-1>'."""
    name, _, value = regime.partition(":")
    if name not in REGIME_NAMES or (name == "mix") != bool(value):
        raise UserError(f"regime {regime!r}: expected replace, accumulate or mix:<fraction>, e.g. mix:0.1")
    if name != "mix":
        return name, 0.0
    try:
        fraction = float(value)
    except ValueError as error:
        raise UserError(f"regime {regime!r}: {value!r} is not a number") from error
    if not 0 < fraction <= 1:
        raise UserError(f"regime {regime!r}: the real fraction must be in (0, 1]")
    return name, fraction


PRESETS: dict[str, dict[str, object]] = {
    "cpu": {},
    "miniature": {
        "generations": 2,
        "documents": 60,
        "document_words": 40,
        "preset": "cpu-test",
        "vocab_size": 400,
        "steps": 15,
        "batch_size": 8,
        "sample_tokens": 40,
    },
}
