"""The training loop: `train(cfg) -> RunResult`, callable from Python (the collapse lab trains one model per
generation) and from `synthloop train`.

AdamW (decay on matrices only), linear warmup then cosine (or constant) learning rate, gradient accumulation,
gradient clipping at 1.0, bf16 autocast on CUDA. Every step's batch and dropout seed derive from (seed, step), and
checkpoints hold every RNG state, so a run killed with -9 and restarted continues the very same loss curve.
Writes to the run folder: config.json, tokenizer.json, checkpoint.pt, model.pt, curve.json and curve.png.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synthloop.errors import UserError
from synthloop.store.atomic import atomic_write, atomic_write_json, atomic_write_text, clean_temp_files
from synthloop.store.claim import claim
from synthloop.train.config import DEVICE_PATTERN, DEVICES, RunResult, TrainConfig, preset_shape


def pick_device(requested: str) -> str:
    """auto (CUDA when there is one), cpu, cuda or cuda:N; a one-line UserError for anything else or a GPU that
    is not there."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cpu":
        return requested
    if requested not in DEVICES and not re.fullmatch(DEVICE_PATTERN, requested):
        raise UserError(f"device {requested!r}: expected {', '.join(DEVICES)} or cuda:N")
    if not torch.cuda.is_available():
        raise UserError(f"device {requested!r}: CUDA is not available on this machine")
    index = int(requested.partition(":")[2] or 0)
    if index >= torch.cuda.device_count():
        raise UserError(f"device {requested!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return requested


def learning_rate(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return cfg.learning_rate
    progress = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
    return cfg.min_learning_rate + 0.5 * (1 + math.cos(math.pi * min(1.0, progress))) * (
        cfg.learning_rate - cfg.min_learning_rate
    )


def folder_settings(cfg: TrainConfig) -> dict[str, Any]:
    return cfg.model_dump(mode="json", exclude={"progress", "threads", "max_steps"})


def check_folder(cfg: TrainConfig) -> None:
    """Refuse (writing nothing) a run folder that holds another training run or something else."""
    claim(cfg.out, "training", folder_settings(cfg), "config.json")


def model_shape(cfg: TrainConfig) -> dict[str, int]:
    try:
        shape = preset_shape(cfg.preset)
    except ValueError as error:
        raise UserError(f"--preset: {error}") from error
    if cfg.block_size:
        shape["block_size"] = cfg.block_size
    return shape


def build_model(cfg: TrainConfig, vocab_size: int) -> Any:
    from synthloop.train.model import GPT, GPTConfig

    return GPT(GPTConfig(vocab_size=vocab_size, dropout=cfg.dropout, **model_shape(cfg)))


@dataclass
class Run:
    """What the steps of one training run share: the model and optimiser, the encoded data, and the curve so far."""

    cfg: TrainConfig
    device: str
    model: Any  # GPT
    optimizer: Any  # torch.optim.AdamW
    autocast: Any  # bf16 autocast on CUDA, a disabled one on CPU
    sources: list[Any]  # data.Source, encoded
    start: int = 0  # the first step to run (after a resume: the checkpoint's)
    curve: list[dict[str, float]] = field(default_factory=list)

    def to_device(self, array: Any) -> Any:
        import torch

        return torch.from_numpy(array).to(self.device, non_blocking=True)


def train(cfg: TrainConfig) -> RunResult:
    device = pick_device(cfg.device)
    tokenizer, split = prepare_folder(cfg)
    run = build_run(cfg, device, tokenizer, split)
    started = time.perf_counter()
    tokens_done = run_steps(run)
    seconds = time.perf_counter() - started
    save_model(cfg.out, run.model)
    write_curve(cfg.out, run.curve)
    curve = run.curve
    validations = [p["validation_loss"] for p in curve if "validation_loss" in p]
    return RunResult(
        out=cfg.out,
        steps=len(curve),
        train_loss=curve[-1]["loss"] if curve else float("nan"),
        validation_loss=validations[-1] if validations else float("nan"),
        tokens_per_s=tokens_done / seconds if seconds > 0 and tokens_done else 0.0,
        parameters=run.model.parameter_count(),
        device=device,
        curve=curve,
    )


def prepare_folder(cfg: TrainConfig) -> tuple[Any, list[Any]]:
    """Check everything, then write the run folder's config.json, tokenizer.json and lineage.json; returns the
    tokenizer and the sources split into train and validation text."""
    import torch

    from synthloop.train import data
    from synthloop.train.tokenizer import load_tokenizer, save_tokenizer, train_tokenizer

    # Everything is checked before the run folder is touched: a mistake leaves --out as it was.
    model_shape(cfg)
    if cfg.tokenizer and not Path(cfg.tokenizer).is_file():
        raise UserError(f"--tokenizer {cfg.tokenizer}: no such file")
    given = load_tokenizer(Path(cfg.tokenizer)) if cfg.tokenizer else None
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    split = data.read_sources(cfg.sources, cfg.validation_fraction, cfg.seed)
    lineage = lineage_of(cfg)
    check_folder(cfg)
    tokenizer_path = cfg.out / "tokenizer.json"
    trained = None
    if given is None and not tokenizer_path.exists():
        trained = train_tokenizer((t for s in split for t in s.train), cfg.vocab_size)
    atomic_write_json(cfg.out / "config.json", folder_settings(cfg))
    clean_temp_files(cfg.out)  # a checkpoint write cut short by a kill
    if trained is not None:
        save_tokenizer(trained, tokenizer_path)
    if cfg.tokenizer and not tokenizer_path.exists():  # the run folder stays self-contained
        atomic_write_text(tokenizer_path, Path(cfg.tokenizer).read_text(encoding="utf-8"))
    tokenizer = given or load_tokenizer(tokenizer_path)
    atomic_write_json(cfg.out / "lineage.json", lineage)
    return tokenizer, split


def build_run(cfg: TrainConfig, device: str, tokenizer: Any, split: list[Any]) -> Run:
    """The model (seeded initial weights), AdamW with decay on matrices only, and the checkpoint's state if any."""
    import torch

    from synthloop.train import data
    from synthloop.train.checkpoint import load_checkpoint

    sources = data.encode_sources(split, tokenizer)
    torch.manual_seed(cfg.seed)  # the initial weights
    model = build_model(cfg, tokenizer.get_vocab_size()).to(device)
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.learning_rate,
        betas=(0.9, 0.95),
        fused=device.startswith("cuda"),
    )
    autocast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if device.startswith("cuda")
        else torch.autocast("cpu", enabled=False)
    )
    run = Run(cfg, device, model, optimizer, autocast, sources)
    state = load_checkpoint(cfg.out, device)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        run.start, run.curve = state["step"], state["curve"]
    return run


