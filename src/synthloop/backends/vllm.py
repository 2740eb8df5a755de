"""The `vllm` backend: vLLM's offline batch API (`LLM.generate`) for GPU throughput. Optional: `pip install
'synthloop[vllm]'` on a CUDA machine; everything here imports vLLM lazily, so the backend is listed and its options
validated everywhere. Each prompt keeps its own seed (vLLM supports per-request seeds), and vLLM batches all
prompts of a call together (continuous batching).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pydantic import Field

from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.errors import UserError
from synthloop.plugins import Requirement


class VLLMOptions(SamplingOptions):
    model_path: Path | None = Field(
        None, description="a local HF model folder or .gguf file (vLLM loads GGUF experimentally)"
    )
    tokenizer: Path | None = Field(
        None, description="for a GGUF: the HF folder whose tokenizer (and chat template) to use"
    )
    dtype: str = Field("auto", description="weight type (vLLM's names)")
    gpu_memory_utilization: float = Field(0.85, gt=0, le=1, description="share of GPU memory vLLM may take")
    max_model_len: int = Field(2048, ge=128, description="context tokens per sequence")
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs one model is split over")


class VLLMBackend(Backend[VLLMOptions]):
    name = "vllm"
    requires = (Requirement("vllm", "vllm", "pip install 'synthloop[vllm]' (on a CUDA machine)"),)

    def __init__(self, options: VLLMOptions) -> None:
        super().__init__(options)
        self._llm: Any = None

    @property
    def model_name(self) -> str:
        path = self.options.model_path
        return Path(path).name.removesuffix(".gguf") if path else "vllm"

    def check(self) -> None:
        self.require()
        path = self.options.model_path
        if path is None:
            raise UserError("the vllm backend needs backend.options.model_path (a local model folder or .gguf)")
        if not Path(path).exists():
            raise UserError(f"backend.options.model_path: no such model folder or file {path}")
        if Path(path).suffix == ".gguf" and self.options.tokenizer is None:
            raise UserError("backend.options.tokenizer: a GGUF model needs the HF folder of its tokenizer")

    def _load(self) -> Any:
        if self._llm is None:
            self.check()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from vllm import LLM

            opts = self.options
            self._llm = LLM(
                model=str(opts.model_path),
                tokenizer=str(opts.tokenizer or opts.model_path),
                dtype=opts.dtype,
                gpu_memory_utilization=opts.gpu_memory_utilization,
                max_model_len=opts.max_model_len,
                tensor_parallel_size=opts.tensor_parallel_size,
            )
        return self._llm

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        from vllm import SamplingParams

        llm = self._load()
        sampling = self.options.sampling()
        tokenizer = llm.get_tokenizer()
        texts = [tokenizer.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True) for p in prompts]
        params = [
            SamplingParams(
                temperature=sampling["temperature"],
                top_p=sampling["top_p"],
                top_k=sampling["top_k"] or -1,
                repetition_penalty=sampling["repeat_penalty"],
                max_tokens=sampling["max_tokens"],
                seed=p.seed,
            )
            for p in prompts
        ]
        started = time.perf_counter()
        outputs = llm.generate(texts, params, use_tqdm=False)
        share = (time.perf_counter() - started) / max(1, len(prompts))
        completions = []
        for output in outputs:
            best = output.outputs[0]
            completions.append(
                Completion(
                    best.text,
                    "length" if best.finish_reason == "length" else "stop",
                    len(output.prompt_token_ids or []),
                    len(best.token_ids),
                    share,
                    self.model_name,
                )
            )
        return completions

    def close(self) -> None:
        self._llm = None
