"""Every command's numeric and choice options, read from the parser itself (so an option added later is covered
without touching this file): each declares what it accepts, a value outside that is a one-line usage error naming
the option, with a non-zero exit and nothing created on disk, and the edges of what it accepts parse. Then the
option bugs of issue 15 (item 11) and commands that must check everything before they write (item 12)."""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED, run_cli
from synthloop.arguments import Choices, Number
from synthloop.cli import build_parser, main

REQUIRED_PATHS = {"--in": "missing-input", "--reference": "missing-input", "--model": "missing-model", "--out": "out"}


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """(command words, parser) of every leaf command, nested ones (vocab show) included."""
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield path, parser
    for action in subcommands:
        for name, child in action.choices.items():
            yield from commands(child, (*path, name))


def base_argv(words: tuple[str, ...], parser: argparse.ArgumentParser) -> list[str]:
    """The command with its required options, pointing at paths that do not exist."""
    argv = list(words)
    for action in parser._actions:
        if action.required and action.option_strings:
            option = action.option_strings[-1]
            argv += [option, REQUIRED_PATHS.get(option, "missing")]
    if words == ("review", "add-user"):
        argv.append("ann")  # the reviewer's name
    return argv


def typed_options() -> list[tuple[tuple[str, ...], argparse.ArgumentParser, argparse.Action]]:
    found = []
    for words, parser in commands(build_parser()):
        for action in parser._actions:
            if action.option_strings and (
                isinstance(action.type, Number) or action.type in (int, float) or action.choices is not None
            ):
                found.append((words, parser, action))
    return found


OPTIONS = typed_options()


def test_every_number_option_declares_its_range() -> None:
    bare = [f"{' '.join(w)} {a.option_strings[-1]}" for w, _, a in OPTIONS if a.type in (int, float)]
    assert not bare, f"declare the range of {bare} with synthloop.arguments.Number or from_field"
    assert len(OPTIONS) >= 40  # the walk over the parser finds them (vocab show's nested ones too)
    assert {("vocab", "show"), ("review", "serve"), ("sample",), ("train",)} <= {w for w, _, _ in OPTIONS}


def test_every_flag_and_command_has_help_text() -> None:
    """Each option and argument says what it is, beyond the range OneLineParser appends; hidden ones
    (argparse.SUPPRESS: the deprecated spellings of --reference) are the only exception."""
    bare = []
    for words, parser in commands(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction) or action.help == argparse.SUPPRESS:
                continue
            text = action.help or ""
            if isinstance(action.type, Number):
                text = text.removesuffix(f"({action.type.describe()})")
            if not text.strip():
                bare.append(f"{' '.join(words)} {'/'.join(action.option_strings) or action.dest}")
    assert not bare, f"give these options help text: {bare}"
    subcommands = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    assert all(choice.help for choice in subcommands[0]._choices_actions)


def test_one_name_for_the_human_corpus_and_the_old_ones_still_parse() -> None:
    parser = build_parser()
    for words, parser_ in commands(parser):
        assert not {"--real", "--text"} & set(parser_.format_help().split()), words  # hidden from --help
    reported = parser.parse_args(["report", "--in", "d", "--out", "o", "--reference", "r.jsonl"])
    assert reported.reference == Path("r.jsonl")
    assert parser.parse_args(["collapse", "--real", "r.jsonl", "--out", "o"]).reference == Path("r.jsonl")
    evaluated = parser.parse_args(["eval", "--model", "m", "--text", "a.jsonl", "--reference", "b.jsonl"])
    assert evaluated.reference == [Path("a.jsonl"), Path("b.jsonl")]


def outside(action: argparse.Action) -> st.SearchStrategy[str]:
    """Values the option must refuse."""
    if isinstance(action.type, Number):
        kind, low, high = action.type.kind, action.type.minimum, action.type.maximum
        below = (
            st.integers(max_value=int(low) - 1)
            if kind is int
            else st.floats(max_value=low, exclude_max=True, allow_nan=False)
        ).map(str)
        above = (
            st.integers(min_value=int(high) + 1)
            if kind is int
            else st.floats(min_value=high, exclude_min=True, allow_nan=False)
        ).map(str)
        odd = st.sampled_from(["nan", "inf", "-inf", "", "1e400", "one", "0x10", "²", "1_0x", " "])
        fractions = st.floats(min_value=low, max_value=high).filter(lambda v: v != int(v)).map(str)
        return st.one_of(below, above, odd, *([fractions] if kind is int and high - low >= 1 else []))
    choices = action.choices
    return st.text(max_size=12).filter(lambda text: text not in choices)  # type: ignore[operator]


def run_main(argv: list[str]) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    return code, stderr.getvalue()


