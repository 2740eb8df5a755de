"""The tiny-model commands: tokenizer, train, sample, eval, and the model-collapse lab (collapse)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from synthloop.arguments import Choices, Number, from_field, seed, writable_file
from synthloop.commands.common import reference_arg
from synthloop.errors import UserError

# train's options that set a TrainConfig field of the same name (its range comes from the field): their help.
TRAIN_FIELDS = {
    "max-steps": "optimiser steps",
    "batch-size": "sequences per micro-batch",
    "gradient-accumulation": "micro-batches per optimiser step",
    "block-size": "context length in tokens (default: the preset's)",
    "learning-rate": "peak learning rate",
    "warmup-steps": "steps of linear warm-up",
    "eval-every": "steps between validation losses",
    "checkpoint-every": "steps between checkpoints (a killed run resumes from the last)",
    "vocab-size": "tokens of the tokenizer trained when --tokenizer is not given",
    "seed": "seed of the split, the initial weights and the batches",
    "threads": "CPU threads for torch (default: torch's)",
    "dropout": "dropout probability",
}
DEVICE_HELP = "auto|cpu|cuda[:N]"


def cmd_tokenizer(args: argparse.Namespace) -> int:
    from synthloop.train.data import read_sources
    from synthloop.train.tokenizer import save_tokenizer, train_tokenizer

    split = read_sources(args.input, 0.05, args.seed)
    path = args.out or (split[0].path if split[0].path.is_dir() else split[0].path.parent) / "tokenizer.json"
    writable_file(path, "--out")
    tokenizer = train_tokenizer((t for s in split for t in s.train), args.vocab_size)
    save_tokenizer(tokenizer, path)
    print(f"tokenizer: {path} ({tokenizer.get_vocab_size()} tokens, byte-level BPE)")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from synthloop.config import format_validation_error
    from synthloop.train.config import TrainConfig
    from synthloop.train.loop import train

    values = {k: v for k, v in vars(args).items() if k in TrainConfig.model_fields and v is not None}
    values["sources"], values["progress"] = args.input, not args.no_progress
    try:
        cfg = TrainConfig(**values)
    except ValidationError as error:
        raise UserError(format_validation_error("train", error)) from error
    result = train(cfg)
    print(
        f"model:   {result.out}/model.pt  ({result.parameters:,} parameters, {result.steps} steps on {result.device})"
    )
    print(
        f"loss:    train {result.train_loss:.3f}, validation {result.validation_loss:.3f} "
        f"(validation perplexity {math.exp(result.validation_loss):.1f}); {result.tokens_per_s:,.0f} tokens/s"
    )
    print(f"curves:  {result.out}/curve.json, {result.out}/curve.png")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from synthloop.train.sample import generate, load_model

    loaded = load_model(args.model, args.device)
    for index in range(args.count):
        text = generate(loaded, args.prompt, args.max_tokens, args.temperature, args.top_k, args.seed + index)
        print(f"--- sample {index + 1}\n{args.prompt}{text}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from synthloop.store.atomic import atomic_write_json
    from synthloop.train.evaluate import evaluate, shipped_beginnings
    from synthloop.train.sample import load_model

    out = args.out or args.model / "eval.json"
    writable_file(out, "--out")
    grader = None
    if args.grader_config:
        from synthloop.config import load_config
        from synthloop.generate.runner import build_backend

        grader = build_backend(load_config(args.grader_config))
    beginnings = shipped_beginnings()
    if args.beginnings:
        from synthloop.store.texts import read_texts

        beginnings = read_texts(args.beginnings, field="prompt")
    results = evaluate(
        load_model(args.model, args.device),
        args.reference,
        beginnings,
        args.samples,
        max_new_tokens=args.max_tokens,
        grader=grader,
    )
    atomic_write_json(out, results, indent=1, sort_keys=False)
    for path, value in results["perplexity"].items():
        print(f"perplexity {value['perplexity']:9.2f}  ({value['tokens']} tokens)  {path}")
    print(f"constraint following (Words: ... Story:): {results['constraint_following']['all_words_rate']:.0%}")
    if "grades" in results:
        grades = results["grades"]
        print(
            "grades /10: " + ", ".join(f"{a} {grades[a]:.1f}" for a in ("grammar", "creativity", "consistency", "plot"))
        )
    print(f"results: {out}")
    return 0


def cmd_collapse(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from synthloop.collapse.config import PRESETS, LabConfig
    from synthloop.collapse.lab import run_lab
    from synthloop.collapse.report import console_table, write_report
    from synthloop.config import format_validation_error

    if args.reference is None:
        raise UserError("collapse: give the human corpus with --reference FILE (JSONL or dataset)")
    if args.preset not in PRESETS:
        raise UserError(f"--preset {args.preset!r}: expected one of {', '.join(PRESETS)}")
    settings = dict(PRESETS[args.preset]) | {"real": args.reference, "out": args.out}
    for name in ("generations", "documents", "steps", "seed", "threads"):
        if getattr(args, name) is not None:
            settings[name] = getattr(args, name)
    if args.regimes:
        settings["regimes"] = [r.strip() for r in args.regimes.split(",") if r.strip()]
    try:
        cfg = LabConfig(**settings)
    except ValidationError as error:
        raise UserError(format_validation_error("collapse", error)) from error
    results = run_lab(cfg)
    results["real_source"] = str(args.reference)
    page = write_report(results, args.out)
    print(console_table(results))
    print(f"report: {page}  (metrics.json and PNG plots beside it; wall {results['wall_s']:.0f} s)")
    return 0


def add_commands(commands: Any) -> None:
    add_tokenizer(commands)
    add_train(commands)
    add_sample(commands)
    add_eval(commands)
    add_collapse(commands)


def device_argument(parser: argparse.ArgumentParser) -> None:
    from synthloop.train.config import DEVICE_PATTERN, DEVICES

    choices = Choices(*DEVICES, pattern=DEVICE_PATTERN)
    parser.add_argument("--device", default="auto", choices=choices, metavar="DEVICE", help=DEVICE_HELP)


def add_tokenizer(commands: Any) -> None:
    from synthloop.train.config import TrainConfig

    tokenizer = commands.add_parser("tokenizer", help="train a byte-level BPE tokenizer on a dataset's text")
    tokenizer.add_argument("--in", dest="input", action="append", required=True, help="dataset or JSONL[:weight]")
    tokenizer.add_argument(
        "--vocab-size", type=from_field(TrainConfig, "vocab_size"), default=4096, help="tokens, as train's --vocab-size"
    )
    tokenizer.add_argument("--out", type=Path, help="tokenizer.json path (default: beside the first --in)")
    tokenizer.add_argument("--seed", type=seed(), default=0, help="seed of the held-out split (left out of it)")
    tokenizer.set_defaults(func=cmd_tokenizer)


def add_train(commands: Any) -> None:
    from synthloop.train.config import PRESET_NAMES, TrainConfig

    train = commands.add_parser("train", help="train a tiny GPT on datasets (resumable after kill -9)")
    train.add_argument(
        "--in",
        dest="input",
        action="append",
        required=True,
        help="dataset folder or JSONL of stories, optionally :weight; repeat to mix sources",
    )
    train.add_argument("--out", type=Path, required=True, help="the run folder (model.pt, curves, checkpoints)")
    train.add_argument(
        "--preset",
        default="cpu-test",
        choices=PRESET_NAMES,
        metavar="PRESET",
        help="tiny-1m|3m|8m|28m|33m|cpu-test|collapse-cpu",
    )
    for name, help_text in TRAIN_FIELDS.items():
        field = name.replace("-", "_")
        train.add_argument(f"--{name}", dest=field, type=from_field(TrainConfig, field), help=help_text)
    train.add_argument("--schedule", choices=["cosine", "constant"], help="learning-rate schedule after warm-up")
    train.add_argument("--tokenizer", type=Path, help="an existing tokenizer.json (default: train one)")
    device_argument(train)
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=cmd_train)


def add_sample(commands: Any) -> None:
    sample = commands.add_parser("sample", help="sample stories from a trained model")
    sample.add_argument("--model", type=Path, required=True, help="a run folder made by train")
    sample.add_argument("--prompt", default="Once upon a time", help="the text every sample continues")
    sample.add_argument("--count", type=Number(int, 1, 10_000), default=3, help="samples to print")
    sample.add_argument("--max-tokens", type=Number(int, 1, 100_000), default=200, help="tokens per sample")
    sample.add_argument("--temperature", type=Number(float, 0, 100), default=0.8, help="0: always the likeliest")
    sample.add_argument("--top-k", type=Number(int, 0, 1_000_000), default=40, help="0: no top-k cut")
    sample.add_argument("--seed", type=seed(), default=0, help="seed of the first sample (the next ones add 1)")
    device_argument(sample)
    sample.set_defaults(func=cmd_sample)


def add_eval(commands: Any) -> None:
    evaluate = commands.add_parser("eval", help="perplexity, completions, constraint following, optional grading")
    evaluate.add_argument("--model", type=Path, required=True, help="a run folder made by train")
    reference_arg(
        evaluate,
        "--text",
        append=True,
        help="held-out human stories to measure perplexity on (JSONL or dataset; repeatable)",
    )
    evaluate.add_argument("--beginnings", type=Path, help="JSONL with a 'prompt' field (default: shipped set)")
    evaluate.add_argument("--samples", type=Number(int, 1, 1000), default=1, help="completions per beginning")
    evaluate.add_argument("--max-tokens", type=Number(int, 1, 100_000), default=150, help="tokens per completion")
    evaluate.add_argument("--grader-config", type=Path, help="a config whose [backend] grades the completions")
    evaluate.add_argument("--out", type=Path, help="results JSON (default: <model>/eval.json)")
    device_argument(evaluate)
    evaluate.set_defaults(func=cmd_eval)


def add_collapse(commands: Any) -> None:
    from synthloop.collapse.config import PRESETS as LAB_PRESETS
    from synthloop.collapse.config import LabConfig

    collapse = commands.add_parser(
        "collapse",
        help="the model-collapse lab: train on model output, generation after generation, under several data regimes",
    )
    reference_arg(
        collapse, "--real", help="the human corpus the lab starts from and mixes back in (JSONL or dataset; required)"
    )
    collapse.add_argument("--out", type=Path, required=True, help="folder for the report, metrics.json and plots")
    collapse.add_argument(
        "--preset",
        default="cpu",
        choices=tuple(LAB_PRESETS),
        help="cpu (6 generations x 3 regimes) | cpu-verify (does verification prevent collapse?) | miniature "
        "(mechanics only); their cost on 2 cores: docs/experiments/verification-vs-collapse.md",
    )
    collapse.add_argument(
        "--generations",
        type=from_field(LabConfig, "generations"),
        help="generation 0 plus this many - 1 trained on model output",
    )
    collapse.add_argument(
        "--regimes",
        help="comma-separated: replace, accumulate, accumulate-scaled, mix:<real fraction>; +curate or +form after "
        "one verifies its samples first, e.g. replace+curate",
    )
    collapse.add_argument(
        "--documents",
        type=from_field(LabConfig, "documents"),
        help="real training documents (and samples per generation)",
    )
    collapse.add_argument("--steps", type=from_field(LabConfig, "steps"), help="training steps per generation")
    collapse.add_argument("--seed", type=from_field(LabConfig, "seed"), help="seed of the lab (data and training)")
    collapse.add_argument("--threads", type=from_field(LabConfig, "threads"), help="CPU threads for torch")
    collapse.set_defaults(func=cmd_collapse)
