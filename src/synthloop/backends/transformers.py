"""The `transformers` backend: batched generation with Hugging Face transformers, on CUDA when present.

Loads any local HF model folder, or a GGUF file (dequantised to floating point by transformers; needs the `gguf`
package). With no model given it loads the embedded default, SmolLM2-135M-Instruct Q4_1, so the same model runs
on a GPU. Prompts are left-padded and generated `micro_batch` at a time; the chat template comes from the
tokenizer.

Sampling matches the embedded (llama.cpp) backend where it matters for story quality: the repetition penalty is
llama.cpp's — applied to the last `repeat_last_n` tokens of the context, not (as transformers' own
`repetition_penalty` does) to every token of the prompt, which would penalise the very words the story must use.
A batch shares one random generator seeded from its prompts' seeds, so a rerun of the same batch gives the same
stories on the same hardware; resume never depends on this (finished stories are journaled).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.backends.embedded import SHIPPED_MODEL
from synthloop.backends.models import DEFAULT_MODEL, MODELS, ModelName, model_file
from synthloop.errors import UserError
from synthloop.plugins import Requirement


class TransformersOptions(SamplingOptions):
    model: ModelName = Field(DEFAULT_MODEL, description="the embedded model's GGUF run when model_path is None")
    model_path: Path | None = Field(None, description="an HF model folder or .gguf file; None: the embedded `model`")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: cuda when available")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="auto: bfloat16 on cuda, float32 on cpu"
    )
    micro_batch: int = Field(64, ge=1, description="prompts per generate() call on the device")
    repeat_last_n: int = Field(64, ge=0, description="tokens the repeat penalty looks back (llama.cpp's default)")
    compile: bool = Field(False, description="torch.compile the forward pass (CUDA; pays a warm-up)")


def penalize_recent(input_ids: Any, scores: Any, penalty: float, last_n: int) -> Any:
    """llama.cpp's repeat penalty: logits of tokens among the last `last_n` of each row are divided by `penalty`
    when positive and multiplied when negative. input_ids (B, T), scores (B, V)."""
    import torch

    if penalty == 1.0 or last_n == 0:
        return scores
    recent = input_ids[:, -last_n:]  # (B, n)
    picked = torch.gather(scores, 1, recent)
    picked = torch.where(picked > 0, picked / penalty, picked * penalty)
    return scores.scatter(1, recent, picked)


class TransformersBackend(Backend[TransformersOptions]):
    name = "transformers"
    requires = (
        Requirement("torch", "transformers"),
        Requirement("transformers", "transformers"),
        Requirement("gguf", "transformers"),
        SHIPPED_MODEL,
    )

    def __init__(self, options: TransformersOptions) -> None:
        super().__init__(options)
        self._model: Any = None
        self._tokenizer: Any = None
        self._device = "cpu"

    @property
    def model_name(self) -> str:
        path = self.options.model_path
        return MODELS[self.options.model].label if path is None else Path(path).name.removesuffix(".gguf")

    def model_path(self) -> Path:
        if self.options.model_path is None:
            return model_file(self.options.model)
        path = Path(self.options.model_path)
        if not path.exists():
            raise UserError(f"backend.options.model_path: no such model folder or GGUF file {path}")
        if path.is_dir() and not (path / "config.json").exists():
            raise UserError(f"backend.options.model_path: {path} is not a transformers model folder (no config.json)")
        return path

    def check(self) -> None:
        path = self.model_path()
        self.require(skip=(SHIPPED_MODEL.module,) + (() if path.suffix == ".gguf" else ("gguf",)))

    def _load(self) -> None:
        if self._model is not None:
            return
        self.check()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        opts = self.options
        self._device = "cuda" if opts.device == "auto" and torch.cuda.is_available() else opts.device
        if self._device == "auto":
            self._device = "cpu"
        if self._device == "cuda" and not torch.cuda.is_available():
            raise UserError("backend.options.device is 'cuda' but torch sees no CUDA device")
        dtype_name = opts.dtype if opts.dtype != "auto" else ("bfloat16" if self._device == "cuda" else "float32")
        path = self.model_path()
        source, extra = (str(path.parent), {"gguf_file": path.name}) if path.is_file() else (str(path), {})
        self._tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True, **extra)
        self._tokenizer.padding_side = "left"
        if self._tokenizer.pad_token_id is None:
            self._tokenizer.pad_token = self._tokenizer.eos_token
        dtype = getattr(torch, dtype_name)
        model: Any = AutoModelForCausalLM.from_pretrained(source, local_files_only=True, dtype=dtype, **extra)
        self._model = model.to(self._device).eval()
        if opts.compile and self._device == "cuda":
            self._model.forward = torch.compile(self._model.forward, dynamic=True)

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        self._load()
        sampling = self.options.sampling()
        completions: list[Completion] = []
        step = self.options.micro_batch
        for start in range(0, len(prompts), step):
            completions.extend(self._generate_micro_batch(prompts[start : start + step], sampling))
        return completions

    def _generate_micro_batch(self, prompts: list[Prompt], sampling: dict[str, Any]) -> list[Completion]:
        import torch
        from transformers import LogitsProcessor, LogitsProcessorList

        started = time.perf_counter()
        texts = [
            self._tokenizer.apply_chat_template(p.messages, tokenize=False, add_generation_prompt=True) for p in prompts
        ]
        encoded = self._tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        encoded = {k: v.to(self._device) for k, v in encoded.items()}
        penalty, last_n = sampling["repeat_penalty"], self.options.repeat_last_n

        class RecentRepeatPenalty(LogitsProcessor):
            def __call__(self, input_ids: Any, scores: Any) -> Any:
                return penalize_recent(input_ids, scores, penalty, last_n)

        generator_seed = sum(p.seed * (i + 1) for i, p in enumerate(prompts)) & 0x7FFFFFFF
        torch.manual_seed(generator_seed)
        greedy = sampling["temperature"] == 0.0
        eos = self._tokenizer.eos_token_id
        with torch.inference_mode():
            output = self._model.generate(
                **encoded,
                do_sample=not greedy,
                temperature=None if greedy else sampling["temperature"],
                top_p=None if greedy else sampling["top_p"],
                top_k=None if greedy else sampling["top_k"],
                max_new_tokens=sampling["max_tokens"],
                logits_processor=LogitsProcessorList([RecentRepeatPenalty()]),
                pad_token_id=self._tokenizer.pad_token_id,
                eos_token_id=eos,
            )
        prompt_tokens = encoded["attention_mask"].sum(dim=1).tolist()
        generated = output[:, encoded["input_ids"].shape[1] :].tolist()
        share = (time.perf_counter() - started) / len(prompts)
        completions = []
        for tokens, tokens_in in zip(generated, prompt_tokens, strict=True):
            stopped = eos in tokens
            if stopped:
                tokens = tokens[: tokens.index(eos)]
            completions.append(
                Completion(
                    text=self._tokenizer.decode(tokens, skip_special_tokens=True),
                    finish_reason="stop" if stopped else "length",
                    tokens_in=int(tokens_in),
                    tokens_out=len(tokens),
                    latency_s=share,
                    model=self.model_name,
                )
            )
        return completions

    def close(self) -> None:
        self._model = None
        self._tokenizer = None
