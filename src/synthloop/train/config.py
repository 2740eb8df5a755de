"""Training configuration (pydantic, extra="forbid"), the model presets, and the result `train` returns.

Every number has both bounds: `synthloop train` takes its option ranges from these fields (synthloop/arguments.py),
so a value the command line accepts is one the loop can run, and `train(cfg)` from Python refuses the same values
before it writes anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from synthloop.arguments import SEED_MAX

PRESETS: dict[str, dict[str, int]] = {
    # After the TinyStories paper's table (hidden size, layers); heads of width 32; context 512.
    "tiny-1m": {"n_embd": 64, "n_layer": 8, "n_head": 2, "block_size": 512},
    "tiny-3m": {"n_embd": 128, "n_layer": 8, "n_head": 4, "block_size": 512},
    "tiny-8m": {"n_embd": 256, "n_layer": 8, "n_head": 8, "block_size": 512},
    "tiny-28m": {"n_embd": 512, "n_layer": 8, "n_head": 16, "block_size": 512},
    "tiny-33m": {"n_embd": 768, "n_layer": 4, "n_head": 24, "block_size": 512},
    # Seconds on a laptop CPU: for tests and the collapse lab's miniature.
    "cpu-test": {"n_embd": 48, "n_layer": 2, "n_head": 2, "block_size": 64},
    # The collapse lab's CPU preset: 16 short trainings on 2 cores, one per generation and regime (their cost:
    # docs/experiments/verification-vs-collapse.md).
    "collapse-cpu": {"n_embd": 96, "n_layer": 3, "n_head": 3, "block_size": 128},
}
PRESET_ALIASES = {"1m": "tiny-1m", "3m": "tiny-3m", "8m": "tiny-8m", "28m": "tiny-28m", "33m": "tiny-33m"}
PRESET_NAMES = (*PRESETS, *PRESET_ALIASES)
DEVICES = ("auto", "cpu", "cuda")
DEVICE_PATTERN = r"cuda:[0-9]{1,2}"  # one GPU of several
MIN_VOCAB = 260  # the 256 byte tokens, <|endoftext|> and a few merges: the smallest tokenizer worth training


def preset_shape(preset: str) -> dict[str, int]:
    """The model shape of a preset (or its alias); ValueError naming the known ones for any other name."""
    name = PRESET_ALIASES.get(preset, preset)
    if name not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; known presets are {', '.join(PRESET_NAMES)}")
    return dict(PRESETS[name])


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[str]  # "path[:weight]", see train/data.py
    out: Path
    preset: str = "cpu-test"
    tokenizer: Path | None = None  # None: train one on the training text and save it in the run folder
    vocab_size: int = Field(4096, ge=MIN_VOCAB, le=65535)
    max_steps: int = Field(200, ge=1, le=100_000_000)
    batch_size: int = Field(16, ge=1, le=65_536)  # sequences per micro-batch
    gradient_accumulation: int = Field(1, ge=1, le=65_536)
    block_size: int | None = Field(None, ge=8, le=65_536)  # None: the preset's context length
    learning_rate: float = Field(1e-3, gt=0, le=10)
    min_learning_rate: float = Field(1e-4, ge=0, le=10)
    warmup_steps: int = Field(20, ge=0, le=100_000_000)
    schedule: str = Field("cosine", pattern="^(cosine|constant)$")
    weight_decay: float = Field(0.1, ge=0, le=10)
    dropout: float = Field(0.0, ge=0, lt=1)
    validation_fraction: float = Field(0.05, gt=0, lt=0.5)
    eval_every: int = Field(50, ge=1, le=100_000_000)
    eval_batches: int = Field(8, ge=1, le=100_000)
    checkpoint_every: int = Field(50, ge=1, le=100_000_000)
    seed: int = Field(0, ge=0, le=SEED_MAX)
    device: str = Field("auto", pattern=f"^(auto|cpu|cuda|{DEVICE_PATTERN})$")  # auto: cuda when available
    threads: int | None = Field(None, ge=1, le=4096)  # CPU threads for torch; None: torch's default
    progress: bool = True

    @field_validator("preset")
    @classmethod
    def known_preset(cls, preset: str) -> str:
        preset_shape(preset)
        return preset


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