@contextlib.contextmanager
def empty_folder(tmp_path: Path) -> Iterator[Path]:
    """A new empty working folder: whatever a command creates in it is there to see afterwards."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(before)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_value_outside_an_option_is_a_one_line_error_and_creates_nothing(tmp_path: Path, data: st.DataObject) -> None:
    words, parser, action = data.draw(st.sampled_from(OPTIONS), label="option")
    value = data.draw(outside(action), label="value")
    option = action.option_strings[-1]
    given_as = [f"{option}={value}"] if option.startswith("--") else [f"{option}{value}"]  # "-5" stays a value
    with empty_folder(tmp_path) as folder:
        code, stderr = run_main([*base_argv(words, parser), *given_as])
        created = list(folder.iterdir())
    lines = stderr.strip().splitlines()
    assert code == 2, (words, option, value, stderr)
    assert len(lines) == 1 and lines[0].startswith(f"synthloop: error: argument {option}"), lines
    assert not created, created


def test_the_edges_of_what_an_option_accepts_parse() -> None:
    parser = build_parser()
    for words, sub, action in OPTIONS:
        option = action.option_strings[-1]
        if isinstance(action.type, Number):
            edges = [action.type.minimum, action.type.maximum]
            values = [str(int(v)) if action.type.kind is int else repr(float(v)) for v in edges]
        else:
            values = list(action.choices.names if isinstance(action.choices, Choices) else action.choices)
        for value in values:
            args = parser.parse_args([*base_argv(words, sub), f"{option}={value}"])
            parsed = getattr(args, action.dest)
            assert parsed == (action.type(value) if isinstance(action.type, Number) else value)
            assert not isinstance(parsed, float) or math.isfinite(parsed)


def test_every_command_with_missing_inputs_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    """Inputs that are not there: each command says so in one line before it makes any folder or file."""
    for words, parser in commands(build_parser()):
        if words[0] in ("doctor", "plugins"):  # reports, not commands that fail on input
            continue
        argvs = [base_argv(words, parser)]
        if words == ("review", "serve"):
            argvs.append(["review", "--in", "missing-input"])  # no action: serve, as before actions were commands
        if words[0] in ("generate", "run", "plan", "curate"):
            argvs = [[*argvs[0], "--config", "missing.toml"]]
        if words == ("vocab", "show"):
            argvs = [[*argvs[0], "--vocab", "missing.tsv"]]
        for argv in argvs:
            with empty_folder(tmp_path) as folder:
                code, stderr = run_main(argv)
                created = list(folder.iterdir())
            assert code != 0 and len(stderr.strip().splitlines()) == 1, (argv, stderr)
            assert stderr.startswith("synthloop: error: ") and not created, (argv, stderr, created)


# The reported cases (item 11), each through the real CLI -------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["vocab", "show", "--samples", "-1"],  # was a traceback
        ["tokenizer", "--in", "x.jsonl", "--vocab-size", "0"],  # was exit 0 with a 257-token tokenizer
        ["tokenizer", "--in", "x.jsonl", "--vocab-size", "259"],  # train refuses < 260: now both do
        ["review", "--in", "ds", "--port", "99999"],  # was OverflowError after creating review.sqlite
        ["sample", "--model", "m", "--temperature", "-1"],  # these four were exit 0, silently
        ["sample", "--model", "m", "--max-tokens", "-5"],
        ["sample", "--model", "m", "--count", "-1"],
        ["sample", "--model", "m", "--top-k", "-3"],  # was RuntimeError
        ["sample", "--model", "m", "--device", "tpu"],  # was RuntimeError
        ["train", "--in", "x.jsonl", "--out", "run", "--preset", "cpu-tset"],  # wrote into --out first (item 12)
    ],
)
def test_reported_option_mistakes(tmp_path: Path, argv: list[str]) -> None:
    result = run_cli(*argv, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"synthloop: error: argument {argv[-2]}"), result.stderr
    assert not list(tmp_path.iterdir())


def test_a_vocabulary_whose_header_starts_with_a_bom_loads(tmp_path: Path) -> None:
    from synthloop.vocab import load_vocabulary

    path = tmp_path / "words.tsv"
    path.write_bytes("\ufeffword\tpos\trank\nball\tnoun\t1\nrun\tverb\t2\nhappy\tadjective\t3\n".encode())
    assert [e.word for e in load_vocabulary(path).entries] == ["ball", "run", "happy"]
    (tmp_path / "words.csv").write_bytes(b"\xef\xbb\xbfword,pos\ncat,noun\n")
    assert load_vocabulary(tmp_path / "words.csv").entries[0].word == "cat"
    assert run_cli("vocab", "show", "--vocab", str(path)).returncode == 0


# Item 12: a command checks all its arguments and inputs before it writes -----------------------------------------

STORIES = SHARED / "corpora" / "tinystories_sample.jsonl"
TRAIN = ["--max-steps", "1", "--batch-size", "2", "--block-size", "16", "--eval-every", "1", "--no-progress"]


@pytest.mark.slow
def test_train_mistakes_leave_out_untouched_and_the_corrected_command_runs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    bad_source = tmp_path / "bad.jsonl"
    bad_source.write_text('{"text": "a story"}\n{"text": \n', encoding="utf-8")
    for mistake in (
        ["--preset", "cpu-tset"],
        ["--tokenizer", str(tmp_path / "none.json")],
        ["--device", "cuda:7"],
        ["--in", str(bad_source)],
        ["--seed", str(2**64)],
    ):
        result = run_cli("train", "--in", str(STORIES), "--out", str(out), *TRAIN, *mistake)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, (mistake, result.stderr)
        assert not out.exists(), (mistake, list(out.iterdir()))
    corrected = run_cli(
        "train", "--in", str(STORIES), "--out", str(out), *TRAIN, "--preset", "cpu-test", "--vocab-size", "260"
    )
    assert corrected.returncode == 0, corrected.stderr
    tokenizer = run_cli("tokenizer", "--in", str(STORIES), "--vocab-size", "260", "--out", str(tmp_path / "t.json"))
    assert tokenizer.returncode == 0, tokenizer.stderr  # tokenizer and train accept the same smallest vocabulary


def test_train_from_python_refuses_a_typo_before_writing(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from synthloop.train.config import TrainConfig

    with pytest.raises(ValidationError, match="unknown preset 'cpu-tset'"):
        TrainConfig(sources=[str(STORIES)], out=tmp_path / "run", preset="cpu-tset")
    assert not (tmp_path / "run").exists()
