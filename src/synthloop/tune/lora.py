"""Low-rank adapters (LoRA, Hu et al. 2021) for the embedded model: attach, train, save, load, merge.

A LoRA layer adds (alpha / rank) * B @ A to a frozen Linear weight W (out, in), with A (rank, in) and B (out, rank);
B starts at zero, so training starts from the base model exactly. The adapter file is a safetensors file of the A
and B matrices per layer name plus its configuration in the metadata; merging writes W + (alpha / rank) * B @ A into
the base weights, which is how the CTranslate2 conversion gets the fine-tuned model (no runtime cost).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from synthloop.errors import UserError

TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
FORMAT = "synthloop-lora-1"


def attach(model: Any, rank: int, alpha: float, targets: tuple[str, ...] = TARGETS) -> dict[str, Any]:
    """Replace each target Linear by a LoRA-wrapped one; freeze everything else. Returns {layer name: module}."""
    import torch
    from torch import nn

    class LoRALinear(nn.Module):
        def __init__(self, base: nn.Linear) -> None:
            super().__init__()
            self.base = base
            self.scale = alpha / rank
            self.lora_a = nn.Parameter(torch.empty(rank, base.in_features))
            self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))
            nn.init.kaiming_uniform_(self.lora_a, a=5**0.5)

        def forward(self, x: Any) -> Any:
            return self.base(x) + (x @ self.lora_a.T @ self.lora_b.T) * self.scale

    for parameter in model.parameters():
        parameter.requires_grad_(False)
    wrapped: dict[str, Any] = {}
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if child_name in targets and isinstance(child, nn.Linear):
                layer = LoRALinear(child)
                setattr(module, child_name, layer)
                wrapped[f"{name}.{child_name}" if name else child_name] = layer
    if not wrapped:
        raise UserError(f"no layers named {', '.join(targets)} to adapt in this model")
    return wrapped


def save(path: Path, wrapped: dict[str, Any], rank: int, alpha: float, card: dict[str, Any]) -> str:
    """Write the adapter atomically; returns its SHA-256."""
    from safetensors.torch import save_file

    tensors = {}
    for name, layer in wrapped.items():
        tensors[f"{name}.lora_a"] = layer.lora_a.detach().to("cpu").half().contiguous()
        tensors[f"{name}.lora_b"] = layer.lora_b.detach().to("cpu").half().contiguous()
    metadata = {"format": FORMAT, "rank": str(rank), "alpha": str(alpha), "card": json.dumps(card, sort_keys=True)}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(temporary), metadata=metadata)
    temporary.replace(path)
    return sha256(path)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load(path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The adapter's tensors and metadata; a missing, corrupt or foreign file is a one-line error."""
    from safetensors import safe_open

    if not Path(path).is_file():
        raise UserError(f"{path}: no such adapter file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}  # noqa: SIM118 (not a dict)
    except Exception as error:  # safetensors raises its own error types for a damaged file
        raise UserError(f"{path}: not a readable safetensors adapter ({error})") from error
    if metadata.get("format") != FORMAT:
        raise UserError(f"{path}: not a synthloop LoRA adapter (format {metadata.get('format')!r}, expected {FORMAT})")
    return tensors, metadata


def merge(model: Any, path: Path, strength: float = 1.0) -> int:
    """Add the adapter at `path` (times `strength`: 1 is the trained adapter, 0 the base model) into the model's
    Linear weights in place; returns how many layers changed."""
    import torch

    tensors, metadata = load(path)
    scale = strength * float(metadata["alpha"]) / int(metadata["rank"])
    modules = dict(model.named_modules())
    names = sorted({key.rsplit(".", 1)[0] for key in tensors})
    for name in names:
        module = modules.get(name)
        if module is None or not hasattr(module, "weight"):
            raise UserError(f"{path}: adapter layer {name} is not in this model (an adapter for another model?)")
        a, b = tensors[f"{name}.lora_a"].float(), tensors[f"{name}.lora_b"].float()
        if (b.shape[0], a.shape[1]) != tuple(module.weight.shape):
            raise UserError(
                f"{path}: adapter layer {name} has shape {(b.shape[0], a.shape[1])}, model has "
                f"{tuple(module.weight.shape)}"
            )
        with torch.no_grad():
            module.weight += (b @ a * scale).to(module.weight.dtype)
    return len(names)
