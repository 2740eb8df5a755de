"""Shared fixtures: the scripted backend plugin on the real plugin path, and helpers to run the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from synthloop import plugins

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = ROOT.parent / "shared"
# Headless Chromium (apt's), as the browser tests launch it with Playwright.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def scripted_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setenv("SYNTHLOOP_PLUGINS", "scripted_backend")
    plugins.plugin_manager.cache_clear()
    yield
    plugins.plugin_manager.cache_clear()


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), env.get("PYTHONPATH", "")])
    env["SYNTHLOOP_PLUGINS"] = "scripted_backend"
    env["HF_HUB_OFFLINE"] = "1"
    return env


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "synthloop.cli", *args],
        capture_output=True,
        text=True,
        env=cli_env(),
        cwd=cwd,
        timeout=timeout,
    )


def refused_everywhere(root: Path, tmp_path: Path, *fragments: str) -> None:
    """curate, report, tokenizer and train each print one line holding `fragments`, exit 2 and write nothing."""
    for argv in (
        ["curate", "--in", str(root), "--out", str(tmp_path / "curated"), "--set", "curate.order=['form']"],
        ["report", "--in", str(root), "--out", str(tmp_path / "report")],
        ["tokenizer", "--in", str(root), "--out", str(tmp_path / "t.json")],
        ["train", "--in", str(root), "--out", str(tmp_path / "run")],
    ):
        result = run_cli(*argv)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, (argv, result.stderr)
        assert "Traceback" not in result.stderr and all(f in result.stderr for f in fragments), result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [root.name]  # no output was created


def snapshot(folder: Path) -> dict[Path, bytes]:
    """Every file under a folder with its bytes: to check that a refused command damaged nothing."""
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def scripted_config(tmp_path: Path, n: int = 12, **backend_options: object) -> Path:
    """A config file for the scripted backend; returns its path."""
    options = "\n".join(f"{k} = {v!r}" for k, v in backend_options.items())
    path = tmp_path / "scripted.toml"
    path.write_text(
        f'[run]\nn = {n}\nseed = 7\nout = "{tmp_path / "out"}"\n'
        '[recipe]\nname = "tinystories"\n'
        f'[backend]\nname = "scripted"\n[backend.options]\n{options}\n'
        "[generate]\nshard_size = 5\nbatch_size = 2\nmax_attempts = 2\nprogress = false\n",
        encoding="utf-8",
    )
    return path
