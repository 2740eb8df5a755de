"""The command line: thin commands that parse, build a config, call one library function and print the result.

The commands live in synthloop/commands/ by group (data pipeline, tiny model, review app) and in the components
that own them (quality); this module builds the parser from them and runs one. A user mistake (UserError) prints
one line `synthloop: error: ...` and exits 2; Ctrl-C exits 130 with a note that rerunning the same command
resumes. Every number an option takes has a declared range and every word a declared set
(synthloop/arguments.py), checked while parsing; each command then checks its inputs before it creates or changes
anything on disk.
"""

from __future__ import annotations

import argparse
import errno
import sys
from pathlib import Path

from synthloop.arguments import OneLineParser
from synthloop.errors import UserError

# Storage failures a user can fix (disk full, read-only or forbidden folder, file size limit): one line, not a trace.
STORAGE_ERRORS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EFBIG, errno.EDQUOT}


def cmd_doctor(args: argparse.Namespace) -> int:
    from synthloop.doctor import run_doctor

    return run_doctor(args.out)


def build_parser() -> argparse.ArgumentParser:
    from synthloop.commands import data, model, review
    from synthloop.quality.commands import add_commands as add_quality_commands

    parser = OneLineParser(prog="synthloop", description="Synthetic TinyStories-style data for small LMs.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    data.add_commands(commands)  # run, generate, curate, report, plan
    model.add_commands(commands)  # tokenizer, train, sample, eval, collapse
    review.add_commands(commands)
    add_quality_commands(commands)

    doctor = commands.add_parser("doctor", help="check the installation and say what to fix")
    doctor.add_argument("--out", type=Path, default=Path("data"), help="the output folder to check (default: data)")
    doctor.set_defaults(func=cmd_doctor)

    from synthloop.plugin_list import add_command as add_plugins_command

    add_plugins_command(commands)  # synthloop plugins [--options]
    data.add_vocab_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from synthloop.commands.review import with_default_action

    args = build_parser().parse_args(with_default_action(sys.argv[1:] if argv is None else list(argv)))
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
        print(
            f"synthloop: error: cannot write{where}: {error.strerror}; data written before is intact (every "
            "file is written to a temporary name and renamed), so rerun the same command once this is fixed",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
