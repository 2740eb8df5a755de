"""ruff (lint + format) and mypy run as part of the test suite."""

import shutil
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.parametrize(
    "command",
    [
        ["ruff", "check", "src", "tests", "benchmarks", "scripts"],
        ["ruff", "format", "--check", "src", "tests", "benchmarks", "scripts"],
        ["mypy"],
    ],
    ids=["ruff-check", "ruff-format", "mypy"],
)
def test_static_checks(command: list[str]) -> None:
    tool = shutil.which(command[0]) or str(ROOT / ".venv" / "bin" / command[0])
    result = subprocess.run(
        [tool, *command[1:]] if command[0] != "mypy" else [sys.executable, "-m", "mypy"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
