"""The command line: thin commands that parse, build a config, call one library function and print the result.

A user mistake (UserError) prints one line `synthloop: error: ...` and exits 2; Ctrl-C exits 130 with a note that
rerunning the same command resumes. Every number an option takes has a declared range and every word a declared
set (synthloop/arguments.py), checked while parsing; each command then checks its inputs before it creates or
changes anything on disk.
"""

from __future__ import annotations

import argparse
import errno
import math
import random
import sys
from pathlib import Path

from synthloop.arguments import Choices, Number, OneLineParser, from_field, seed, writable_file, writable_folder
from synthloop.config import Config, RunConfig
from synthloop.errors import UserError


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML config file (see configs/)")
    parser.add_argument("-n", type=from_field(RunConfig, "n"), help="number of stories (overrides run.n)")
    parser.add_argument("--out", type=Path, help="output dataset folder (overrides run.out)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, e.g. --set backend.options.temperature=0.5",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--executor", choices=["local", "ray"], help="where shards run (overrides execute.executor)")


def _retry_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retry-failed", action=argparse.BooleanOptionalAction, default=None,
                        help="send the prompts that failed in earlier runs again, keeping their ids (default: on; "
                        "overrides generate.retry_failed)")  # fmt: skip


def _load(args: argparse.Namespace) -> Config:
    from synthloop.config import load_config

    overrides = list(args.overrides)
    if args.n is not None:
        if args.n <= 0:
            raise UserError(f"-n {args.n}: the number of stories must be > 0")
        overrides.append(f"run.n={args.n}")
    if getattr(args, "out", None) is not None and args.func is not cmd_curate:
        overrides.append(f"run.out={str(args.out)!r}")
    if args.no_progress:
        overrides.append("generate.progress=false")
    if getattr(args, "retry_failed", None) is not None:
        overrides.append(f"generate.retry_failed={str(args.retry_failed).lower()}")
    if getattr(args, "executor", None):
        overrides.append(f"execute.executor={args.executor!r}")
    if getattr(args, "prices", None) is not None:
        overrides.append(f"cost.prices={str(args.prices)!r}")
    if getattr(args, "max_cost", None) is not None:
        overrides.append(f"cost.max_usd={args.max_cost!r}")
    return load_config(args.config, overrides)


def _cost_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--prices", type=Path, help='TOML price table: [prices."MODEL"] input/output_per_million')
    parser.add_argument(
        "--max-cost", type=Number(float, 1e-6, 1e9), metavar="USD", help="stop cleanly before the run costs more"
    )


