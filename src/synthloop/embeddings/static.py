"""A static embedding model distilled from all-MiniLM-L6-v2, after model2vec (Tulkens & van Dongen, 2024).

Each vocabulary token is passed through MiniLM on its own ([CLS] token [SEP], mean pooled); the token vectors are
reduced with PCA to 256 dimensions and weighted by Zipf's law (log rank, the WordPiece vocabulary being roughly
frequency-ordered). A text is then the normalised mean of its token vectors: no attention, so orders of magnitude
faster than the transformer. The distilled matrix is built once and cached under ~/.cache/synthloop (or
$SYNTHLOOP_CACHE), written atomically. Speed and build time: docs/experiments/implementation-choices.md.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from synthloop.embeddings.minilm import MiniLM, model_dir
from synthloop.store.atomic import atomic_write

DIMENSIONS = 256
VERSION = "1"


def cache_dir() -> Path:
    return Path(os.environ.get("SYNTHLOOP_CACHE") or Path.home() / ".cache" / "synthloop")


def distill(model: MiniLM, dimensions: int = DIMENSIONS, batch_size: int = 2048) -> np.ndarray:
    vocab_size = int(model.config["vocab_size"])
    cls, sep = model.tokenizer.token_to_id("[CLS]"), model.tokenizer.token_to_id("[SEP]")
    assert cls is not None and sep is not None, "MiniLM's tokenizer has [CLS] and [SEP]"
    vectors = np.zeros((vocab_size, model.dim), dtype=np.float32)
    for start in range(0, vocab_size, batch_size):
        ids = range(start, min(vocab_size, start + batch_size))
        vectors[start : start + len(ids)] = model.encode_ids([[cls, i, sep] for i in ids])
    centred = vectors - vectors.mean(0)
    _, _, components = np.linalg.svd(centred[: min(vocab_size, 20000)], full_matrices=False)
    reduced = centred @ components[:dimensions].T
    weights = np.log(np.arange(vocab_size) + 2.0)[:, None]  # Zipf: rarer (later) tokens weigh more
    return (reduced * weights).astype(np.float32)


class StaticEmbedder:
    def __init__(self, matrix: np.ndarray, tokenizer: Any) -> None:
        self.matrix = matrix
        self.tokenizer = tokenizer
        self.special = {tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]")}

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised embeddings (N, 256), float32."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, encoding in enumerate(self.tokenizer.encode_batch(texts, add_special_tokens=False)):
            ids = [i for i in encoding.ids if i not in self.special]
            if ids:
                vector = self.matrix[ids].mean(0)
                out[row] = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return out


def save_npy(path: str, matrix: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.save(handle, matrix)


@lru_cache(maxsize=1)
def load_static() -> StaticEmbedder:
    model = MiniLM()
    model.tokenizer.no_truncation()
    weights = model_dir() / "model.safetensors"
    key = hashlib.blake2b(f"{VERSION}:{weights.stat().st_size}:{DIMENSIONS}".encode(), digest_size=6).hexdigest()
    path = cache_dir() / f"static-minilm-{key}.npy"
    if path.exists():
        matrix = np.load(path)
    else:
        matrix = distill(model)
        atomic_write(path, lambda temp: save_npy(temp, matrix))
    return StaticEmbedder(matrix, model.tokenizer)
