"""The `vllm` backend: vLLM's offline batch API (`LLM.generate`) for GPU throughput. Optional: `pip install
'synthloop[vllm]'` on a CUDA machine; everything here imports vLLM lazily, so the backend is listed and its options
validated everywhere. Each prompt keeps its own seed (vLLM supports per-request seeds), and vLLM batches all
prompts of a call together (continuous batching).
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.errors import UserError


class VLLMOptions(SamplingOptions):
    model_path: Path | None = None  # a local HF model folder or .gguf file (vLLM loads GGUF experimentally)
    tokenizer: Path | None = None  # for a GGUF: the HF folder whose tokenizer (and chat template) to use
    dtype: str = "auto"
    gpu_memory_utilization: float = Field(0.85, gt=0, le=1)
    max_model_len: int = Field(2048, ge=128)
    tensor_parallel_size: int = Field(1, ge=1)


class VLLMBackend(Backend):
    name = "vllm"
    Options = VLLMOptions

    def __init__(self, options: SamplingOptions) -> None:
        super().__init__(options)
        self._llm: Any = None

    @property
    def _opts(self) -> VLLMOptions:
        assert isinstance(self.options, VLLMOptions)
        return self.options

    @property
    def model_name(self) -> str:
        path = self._opts.model_path
        return Path(path).name.removesuffix(".gguf") if path else "vllm"

    def check(self) -> None:
        if importlib.util.find_spec("vllm") is None:
            raise UserError("the vllm backend needs vLLM on a CUDA machine: pip install 'synthloop[vllm]'")
        path = self._opts.model_path
        if path is None:
            raise UserError("the vllm backend needs backend.options.model_path (a local model folder or .gguf)")
        if not Path(path).exists():
            raise UserError(f"backend.options.model_path: no such model folder or file {path}")
        if Path(path).suffix == ".gguf" and self._opts.tokenizer is None:
            raise UserError("backend.options.tokenizer: a GGUF model needs the HF folder of its tokenizer")

    def _load(self) -> Any:
        if self._llm is None:
            self.check()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from vllm import LLM

            opts = self._opts
            self._llm = LLM(
                model=str(opts.model_path),
                tokenizer=str(opts.tokenizer or opts.model_path),
                dtype=opts.dtype,
                gpu_memory_utilization=opts.gpu_memory_utilization,
                max_model_len=opts.max_model_len,
                tensor_parallel_size=opts.tensor_parallel_size,
            )
        return self._llm

    def generate(self, prompts: list[Prompt], options: SamplingOptions | None = None) -> list[Completion]:
        from vllm import SamplingParams

        llm = self._load()
        sampling = (options or self.options).sampling()
        tokenizer = llm.get_tokenizer()
        texts = [tokenizer.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True)
                 for p in prompts]  # fmt: skip
        params = [SamplingParams(temperature=sampling["temperature"], top_p=sampling["top_p"],
                                 top_k=sampling["top_k"] or -1, repetition_penalty=sampling["repeat_penalty"],
                                 max_tokens=sampling["max_tokens"], seed=p.seed) for p in prompts]  # fmt: skip
        started = time.perf_counter()
        outputs = llm.generate(texts, params, use_tqdm=False)
        share = (time.perf_counter() - started) / max(1, len(prompts))
        completions = []
        for output in outputs:
            best = output.outputs[0]
            completions.append(Completion(best.text, "length" if best.finish_reason == "length" else "stop",
                                          len(output.prompt_token_ids or []), len(best.token_ids), share,
                                          self.model_name))  # fmt: skip
        return completions

    def close(self) -> None:
        self._llm = None
