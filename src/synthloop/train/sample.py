"""Load a trained run and sample stories from it (temperature and top-k)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthloop.errors import UserError


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    device: str

    @property
    def end_id(self) -> int:
        from synthloop.train.tokenizer import END_OF_TEXT

        return int(self.tokenizer.token_to_id(END_OF_TEXT))


def load_model(folder: Path, device: str = "auto") -> LoadedModel:
    import torch

    from synthloop.train.loop import pick_device
    from synthloop.train.model import GPT, GPTConfig
    from synthloop.train.tokenizer import load_tokenizer

    folder = Path(folder)
    if not (folder / "model.pt").exists():
        raise UserError(f"{folder}: no trained model (model.pt); train one with `synthloop train --out {folder}`")
    device = pick_device(device)
    payload = torch.load(folder / "model.pt", map_location=device, weights_only=False)
    model = GPT(GPTConfig(**payload["config"]))
    model.load_state_dict(payload["state"])
    model.to(device).eval()
    return LoadedModel(model, load_tokenizer(folder / "tokenizer.json"), device)


def generate(
    loaded: LoadedModel,
    prompt: str,
    max_new_tokens: int = 200,
    temperature: float = 0.8,
    top_k: int | None = 40,
    seed: int = 0,
) -> str:
    """The prompt's continuation, stopping at <|endoftext|>. temperature 0 takes the likeliest token; top_k 0 or
    None keeps every token."""
    import torch

    check_sampling(max_new_tokens, temperature, top_k)

    generator = torch.Generator(device=loaded.device).manual_seed(seed)
    ids = loaded.tokenizer.encode(prompt).ids if prompt else [loaded.end_id]
    tokens = torch.tensor([ids], dtype=torch.long, device=loaded.device)
    block = loaded.model.config.block_size
    produced: list[int] = []
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits, _ = loaded.model(tokens[:, -block:])
            logits = logits[:, -1, :].float()
            if temperature <= 0:
                next_id = int(logits.argmax(-1))
            else:
                logits = logits / temperature
                if top_k:
                    threshold = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
                    logits = logits.masked_fill(logits < threshold, float("-inf"))
                probabilities = torch.softmax(logits, dim=-1)
                next_id = int(torch.multinomial(probabilities, 1, generator=generator))
            if next_id == loaded.end_id:
                break
            produced.append(next_id)
            tokens = torch.cat([tokens, torch.tensor([[next_id]], device=loaded.device)], dim=1)
    return str(loaded.tokenizer.decode(produced))


def check_sampling(max_new_tokens: int, temperature: float, top_k: int | None) -> None:
    if max_new_tokens < 0:
        raise UserError(f"max tokens {max_new_tokens}: expected 0 or more")
    if not 0 <= temperature < float("inf"):
        raise UserError(f"temperature {temperature}: expected a number >= 0")
    if top_k is not None and top_k < 0:
        raise UserError(f"top-k {top_k}: expected 0 (off) or more")


def sample_batch(
    loaded: LoadedModel,
    count: int,
    max_new_tokens: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
    batch_size: int = 128,
) -> list[str]:
    """`count` unprompted samples (ancestral sampling from <|endoftext|>), batched with a key/value cache; each
    stops at <|endoftext|> or after max_new_tokens (at most the context length minus one)."""
    import torch

    check_sampling(max_new_tokens, temperature, top_k)
    generator = torch.Generator(device=loaded.device).manual_seed(seed)
    steps = min(max_new_tokens, loaded.model.config.block_size - 1)
    texts: list[str] = []
    with torch.no_grad():
        for start in range(0, count, batch_size):
            rows = min(batch_size, count - start)
            cache: list[dict[str, Any]] = [{} for _ in loaded.model.blocks]
            tokens = torch.full((rows, 1), loaded.end_id, dtype=torch.long, device=loaded.device)
            produced = torch.empty((rows, 0), dtype=torch.long, device=loaded.device)
            finished = torch.zeros(rows, dtype=torch.bool, device=loaded.device)
            for _ in range(steps):
                logits, _ = loaded.model(tokens, cache=cache)
                logits = logits[:, -1, :].float() / max(temperature, 1e-6)
                if top_k:
                    threshold = torch.topk(logits, min(top_k, logits.size(-1))).values[:, -1:]
                    logits = logits.masked_fill(logits < threshold, float("-inf"))
                tokens = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=generator)  # (B, 1)
                produced = torch.cat([produced, tokens], dim=1)
                finished |= tokens[:, 0] == loaded.end_id
                if bool(finished.all()):
                    break
            for row in produced.tolist():
                ids = row[: row.index(loaded.end_id)] if loaded.end_id in row else row
                texts.append(str(loaded.tokenizer.decode(ids)))
    return texts
