"""Curation throughput on >= 100k stories, against rensa's and datasketch's raw MinHash+LSH on the same texts.

The stories are synthesised from the TinyStories sample (benchmarks/corpus.py). Ours: the full CurateStep with
every filter but decontamination (constraints, vocabulary, form, readability, safety) plus exact and MinHash dedup,
then semantic dedup alone. Baselines, in the same process on the same texts and the same 5-gram shingles:
rensa RMinHash + RMinHashLSH, and datasketch MinHash + MinHashLSH (on a subset: it is much slower). One process,
so stories/s is per core except where numpy/tokenizers use both cores (noted).

    .venv/bin/python benchmarks/curate_throughput.py [-n 100000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import synthesize

from synthloop import plugins
from synthloop.config import validate_options
from synthloop.curate.dedup.minhash import shingles
from synthloop.curate.step import CurateStep
from synthloop.curate.text import normalize
from synthloop.records import Record
from synthloop.vocab import load_vocabulary


def build(names: list[str], texts: list[str]) -> CurateStep:
    context = {"vocabulary": load_vocabulary(), "sample_texts": texts[:2000]}
    built = []
    for name in names:
        cls = plugins.lookup("filter", name)
        built.append(cls(validate_options(cls.Options, {}, name), context))
    return CurateStep(built, batch_size=1024)


def timed(label: str, count: int, work) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    seconds = time.perf_counter() - started
    print(f"{label:<62} {count:>7} stories {seconds:8.1f} s {count / seconds:>9.0f} stories/s")
    return float(result) if isinstance(result, (int, float)) else 0.0


def rensa_raw(texts: list[str]) -> int:
    import rensa

    lsh = rensa.RMinHashLSH(threshold=0.8, num_perm=112, num_bands=14)
    duplicates = 0
    for key, text in enumerate(texts):
        minhash = rensa.RMinHash(num_perm=112, seed=1)
        minhash.update(shingles(normalize(text).split(), 5))
        if lsh.query(minhash):
            duplicates += 1
        else:
            lsh.insert(key, minhash)
    return duplicates


def datasketch_raw(texts: list[str]) -> int:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=0.8, num_perm=112)
    duplicates = 0
    for key, text in enumerate(texts):
        minhash = MinHash(num_perm=112, seed=1)
        minhash.update_batch([s.encode() for s in shingles(normalize(text).split(), 5)])
        if lsh.query(minhash):
            duplicates += 1
        else:
            lsh.insert(str(key), minhash)
    return duplicates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--datasketch-n", type=int, default=20_000)
    args = parser.parse_args()
    records = synthesize(args.n)
    texts = [r.text for r in records]
    print(f"{args.n} synthesised stories, mean {sum(len(t.split()) for t in texts) / len(texts):.0f} words")

    drops: dict[str, Counter[str]] = {}

    def curate(names: list[str]) -> int:
        step = build(names, texts)
        fresh = [Record(id=r.id, text=r.text, words=dict(r.words), recipe=r.recipe) for r in records]
        done = list(step.run(fresh))
        drops[" + ".join(names)] = Counter(flag for r in done for flag in r.flags)
        return sum(r.meta["curation"] == "kept" for r in done)

    timed(
        "synthloop: all filters + exact + MinHash dedup (1 process)",
        args.n,
        lambda: curate(["constraints", "vocab", "form", "readability", "safety", "exact", "minhash"]),
    )
    timed("synthloop: exact + MinHash dedup only", args.n, lambda: curate(["exact", "minhash"]))
    timed(
        "synthloop: semantic dedup only (static MiniLM; tokenizer uses 2 cores)", args.n, lambda: curate(["semantic"])
    )
    timed("baseline: rensa RMinHash + RMinHashLSH, raw", args.n, lambda: rensa_raw(texts))
    subset = texts[: args.datasketch_n]
    timed("baseline: datasketch MinHash + MinHashLSH, raw", len(subset), lambda: datasketch_raw(subset))
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    print("dedup rates on the synthesised set (2 % exact copies and 3 % one-sentence edits were planted):")
    for names, counts in drops.items():
        if names in ("exact + minhash", "semantic"):
            shown = ", ".join(f"{reason} {count / args.n:.2%}" for reason, count in sorted(counts.items()))
            print(f"  {names:<18} {shown}")


if __name__ == "__main__":
    main()
