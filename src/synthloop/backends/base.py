"""The backend interface: a batch of prompts in, a batch of completions out, and how the engine streams calls.

Every completion carries token counts and timings, and a failure is a Completion with finish_reason "error" and
the error text, never a missing row or a None: a batch of N prompts always returns N completions, in order.
Options are pydantic models with extra="forbid", so a misspelt option is an error, not a silent default. A backend
is a `Plugin` (synthloop/plugins.py): subclass `Backend[MyOptions]` and `self.options` is typed as MyOptions.

The streaming engine (execute/engine.py) reaches a backend through its `transport()`: by default a
`ThreadTransport` that runs `generate` on batches in a worker thread, which is all a local model or a plugin
needs; a backend that does I/O streams single requests instead (backends/openai.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from synthloop.execute.transport import Completion, Outcome, Prompt, Retry, ThreadTransport, Transport
from synthloop.plugins import Plugin

__all__ = ["Backend", "Completion", "Outcome", "Prompt", "Retry", "SamplingOptions", "ThreadTransport", "Transport"]


class SamplingOptions(BaseModel):
    """Sampling parameters every backend understands. Defaults suit SmolLM2-135M writing short stories: without a
    repetition penalty most of its stories loop (docs/experiments/prompt-styles.md)."""

    model_config = ConfigDict(extra="forbid")

    temperature: float = Field(0.7, ge=0.0, le=2.0, description="sampling temperature; 0: greedy")
    top_p: float = Field(
        0.9, gt=0.0, le=1.0, description="nucleus sampling: the likeliest tokens up to this probability"
    )
    top_k: int = Field(40, ge=0, description="sample among the k likeliest tokens; 0: no limit")
    repeat_penalty: float = Field(1.12, ge=1.0, le=2.0, description="divides the logits of recent tokens; 1: off")
    max_tokens: int = Field(
        320, ge=1, le=8192, description="tokens per story (a TinyStories story: 3-5 short paragraphs)"
    )

    def sampling(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in SamplingOptions.model_fields}


SamplingOptionsT = TypeVar("SamplingOptionsT", bound=SamplingOptions)


class Backend(Plugin[SamplingOptionsT], ABC):
    kind = "backend"
    Options: ClassVar[type[BaseModel]] = SamplingOptions
    uses_batch_api: ClassVar[bool] = False  # requests go through a batch API: the price table's discount applies

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

    def transport(self, batch_size: int) -> Transport:
        """How the engine sends this backend calls: by default `generate` on up to `batch_size` prompts at a time,
        one call at once, in a worker thread (a local model keeps its own batching)."""
        transport = ThreadTransport(self.generate, batch_size)
        transport.model_name = self.model_name
        return transport

    def attach(self, folder: Path) -> None:
        """The run's output folder: a backend that must keep state across restarts (a submitted batch's id) keeps
        it under this folder, so a rerun of the same command finds it."""

    def complete(self) -> None:
        """Every shard of the run is finished: drop state that only a resume would need."""

    def close(self) -> None:
        """Release resources (model memory, HTTP connections)."""
