"""A small GPT decoder (after karpathy/nanoGPT): our own readable file rather than transformers' GPT-Neo, because
the collapse lab trains one model per generation and needs a loop we control end to end (exact resume, no hidden
state), and because the whole model fits on one screen.

Pre-LayerNorm blocks, causal self-attention through scaled_dot_product_attention (flash kernels on GPU), GELU MLP
of width 4x, learned positions, and an output head tied to the token embedding.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from synthloop.train.config import PRESET_ALIASES, PRESETS

__all__ = ["GPT", "PRESETS", "PRESET_ALIASES", "GPTConfig"]


@dataclass(frozen=True)
class GPTConfig:
    vocab_size: int
    block_size: int  # context length in tokens
    n_layer: int
    n_head: int
    n_embd: int
    dropout: float = 0.0

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


class SelfAttention(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.qkv = nn.Linear(config.n_embd, 3 * config.n_embd)
        self.proj = nn.Linear(config.n_embd, config.n_embd)
        self.n_head = config.n_head
        self.dropout = config.dropout

    def forward(self, x: torch.Tensor, cache: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        """`cache` (sampling only): this layer's keys and values so far, extended in place; with earlier entries
        the input must be one new token per row."""
        batch, length, channels = x.shape  # (B, T, C)
        q, k, v = self.qkv(x).split(channels, dim=2)
        q, k, v = (t.view(batch, length, self.n_head, channels // self.n_head).transpose(1, 2) for t in (q, k, v))
        causal = True
        if cache is not None:
            if "k" in cache:
                k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
                causal = False  # one new query attends to every cached position
            cache["k"], cache["v"] = k, v
        y = F.scaled_dot_product_attention(q, k, v, is_causal=causal, dropout_p=self.dropout if self.training else 0)
        return self.proj(y.transpose(1, 2).contiguous().view(batch, length, channels))  # (B, T, C)


class MLP(nn.Module):
    """The feed-forward half of a block: widen 4x, GELU, project back to the residual stream."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.expand = nn.Linear(config.n_embd, 4 * config.n_embd)
        self.activation = nn.GELU()
        self.proj = nn.Linear(4 * config.n_embd, config.n_embd)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(self.activation(self.expand(x))))  # (B, T, C)


class Block(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(config.n_embd)
        self.attention = SelfAttention(config)
        self.norm2 = nn.LayerNorm(config.n_embd)
        self.mlp = MLP(config)

    def forward(self, x: torch.Tensor, cache: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        x = x + self.attention(self.norm1(x), cache)
        return x + self.mlp(self.norm2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.n_embd)
        self.position_embedding = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.norm = nn.LayerNorm(config.n_embd)
        self.head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.head.weight = self.token_embedding.weight  # weight tying
        self.apply(self._init)
        for name, parameter in self.named_parameters():  # GPT-2's scaled init of residual projections
            if name.endswith(("attention.proj.weight", "mlp.proj.weight")):
                nn.init.normal_(parameter, 0.0, 0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, 0.0, 0.02)

    def parameter_count(self, non_embedding: bool = True) -> int:
        total = sum(p.numel() for p in self.parameters())
        return total - (self.position_embedding.weight.numel() if non_embedding else 0)

    def forward(
        self,
        tokens: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: list[dict[str, torch.Tensor]] | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """`cache`: one dict per layer (start with empty dicts) for incremental sampling; positions continue
        from the cached length."""
        length = tokens.shape[1]  # tokens: (B, T) int64
        offset = cache[0]["k"].shape[2] if cache and "k" in cache[0] else 0
        positions = torch.arange(offset, offset + length, device=tokens.device)
        x = self.drop(self.token_embedding(tokens) + self.position_embedding(positions))
        for index, block in enumerate(self.blocks):
            x = block(x, cache[index] if cache is not None else None)
        logits = self.head(self.norm(x))  # (B, T, vocab)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        return logits, loss

    def flops_per_token(self) -> float:
        """Training FLOPs per token (forward + backward), PaLM appendix B: 6N + 12·L·T·C."""
        c = self.config
        return 6 * self.parameter_count() + 12 * c.n_layer * c.block_size * c.n_embd


# The presets live with the training config (no torch needed to check a name); re-exported here.
