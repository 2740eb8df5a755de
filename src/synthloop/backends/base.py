"""The backend interface: a batch of prompts in, a batch of completions out.

Every completion carries token counts and timings, and a failure is a Completion with finish_reason "error" and
the error text, never a missing row or a None: a batch of N prompts always returns N completions, in order.
Options are pydantic models with extra="forbid", so a misspelt option is an error, not a silent default. A backend
is a `Plugin` (synthloop/plugins.py): subclass `Backend[MyOptions]` and `self.options` is typed as MyOptions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from synthloop.plugins import Plugin


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

    temperature: float = Field(0.7, ge=0.0, le=2.0, description="sampling temperature; 0: greedy")
    top_p: float = Field(
        0.9, gt=0.0, le=1.0, description="nucleus sampling: the likeliest tokens up to this probability"
    )
    top_k: int = Field(40, ge=0, description="sample among the k likeliest tokens; 0: no limit")
    repeat_penalty: float = Field(1.12, ge=1.0, le=2.0, description="divides the logits of recent tokens; 1: off")
    max_tokens: int = Field(
        320, ge=1, le=8192, description="tokens per story; a 3-5 paragraph story is ~200-300 tokens"
    )

    def sampling(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SamplingOptions.model_fields}


SamplingOptionsT = TypeVar("SamplingOptionsT", bound=SamplingOptions)


class Backend(Plugin[SamplingOptionsT], ABC):
    kind = "backend"
    Options: ClassVar[type[BaseModel]] = SamplingOptions

    @property
    @abstractmethod
    def model_name(self) -> str:
        """The model's name as recorded in provenance."""

    def check(self) -> None:
        """Raise UserError if the backend cannot work (a missing module, model file, unreachable server); extend
        it with `super().check()` first, which checks `requires`."""
        self.require()

    @abstractmethod
    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        """One completion per prompt, in order; a prompt that failed gets `Completion.failed(reason, ...)`."""

    def attach(self, folder: Path) -> None:
        """The run's output folder: a backend that must keep state across restarts (a submitted batch's id) keeps
        it under this folder, so a rerun of the same command finds it."""

    def complete(self) -> None:
        """Every shard of the run is finished: drop state that only a resume would need."""

    def close(self) -> None:
        """Release resources (model memory, HTTP connections)."""
