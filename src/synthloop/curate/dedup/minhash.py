"""Near-duplicate dedup: MinHash over word 5-gram shingles with LSH banding (rensa, a Rust MinHash).

Defaults follow datatrove/FineWeb: 5-gram shingles, 112 permutations in 14 bands of 8 rows, which puts the 50 %
detection point near Jaccard 0.72; candidates from the LSH are then checked against `threshold` (0.8) with the
signature estimate, so a pair is dropped only when its estimated 5-gram Jaccard similarity is at least 0.8.
Kept signatures live in one growing uint32 array (num_perm x 4 bytes a record: 448 MB for 1M stories).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field

from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.text import TextView
from synthloop.plugins import Requirement
from synthloop.records import Record


class MinHashOptions(FilterOptions):
    threshold: float = Field(
        0.8, gt=0, le=1, description="estimated Jaccard similarity at which a story is a near duplicate"
    )
    ngram: int = Field(5, ge=1, le=20, description="words per shingle")
    num_perm: int = Field(112, ge=16, le=1024, description="hash permutations per signature")
    bands: int = Field(14, ge=1, description="LSH bands (num_perm must be a multiple)")
    seed: int = Field(1, description="seeds the hash permutations")

    def model_post_init(self, context: object) -> None:
        if self.num_perm % self.bands:
            raise ValueError(f"num_perm ({self.num_perm}) must be a multiple of bands ({self.bands})")


def shingles(words: list[str], n: int) -> list[str]:
    if len(words) < n:
        return [" ".join(words)] if words else [""]
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


class MinHashDedup(Filter[MinHashOptions]):
    name = "minhash"
    requires = (Requirement("rensa", "curate"),)
    stateful = True

    def __init__(self, options: MinHashOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        self.require()
        import rensa

        self._rensa = rensa
        self.lsh = rensa.RMinHashLSH(threshold=options.threshold, num_perm=options.num_perm, num_bands=options.bands)
        self.signatures = np.zeros((1024, options.num_perm), dtype=np.uint32)
        self.ids: list[str] = []

    def signature(self, record: Record, view: TextView) -> Any:
        options = self.options
        cached = view.cache.get("minhash")
        if cached is None:
            cached = self._rensa.RMinHash(num_perm=options.num_perm, seed=options.seed)
            cached.update(shingles(view.plain_words, options.ngram))
            view.cache["minhash"] = cached
        return cached

    def filter(self, record: Record, view: TextView) -> Verdict:
        options = self.options
        minhash = self.signature(record, view)
        digest = np.asarray(minhash.digest(), dtype=np.uint32)
        best, best_key = 0.0, -1
        for key in self.lsh.query(minhash):
            similarity = float(np.mean(self.signatures[key] == digest))
            if similarity > best:
                best, best_key = similarity, key
        self.score(record, "max_similarity", best)
        if best >= options.threshold and self.ids[best_key] != record.id:
            record.meta["duplicate_of"] = record.meta["cluster"] = self.ids[best_key]
            return False, "near_duplicate"
        return True

    def remember(self, record: Record, view: TextView) -> None:
        key = len(self.ids)
        if key == len(self.signatures):
            self.signatures = np.concatenate([self.signatures, np.zeros_like(self.signatures)])
        minhash = self.signature(record, view)
        self.signatures[key] = np.asarray(minhash.digest(), dtype=np.uint32)
        self.ids.append(record.id)
        self.lsh.insert(key, minhash)
