"""The quality model: a logistic regression over dense story features and hashed n-grams, saved as two small files.

A model folder holds `model.npz` (feature standardisation, weights, bias) and `card.json` (format version, the
feature list, the threshold, what it was trained on and its held-out figures). Scoring needs numpy and the static
MiniLM embeddings only, so it runs at thousands of stories per second on one core (benchmarks/quality_speed.py).
Loading checks every part and fails with one line naming the folder and what was expected: a missing or damaged
folder, or one written by another version of this format, is never used half.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from synthloop.errors import UserError
from synthloop.quality.features import FEATURES, HASH_BUCKETS, dense_matrix, hashed

FORMAT = "synthloop-quality-1"
SHIPPED = "default"  # the packaged model: quality/data/default/


def features_of(texts: list[str], use_embeddings: bool = True) -> tuple[np.ndarray, list[dict[int, float]]]:
    """(dense features (N, F), hashed n-gram counts per text): what the model weighs."""
    embedder = None
    if use_embeddings:
        from synthloop.embeddings.static import load_static

        embedder = load_static()
    return dense_matrix(texts, embedder), [hashed(t) for t in texts]


@dataclass
class QualityModel:
    mean: np.ndarray  # (F,) feature means of the training data
    scale: np.ndarray  # (F,) feature standard deviations
    dense_weights: np.ndarray  # (F,)
    hashed_weights: np.ndarray  # (HASH_BUCKETS,)
    bias: float
    threshold: float  # keep when score >= threshold
    card: dict[str, Any] = field(default_factory=dict)
    use_embeddings: bool = True
    digest: str = ""  # SHA-256 of the model's files as loaded ("" for one trained in this process)

    def features(self, texts: list[str]) -> tuple[np.ndarray, list[dict[int, float]]]:
        return features_of(texts, self.use_embeddings)

    def logits(self, dense_rows: np.ndarray, sparse_rows: list[dict[int, float]]) -> np.ndarray:
        z = ((dense_rows - self.mean) / self.scale) @ self.dense_weights + self.bias
        sparse = np.array([sum(self.hashed_weights[k] * v for k, v in row.items()) for row in sparse_rows])
        return z + sparse

    def score(self, texts: list[str]) -> np.ndarray:
        """P(keep-worthy) per text, (N,) float."""
        if not texts:
            return np.zeros(0)
        dense_rows, sparse_rows = self.features(texts)
        return 1.0 / (1.0 + np.exp(-self.logits(dense_rows, sparse_rows)))

    def save(self, folder: Path) -> None:
        from synthloop.store.atomic import atomic_write, atomic_write_json

        folder.mkdir(parents=True, exist_ok=True)
        arrays = {
            "mean": self.mean,
            "scale": self.scale,
            "dense_weights": self.dense_weights,
            "hashed_weights": self.hashed_weights.astype(np.float32),
            "bias": np.array([self.bias]),
        }

        def write_arrays(temporary: str) -> None:
            with open(temporary, "wb") as handle:
                np.savez_compressed(handle, allow_pickle=False, **arrays)

        atomic_write(folder / "model.npz", write_arrays)
        card = {
            **self.card,
            "format": FORMAT,
            "features": list(FEATURES),
            "threshold": self.threshold,
            "use_embeddings": self.use_embeddings,
            "hash_buckets": HASH_BUCKETS,
        }
        atomic_write_json(folder / "card.json", card)


def shipped_folder() -> Path:
    return Path(str(resources.files("synthloop.quality").joinpath("data", SHIPPED)))


def load_model(folder: Path | str | None = None) -> QualityModel:
    """The model in `folder` (None: the shipped one); any problem is a one-line UserError naming the folder."""
    folder = shipped_folder() if folder is None else Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: no such quality model folder (expected model.npz and card.json)")
    card_path, arrays_path = folder / "card.json", folder / "model.npz"
    for path in (card_path, arrays_path):
        if not path.is_file():
            raise UserError(f"{folder}: not a quality model folder ({path.name} is missing)")
    card_bytes, array_bytes = card_path.read_bytes(), arrays_path.read_bytes()  # read once: parsed and digested
    try:
        card = json.loads(card_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{card_path}: not a valid model card ({error})") from error
    if not isinstance(card, dict) or card.get("format") != FORMAT:
        found = card.get("format") if isinstance(card, dict) else None
        raise UserError(f"{card_path}: quality model format {found!r}, this synthloop reads {FORMAT!r}: retrain it")
    if card.get("features") != list(FEATURES) or card.get("hash_buckets") != HASH_BUCKETS:
        raise UserError(f"{card_path}: the model was trained on other features than this synthloop computes: retrain")
    try:
        with np.load(io.BytesIO(array_bytes)) as data:
            arrays = {
                name: np.asarray(data[name], dtype=np.float64)
                for name in ("mean", "scale", "dense_weights", "hashed_weights", "bias")
            }
    except (OSError, ValueError, KeyError) as error:
        raise UserError(f"{arrays_path}: damaged model weights ({error})") from error
    shapes = {
        "mean": len(FEATURES),
        "scale": len(FEATURES),
        "dense_weights": len(FEATURES),
        "hashed_weights": HASH_BUCKETS,
        "bias": 1,
    }
    for name, size in shapes.items():
        if arrays[name].shape != (size,) or not np.all(np.isfinite(arrays[name])):
            raise UserError(f"{arrays_path}: {name} should be {size} finite numbers")
    threshold = card.get("threshold")
    if not isinstance(threshold, (int, float)) or not 0 <= threshold <= 1:
        raise UserError(f"{card_path}: threshold should be a number between 0 and 1, got {threshold!r}")
    return QualityModel(
        arrays["mean"],
        np.where(arrays["scale"] > 0, arrays["scale"], 1.0),
        arrays["dense_weights"],
        arrays["hashed_weights"],
        float(arrays["bias"][0]),
        float(threshold),
        card,
        bool(card.get("use_embeddings", True)),
        hashlib.sha256(card_bytes + array_bytes).hexdigest(),
    )
