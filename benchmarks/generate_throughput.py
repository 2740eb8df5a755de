"""Generation throughput of every CPU variant against the baseline: a plain single-stream llama-cpp-python loop.

All run in this process, one after the other, over the same model (the embedded SmolLM2-135M GGUF, converted where
a variant needs it), the same prompts (from the main config's recipe) and the same sampling settings (the main
config's temperature, top_p, top_k, repeat_penalty and max_tokens). The main config's LoRA adapter changes weights,
not speed, so the variants leave it out and run the same weights; `config` runs the config's own backend as the
main job builds it (adapter included). The baseline is `Llama.create_chat_completion` called once per prompt on a
fresh model. Variants: synthloop's embedded backend (llama.cpp, prompt-prefix cache), the ctranslate2 backend
(int8, batched decoding) at several batch sizes — `ct2-N` as shipped (the batch split over one single-threaded
decoder per core), `ct2one-N` one decoder using every core —, and the transformers backend (fp32, batched). Prints
stories/s, tokens/s, all-three-words rate and mean repeated-5-gram fraction (output quality) for each, and each
variant's speed ratio to the baseline.

    .venv/bin/python benchmarks/generate_throughput.py [-n 24] [--variants embedded,ct2-8,ct2-48,ct2one-48,hf-32,config]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from synthloop.backends.base import Prompt, SamplingOptions
from synthloop.backends.embedded import EmbeddedBackend, EmbeddedOptions
from synthloop.config import Config, load_config, shipped_config
from synthloop.generate.runner import build_backend, build_recipe
from synthloop.vocab import load_vocabulary
from synthloop.vocab.inflection import missing_words

VARIANT_KINDS = {
    "embedded": "synthloop embedded",
    "ct2": "ctranslate2 int8",
    "ct2one": "ctranslate2 int8, one decoder",
    "hf": "transformers fp32",
}


def baseline(prompts: list[Prompt], options: EmbeddedOptions, model_path: Path) -> tuple[float, int, list[str]]:
    from llama_cpp import Llama

    threads = os.cpu_count() or 1
    llm = Llama(model_path=str(model_path), n_ctx=options.n_ctx, n_threads=threads, verbose=False)
    texts, tokens = [], 0
    started = time.perf_counter()
    for prompt in prompts:
        result = llm.create_chat_completion(
            messages=prompt.messages,
            temperature=options.temperature,
            top_p=options.top_p,
            top_k=options.top_k,
            repeat_penalty=options.repeat_penalty,
            max_tokens=options.max_tokens,
            seed=prompt.seed,
        )
        texts.append(result["choices"][0]["message"]["content"] or "")
        tokens += result["usage"]["completion_tokens"]
    seconds = time.perf_counter() - started
    llm.close()
    return seconds, tokens, texts


def batched(backend: Any, prompts: list[Prompt], batch_size: int) -> tuple[float, int, list[str]]:
    backend.generate(prompts[:1])  # load (for ct2: convert) outside the timing, as the baseline's constructor does
    texts, tokens = [], 0
    started = time.perf_counter()
    for start in range(0, len(prompts), batch_size):
        for completion in backend.generate(prompts[start : start + batch_size]):
            texts.append(completion.text)
            tokens += completion.tokens_out
    seconds = time.perf_counter() - started
    backend.close()
    return seconds, tokens, texts


def variant(name: str, sampling: dict[str, Any], prompts: list[Prompt], cfg: Config) -> tuple[float, int, list[str]]:
    kind, _, size = name.partition("-")
    batch = int(size or 1)
    if kind in ("ct2", "ct2one"):  # ct2: one single-threaded decoder per core; ct2one: one decoder, all cores
        from synthloop.backends.ctranslate2 import CTranslate2Backend, CTranslate2Options

        options = CTranslate2Options(**sampling, max_batch_size=batch, parallel=1 if kind == "ct2one" else 0)
        return batched(CTranslate2Backend(options), prompts, batch)
    if name == "config":
        return batched(build_backend(cfg), prompts, cfg.generate.batch_size)
    if kind == "hf":
        from synthloop.backends.transformers import TransformersBackend, TransformersOptions

        options = TransformersOptions(**sampling, micro_batch=batch, device="cpu")
        return batched(TransformersBackend(options), prompts, batch)
    raise SystemExit(f"unknown variant {name!r}")


def repetition(texts: list[str]) -> float:
    from synthloop.curate.text import TextView, ngrams

    fractions = []
    for text in texts:
        grams = ngrams(TextView(text).words, 5)
        fractions.append(1 - len(set(grams)) / len(grams) if grams else 0.0)
    return sum(fractions) / max(1, len(fractions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=24, help="prompts")
    parser.add_argument("--variants", default="embedded,ct2-1,ct2-8,ct2-32,hf-32", help="comma-separated")
    parser.add_argument("--config", type=Path, default=shipped_config(), help="default: the shipped main config")
    args = parser.parse_args()
    if args.n < 1:
        parser.error("-n: at least one prompt")
    unknown = [v for v in args.variants.split(",") if v != "config" and v.partition("-")[0] not in VARIANT_KINDS]
    if unknown:
        parser.error(f"--variants: unknown {unknown}; expected embedded, ct2-N, ct2one-N, hf-N or config")
    cfg = load_config(args.config)
    recipe = build_recipe(cfg, load_vocabulary(cfg.vocab.path))
    records = [recipe.render(i) for i in range(args.n)]
    prompts = [Prompt(r.id, recipe.messages(r), r.seed) for r in records]
    sampling = {k: v for k, v in cfg.backend.options.items() if k in SamplingOptions.model_fields}
    backend = EmbeddedBackend(EmbeddedOptions(**sampling))
    assert isinstance(backend.options, EmbeddedOptions)
    sampling = backend.options.sampling()
    print(f"{args.n} prompts, {os.cpu_count()} CPU cores, {backend.model_name}, options {sampling}", flush=True)
    print(f"{'variant':<44} {'stories/s':>9} {'tok/s':>8} {'ratio':>6} {'all 3 words':>11} {'rep-5gram':>9}")
    base_rate = 0.0

    def show(name: str, seconds: float, tokens: int, texts: list[str]) -> None:
        nonlocal base_rate
        base_rate = base_rate or tokens / seconds
        used = sum(not missing_words(t, r.words) for t, r in zip(texts, records, strict=True))
        print(
            f"{name:<44} {len(texts) / seconds:>9.3f} {tokens / seconds:>8.1f} {tokens / seconds / base_rate:>5.2f}x "
            f"{used:>5}/{len(texts):<5} {repetition(texts):>9.3f}",
            flush=True,
        )

    show("baseline: llama-cpp-python single stream", *baseline(prompts, backend.options, backend.model_path()))
    for name in args.variants.split(","):
        if name == "embedded":
            show(
                f"synthloop embedded (batch_size={cfg.generate.batch_size})",
                *batched(backend, prompts, cfg.generate.batch_size),
            )
        elif name == "config":
            show(
                f"the config's {cfg.backend.name} (batch_size={cfg.generate.batch_size})",
                *variant(name, sampling, prompts, cfg),
            )
        else:
            label = VARIANT_KINDS[name.split("-")[0]]
            show(f"{label} (batch {name.partition('-')[2] or 1})", *variant(name, sampling, prompts, cfg))


if __name__ == "__main__":
    main()
