"""The documentation is checked like code, so that a page cannot drift from the project without a test failing.

In README.md, CONTRIBUTING.md and docs/**/*.md: every relative link resolves to a file or folder, and a `#anchor`
link to a heading of its target page (GitHub's slugs). Every command in a ```bash block names something real:
`synthloop ...` parses with the real CLI parser (synthloop.cli.build_parser; a placeholder such as FILE is fine
where it parses), `make X` names a Makefile target, and `python|bash path` names a file in the repository. Line
continuations (`\\`), comments, environment assignments and `nice`/`time` prefixes are handled as a shell would.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import ROOT

DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
SHELL_BLOCKS = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
HTML_ANCHOR = re.compile(r"<a\s+(?:id|name)=\"([^\"]+)\"")
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"(`+).+?\1")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
SEPARATORS = {"&&", "||", ";", "|", "&", ";;"}
WRAPPERS = {"nice": 0, "time": 0, "exec": 0, "timeout": 1}  # prefix commands and how many arguments they take
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass
class Page:
    path: Path
    prose: list[tuple[int, str]]  # (line number, text) outside code blocks
    blocks: list[tuple[str, int, list[str]]]  # (language, first line number, lines) of fenced code blocks


def read_page(path: Path) -> Page:
    page = Page(path, [], [])
    fence: str | None = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            page.blocks.append((opened.group(2).lower(), number + 1, []))
        elif fence is not None and line.strip().startswith(fence) and not line.strip().strip(fence[0]):
            fence = None
        elif fence is not None:
            page.blocks[-1][2].append(line)
        else:
            page.prose.append((number, line))
    return page


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: link text kept, markup and punctuation dropped, spaces as hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for _, line in read_page(path).prose:
        found.update(HTML_ANCHOR.findall(line))
        heading = HEADING.match(line)
        if not heading:
            continue
        base = slug(heading.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def link_problems(path: Path) -> list[str]:
    problems = []
    for number, line in read_page(path).prose:
        for target in LINK.findall(INLINE_CODE.sub("", line)):
            if SCHEME.match(target):
                continue  # http(s), mailto: not checked offline
            where, _, anchor = target.partition("#")
            resolved = (path.parent / unquote(where)).resolve() if where else path
            if not resolved.exists():
                problems.append(f"{shown(path)}:{number}: {target}: no such file")
            elif anchor and (resolved.suffix != ".md" or anchor not in anchors(resolved)):
                problems.append(f"{shown(path)}:{number}: {target}: no heading #{anchor} there")
    return problems


def shell_lines(block: list[str], first: int) -> list[tuple[int, str]]:
    """Logical lines of a shell block: continuations joined, each with the number of its first line."""
    lines: list[tuple[int, str]] = []
    pending, start = "", first
    for offset, line in enumerate(block):
        if not pending:
            start = first + offset
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        lines.append((start, pending + line))
        pending = ""
    if pending:
        lines.append((start, pending))
    return lines


def split_commands(line: str) -> list[list[str]]:
    """A shell line as the argv of each command in it (split at ; && || |), comments and redirections dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""  # shlex would also cut `a#b`; the shell starts a comment only at a word's start
    commands: list[list[str]] = [[]]
    tokens = iter(lexer)
    for token in tokens:
        if token.startswith("#"):
            break
        if token in SEPARATORS:
            commands.append([])
        elif token and set(token) <= set("<>&"):
            next(tokens, None)  # a redirection and its target
        elif token not in ("(", ")"):
            commands[-1].append(token)
    return [unwrap(argv) for argv in commands if unwrap(argv)]


def unwrap(argv: list[str]) -> list[str]:
    """The command itself, without environment assignments and prefixes such as `nice -n 19` or `time`."""
    while argv:
        if ENV_ASSIGNMENT.match(argv[0]):
            argv = argv[1:]
        elif argv[0] in WRAPPERS:
            rest = argv[1 + WRAPPERS[argv[0]] :]
            while rest and rest[0].startswith("-"):
                rest = rest[2:] if rest[0] == "-n" else rest[1:]
            argv = rest
        else:
            return argv
    return argv


@cache
def cli_parser() -> argparse.ArgumentParser:
    from synthloop.cli import build_parser

    return build_parser()


def synthloop_error(argv: list[str]) -> str | None:
    """None when argv parses with the real parser (as `synthloop` would parse it), else argparse's message."""
    from synthloop.commands.review import with_default_action

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            cli_parser().parse_args(with_default_action(argv))
    except SystemExit as exit:
        if exit.code not in (0, None):
            return stderr.getvalue().strip() or f"exit {exit.code}"
    return None


