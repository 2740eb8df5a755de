"""Time to report on many stories, and each metric's share of it.

Synthesises N stories from the TinyStories sample (benchmarks/corpus.py), then times each metric family the report
computes, on the same texts: the quadratic or model-based ones run on fixed samples (printed), so the total grows
about linearly with N. Baseline for the embedding step: the full MiniLM on the same sample size as the static one.

    .venv/bin/python benchmarks/report_speed.py [-n 100000]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import read_texts, synthesize

from synthloop.curate.text import TextView, flesch_kincaid_grade, sentence_count
from synthloop.embeddings.minilm import load_minilm
from synthloop.embeddings.static import load_static
from synthloop.metrics import compute
from synthloop.metrics.bias import bias_audit
from synthloop.metrics.coverage import coverage
from synthloop.metrics.diversity import compression_ratio, distinct_n, opening_concentration, self_bleu
from synthloop.metrics.mauve import mauve
from synthloop.vocab import load_vocabulary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000)
    args = parser.parse_args()
    records = synthesize(args.n)
    texts = [r.text for r in records]
    reference = read_texts("tinystories_sample.jsonl")
    vocabulary = load_vocabulary()
    load_static()
    load_minilm()
    timings: list[tuple[str, float]] = []

    def timed(name: str, work):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        result = work()
        timings.append((name, time.perf_counter() - started))
        return result

    tokens = timed("tokenise (normalised words)", lambda: [TextView(t).plain_words for t in texts])
    timed("distinct-1/2/3", lambda: [distinct_n(tokens, n) for n in (1, 2, 3)])
    timed("compression ratio (gzip)", lambda: compression_ratio(texts))
    timed(
        f"self-BLEU ({compute.SELF_BLEU_SAMPLE} x {compute.SELF_BLEU_SAMPLE} sample)",
        lambda: self_bleu(tokens, compute.SELF_BLEU_SAMPLE, compute.SELF_BLEU_SAMPLE),
    )
    timed("openings", lambda: opening_concentration(texts))
    timed("readability (every story)", lambda: [flesch_kincaid_grade(t, sentence_count(TextView(t))) for t in texts])
    chosen = compute.sample(texts, compute.EMBEDDING_SAMPLE)
    timed(f"MiniLM embeddings, mean cosine + Vendi ({len(chosen)} sample)", lambda: load_minilm().encode(chosen))
    timed("coverage (every story)", lambda: coverage(records, vocabulary))
    timed("bias audit (every story)", lambda: bias_audit(texts))
    ours = timed(
        f"static embeddings for MAUVE ({compute.MAUVE_SAMPLE} + {compute.MAUVE_SAMPLE})",
        lambda: load_static().encode(compute.sample(texts, compute.MAUVE_SAMPLE)),
    )
    theirs = load_static().encode(compute.sample(reference, compute.MAUVE_SAMPLE))
    timed("MAUVE k-means + frontier", lambda: mauve(ours, theirs))
    total = sum(seconds for _, seconds in timings)
    print(f"{args.n} synthesised stories; total {total:.1f} s")
    for name, seconds in timings:
        print(f"  {name:<58} {seconds:7.2f} s  {seconds / total:6.1%}")
    baseline = load_minilm()
    started = time.perf_counter()
    baseline.encode(compute.sample(texts, 64))
    per_story = (time.perf_counter() - started) / 64
    print(
        f"baseline: full MiniLM for MAUVE's {compute.MAUVE_SAMPLE} stories would take ~{per_story * 1000:.0f} s "
        f"instead of the static model's {dict(timings)[next(n for n, _ in timings if n.startswith('static'))]:.1f} s"
    )


if __name__ == "__main__":
    main()
