"""Property-based bad input: malformed configs, vocabulary files, dataset files and CLI options always give a
one-line UserError (never another exception), and curation never crashes on any text."""

from __future__ import annotations

import contextlib
import io
import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from synthloop.cli import main
from synthloop.config import load_config
from synthloop.errors import UserError
from synthloop.records import Record
from synthloop.store.dataset import Dataset, read_shard
from synthloop.store.texts import read_texts
from synthloop.vocab import load_vocabulary

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
KEYS = [
    "run",
    "run.n",
    "run.seed",
    "vocab.path",
    "backend",
    "backend.name",
    "backend.options",
    "recipe.name",
    "generate.shard_size",
    "generate.max_attempts",
    "curate.order",
    "curate.filters.vocab",
    "guard.window",
    "guard.action",
    "nonsense",
    "run.n.deeper",
]
ODD = st.sampled_from(["[", "]", "{", "'x'", '"', "=", "inf"])
VALUES = st.one_of(
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    ODD,
)


def one_line(error: Exception) -> None:
    text = str(error)
    assert text and "\n" not in text.strip() and "Traceback" not in text


@FAST
@given(st.text(max_size=300))
def test_any_toml_text_loads_or_is_a_user_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass") if "\ud800" not in text else None
    if not path.exists():
        return
    try:
        load_config(path)
    except UserError as error:
        one_line(error)


@FAST
@given(st.lists(st.tuples(st.sampled_from(KEYS), VALUES), max_size=4))
def test_any_override_is_applied_or_a_user_error(pairs: list[tuple[str, object]]) -> None:
    overrides = [f"{key}={json.dumps(value) if not isinstance(value, str) else value}" for key, value in pairs]
    try:
        load_config(None, overrides)
    except UserError as error:
        one_line(error)


@FAST
@given(st.sampled_from(["tsv", "csv", "json", "txt"]), st.text(alphabet=string.printable + "é\t\x00", max_size=400))
def test_any_vocabulary_file_loads_or_is_a_user_error(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"words.{suffix}"
    path.write_text(text, encoding="utf-8")
    try:
        vocabulary = load_vocabulary(path)
        assert len(vocabulary.words) > 0
    except UserError as error:
        one_line(error)
        assert str(path) in str(error)


@FAST
@given(st.binary(max_size=400), st.sampled_from(["jsonl", "parquet", "manifest"]))
def test_any_dataset_file_reads_or_is_a_user_error(tmp_path: Path, data: bytes, kind: str) -> None:
    folder = tmp_path / "ds"
    folder.mkdir(exist_ok=True)
    try:
        if kind == "jsonl":
            (tmp_path / "x.jsonl").write_bytes(data)
            read_texts(tmp_path / "x.jsonl")
        elif kind == "parquet":
            (tmp_path / "x.parquet").write_bytes(data)
            list(read_shard(tmp_path / "x.parquet"))
        else:
            (folder / "manifest.json").write_bytes(data)
            Dataset.open(folder)
    except UserError as error:
        one_line(error)


ARGV_PARTS = st.sampled_from(
    [
        "generate",
        "curate",
        "report",
        "train",
        "review",
        "collapse",
        "eval",
        "sample",
        "vocab",
        "show",
        "tokenizer",
        "--in",
        "--out",
        "-n",
        "--set",
        "--config",
        "--preset",
        "--model",
        "--real",
        "-1",
        "0",
        "abc",
        "/nonexistent/x",
        "run.n=0",
        "=",
        "--help-me",
        "add-user",
        "apply",
        "--format",
        "csv",
        "--regimes",
        "mix:9",
    ]
)


@settings(max_examples=40, deadline=None)
@given(st.lists(ARGV_PARTS, min_size=1, max_size=6))
def test_cli_mistakes_are_one_line_and_non_zero(argv: list[str]) -> None:
    if "/nonexistent/x" not in argv and "abc" not in argv and "-1" not in argv and "0" not in argv:
        argv = [*argv, "--in", "/nonexistent/x"]  # never let a fuzzed command start real work
    stderr, stdout = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    assert code != 0, (argv, stdout.getvalue())
    lines = stderr.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("synthloop: error: "), (argv, stderr.getvalue())


@pytest.fixture(scope="module")
def curate_step():  # type: ignore[no-untyped-def]
    from synthloop.curate.runner import build_filters
    from synthloop.curate.step import CurateStep

    cfg = load_config(None)
    context = {"vocabulary": load_vocabulary(None), "sample_texts": ["Once upon a time there was a cat."] * 3}
    return CurateStep(
        build_filters(
            cfg.model_copy(
                update={
                    "curate": cfg.curate.model_copy(update={"order": [o for o in cfg.curate.order if o != "decontam"]})
                }
            ),
            context,
        )
    )


TEXTS = st.one_of(
    st.text(max_size=2000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.sampled_from(
        [
            "",
            " ",
            "\x00" * 50,
            "a" * 100_000,
            "😀" * 500,
            "\u202e\u200b" * 40,
            "word " * 20_000,
            "\n\n\n",
            "<script>alert(1)</script>",
        ]
    ),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(TEXTS, min_size=1, max_size=5))
def test_curation_never_crashes_on_any_text(curate_step, texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    records = [
        Record(id=f"f{i}", text=t, words={"noun": "cat", "verb": "run", "adjective": "big"}, finish_reason="stop")
        for i, t in enumerate(texts)
    ]
    out = list(curate_step.run(records))
    assert len(out) == len(records) and all(r.meta.get("curation") in ("kept", "excluded") for r in out)