@cache
def make_targets() -> frozenset[str]:
    targets = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        rule = re.match(r"^([A-Za-z0-9_.$() /-]+?)\s*::?(?!=)", line)
        if rule and not line.startswith(("\t", " ")):
            targets.update(rule.group(1).split())
    return frozenset(targets)


def command_problem(argv: list[str]) -> tuple[str, str | None]:
    """(kind of command, what is wrong with it or None); kind "" for commands this test does not check."""
    program = Path(argv[0]).name
    if program == "synthloop":
        return "synthloop", synthloop_error(argv[1:])
    if program.startswith("python") and argv[1:3] in (["-m", "synthloop.cli"], ["-m", "synthloop"]):
        return "synthloop", synthloop_error(argv[3:])
    if program == "make":
        unknown = [t for t in argv[1:] if not t.startswith("-") and "=" not in t and t not in make_targets()]
        return "make", f"no Makefile target {unknown}" if unknown else None
    if program.startswith("python") or program in ("bash", "sh"):
        script = next((a for a in argv[1:] if not a.startswith("-")), None)
        if script is None or argv[1] in ("-m", "-c"):
            return "", None
        return "script", None if (ROOT / script).is_file() else f"no such file {script}"
    return "", None


def checked_commands(path: Path) -> list[tuple[int, str, list[str], str | None]]:
    found = []
    for language, first, block in read_page(path).blocks:
        if language not in SHELL_BLOCKS:
            continue
        for number, line in shell_lines(block, first):
            for argv in split_commands(line):
                kind, problem = command_problem(argv)
                if kind:
                    found.append((number, kind, argv, problem))
    return found


@pytest.mark.parametrize("path", DOCS, ids=shown)
def test_every_relative_link_resolves(path: Path) -> None:
    problems = link_problems(path)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", DOCS, ids=shown)
def test_every_command_in_a_bash_block_is_real(path: Path) -> None:
    problems = [
        f"{shown(path)}:{number}: {shlex.join(argv)}\n    {problem}"
        for number, _, argv, problem in checked_commands(path)
        if problem
    ]
    assert not problems, "\n".join(problems)


def test_the_docs_hold_commands_to_check() -> None:
    """Guard against a checker that silently checks nothing (a fence or parsing change)."""
    kinds = [kind for path in DOCS for _, kind, _, _ in checked_commands(path)]
    assert kinds.count("synthloop") >= 40
    assert kinds.count("make") >= 2
    assert kinds.count("script") >= 15


def test_the_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 200, f"README.md has {len(lines)} lines; move depth into docs/"
    assert "make run" in "\n".join(lines[:20]) and "make test" in "\n".join(lines[:20])


def test_the_checks_catch_broken_links_and_commands(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Other page\n\n## A section: here\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n[ok](other.md) [ok](other.md#a-section-here) [ok](#page) [web](https://example.org/x)\n"
        "[gone](missing.md) [bad anchor](other.md#nowhere) `[in code](missing.md)`\n\n"
        "```bash\n"
        "synthloop generate -n 5 --out data/x   # fine\n"
        "OPENAI_API_KEY=x nice -n 19 synthloop curate --in a \\\n    --out b && synthloop report --in a --out r\n"
        "synthloop generate --no-such-option\n"
        "synthloop train --in d --out r --preset huge\n"
        "make run && make deploy\n"
        ".venv/bin/python benchmarks/generate_throughput.py -n 2\n"
        "python benchmarks/no_such_benchmark.py\n"
        "```\n"
    )
    links = link_problems(page)
    assert [problem.split(": ")[1] for problem in links] == ["missing.md", "other.md#nowhere"]
    results = [(number, " ".join(argv), problem is None) for number, _, argv, problem in checked_commands(page)]
    assert results == [
        (7, "synthloop generate -n 5 --out data/x", True),
        (8, "synthloop curate --in a --out b", True),
        (8, "synthloop report --in a --out r", True),
        (10, "synthloop generate --no-such-option", False),
        (11, "synthloop train --in d --out r --preset huge", False),
        (12, "make run", True),
        (12, "make deploy", False),
        (13, ".venv/bin/python benchmarks/generate_throughput.py -n 2", True),
        (14, "python benchmarks/no_such_benchmark.py", False),
    ]
