"""Checkpoints that make resume exact: model, optimizer, step, loss curve and every RNG state, written atomically
(a kill during the write leaves the previous checkpoint intact)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from synthloop.store.atomic import atomic_write

CHECKPOINT = "checkpoint.pt"


def save_checkpoint(folder: Path, state: dict[str, Any]) -> None:
    state = dict(
        state,
        rng={
            "python": random.getstate(),
            "numpy": np.random.get_state(),
            "torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        },
    )
    atomic_write(folder / CHECKPOINT, lambda temp: torch.save(state, temp))


def load_checkpoint(folder: Path, device: str) -> dict[str, Any] | None:
    path = folder / CHECKPOINT
    if not path.exists():
        return None
    state: dict[str, Any] = torch.load(path, map_location=device, weights_only=False)
    rng = state["rng"]
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.set_rng_state(rng["torch"].cpu())
    if rng["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return state
