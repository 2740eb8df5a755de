"""The command line: thin commands that parse, build a config, call one library function and print the result.

A user mistake (UserError) prints one line `synthloop: error: ...` and exits 2; Ctrl-C exits 130 with a note that
rerunning the same command resumes.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from synthloop.config import Config
from synthloop.errors import UserError


def _config_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="TOML config file (see configs/)")
    parser.add_argument("-n", type=int, help="number of stories (overrides run.n)")
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
    return load_config(args.config, overrides)


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="synthloop", description="Synthetic TinyStories-style data for small LMs.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="the main job: generate, then summarise")
    _config_args(run)
    run.set_defaults(func=cmd_run)

    generate = commands.add_parser("generate", help="generate stories into a dataset folder (resumable)")
    _config_args(generate)
    generate.set_defaults(func=cmd_generate)

    curate = commands.add_parser("curate", help="verify, filter, dedup and decontaminate a dataset (resumable)")
    curate.add_argument("--in", dest="input", type=Path, required=True, help="a dataset folder made by generate")
    curate.add_argument("--out", type=Path, required=True, help="the curated dataset folder")
    curate.add_argument("--config", type=Path, help="TOML config; its [curate] section is used")
    curate.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    curate.set_defaults(func=cmd_curate, n=None, no_progress=True, config_out=None)

    report = commands.add_parser("report", help="metrics.json, an HTML report and a dataset card for a dataset")
    report.add_argument("--in", dest="input", type=Path, required=True, help="a dataset folder (curated or raw)")
    report.add_argument("--out", type=Path, required=True, help="folder for index.html, metrics.json, README.md")
    report.add_argument("--reference", type=Path, help="human stories to compare with (JSONL with 'text')")
    report.add_argument("--seed", type=int, default=0, help="seed of the samples quadratic metrics use")
    report.set_defaults(func=cmd_report)

    vocab = commands.add_parser("vocab", help="inspect a vocabulary")
    vocab_commands = vocab.add_subparsers(dest="vocab_command", required=True)
    show = vocab_commands.add_parser("show", help="counts per part of speech and sample words")
    show.add_argument("--vocab", type=Path, help="a word list (TSV/CSV/JSON/text); default: the shipped one")
    show.add_argument("--samples", type=int, default=8)
    show.add_argument("--seed", type=int, default=0)
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


if __name__ == "__main__":
    sys.exit(main())
