"""Fine-tune the embedded model (SmolLM2-135M-Instruct) with a LoRA adapter on prompt -> story pairs, on a CPU.

The base weights are the shipped GGUF, dequantised by transformers; only the adapter trains. The loss is on the
story tokens only (the prompt is masked), so the model learns to answer the main job's prompts, not to write them.
Batches are length-bucketed to waste little on padding. A checkpoint (adapter, optimiser, step) is written
atomically every `checkpoint_every` steps, and the data order is fixed by the seed, so a run killed at any point and
restarted continues on the same curve.
"""

from __future__ import annotations

import math
import os
import random
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from synthloop.store.atomic import atomic_write_json
from synthloop.tune import lora
from synthloop.tune.pairs import Pair
from synthloop.vocab.inflection import surface_forms


@dataclass
class TuneConfig:
    out: Path
    rank: int = 16
    alpha: float = 32.0
    lr: float = 3e-4
    batch_size: int = 8
    warmup_steps: int = 20
    max_length: int = 512  # tokens of prompt + story; longer stories are cut (TinyStories' are ~230)
    seed: int = 0
    checkpoint_every: int = 25
    threads: int = 0  # 0: torch's default (one per core)
    word_weight: float = 1.0  # loss weight of the required words' tokens (> 1 teaches the model to use them)
    micro_batch: int = 0  # pairs per forward/backward pass, gradients accumulated over the batch; 0: the whole batch
    # (a model with a large vocabulary needs it: Qwen2.5's 152k-token logits for a whole batch outgrow a machine's
    # memory; docs/experiments/generator-fine-tune.md)
    init_adapter: Path | None = None  # start from this adapter (continue an earlier fine-tune)
    # bf16 autocast: faster on a CPU with AVX512-BF16 (docs/experiments/generator-fine-tune.md); the adapter stays fp32
    bf16: bool = True
    meta: dict[str, Any] = field(default_factory=dict)  # recorded in the adapter's card


def load_base(gguf: Path) -> tuple[Any, Any]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model: Any = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    return model, tokenizer


Example = tuple[list[int], int, list[float]]  # token ids, prompt length, loss weight per story token


