"""The data commands: run (generate, curate, report), generate, curate, report, plan, and vocab show."""

from __future__ import annotations

import argparse
import random
from pathlib import Path
from typing import Any

from synthloop.arguments import Number, seed, writable_folder
from synthloop.commands.common import (
    as_dict,
    config_args,
    cost_args,
    json_arg,
    load,
    print_json,
    reference_arg,
    retry_arg,
    summary_output,
)
from synthloop.errors import UserError


def cmd_generate(args: argparse.Namespace) -> int:
    from synthloop.generate.runner import generate
    from synthloop.summary import print_generate_summary

    with summary_output(args.json):
        result = generate(load(args))
        if not args.json:
            print_generate_summary(result)
    if args.json:
        print_json(as_dict(result))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from synthloop.curate.runner import curate, filter_options
    from synthloop.generate.runner import generate
    from synthloop.report.runner import report
    from synthloop.summary import print_curate_summary, print_generate_summary, quality_judged

    with summary_output(args.json):
        cfg = load(args)
        filter_options(cfg)  # the curation settings, checked before anything is generated
        generated = generate(cfg)
        if not args.json:
            print_generate_summary(generated)
        curated = curate(cfg, generated.out, cfg.run.curated_out or Path(f"{cfg.run.out}-curated"))
        if not args.json:
            print_curate_summary(curated)
        reference = cfg.run.reference
        if reference is not None and not reference.exists():
            print(f"report:  reference corpus {reference} not found; the report will have no reference comparison")
            reference = None
        reported = report(curated.out, cfg.run.report_out or Path(f"{cfg.run.out}-report"), reference)
        if not args.json:
            print(f"report:  {reported.out / 'index.html'}  (metrics.json, dataset card README.md beside it)")
            print_nothing_kept(reported.metrics, "report: ")
    if args.json:
        index = reported.out / "index.html"
        print_json(
            {
                "generate": as_dict(generated),
                "curate": curate_summary(curated, quality_judged),
                "report": {
                    "out": reported.out,
                    "index": index,
                    "reference": reference,
                    "nothing_kept": bool(reported.metrics.get("nothing_kept")),
                },
            }
        )
    return 0


def curate_summary(result: Any, quality_judged: Any) -> dict[str, Any]:
    judged = quality_judged(result.out)
    return {
        "out": result.out,
        "stats": result.stats,
        "quality_keep": None if judged is None else {"keep": judged[0], "scored": judged[1]},
    }


def cmd_curate(args: argparse.Namespace) -> int:
    from synthloop.curate.runner import curate
    from synthloop.summary import print_curate_summary, quality_judged

    with summary_output(args.json):
        result = curate(load(args), args.input, args.out)
        if not args.json:
            print_curate_summary(result)
    if args.json:
        print_json(curate_summary(result, quality_judged))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from synthloop.report.runner import report

    writable_folder(args.out, "--out")
    result = report(args.input, args.out, args.reference, args.seed)
    print(f"report: {result.out / 'index.html'}")
    print_nothing_kept(result.metrics, "report:")
    return 0


def print_nothing_kept(metrics: dict[str, Any], label: str) -> None:
    """An empty outcome is not an error (exit 0), but it is said plainly."""
    if metrics.get("nothing_kept"):
        print(f"{label} nothing was kept: the dataset holds no story; the report shows what was dropped and why")


