from pathlib import Path

import pytest

from synthloop.config import load_config, parse_override
from synthloop.errors import UserError


def test_defaults_and_overrides(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text('[run]\nn = 5\n[backend]\nname = "embedded"\n')
    cfg = load_config(path, ["backend.options.temperature=0.5", "run.out=data/x", "generate.max_attempts=3"])
    assert cfg.run.n == 5
    assert cfg.backend.options == {"temperature": 0.5}
    assert str(cfg.run.out) == "data/x"
    assert cfg.generate.max_attempts == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[run\nn=1", "malformed TOML"),
        ("[run]\nnn = 3\n", "run.nn: Extra inputs are not permitted"),
        ("[run]\nn = 0\n", "run.n: Input should be greater than 0"),
        ("[run]\nn = 'many'\n", "run.n: Input should be a valid integer"),
        ("[generate]\nbatch_size = -1\n", "generate.batch_size"),
    ],
)
def test_bad_config_is_one_line_error_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(UserError) as caught:
        load_config(path)
    assert str(path) in str(caught.value)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_override_parsing() -> None:
    assert parse_override("a.b=1") == (["a", "b"], 1)
    assert parse_override("a=hello") == (["a"], "hello")
    assert parse_override("a=[1, 2]") == (["a"], [1, 2])
    assert parse_override("guard.reference=null") == (["guard", "reference"], None)
    assert load_config(None, ["guard.reference=null"]).guard.reference is None
    with pytest.raises(UserError):
        parse_override("novalue")


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_the_shipped_config_is_the_main_config() -> None:
    """What a command without --config reads (synthloop/data/tinystories.toml, inside the package) is
    configs/tinystories.toml byte for byte: edit the main config, copy it there."""
    from synthloop.config import shipped_config

    main = Path(__file__).resolve().parents[1] / "configs" / "tinystories.toml"
    assert shipped_config().read_bytes() == main.read_bytes(), "cp configs/tinystories.toml src/synthloop/data/"
    cfg = load_config(shipped_config())
    assert cfg.backend.name == "ctranslate2" and cfg.recipe.options["template"] == "small-model"
    assert cfg.backend.options["temperature"] == 0.3


def test_commands_without_config_read_the_shipped_one() -> None:
    import argparse

    from synthloop.cli import build_parser
    from synthloop.commands.common import load

    main = load_config(Path(__file__).resolve().parents[1] / "configs" / "tinystories.toml")
    for command in ("run", "generate", "plan"):
        args: argparse.Namespace = build_parser().parse_args([command, "-n", "3"])
        assert load(args) == main.model_copy(update={"run": main.run.model_copy(update={"n": 3})}), command
    other = load(
        build_parser().parse_args(
            ["generate", "--set", "backend.name=embedded", "--set", "backend.options.temperature=0.5"]
        )
    )
    assert other.backend.name == "embedded" and other.backend.options == {"temperature": 0.5}
    assert other.recipe == main.recipe


def test_switching_a_plugin_on_the_command_line_starts_it_from_its_own_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config written for one backend, another named with --set: the file's options stay with the old plugin
    (one line says which), the new one gets its defaults plus what --set gives it, and it validates."""
    from synthloop.backends.openai import OpenAIOptions
    from synthloop.config import validate_options

    path = tmp_path / "mine.toml"
    path.write_text('[backend]\nname = "ctranslate2"\n[backend.options]\nadapter = "tinystories"\ntemperature = 0.3\n')
    cfg = load_config(path, ["backend.name=openai", "backend.options.model=m", "recipe.name=tinystories"])
    assert cfg.backend.name == "openai" and cfg.backend.options == {"model": "m"}
    note = capsys.readouterr().err
    assert note.count("\n") == 1 and "adapter, temperature" in note and "--set backend.options.KEY=VALUE" in note
    assert validate_options(OpenAIOptions, cfg.backend.options, "backend.options").temperature == 0.7
    same = load_config(path, ["backend.name=ctranslate2", "backend.options.temperature=0.5"])
    assert same.backend.options == {"adapter": "tinystories", "temperature": 0.5}  # the same plugin keeps its own