def run_steps(run: Run) -> int:
    """Steps from run.start to max_steps, with validation and checkpoints on their schedules; returns the tokens
    trained on."""
    from synthloop.train.progress import TrainProgress

    cfg = run.cfg
    tokens_per_step = cfg.batch_size * run.model.config.block_size * cfg.gradient_accumulation
    started, tokens_done = time.perf_counter(), 0
    run.model.train()
    with TrainProgress(cfg.max_steps, run.start, enabled=cfg.progress) as progress:
        for step in range(run.start, cfg.max_steps):
            step_loss = train_step(run, step)
            tokens_done += tokens_per_step
            point: dict[str, float] = {"step": step + 1, "loss": step_loss, "lr": learning_rate(cfg, step)}
            last = step + 1 == cfg.max_steps
            if (step + 1) % cfg.eval_every == 0 or last:
                point["validation_loss"] = validation_loss(run)
            run.curve.append(point)
            progress.update(step + 1, step_loss, tokens_done / (time.perf_counter() - started))
            if (step + 1) % cfg.checkpoint_every == 0 or last:
                save_run_checkpoint(run, step + 1)
    return tokens_done


def train_step(run: Run, step: int) -> float:
    """One optimiser step over gradient_accumulation micro-batches; returns its mean loss."""
    import torch

    from synthloop.train import data

    cfg, model, optimizer = run.cfg, run.model, run.optimizer
    torch.manual_seed(cfg.seed * 1_000_003 + step)  # dropout noise of this step, whatever came before
    for group in optimizer.param_groups:
        group["lr"] = learning_rate(cfg, step)
    step_loss = 0.0
    block = model.config.block_size
    for micro in range(cfg.gradient_accumulation):
        inputs, targets = data.batch(
            run.sources, "train", cfg.batch_size, block, cfg.seed, step * cfg.gradient_accumulation + micro
        )
        with run.autocast:
            _, loss = model(run.to_device(inputs), run.to_device(targets))
        (loss / cfg.gradient_accumulation).backward()
        step_loss += float(loss.detach()) / cfg.gradient_accumulation
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return step_loss


def validation_loss(run: Run) -> float:
    """Mean loss over eval_batches fixed validation batches (the same batches at every evaluation)."""
    import numpy as np
    import torch

    from synthloop.train import data

    cfg, model = run.cfg, run.model
    model.eval()
    losses = []
    with torch.no_grad():
        for index in range(cfg.eval_batches):
            inputs, targets = data.batch(
                run.sources, "validation", cfg.batch_size, model.config.block_size, cfg.seed, index
            )
            with run.autocast:
                losses.append(float(model(run.to_device(inputs), run.to_device(targets))[1]))
    model.train()
    return float(np.mean(losses))


def save_run_checkpoint(run: Run, steps_done: int) -> None:
    from synthloop.train.checkpoint import save_checkpoint

    state = {
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "step": steps_done,
        "curve": run.curve,
    }
    save_checkpoint(run.cfg.out, state)


def lineage_of(cfg: TrainConfig) -> dict[str, Any]:
    """lineage.json: the collapse-loop generation of each source, and the generation this model's output is."""
    from synthloop.store.texts import max_generation
    from synthloop.train.data import parse_source

    sources = {spec: max_generation(parse_source(spec)[0]) for spec in cfg.sources}
    synthetic = [g for g in sources.values() if g is not None]
    data_generation = max(synthetic) if synthetic else None  # None: human text only
    writes = 0 if data_generation is None else data_generation + 1
    return {
        "sources": sources,
        "data_generation": data_generation,
        "writes_generation": writes,
        "note": "set run.generation to writes_generation when generating with this model",
    }


def save_model(folder: Path, model: Any) -> None:
    import torch

    payload = {"config": model.config.to_dict(), "state": {k: v.cpu() for k, v in model.state_dict().items()}}
    atomic_write(folder / "model.pt", lambda temp: torch.save(payload, temp))


def write_curve(folder: Path, curve: list[dict[str, float]]) -> None:
    atomic_write_json(folder / "curve.json", curve, indent=None, sort_keys=False)
    if not curve:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5), dpi=100)
    axis.plot([p["step"] for p in curve], [p["loss"] for p in curve], label="train", alpha=0.7)
    validation = [p for p in curve if "validation_loss" in p]
    axis.plot([p["step"] for p in validation], [p["validation_loss"] for p in validation], "o-", label="validation")
    axis.set_xlabel("step")
    axis.set_ylabel("cross-entropy (nats/token)")
    axis.legend()
    figure.tight_layout()
    atomic_write(folder / "curve.png", lambda temp: figure.savefig(temp, format="png"))
    plt.close(figure)
