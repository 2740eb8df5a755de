"""The collapse lab's settings (pydantic, extra="forbid"), its regimes and its presets.

`cpu` runs 6 generations x 3 regimes on 2 CPU cores: a 96-wide, 3-layer GPT with a 128-token context, trained for
a fixed number of steps per generation (the same compute for every regime, so "accumulate" sees each example fewer
times as its data grows). `cpu-verify` asks whether verification prevents collapse (Feng et al., 2024) with the same
model and data: replace, accumulate, replace+curate and accumulate-scaled, over 3 generations (gen 0-2, to fit a CPU
budget; accumulate-scaled's later generations train 2x and 3x). `miniature` checks the mechanics in seconds. What
the presets cost and found: docs/experiments/verification-vs-collapse.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from synthloop.arguments import SEED_MAX
from synthloop.errors import UserError
from synthloop.train.config import MIN_VOCAB, preset_shape

REGIME_NAMES = ("replace", "accumulate", "accumulate-scaled", "mix")
VERIFIERS = ("curate", "form")  # +curate: form filters and the quality model; +form: the form filters alone


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

    # Verification ("+curate", "+form" regimes). The filters come from a synthloop config's [curate] and [vocab]
    # sections (None: the built-in defaults, the same thresholds configs/tinystories.toml sets), with these options
    # on top. Which filters and why: benchmarks/collapse_verifiers.py measures each filter on real documents and
    # samples; docs/experiments/verification-vs-collapse.md has the figures.
    curate_config: Path | None = None
    # Of the main config's per-story filters only form keeps nearly every real document; readability and safety drop
    # much of the real Gutenberg text, and vocab with the quality model keeps so few samples that oversampling would
    # outgrow a CPU budget.
    # The lab's samples stop at sample_tokens by design, so form's truncation check is off; its real documents are
    # cut at >= document_words // 3 words, so that is form's minimum unless min_words is given here.
    verifier_filters: list[str] = ["form"]
    verifier_options: dict[str, dict[str, Any]] = {"form": {"reject_truncated": False}}
    # "+curate": the quality model drops what scores below the share `quality_keeps_real` of the real training
    # documents reach (its own threshold is set on TinyStories stories and keeps few of the real documents).
    quality_keeps_real: float = Field(0.9, gt=0, lt=1)
    oversample_cap: float = Field(5.0, ge=1, le=1000)  # at most this many x `documents` samples drawn per generation

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

    @model_validator(mode="after")
    def options_for_named_filters(self) -> LabConfig:
        unknown = sorted(set(self.verifier_options) - set(self.verifier_filters) - {"quality"})
        if unknown:
            raise ValueError(f"verifier_options for {unknown}, which are not in verifier_filters")
        return self


@dataclass(frozen=True)
class Regime:
    """What the next generation trains on (`name`, with mix's real `fraction`) and how the samples are checked
    first (`verifier`: None, "curate" or "form")."""

    name: str
    fraction: float = 0.0
    verifier: str | None = None


def parse_regime(regime: str) -> Regime:
    """'replace' | 'accumulate' | 'accumulate-scaled' | 'mix:<fraction of real data added, 0-1>', each optionally
    followed by '+curate' or '+form' (e.g. 'replace+curate')."""
    base, plus, verifier = regime.partition("+")
    name, _, value = base.partition(":")
    if name not in REGIME_NAMES or (name == "mix") != bool(value):
        raise UserError(
            f"regime {regime!r}: expected replace, accumulate, accumulate-scaled or mix:<fraction>, "
            "optionally +curate or +form, e.g. mix:0.1 or replace+curate"
        )
    if plus and verifier not in VERIFIERS:
        raise UserError(f"regime {regime!r}: unknown verifier {verifier!r}; expected +curate or +form")
    if name != "mix":
        return Regime(name, 0.0, verifier or None)
    try:
        fraction = float(value)
    except ValueError as error:
        raise UserError(f"regime {regime!r}: {value!r} is not a number") from error
    if not 0 < fraction <= 1:
        raise UserError(f"regime {regime!r}: the real fraction must be in (0, 1]")
    return Regime(name, fraction, verifier or None)


PRESETS: dict[str, dict[str, object]] = {
    "cpu": {},
    "cpu-verify": {
        "generations": 3,
        "regimes": ["replace", "accumulate", "replace+curate", "accumulate-scaled"],
    },
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
