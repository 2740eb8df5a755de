"""Quality scoring speed on one core, against the rest of curation on the same stories.

The stories are synthesised from the TinyStories sample (benchmarks/corpus.py). Baseline, in the same process on
the same texts: the per-story filters of the main config (constraints, vocabulary, form, readability, safety) as
one CurateStep. Then the `quality` filter alone (shipped model), its two parts (dense features with the static
embeddings, hashed n-grams), and the whole model through QualityModel.score. Threads are pinned to one
(OMP/OpenBLAS/tokenizers), so stories/s is per core.

    .venv/bin/python benchmarks/quality_speed.py [-n 20000]
"""

from __future__ import annotations

import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[variable] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse  # noqa: E402 (the thread pins must come before numpy loads)
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import synthesize  # noqa: E402
from curate_throughput import build  # noqa: E402

from synthloop.embeddings.static import load_static  # noqa: E402
from synthloop.quality.features import dense_matrix, hashed  # noqa: E402
from synthloop.quality.model import load_model  # noqa: E402
from synthloop.records import Record  # noqa: E402


def rate(label: str, count: int, work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    print(f"{label:<58} {count:>7} stories {seconds:8.2f} s {count / seconds:>9.0f} stories/s")
    return count / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="stories to score")
    args = parser.parse_args()
    if args.n < 100:
        parser.error("-n must be >= 100")
    records = synthesize(args.n)
    texts = [r.text for r in records]
    model, embedder = load_model(), load_static()
    model.score(texts[:50])  # warm caches (vocabulary forms, tokenizer)
    baseline = rate(
        "baseline: per-story filters of the main config",
        args.n,
        lambda: list(build(["constraints", "vocab", "form", "readability", "safety"], texts).run(records)),
    )
    quality_step = build(["quality"], texts)
    fresh = [Record(id=str(i), text=t) for i, t in enumerate(texts)]
    ours = rate("quality filter (shipped model) as a CurateStep", args.n, lambda: list(quality_step.run(fresh)))
    rate("  dense features (with static-embedding cosines)", args.n, lambda: dense_matrix(texts, embedder))
    rate("  hashed unigrams + bigrams", args.n, lambda: [hashed(t) for t in texts])
    rate("  QualityModel.score end to end", args.n, lambda: model.score(texts))
    print(f"quality filter: {ours:.0f} stories/s on one core = {ours / baseline:.2f}x the rest of curation")
    return 0


if __name__ == "__main__":
    sys.exit(main())
