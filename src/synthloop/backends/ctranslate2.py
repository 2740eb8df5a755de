"""The `ctranslate2` backend: the embedded model (or any converted model) run by CTranslate2 with int8 weights and
batched decoding — the fastest CPU path we measured (benchmarks/generate_throughput.py).

With no model given it converts the embedded SmolLM2 GGUF once, offline: transformers dequantises the GGUF, the
CTranslate2 converter writes int8 weights, and the result (with the tokenizer and its chat template) is cached
under $SYNTHLOOP_CACHE (default ~/.cache/synthloop)/ct2/, written to a temporary folder and renamed into place.
A batch of prompts is decoded together (`generate_batch`), which is where the speed comes from on a CPU, and split
over `parallel` decoders, one per core by default, each single-threaded: the 135M model's matrices are too small for
two threads to share one well (single-threaded decoders against one decoder using every core:
benchmarks/generate_throughput.py, variants ct2-N and ct2one-N; docs/experiments/generation-speed.md). Decoder i
always gets the i-th slice of a batch. CTranslate2 seeds each worker thread's random generator once, when the thread
first samples, so per-prompt seeds cannot be honoured: a fresh model given the same batches in the same order makes
the same stories (`seed`), and resume never depends on it (finished stories are journaled).
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.backends.embedded import SHIPPED_MODEL
from synthloop.backends.models import DEFAULT_MODEL, MODELS, ModelName, model_file
from synthloop.errors import UserError
from synthloop.plugins import Requirement
from synthloop.tune.adapters import SHIPPED, resolve


class CTranslate2Options(SamplingOptions):
    model: ModelName = Field(DEFAULT_MODEL, description="the embedded model converted when model_path is None")
    model_path: Path | None = Field(
        None, description="a CTranslate2 model folder; None: the embedded GGUF, converted once"
    )
    compute_type: Literal["int8", "int8_float32", "float32", "auto"] = Field("int8", description="weight type")
    threads: int = Field(0, ge=0, description="CPU threads in all; 0: one per CPU core")
    parallel: int = Field(0, ge=0, description="decoders working on slices of a batch at once; 0: one per thread")
    max_batch_size: int = Field(32, ge=1, description="prompts one decoder decodes together")
    seed: int = Field(0, ge=0, description="seeds the worker threads' random generators when the model loads")
    # A LoRA adapter merged into the embedded model before conversion: a shipped one by name ("tinystories": the
    # embedded model fine-tuned on TinyStories prompt -> story pairs, tune/data/tinystories.json) or a file path.
    adapter: str | None = Field(
        None, description="a LoRA adapter merged into the embedded model: a shipped one by name or a file"
    )
    adapter_strength: float = Field(1.0, ge=0, le=2, description="the adapter's weight when merged (1: as trained)")


def convert_embedded(
    gguf: Path, quantization: str = "int8", adapter: Path | None = None, adapter_sha: str = "", strength: float = 1.0
) -> Path:
    """The CTranslate2 conversion of a GGUF, with a LoRA adapter merged in when one is given (cached by the file's
    size and name and the adapter's hash)."""
    identity = f"{gguf.name}:{gguf.stat().st_size}:{quantization}" + (f":{adapter_sha}:{strength}" if adapter else "")
    key = hashlib.sha256(identity.encode()).hexdigest()[:12]
    from synthloop.embeddings.static import cache_dir

    target = cache_dir() / "ct2" / f"{gguf.stem}-{quantization}-{key}"
    if (target / "model.bin").exists():
        return target
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from ctranslate2.converters import TransformersConverter
    from transformers import AutoModelForCausalLM, AutoTokenizer

    temporary = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    staging = temporary.with_name(temporary.name + "-hf")
    shutil.rmtree(temporary, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model: Any = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model.hf_quantizer = None  # the weights are dequantised already; let save_pretrained write them
        if adapter is not None:
            from synthloop.tune.lora import merge

            merge(model, adapter, strength)
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        TransformersConverter(str(staging)).convert(str(temporary), quantization=quantization, force=True)
        tokenizer.save_pretrained(temporary)
        os.replace(temporary, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(temporary, ignore_errors=True)
    return target


class CTranslate2Backend(Backend[CTranslate2Options]):
    name = "ctranslate2"
    requires = (Requirement("ctranslate2", "ct2"), Requirement("transformers", "ct2"), SHIPPED_MODEL)
    non_content = frozenset({"threads", "parallel"})

    def __init__(self, options: CTranslate2Options) -> None:
        super().__init__(options)
        self._generators: list[Any] = []
        self._tokenizer: Any = None

    @property
    def model_name(self) -> str:
        path, adapter = self.options.model_path, self.options.adapter
        if path is not None:
            return Path(path).name
        tuned = "" if adapter is None else f"+{adapter if adapter in SHIPPED else Path(adapter).stem}"
        return f"{MODELS[self.options.model].label}{tuned}-ct2-{self.options.compute_type}"

    def check(self) -> None:
        self.require(skip=(SHIPPED_MODEL.module,))
        path = self.options.model_path
        if path is not None and not (Path(path) / "model.bin").exists():
            raise UserError(f"backend.options.model_path: {path} is not a CTranslate2 model folder (no model.bin)")
        gguf = model_file(self.options.model) if path is None else None
        if self.options.adapter is not None:
            if gguf is None:
                raise UserError("backend.options.adapter applies to the embedded model: drop model_path or adapter")
            resolve(self.options.adapter, gguf.name)

    def _load(self) -> None:
        if self._generators:
            return
        self.check()
        import ctranslate2
        from transformers import AutoTokenizer

        path = self.options.model_path
        if path is None:
            gguf = model_file(self.options.model)
            quantization = "int8" if self.options.compute_type == "auto" else self.options.compute_type
            adapter, sha = resolve(self.options.adapter, gguf.name) if self.options.adapter else (None, "")
            path = convert_embedded(gguf, quantization, adapter, sha, self.options.adapter_strength)
        threads = self.options.threads or os.cpu_count() or 1
        parallel = min(self.options.parallel or threads, threads)
        ctranslate2.set_random_seed(self.options.seed)
        intra = max(1, threads // parallel)
        self._generators = [
            ctranslate2.Generator(str(path), device="cpu", compute_type=self.options.compute_type, intra_threads=intra)
            for _ in range(parallel)
        ]
        self._tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)

    def generate(self, prompts: list[Prompt]) -> list[Completion]:
        self._load()
        sampling = self.options.sampling()
        started = time.perf_counter()
        texts = [
            self._tokenizer.apply_chat_template(p.messages, add_generation_prompt=True, tokenize=False) for p in prompts
        ]
        tokens = [
            self._tokenizer.convert_ids_to_tokens(self._tokenizer(t, add_special_tokens=False).input_ids) for t in texts
        ]
        greedy = sampling["temperature"] == 0.0
        decode = dict(
            max_length=sampling["max_tokens"],
            max_batch_size=self.options.max_batch_size,
            sampling_temperature=max(sampling["temperature"], 1e-5),
            sampling_topk=1 if greedy else (sampling["top_k"] or 0),
            sampling_topp=sampling["top_p"],
            repetition_penalty=sampling["repeat_penalty"],
            include_prompt_in_result=False,
            end_token=self._tokenizer.eos_token,
        )
        results = self.over_decoders("generate_batch", tokens, **decode)
        share = (time.perf_counter() - started) / max(1, len(prompts))
        completions = []
        eos = self._tokenizer.eos_token_id
        for prompt_tokens, result in zip(tokens, results, strict=True):
            ids = [i for i in result.sequences_ids[0] if i != eos]
            stopped = len(result.sequences_ids[0]) < sampling["max_tokens"]
            completions.append(
                Completion(
                    self._tokenizer.decode(ids, skip_special_tokens=True),
                    "stop" if stopped else "length",
                    len(prompt_tokens),
                    len(ids),
                    share,
                    self.model_name,
                )
            )
        return completions

    def mean_log_probs(self, texts: list[str], messages: list[dict[str, str]]) -> list[float]:
        """Each text's mean token log-probability as the model's answer to `messages` (CTranslate2 `score_batch`:
        the model's own next-token distribution, no sampling or repeat penalty), split over the decoders like a
        generation batch."""
        self._load()
        prefix = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        prefix_ids = self._tokenizer(prefix, add_special_tokens=False).input_ids
        tokens = [
            self._tokenizer.convert_ids_to_tokens(prefix_ids + self._tokenizer(t, add_special_tokens=False).input_ids)
            for t in texts
        ]
        means = []
        for result in self.over_decoders("score_batch", tokens, max_batch_size=self.options.max_batch_size):
            story = result.log_probs[len(prefix_ids) - 1 :]  # log P(token i | tokens < i), i >= 1
            means.append(sum(story) / max(1, len(story)))
        return means

    def over_decoders(self, method: str, tokens: list[list[str]], **options: Any) -> list[Any]:
        """Run a Generator batch method on the decoders at once, decoder i on the i-th slice of `tokens`; the
        results in the order of `tokens`."""
        size = math.ceil(len(tokens) / len(self._generators))
        slices = [tokens[i : i + size] for i in range(0, len(tokens), size)]
        pending = [
            getattr(generator, method)(part, asynchronous=True, **options)
            for generator, part in zip(self._generators, slices, strict=False)
        ]
        return [future.result() for futures in pending for future in futures]

    def close(self) -> None:
        self._generators = []
        self._tokenizer = None
