"""Training configuration (pydantic, extra="forbid") and the result `train` returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[str]  # "path[:weight]", see train/data.py
    out: Path
    preset: str = "cpu-test"
    tokenizer: Path | None = None  # None: train one on the training text and save it in the run folder
    vocab_size: int = Field(4096, ge=260, le=65535)
    max_steps: int = Field(200, ge=1)
    batch_size: int = Field(16, ge=1)  # sequences per micro-batch
    gradient_accumulation: int = Field(1, ge=1)
    block_size: int | None = Field(None, ge=8)  # None: the preset's context length
    learning_rate: float = Field(1e-3, gt=0)
    min_learning_rate: float = Field(1e-4, ge=0)
    warmup_steps: int = Field(20, ge=0)
    schedule: str = Field("cosine", pattern="^(cosine|constant)$")
    weight_decay: float = Field(0.1, ge=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    validation_fraction: float = Field(0.05, gt=0, lt=0.5)
    eval_every: int = Field(50, ge=1)
    eval_batches: int = Field(8, ge=1)
    checkpoint_every: int = Field(50, ge=1)
    seed: int = 0
    device: str = "auto"  # auto: cuda when available, else cpu
    threads: int | None = Field(None, ge=1)  # CPU threads for torch; None: torch's default
    progress: bool = True


@dataclass
class RunResult:
    out: Path
    steps: int
    train_loss: float
    validation_loss: float
    tokens_per_s: float
    parameters: int
    device: str
    curve: list[dict[str, float]] = field(default_factory=list)
