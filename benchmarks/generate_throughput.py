"""Embedded-backend throughput against the baseline: a plain single-stream llama-cpp-python loop.

Both run in this process over the same GGUF, the same prompts (from the main config's recipe) and the same sampling
settings, one after the other; the baseline is `Llama.create_chat_completion` called once per prompt on a fresh
model. Prints stories/s, tokens/s and all-three-words rate for each, then the ratio.

    .venv/bin/python benchmarks/generate_throughput.py [-n 24] [--config configs/tinystories.toml]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from synthloop.backends.base import Prompt
from synthloop.backends.embedded import EmbeddedBackend, EmbeddedOptions
from synthloop.config import load_config
from synthloop.generate.runner import build_backend, build_recipe
from synthloop.vocab import load_vocabulary
from synthloop.vocab.inflection import missing_words

ROOT = Path(__file__).resolve().parents[1]


def baseline(prompts: list[Prompt], options: EmbeddedOptions, model_path: Path) -> tuple[float, int, list[str]]:
    from llama_cpp import Llama

    threads = os.cpu_count() or 1
    llm = Llama(model_path=str(model_path), n_ctx=options.n_ctx, n_threads=threads, verbose=False)
    texts, tokens = [], 0
    started = time.perf_counter()
    for prompt in prompts:
        result = llm.create_chat_completion(
            messages=prompt.messages, temperature=options.temperature, top_p=options.top_p, top_k=options.top_k,
            repeat_penalty=options.repeat_penalty, max_tokens=options.max_tokens, seed=prompt.seed,
        )  # fmt: skip
        texts.append(result["choices"][0]["message"]["content"] or "")
        tokens += result["usage"]["completion_tokens"]
    seconds = time.perf_counter() - started
    llm.close()
    return seconds, tokens, texts


def ours(prompts: list[Prompt], backend: EmbeddedBackend, batch_size: int) -> tuple[float, int, list[str]]:
    backend.generate(prompts[:1])  # load the model outside the timing, as the baseline's constructor does
    texts, tokens = [], 0
    started = time.perf_counter()
    for start in range(0, len(prompts), batch_size):
        for completion in backend.generate(prompts[start : start + batch_size]):
            texts.append(completion.text)
            tokens += completion.tokens_out
    return time.perf_counter() - started, tokens, texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=24)
    parser.add_argument("--config", type=Path, default=ROOT / "configs" / "tinystories.toml")
    args = parser.parse_args()
    cfg = load_config(args.config)
    recipe = build_recipe(cfg, load_vocabulary(cfg.vocab.path))
    backend = build_backend(cfg)
    assert isinstance(backend, EmbeddedBackend), "this benchmark measures the embedded backend"
    records = [recipe.render(i) for i in range(args.n)]
    prompts = [Prompt(r.id, recipe.messages(r), r.seed) for r in records]
    assert isinstance(backend.options, EmbeddedOptions)

    rows = []
    seconds, tokens, texts = baseline(prompts, backend.options, backend.model_path())
    rows.append(("baseline: llama-cpp-python single stream", seconds, tokens, texts))
    seconds, tokens, texts = ours(prompts, backend, cfg.generate.batch_size)
    rows.append((f"synthloop embedded (batch_size={cfg.generate.batch_size})", seconds, tokens, texts))
    backend.close()

    print(f"{args.n} prompts, {os.cpu_count()} CPU cores, {backend.model_name}, options {backend.options.sampling()}")
    print(f"{'variant':<48} {'stories/s':>9} {'tok/s':>8} {'all 3 words':>11}")
    for name, seconds, tokens, texts in rows:
        used = sum(not missing_words(t, r.words) for t, r in zip(texts, records, strict=True))
        print(f"{name:<48} {len(texts) / seconds:>9.3f} {tokens / seconds:>8.1f} {used:>5}/{len(texts):<5}")
    base_rate = rows[0][2] / rows[0][1]
    print(f"ratio (tok/s, synthloop / baseline): {rows[1][2] / rows[1][1] / base_rate:.2f}x")


if __name__ == "__main__":
    main()
