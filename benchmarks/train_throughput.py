"""Training throughput of synthloop's GPT step against a plain reference implementation of the same model.

The reference, written here, is a minimal nanoGPT-style model with hand-written attention (softmax of masked
QK^T), fp32, and plain (unfused) AdamW. Ours is synthloop.train.model.GPT with scaled_dot_product_attention,
fused AdamW and bf16 autocast on CUDA (fp32 on CPU). Same shapes, same batch, same steps, one after the other in
this process. MFU is model FLOPs (6N + 12·L·T·C per token, PaLM appendix B) per second over the peak this device
reached on a large matrix product in this same run (bf16 on CUDA, fp32 on CPU).

    .venv/bin/python benchmarks/train_throughput.py [--preset tiny-1m] [--steps 20] [--batch-size 8]
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from torch import nn
from torch.nn import functional as F

from synthloop.train.model import GPT, PRESETS, GPTConfig


class ReferenceBlock(nn.Module):
    def __init__(self, c: GPTConfig) -> None:
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(c.n_embd), nn.LayerNorm(c.n_embd)
        self.qkv, self.proj = nn.Linear(c.n_embd, 3 * c.n_embd), nn.Linear(c.n_embd, c.n_embd)
        self.fc, self.out = nn.Linear(c.n_embd, 4 * c.n_embd), nn.Linear(4 * c.n_embd, c.n_embd)
        self.heads = c.n_head
        self.register_buffer("mask", torch.tril(torch.ones(c.block_size, c.block_size)).bool())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads)
        scores = scores.masked_fill(~self.mask[:t, :t], float("-inf"))
        y = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, c)
        x = x + self.proj(y)
        return x + self.out(F.gelu(self.fc(self.ln2(x))))


class ReferenceGPT(nn.Module):
    def __init__(self, c: GPTConfig) -> None:
        super().__init__()
        self.wte, self.wpe = nn.Embedding(c.vocab_size, c.n_embd), nn.Embedding(c.block_size, c.n_embd)
        self.blocks = nn.ModuleList(ReferenceBlock(c) for _ in range(c.n_layer))
        self.ln = nn.LayerNorm(c.n_embd)
        self.head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.head.weight = self.wte.weight

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.blocks:
            x = block(x)
        logits = self.head(self.ln(x))
        return logits, F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def peak_flops(device: str) -> float:
    n = 4096 if device == "cuda" else 1024
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    a, b = torch.randn(n, n, device=device, dtype=dtype), torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(3):
        a @ b
    sync(device)
    started, repeats = time.perf_counter(), 20
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2 * n**3 * repeats / (time.perf_counter() - started)


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def measure(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    config: GPTConfig,
    batch: int,
    steps: int,
    device: str,
    bf16: bool,
) -> float:
    data = torch.randint(0, config.vocab_size, (batch, config.block_size + 1), device=device)
    inputs, targets = data[:, :-1].contiguous(), data[:, 1:].contiguous()
    context = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else torch.autocast(device, enabled=False)
    for step in range(steps + 3):  # 3 warm-up steps
        if step == 3:
            sync(device)
            started = time.perf_counter()
        with context:
            _, loss = model(inputs, targets)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    sync(device)
    return batch * config.block_size * steps / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="tiny-1m")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    config = GPTConfig(vocab_size=4096, **PRESETS[args.preset])
    cuda = args.device == "cuda"
    peak = peak_flops(args.device)
    torch.manual_seed(0)
    reference = ReferenceGPT(config).to(args.device)
    reference_rate = measure(
        reference,
        torch.optim.AdamW(reference.parameters(), lr=1e-3, foreach=False),
        config,
        args.batch_size,
        args.steps,
        args.device,
        bf16=False,
    )
    torch.manual_seed(0)
    ours = GPT(config).to(args.device)
    ours_rate = measure(
        ours,
        torch.optim.AdamW(ours.parameters(), lr=1e-3, fused=cuda),
        config,
        args.batch_size,
        args.steps,
        args.device,
        bf16=cuda,
    )
    flops = ours.flops_per_token()
    name = torch.cuda.get_device_name() if cuda else f"CPU, {torch.get_num_threads()} threads"
    print(
        f"{args.preset}: {ours.parameter_count():,} parameters, context {config.block_size}, batch "
        f"{args.batch_size}, {args.steps} steps on {name}; measured peak {peak / 1e12:.2f} TFLOP/s"
    )
    for label, rate in [
        ("baseline: reference nanoGPT-style (fp32, manual attention)", reference_rate),
        ("synthloop GPT (SDPA" + (", bf16, fused AdamW)" if cuda else ", fp32)"), ours_rate),
    ]:
        print(f"{label:<60} {rate:>12,.0f} tokens/s  MFU {rate * flops / peak:6.1%}")
    print(f"ratio (synthloop / reference): {ours_rate / reference_rate:.2f}x")


if __name__ == "__main__":
    main()
