"""`synthloop review serve|add-user|apply|export|stats`: the human review web app and applying its decisions.

`synthloop review --in DATASET` (no action) still serves, as before the actions were subcommands: cli.main reads
it as `review serve --in DATASET`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from synthloop.arguments import Number
from synthloop.errors import UserError
from synthloop.review.choices import CONFLICT_RULES, FORMATS

ACTIONS = ("serve", "add-user", "apply", "export", "stats")


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from synthloop.review.app import serve
    except ImportError as error:
        raise UserError(f"the review app needs {error.name}: pip install 'synthloop[review]'") from error

    def ready() -> None:  # the port is bound and the dataset loaded: only now is the URL worth printing
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"review: serving on {args.host}: reviewers' tokens travel unencrypted; put TLS in front")
        print(
            f"review: http://{args.host}:{args.port}/  (Ctrl-C stops; decisions are saved as they are made)", flush=True
        )

    serve(args.input, args.host, args.port, args.db, ready=ready)
    return 0


def cmd_add_user(args: argparse.Namespace) -> int:
    from synthloop.review.store import ReviewStore, check_reviewer_name, default_db
    from synthloop.store.dataset import Dataset

    dataset = Dataset.open(args.input)
    check_reviewer_name(args.name)  # before the database is created
    token = ReviewStore(args.db or default_db(dataset.root)).add_reviewer(args.name)
    print(f"reviewer {args.name} added; token (shown once, keep it secret):\n{token}")
    return 0


def cmd_apply(args: argparse.Namespace) -> int:
    from synthloop.review.apply import apply_review

    stats = apply_review(args.input, args.out, args.db, args.on_conflict)
    print(
        f"reviewed dataset: {args.out}  kept {stats['kept']}, excluded {stats['excluded']}; "
        f"{json.dumps(stats['counts'])}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from synthloop.review.export import export

    count = export(args.input, args.out, args.format, args.db)
    print(f"exported {count} stories with their decisions ({args.format}): {args.out}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from synthloop.review.agreement import agreement
    from synthloop.review.apply import open_review

    print(json.dumps(agreement(open_review(args.input, args.db)[1].decisions()), indent=1))
    return 0


def dataset_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--in", dest="input", type=Path, required=True, help="a dataset folder (usually curated)")
    parser.add_argument("--db", type=Path, help="review database (default: <dataset>/review/review.sqlite)")


def add_commands(commands: Any) -> None:
    review = commands.add_parser("review", help="the human review web app, and applying its decisions to the data")
    actions = review.add_subparsers(
        dest="review_command", required=True, parser_class=type(review), metavar="ACTION", help=" | ".join(ACTIONS)
    )

    serve = actions.add_parser("serve", help="serve the review app (the default action)")
    dataset_args(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to serve on (default: loopback only)")
    serve.add_argument("--port", type=Number(int, 1, 65535), default=8000, help="port to serve on")
    serve.set_defaults(func=cmd_serve)

    add_user = actions.add_parser("add-user", help="add a reviewer and print their token (shown once)")
    add_user.add_argument("name", metavar="NAME", help="1-64 letters, digits, '-', '_' or '.'")
    dataset_args(add_user)
    add_user.set_defaults(func=cmd_add_user)

    apply = actions.add_parser("apply", help="write a reviewed dataset: decisions applied, rejects excluded")
    dataset_args(apply)
    apply.add_argument("--out", type=Path, required=True, help="the reviewed dataset folder")
    apply.add_argument(
        "--on-conflict",
        default="reject",
        choices=CONFLICT_RULES,
        help="reviewers disagree: reject the story, accept it, or take the latest verdict",
    )
    apply.set_defaults(func=cmd_apply)

    export = actions.add_parser("export", help="export the stories with their decisions")
    dataset_args(export)
    export.add_argument("--out", type=Path, required=True, help="the output file")
    export.add_argument(
        "--format",
        default="jsonl",
        choices=FORMATS,
        help="jsonl: one story with its decisions per line; argilla: Argilla records",
    )
    export.set_defaults(func=cmd_export)

    stats = actions.add_parser("stats", help="agreement between reviewers, as JSON")
    dataset_args(stats)
    stats.set_defaults(func=cmd_stats)


def with_default_action(argv: list[str]) -> list[str]:
    """`review --in X ...` (an option where the action goes) is `review serve --in X ...`."""
    if argv[:1] == ["review"] and len(argv) > 1 and argv[1].startswith("-") and argv[1] not in ("-h", "--help"):
        return ["review", "serve", *argv[1:]]
    return argv
