"""The backend interface: a batch of prompts in, a batch of completions out.

Every completion carries token counts and timings, and a failure is a Completion with finish_reason "error" and
the error text, never a missing row or a None: a batch of N prompts always returns N completions, in order.
Options are pydantic models with extra="forbid", so a misspelt option is an error, not a silent default.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


@dataclass(slots=True)
class Prompt:
    id: str
    messages: list[dict[str, str]]  # chat messages: [{"role": "system"|"user", "content": ...}]
    seed: int


@dataclass(slots=True)
class Completion:
    text: str
    finish_reason: str  # "stop" | "length" | "error"
    tokens_in: int
    tokens_out: int
    latency_s: float  # wall seconds for this completion (for a batch: the batch's time shared out)
    model: str
    error: str | None = None

    @classmethod
    def failed(cls, reason: str, model: str, latency_s: float = 0.0) -> Completion:
        """The completion of a prompt that failed: no text, finish_reason "error", and the reason why."""
        return cls("", "error", 0, 0, latency_s, model, error=reason)


class SamplingOptions(BaseModel):
    """Sampling parameters every backend understands. Defaults suit SmolLM2-135M writing short stories:
    without a repetition penalty (>= 1.1) most of its stories loop."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.7, ge=0.0, le=2.0)
    top_p: float = Field(0.9, gt=0.0, le=1.0)
    top_k: int = Field(40, ge=0)
    repeat_penalty: float = Field(1.12, ge=1.0, le=2.0)
    max_tokens: int = Field(320, ge=1, le=8192)  # tokens per story; a 3-5 paragraph story is ~200-300 tokens

    def sampling(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SamplingOptions.model_fields}


class Backend(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[SamplingOptions]] = SamplingOptions

    def __init__(self, options: SamplingOptions) -> None:
        self.options = options

    @property
    @abstractmethod
    def model_name(self) -> str:
        """The model's name as recorded in provenance."""

    def check(self) -> None:  # noqa: B027 (optional hook)
        """Raise UserError if the backend cannot work (missing model file, unreachable server)."""

    @abstractmethod
    def generate(self, prompts: list[Prompt], options: SamplingOptions | None = None) -> list[Completion]:
        """One completion per prompt, in order. `options` overrides the constructor's for this call."""

    def attach(self, folder: Path) -> None:  # noqa: B027 (optional hook)
        """The run's output folder: a backend that must keep state across restarts (a submitted batch's id) keeps
        it under this folder, so a rerun of the same command finds it."""

    def complete(self) -> None:  # noqa: B027 (optional hook)
        """Every shard of the run is finished: drop state that only a resume would need."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release resources (model memory, HTTP connections)."""
