"""Every user mistake is one line on stderr and exit code 2, never a traceback; nothing written is damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli, scripted_config, snapshot


def assert_one_line_error(result, *fragments: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_vocab_show_prints_counts(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("ball noun\ncat noun\ndog noun\nrun verb\nhop verb\nred adjective\n")
    result = run_cli("vocab", "show", "--vocab", str(words), "--samples", "2", "--seed", "1")
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    assert result.stdout.splitlines()[0].endswith(": 6 words")
    assert lines["noun"][1] == "3" and lines["verb"][1] == "2" and lines["adjective"][1] == "1"
    nouns = " ".join(lines["noun"][3:]).split(", ")
    assert len(nouns) == 2 and set(nouns) <= {"ball", "cat", "dog"}  # two samples, drawn from the list
    assert lines["adjective"][3:] == ["red"]  # fewer words than --samples: all of them
    shipped = run_cli("vocab", "show", "--samples", "0")
    counts = {line.split()[0]: int(line.split()[1]) for line in shipped.stdout.splitlines()[1:]}
    assert shipped.returncode == 0 and sum(counts.values()) == int(shipped.stdout.split(": ")[1].split()[0])


@pytest.mark.parametrize(
    ("setting", "fragments"),
    [
        ("recipe.name=poems", ("unknown recipe 'poems'",)),
        ("backend.name=gpt9", ("unknown backend 'gpt9'",)),
        ("backend.options.temperatur=0.5", ("backend.options.temperatur", "Extra inputs")),
        ("backend.options.temperature=9", ("backend.options.temperature", "less than or equal to 2")),
        ("generate.shard_size=0", ("generate.shard_size",)),
    ],
)
def test_bad_settings(tmp_path: Path, setting: str, fragments: tuple[str, ...]) -> None:
    result = run_cli("generate", "--config", str(scripted_config(tmp_path, n=3)), "--set", setting)
    assert_one_line_error(result, *fragments)


def test_bad_inputs_each_one_line(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=3)
    assert_one_line_error(run_cli("generate", "--config", str(config), "-n", "0"), "argument -n", "'0'")
    assert_one_line_error(run_cli("generate", "--config", str(config), "-n", "-4"), "argument -n", "'-4'")
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("[run\n")
    assert_one_line_error(run_cli("generate", "--config", str(bad_toml)), "bad.toml", "malformed TOML")
    assert_one_line_error(run_cli("generate", "--config", str(tmp_path / "none.toml")), "config file not found")
    empty_vocab = tmp_path / "empty.txt"
    empty_vocab.write_text("")
    assert_one_line_error(
        run_cli("generate", "--config", str(config), "--set", f"vocab.path='{empty_vocab}'"), "empty.txt", "empty"
    )
    nouns_only = tmp_path / "nouns.txt"
    nouns_only.write_text("ball noun\ncat noun\n")
    assert_one_line_error(
        run_cli("generate", "--config", str(config), "--set", f"vocab.path='{nouns_only}'"), "no verbs"
    )
    assert_one_line_error(
        run_cli(
            "generate",
            "--config",
            str(config),
            "--set",
            "backend.name='embedded'",
            "--set",
            "backend.options={model_path='/no/such.gguf'}",
        ),
        "no such GGUF",
    )
    assert_one_line_error(
        run_cli(
            "generate",
            "--config",
            str(config),
            "--set",
            "backend.name='openai'",
            "--set",
            "backend.options={base_url='http://127.0.0.1:9/v1'}",
        ),
        "cannot reach",
    )
    assert_one_line_error(run_cli("vocab", "show", "--vocab", str(tmp_path / "missing.tsv")), "not found")


def test_output_folder_of_another_run(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=3)
    assert run_cli("generate", "--config", str(config)).returncode == 0
    before = snapshot(tmp_path / "out")
    result = run_cli("generate", "--config", str(config), "--set", "run.seed=99")
    assert_one_line_error(result, "holds another run's data", "seed")
    assert snapshot(tmp_path / "out") == before


def test_usage_errors_are_argparse_one_liners() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2 and "Traceback" not in result.stderr