def cmd_generate(args: argparse.Namespace) -> int:
    from synthloop.generate.runner import generate
    from synthloop.summary import print_generate_summary

    print_generate_summary(generate(_load(args)))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from synthloop.curate.runner import curate
    from synthloop.generate.runner import generate
    from synthloop.summary import print_curate_summary, print_generate_summary

    cfg = _load(args)
    from synthloop.curate.runner import filter_options

    filter_options(cfg)  # the curation settings, checked before anything is generated
    generated = generate(cfg)
    print_generate_summary(generated)
    curated = curate(cfg, generated.out, cfg.run.curated_out or Path(f"{cfg.run.out}-curated"))
    print_curate_summary(curated)
    from synthloop.report.runner import report

    reference = cfg.run.reference
    if reference is not None and not reference.exists():
        print(f"report:  reference corpus {reference} not found; the report will have no reference comparison")
        reference = None
    result = report(curated.out, cfg.run.report_out or Path(f"{cfg.run.out}-report"), reference)
    print(f"report:  {result.out / 'index.html'}  (metrics.json, dataset card README.md beside it)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from synthloop.report.runner import report

    writable_folder(args.out, "--out")
    result = report(args.input, args.out, args.reference, args.seed)
    print(f"report: {result.out / 'index.html'}")
    return 0


def cmd_curate(args: argparse.Namespace) -> int:
    from synthloop.curate.runner import curate
    from synthloop.summary import print_curate_summary

    print_curate_summary(curate(_load(args), args.input, args.out))
    return 0


def cmd_vocab_show(args: argparse.Namespace) -> int:
    from synthloop.vocab import POS_TAGS, load_vocabulary

    vocabulary = load_vocabulary(args.vocab)
    rng = random.Random(args.seed)
    print(f"vocabulary {vocabulary.source}: {len(vocabulary.entries)} words")
    for pos in POS_TAGS:
        entries = vocabulary.by_pos[pos]
        sample = sorted(e.word for e in rng.sample(entries, min(args.samples, len(entries))))
        print(f"  {pos:<10} {len(entries):>5}  e.g. {', '.join(sample)}")
    return 0


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
    import json

    from synthloop.store.atomic import atomic_write_text
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
    results = evaluate(load_model(args.model, args.device), args.text, beginnings, args.samples,
                       max_new_tokens=args.max_tokens, grader=grader)  # fmt: skip
    atomic_write_text(out, json.dumps(results, indent=1) + "\n")
    for path, value in results["perplexity"].items():
        print(f"perplexity {value['perplexity']:9.2f}  ({value['tokens']} tokens)  {path}")
    print(f"constraint following (Words: ... Story:): {results['constraint_following']['all_words_rate']:.0%}")
    if "grades" in results:
        grades = results["grades"]
        print("grades /10: " + ", ".join(f"{a} {grades[a]:.1f}" for a in ("grammar", "creativity", "consistency",
                                                                            "plot")))  # fmt: skip
    print(f"results: {out}")
    return 0


def cmd_collapse(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from synthloop.collapse.config import PRESETS, LabConfig
    from synthloop.collapse.lab import run_lab
    from synthloop.collapse.report import COLUMNS, value, write_report
    from synthloop.config import format_validation_error

    if args.preset not in PRESETS:
        raise UserError(f"--preset {args.preset!r}: expected one of {', '.join(PRESETS)}")
    settings = dict(PRESETS[args.preset]) | {"real": args.real, "out": args.out}
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
    results["real_source"] = str(args.real)
    page = write_report(results, args.out)
    print("regime        gen  " + "  ".join(f"{title[:22]:>22}" for _, title, _ in COLUMNS[:5]))
    for regime, rows in results["regimes"].items():
        for row in rows:
            cells = "  ".join(f"{value(row, key):>22.{digits}f}" for key, _, digits in COLUMNS[:5])
            print(f"{regime:<13} {row['generation']:>3}  {cells}")
    print(f"report: {page}  (metrics.json and PNG plots beside it; wall {results['wall_s']:.0f} s)")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from synthloop.plan import plan

    n = args.n
    if n is None:
        raise UserError("plan: give the run size with -n, e.g. -n 2000000")
    args.n = None  # the calibration size replaces run.n
    cfg = _load(args)
    estimate = plan(cfg, n, args.calibrate, cfg.cost.prices)
    c = estimate["calibration"]
    hours = estimate["seconds"] / 3600
    print(
        f"calibration: {c['stories']} stories in {c['seconds']:.1f} s, {c['tokens_per_s']:.1f} tok/s, "
        f"{c['attempts_per_story']:.2f} attempts/story, {c['kept_rate']:.0%} pass the per-story filters"
    )
    print(f"estimate for {n:,} stories with {estimate['model']}: {estimate['tokens_in']:,} tokens in, "
          f"{estimate['tokens_out']:,} out, {hours:,.1f} hours here ({hours / 24:,.1f} days), "
          f"~{estimate['kept_stories']:,} kept")  # fmt: skip
    if "generate_for_n_kept" in estimate:
        print(f"to keep {n:,} stories, generate about {estimate['generate_for_n_kept']:,}")
    if "cost_usd" in estimate:
        discount = " (batch API discount applied)" if estimate.get("batch") else ""
        print(f"cost: ${estimate['cost_usd']:,.2f} at the prices in {cfg.cost.prices}{discount}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from synthloop.doctor import run_doctor

    return run_doctor(args.out)


REVIEW_ACTIONS = ("serve", "add-user", "apply", "export", "stats")


def cmd_review(args: argparse.Namespace) -> int:
    import json

    action, *rest = args.action or ["serve"]
    if action not in REVIEW_ACTIONS:
        raise UserError(f"review {action}: expected one of {', '.join(REVIEW_ACTIONS)}")
    if (action == "add-user") != bool(rest) or len(rest) > 1:
        raise UserError("usage: synthloop review add-user NAME --in DATASET" if action == "add-user"
                        else f"review {action}: unexpected argument {rest[0]!r}")  # fmt: skip
    if action == "serve":
        try:
            from synthloop.review.app import serve
        except ImportError as error:
            raise UserError(f"the review app needs {error.name}: pip install 'synthloop[review]'") from error

        def ready() -> None:  # the port is bound and the dataset loaded: only now is the URL worth printing
            if args.host not in ("127.0.0.1", "localhost", "::1"):
                print(f"review: serving on {args.host}: reviewers' tokens travel unencrypted; put TLS in front")
            print(f"review: http://{args.host}:{args.port}/  (Ctrl-C stops; decisions are saved as they are made)",
                  flush=True)  # fmt: skip

        serve(args.input, args.host, args.port, args.db, ready=ready)
    elif action == "add-user":
        from synthloop.review.store import ReviewStore, check_reviewer_name, default_db
        from synthloop.store.dataset import Dataset

        dataset = Dataset.open(args.input)
        check_reviewer_name(rest[0])  # before the database is created
        token = ReviewStore(args.db or default_db(dataset.root)).add_reviewer(rest[0])
        print(f"reviewer {rest[0]} added; token (shown once, keep it secret):\n{token}")
    elif action in ("apply", "export"):
        if args.out is None:
            raise UserError(f"review {action}: --out is required")
        if action == "apply":
            from synthloop.review.apply import apply_review

            stats = apply_review(args.input, args.out, args.db, args.on_conflict)
            print(f"reviewed dataset: {args.out}  kept {stats['kept']}, excluded {stats['excluded']}; "
                  f"{json.dumps(stats['counts'])}")  # fmt: skip
        else:
            from synthloop.review.export import export

            count = export(args.input, args.out, args.format, args.db)
            print(f"exported {count} stories with their decisions ({args.format}): {args.out}")
    else:
        from synthloop.review.agreement import agreement
        from synthloop.review.apply import open_review

        print(json.dumps(agreement(open_review(args.input, args.db)[1].decisions()), indent=1))
    return 0


# Storage failures a user can fix (disk full, read-only or forbidden folder, file size limit): one line, not a trace.
STORAGE_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EDQUOT}


def build_parser() -> argparse.ArgumentParser:
    from synthloop.collapse.config import PRESETS as LAB_PRESETS
    from synthloop.collapse.config import LabConfig
    from synthloop.train.config import DEVICE_PATTERN, DEVICES, PRESET_NAMES, TrainConfig

    device_choices = Choices(*DEVICES, pattern=DEVICE_PATTERN)
    parser = OneLineParser(prog="synthloop", description="Synthetic TinyStories-style data for small LMs.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)

    run = commands.add_parser("run", help="the main job: generate, then summarise")
    _config_args(run)
    _cost_args(run)
    _retry_arg(run)
    run.set_defaults(func=cmd_run)

    generate = commands.add_parser("generate", help="generate stories into a dataset folder (resumable)")
    _config_args(generate)
    _cost_args(generate)
    _retry_arg(generate)
    generate.set_defaults(func=cmd_generate)

    curate = commands.add_parser("curate", help="verify, filter, dedup and decontaminate a dataset (resumable)")
    curate.add_argument("--in", dest="input", type=Path, required=True, help="a dataset folder made by generate")
    curate.add_argument("--out", type=Path, required=True, help="the curated dataset folder")
    curate.add_argument("--config", type=Path, help="TOML config; its [curate] section is used")
    curate.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    curate.add_argument("--executor", choices=["local", "ray"], help="ray: filters in parallel, then dedup here")
    curate.set_defaults(func=cmd_curate, n=None, no_progress=True, config_out=None)

    report = commands.add_parser("report", help="metrics.json, an HTML report and a dataset card for a dataset")
    report.add_argument("--in", dest="input", type=Path, required=True, help="a dataset folder (curated or raw)")
    report.add_argument("--out", type=Path, required=True, help="folder for index.html, metrics.json, README.md")
    report.add_argument("--reference", type=Path, help="human stories to compare with (JSONL with 'text')")
    report.add_argument("--seed", type=seed(), default=0, help="seed of the samples quadratic metrics use")
    report.set_defaults(func=cmd_report)

    tokenizer = commands.add_parser("tokenizer", help="train a byte-level BPE tokenizer on a dataset's text")
    tokenizer.add_argument("--in", dest="input", action="append", required=True, help="dataset or JSONL[:weight]")
    tokenizer.add_argument("--vocab-size", type=from_field(TrainConfig, "vocab_size"), default=4096,
                           help="tokens, as train's --vocab-size")  # fmt: skip
    tokenizer.add_argument("--out", type=Path, help="tokenizer.json path (default: beside the first --in)")
    tokenizer.add_argument("--seed", type=seed(), default=0)
    tokenizer.set_defaults(func=cmd_tokenizer)

    train = commands.add_parser("train", help="train a tiny GPT on datasets (resumable after kill -9)")
    train.add_argument(
        "--in",
        dest="input",
        action="append",
        required=True,
        help="dataset folder or JSONL of stories, optionally :weight; repeat to mix sources",
    )
    train.add_argument("--out", type=Path, required=True)
    train.add_argument("--preset", default="cpu-test", choices=PRESET_NAMES, metavar="PRESET",
                       help="tiny-1m|3m|8m|28m|33m|cpu-test|collapse-cpu")  # fmt: skip
    for name in ("max-steps", "batch-size", "gradient-accumulation", "block-size", "learning-rate", "warmup-steps",
                 "eval-every", "checkpoint-every", "vocab-size", "seed", "threads", "dropout"):  # fmt: skip
        field = name.replace("-", "_")
        train.add_argument(f"--{name}", dest=field, type=from_field(TrainConfig, field))
    train.add_argument("--schedule", choices=["cosine", "constant"])
    train.add_argument("--tokenizer", type=Path, help="an existing tokenizer.json (default: train one)")
    train.add_argument("--device", default="auto", choices=device_choices, metavar="DEVICE", help="auto|cpu|cuda[:N]")
    train.add_argument("--no-progress", action="store_true")
    train.set_defaults(func=cmd_train)

    sample = commands.add_parser("sample", help="sample stories from a trained model")
    sample.add_argument("--model", type=Path, required=True, help="a run folder made by train")
    sample.add_argument("--prompt", default="Once upon a time")
    sample.add_argument("--count", type=Number(int, 1, 10_000), default=3)
    sample.add_argument("--max-tokens", type=Number(int, 1, 100_000), default=200)
    sample.add_argument("--temperature", type=Number(float, 0, 100), default=0.8, help="0: always the likeliest")
    sample.add_argument("--top-k", type=Number(int, 0, 1_000_000), default=40, help="0: no top-k cut")
    sample.add_argument("--seed", type=seed(), default=0)
    sample.add_argument("--device", default="auto", choices=device_choices, metavar="DEVICE", help="auto|cpu|cuda[:N]")
    sample.set_defaults(func=cmd_sample)

    evaluate = commands.add_parser("eval", help="perplexity, completions, constraint following, optional grading")
    evaluate.add_argument("--model", type=Path, required=True)
    evaluate.add_argument("--text", type=Path, action="append", default=[], help="held-out stories (JSONL/dataset)")
    evaluate.add_argument("--beginnings", type=Path, help="JSONL with a 'prompt' field (default: shipped set)")
    evaluate.add_argument("--samples", type=Number(int, 1, 1000), default=1, help="completions per beginning")
    evaluate.add_argument("--max-tokens", type=Number(int, 1, 100_000), default=150, help="tokens per completion")
    evaluate.add_argument("--grader-config", type=Path, help="a config whose [backend] grades the completions")
    evaluate.add_argument("--out", type=Path, help="results JSON (default: <model>/eval.json)")
    evaluate.add_argument("--device", default="auto", choices=device_choices, metavar="DEVICE",
                          help="auto|cpu|cuda[:N]")  # fmt: skip
    evaluate.set_defaults(func=cmd_eval)

    collapse = commands.add_parser("collapse", help="the model-collapse lab: train on model output, generation after "
                                   "generation, under several data regimes")  # fmt: skip
    collapse.add_argument("--real", type=Path, required=True, help="real human text (JSONL or dataset)")
    collapse.add_argument("--out", type=Path, required=True)
    collapse.add_argument("--preset", default="cpu", choices=tuple(LAB_PRESETS),
                          help="cpu (under 30 min on 2 cores) | miniature (seconds)")  # fmt: skip
    collapse.add_argument("--generations", type=from_field(LabConfig, "generations"))
    collapse.add_argument("--regimes", help="comma-separated: replace, accumulate, mix:<real fraction>")
    collapse.add_argument("--documents", type=from_field(LabConfig, "documents"),
                          help="real training documents (and samples per generation)")  # fmt: skip
    collapse.add_argument("--steps", type=from_field(LabConfig, "steps"), help="training steps per generation")
    collapse.add_argument("--seed", type=from_field(LabConfig, "seed"))
    collapse.add_argument("--threads", type=from_field(LabConfig, "threads"))
    collapse.set_defaults(func=cmd_collapse)

    review = commands.add_parser("review", help="the human review web app, and applying its decisions to the data")
    review.add_argument("action", nargs="*", metavar="ACTION",
                        help="serve (default) | add-user NAME | apply | export | stats")  # fmt: skip
    review.add_argument("--in", dest="input", type=Path, required=True, help="a dataset folder (usually curated)")
    review.add_argument("--db", type=Path, help="review database (default: <dataset>/review/review.sqlite)")
    review.add_argument("--host", default="127.0.0.1", help="address to serve on (default: loopback only)")
    review.add_argument("--port", type=Number(int, 1, 65535), default=8000)
    review.add_argument("--out", type=Path, help="apply: the reviewed dataset folder; export: the output path")
    review.add_argument("--format", default="jsonl", choices=("jsonl", "argilla"), help="export: jsonl | argilla")
    review.add_argument("--on-conflict", default="reject", choices=("reject", "accept", "latest"),
                        help="apply: reject | accept | latest")  # fmt: skip
    review.set_defaults(func=cmd_review)

    planner = commands.add_parser("plan", help="estimate tokens, time and cost of a run from a short calibration")
    _config_args(planner)
    planner.add_argument("--calibrate", type=Number(int, 1, 100_000), default=8,
                         help="stories to generate for the calibration")  # fmt: skip
    planner.add_argument("--prices", type=Path, help='TOML price table: [prices."MODEL"] input/output_per_million')
    planner.set_defaults(func=cmd_plan)

    from synthloop.quality.commands import add_commands as add_quality_commands

    add_quality_commands(commands)

    doctor = commands.add_parser("doctor", help="check the installation and say what to fix")
    doctor.add_argument("--out", type=Path, default=Path("data"), help="the output folder to check (default: data)")
    doctor.set_defaults(func=cmd_doctor)

    from synthloop.plugin_list import add_command as add_plugins_command

    add_plugins_command(commands)  # synthloop plugins [--options]
    vocab = commands.add_parser("vocab", help="inspect a vocabulary")
    vocab_commands = vocab.add_subparsers(dest="vocab_command", required=True, parser_class=OneLineParser)
    show = vocab_commands.add_parser("show", help="counts per part of speech and sample words")
    show.add_argument("--vocab", type=Path, help="a word list (TSV/CSV/JSON/text); default: the shipped one")
    show.add_argument("--samples", type=Number(int, 0, 10_000), default=8, help="sample words per part of speech")
    show.add_argument("--seed", type=seed(), default=0)
    show.set_defaults(func=cmd_vocab_show)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except UserError as error:
        print(f"synthloop: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("synthloop: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except OSError as error:
        if error.errno not in STORAGE_ERRORS:
            raise
        where = f" {error.filename}" if error.filename else ""
        print(f"synthloop: error: cannot write{where}: {error.strerror}; data written before is intact (every "
              "file is written to a temporary name and renamed), so rerun the same command once this is fixed",
              file=sys.stderr)  # fmt: skip
        return 3


if __name__ == "__main__":
    sys.exit(main())