def cmd_plan(args: argparse.Namespace) -> int:
    from synthloop.plan import plan

    n = args.n
    if n is None:
        raise UserError("plan: give the run size with -n, e.g. -n 2000000")
    args.n = None  # the calibration size replaces run.n
    with summary_output(args.json):
        cfg = load(args)
        estimate = plan(cfg, n, args.calibrate, cfg.cost.prices)
    if args.json:
        print_json({"n": n, "prices": cfg.cost.prices} | estimate)
        return 0
    c = estimate["calibration"]
    hours = estimate["seconds"] / 3600
    print(
        f"calibration: {c['stories']} stories in {c['seconds']:.1f} s, {c['tokens_per_s']:.1f} tok/s, "
        f"{c['attempts_per_story']:.2f} attempts/story, {c['kept_rate']:.0%} pass the per-story filters"
    )
    print(
        f"estimate for {n:,} stories with {estimate['model']}: {estimate['tokens_in']:,} tokens in, "
        f"{estimate['tokens_out']:,} out, {hours:,.1f} hours here ({hours / 24:,.1f} days), "
        f"~{estimate['kept_stories']:,} kept"
    )
    if "generate_for_n_kept" in estimate:
        print(f"to keep {n:,} stories, generate about {estimate['generate_for_n_kept']:,}")
    if "cost_usd" in estimate:
        discount = " (batch API discount applied)" if estimate.get("batch") else ""
        print(f"cost: ${estimate['cost_usd']:,.2f} at the prices in {cfg.cost.prices}{discount}")
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


def add_commands(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="the main job: generate stories, curate them, and report on the result "
        "(<out>, <out>-curated, <out>-report)",
    )
    config_args(run)
    cost_args(run)
    retry_arg(run)
    json_arg(run)
    run.set_defaults(func=cmd_run)

    generate = commands.add_parser("generate", help="generate stories into a dataset folder (resumable)")
    config_args(generate)
    cost_args(generate)
    retry_arg(generate)
    json_arg(generate)
    generate.set_defaults(func=cmd_generate)

    curate = commands.add_parser("curate", help="verify, filter, dedup and decontaminate a dataset (resumable)")
    curate.add_argument("--in", dest="input", type=Path, required=True, help="a dataset folder made by generate")
    curate.add_argument("--out", type=Path, required=True, help="the curated dataset folder")
    curate.add_argument(
        "--config",
        type=Path,
        help="TOML config; its [curate] section is used (default: the built-in curation defaults)",
    )
    curate.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override any config key, e.g. --set curate.filters.form={min_words=20}",
    )
    curate.add_argument("--executor", choices=["local", "ray"], help="ray: filters in parallel, then dedup here")
    json_arg(curate)
    curate.set_defaults(func=cmd_curate, n=None, no_progress=True, out_is_run_out=False, shipped_default=False)

    report = commands.add_parser("report", help="metrics.json, an HTML report and a dataset card for a dataset")
    report.add_argument("--in", dest="input", type=Path, required=True, help="a dataset folder (curated or raw)")
    report.add_argument("--out", type=Path, required=True, help="folder for index.html, metrics.json, README.md")
    reference_arg(report)
    report.add_argument("--seed", type=seed(), default=0, help="seed of the samples quadratic metrics use")
    report.set_defaults(func=cmd_report)

    planner = commands.add_parser("plan", help="estimate tokens, time and cost of a run from a short calibration")
    config_args(planner)
    planner.add_argument(
        "--calibrate", type=Number(int, 1, 100_000), default=8, help="stories to generate for the calibration"
    )
    planner.add_argument("--prices", type=Path, help='TOML price table: [prices."MODEL"] input/output_per_million')
    json_arg(planner)
    planner.set_defaults(func=cmd_plan)


def add_vocab_commands(commands: Any) -> None:
    vocab = commands.add_parser("vocab", help="inspect a vocabulary")
    vocab_commands = vocab.add_subparsers(dest="vocab_command", required=True, parser_class=type(vocab))
    show = vocab_commands.add_parser("show", help="counts per part of speech and sample words")
    show.add_argument("--vocab", type=Path, help="a word list (TSV/CSV/JSON/text); default: the shipped one")
    show.add_argument("--samples", type=Number(int, 0, 10_000), default=8, help="sample words per part of speech")
    show.add_argument("--seed", type=seed(), default=0, help="seed of the sample words")
    show.set_defaults(func=cmd_vocab_show)