def word_spans(story: str, words: dict[str, str]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of the required words, in any inflection."""
    forms = sorted({f for role, word in words.items() for f in surface_forms(word, role)}, key=len, reverse=True)
    if not forms:
        return []
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in forms) + r")\b", re.IGNORECASE)
    return [match.span() for match in pattern.finditer(story)]


def encode(pair: Pair, tokenizer: Any, max_length: int, word_weight: float = 1.0) -> Example:
    """Token ids of prompt + story + end token, the prompt's length, and each story token's loss weight:
    `word_weight` on the tokens of the required words, 1 elsewhere."""
    prompt = tokenizer.apply_chat_template(pair.messages, add_generation_prompt=True, tokenize=False)
    prompt_ids = tokenizer(prompt, add_special_tokens=False).input_ids
    story = tokenizer(pair.story + tokenizer.eos_token, add_special_tokens=False, return_offsets_mapping=True)
    spans = word_spans(pair.story, pair.words) if word_weight != 1.0 else []
    weights = [
        word_weight if any(s < end and start < e for s, e in spans) else 1.0 for start, end in story.offset_mapping
    ]
    ids = (prompt_ids + story.input_ids)[:max_length]
    return ids, len(prompt_ids), weights[: max(0, len(ids) - len(prompt_ids))]


def batches(examples: list[Example], size: int, seed: int) -> list[list[int]]:
    """Indices grouped by length (so a batch pads little), in a seeded random order."""
    order = sorted(range(len(examples)), key=lambda i: len(examples[i][0]))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    random.Random(seed).shuffle(groups)
    return groups


def collate(examples: list[Example], pad_id: int) -> tuple[Any, Any, Any, Any]:
    import torch

    width = max(len(ids) for ids, _, _ in examples)
    input_ids = torch.full((len(examples), width), pad_id, dtype=torch.long)  # (B, T)
    labels = torch.full((len(examples), width), -100, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    weights = torch.zeros((len(examples), width))
    for row, (ids, prompt_len, story_weights) in enumerate(examples):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, prompt_len : len(ids)] = torch.tensor(ids[prompt_len:])
        weights[row, prompt_len : len(ids)] = torch.tensor(story_weights)
        mask[row, : len(ids)] = 1
    return input_ids, labels, mask, weights


def weighted_loss(model: Any, input_ids: Any, labels: Any, mask: Any, weights: Any, total: Any = None) -> Any:
    """Next-token cross-entropy on the story tokens, each weighted (the required words count more), divided by the
    sum of the weights (`total`: of the whole batch, when this is one micro-batch of it)."""
    import torch.nn.functional as F

    logits = model(input_ids=input_ids, attention_mask=mask).logits[:, :-1]  # (B, T-1, V)
    targets, target_weights = labels[:, 1:], weights[:, 1:]
    losses = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]).float(), targets.reshape(-1), ignore_index=-100, reduction="none"
    )
    if total is None:
        total = target_weights.sum()
    return (losses * target_weights.reshape(-1)).sum() / total.clamp(min=1e-9)


def learning_rate(step: int, total: int, config: TuneConfig) -> float:
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, total - config.warmup_steps)
    return config.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def mean_loss(model: Any, examples: list[Example], pad_id: int, size: int) -> float:
    import torch

    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(examples), size):
            input_ids, labels, mask, _ = collate(examples[start : start + size], pad_id)
            tokens = int((labels[:, 1:] != -100).sum())
            total += float(model(input_ids=input_ids, attention_mask=mask, labels=labels).loss) * tokens
            count += tokens
    return total / max(1, count)


def finetune(gguf: Path, train: list[Pair], held_out: list[Pair], config: TuneConfig, log: Any = print) -> dict:
    """Train the adapter; writes <out>/adapter.safetensors and <out>/card.json, returns the card."""
    import torch

    if config.threads:
        torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model, tokenizer = load_base(gguf)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    wrapped = lora.attach(model, config.rank, config.alpha)
    parameters = [p for layer in wrapped.values() for p in (layer.lora_a, layer.lora_b)]
    if config.init_adapter is not None:
        tensors, _ = lora.load(config.init_adapter)
        for layer_name, layer in wrapped.items():
            layer.lora_a.data.copy_(tensors[f"{layer_name}.lora_a"].float())
            layer.lora_b.data.copy_(tensors[f"{layer_name}.lora_b"].float())
    optimizer = torch.optim.AdamW(parameters, lr=config.lr, weight_decay=0.0)
    examples = [encode(pair, tokenizer, config.max_length, config.word_weight) for pair in train]
    held = [encode(pair, tokenizer, config.max_length) for pair in held_out]
    plan = batches(examples, config.batch_size, config.seed)
    config.out.mkdir(parents=True, exist_ok=True)
    checkpoint = config.out / "checkpoint.pt"
    step, losses = restore(checkpoint, wrapped, optimizer, log)
    started = time.perf_counter()
    model.train()
    while step < len(plan):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, len(plan), config)
        losses.append(train_step(model, [examples[i] for i in plan[step]], pad_id, parameters, optimizer, config))
        step += 1
        if step % 10 == 0 or step == len(plan):
            rate = (time.perf_counter() - started) / 60
            log(f"step {step}/{len(plan)} loss {sum(losses[-10:]) / len(losses[-10:]):.3f} ({rate:.1f} min)")
        if step % config.checkpoint_every == 0 or step == len(plan):
            save_checkpoint(checkpoint, wrapped, optimizer, step, losses)
    model.eval()
    card = {
        "base_model": gguf.name,
        "pairs": len(train),
        "steps": len(plan),
        "train_loss_first_10": round(sum(losses[:10]) / max(1, len(losses[:10])), 4),
        "train_loss_last_10": round(sum(losses[-10:]) / max(1, len(losses[-10:])), 4),
        "held_out_pairs": len(held),
        "held_out_loss": round(mean_loss(model, held, pad_id, config.batch_size), 4) if held else None,
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
    }
    sha = lora.save(config.out / "adapter.safetensors", wrapped, config.rank, config.alpha, card)
    card["sha256"] = sha
    atomic_write_json(config.out / "card.json", card, sort_keys=False)
    return card


def train_step(
    model: Any, group: list[Example], pad_id: int, parameters: list[Any], optimizer: Any, config: TuneConfig
) -> float:
    """One optimiser step over a batch (in micro-batches when `config.micro_batch` is set); returns its loss."""
    import torch

    total = torch.tensor(sum(float(sum(w)) for _, _, w in group))  # all story-token weights of the batch
    size = config.micro_batch or len(group)
    loss = torch.zeros(())
    for start in range(0, len(group), size):
        input_ids, labels, mask, weights = collate(group[start : start + size], pad_id)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            part = weighted_loss(model, input_ids, labels, mask, weights, total)
        part.backward()
        loss = loss + part.detach()
    torch.nn.utils.clip_grad_norm_(parameters, 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return round(float(loss.detach()), 4)


def restore(checkpoint: Path, wrapped: dict[str, Any], optimizer: Any, log: Any) -> tuple[int, list[float]]:
    """The step and losses so far, with the adapter and optimiser loaded from the checkpoint when there is one."""
    import torch

    if not checkpoint.exists():
        return 0, []
    state = torch.load(checkpoint, weights_only=False)
    for layer_name, layer in wrapped.items():
        layer.lora_a.data.copy_(state["lora"][f"{layer_name}.a"])
        layer.lora_b.data.copy_(state["lora"][f"{layer_name}.b"])
    optimizer.load_state_dict(state["optimizer"])
    log(f"resumed at step {state['step']}")
    return state["step"], state["losses"]


def save_checkpoint(checkpoint: Path, wrapped: dict[str, Any], optimizer: Any, step: int, losses: list[float]) -> None:
    """Adapter, optimiser, step and losses, written atomically."""
    import torch

    state = {
        "lora": {f"{n}.{k}": getattr(layer, f"lora_{k}").detach() for n, layer in wrapped.items() for k in ("a", "b")},
        "optimizer": optimizer.state_dict(),
        "step": step,
        "losses": losses,
    }
    temporary = checkpoint.with_suffix(".tmp")
    torch.save(state, temporary)
    temporary.replace(checkpoint)
