"""A newcomer's plugin of each kind, installed the way a package installs one (a `synthloop` entry point in its
dist-info, found by pluggy's load_setuptools_entrypoints), and run through the real commands: generate with a
plugin backend and a plugin recipe, curate with a plugin filter, `synthloop plugins --options` lists them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from conftest import TESTS

PLUGIN = """
from pydantic import Field

from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.curate.base import Filter, FilterOptions
from synthloop.plugins import hookimpl
from synthloop.recipes.base import Recipe, RecipeOptions


class EchoOptions(SamplingOptions):
    greeting: str = Field("Hello", description="how every story starts")
    workers: int = Field(1, ge=1, description="threads (speed only)")


class Echo(Backend[EchoOptions]):
    name = "echo"
    non_content = frozenset({"workers"})

    @property
    def model_name(self):
        return "echo-1"

    def generate(self, prompts):
        out = []
        for p in prompts:
            if "fail" in p.messages[-1]["content"]:
                out.append(Completion.failed("asked to fail", self.model_name))
                continue
            text = f"{self.options.greeting}. " + p.messages[-1]["content"] + " The end."
            out.append(Completion(text, "stop", 5, len(text.split()), 0.0, self.model_name))
        return out


class PoemOptions(RecipeOptions):
    topic: str = Field("the sea", description="what every poem is about")


class Poem(Recipe[PoemOptions]):
    name = "poem"

    def render(self, index):
        verb = "fail" if index % 4 == 3 else "sing"
        return self.make_record(index, f"Poem {index} about {self.options.topic}, {verb}.", {}, [])


class NoDigitsOptions(FilterOptions):
    max_digits: int = Field(0, ge=0, description="digits a story may contain")


class NoDigitsFilter(Filter[NoDigitsOptions]):
    name = "no-digits"

    def filter(self, record, view):
        digits = sum(c.isdigit() for c in record.text)
        self.score(record, "digits", digits)
        return True if digits <= self.options.max_digits else (False, "digits")


@hookimpl
def register_backends(register):
    register(Echo)


@hookimpl
def register_recipes(register):
    register(Poem)


@hookimpl
def register_filters(register):
    register(NoDigitsFilter)
"""


def install(folder: Path) -> dict[str, str]:
    """The plugin module plus the dist-info an installed package would have; the env to run synthloop with it."""
    (folder / "newcomer_plugin.py").write_text(PLUGIN)
    info = folder / "newcomer_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: newcomer-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[synthloop]\nnewcomer = newcomer_plugin\n")
    env = dict(os.environ, HF_HUB_OFFLINE="1", SYNTHLOOP_PLUGINS="")
    env["PYTHONPATH"] = os.pathsep.join([str(folder), str(TESTS), env.get("PYTHONPATH", "")])
    return env


def synthloop(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "synthloop.cli", *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result


def texts(folder: Path) -> list[str]:
    return [t for path in sorted(folder.glob("*.parquet")) for t in pq.read_table(path).column("text").to_pylist()]


def test_each_kind_of_plugin_runs_through_the_real_commands(tmp_path: Path) -> None:
    env = install(tmp_path)
    listing = synthloop(env, "plugins", "--options").stdout
    assert "  echo\n" in listing and "  poem\n" in listing and "  no-digits\n" in listing
    assert "greeting (str, default 'Hello'): how every story starts" in listing
    assert "workers (int, default 1; does not change content)" in listing
    config = tmp_path / "poems.toml"
    config.write_text(
        f'[run]\nn = 12\nseed = 1\nout = "{tmp_path / "out"}"\n[recipe]\nname = "poem"\n'
        '[recipe.options]\ntopic = "a cat"\n[backend]\nname = "echo"\n[backend.options]\ngreeting = "Hi"\n'
        "[generate]\nshard_size = 4\nbatch_size = 2\nmin_words = 0\nprogress = false\n"
    )
    synthloop(env, "generate", "--config", str(config))
    generated = texts(tmp_path / "out" / "data")
    assert generated == [f"Hi. Poem {i} about a cat, sing. The end." for i in range(12) if i % 4 != 3]
    assert len(texts(tmp_path / "out" / "failed")) == 3  # Completion.failed went where failures go
    # A speed-only option (non_content) resumes the same run; a content option is refused.
    synthloop(env, "generate", "--config", str(config), "--set", "backend.options.workers=4")
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "synthloop.cli",
            "generate",
            "--config",
            str(config),
            "--set",
            "backend.options.greeting='Yo'",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert refused.returncode == 2 and "backend_options" in refused.stderr
    synthloop(
        env,
        "curate",
        "--in",
        str(tmp_path / "out"),
        "--out",
        str(tmp_path / "curated"),
        "--set",
        "curate.order=['no-digits']",
        "--set",
        "curate.filters.no-digits={max_digits=1}",
    )
    kept = texts(tmp_path / "curated" / "data")
    assert kept == [t for t in generated if "Poem 10 " not in t] and len(kept) == 8
    stats = json.loads((tmp_path / "curated" / "stats.json").read_text())
    assert stats["excluded"] == 1 and "no-digits.digits" in json.dumps(stats)
