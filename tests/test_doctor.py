"""`synthloop doctor` checks the real installation and names the fix for what is missing."""

from __future__ import annotations

from conftest import run_cli


def test_doctor_passes_here_and_fails_on_an_unwritable_output() -> None:
    result = run_cli("doctor")
    assert result.returncode == 0, result.stdout
    assert "ok    embedded model (SmolLM2-135M GGUF)" in result.stdout and "all required checks pass" in result.stdout
    bad = run_cli("doctor", "--out", "/dev/null/data")
    assert bad.returncode == 1
    line = next(line for line in bad.stdout.splitlines() if "output folder" in line)
    assert line.startswith("FAIL") and "-> fix: choose another --out" in line
