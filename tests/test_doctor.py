"""`synthloop doctor` checks the real installation and names the fix for what is missing."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli


def test_doctor_passes_here_and_fails_on_an_unwritable_output() -> None:
    result = run_cli("doctor")
    assert result.returncode == 0, result.stdout
    assert "ok    ctranslate2: importable; for backend ctranslate2 (the config's)" in result.stdout  # the main job's
    assert "all required checks pass" in result.stdout
    bad = run_cli("doctor", "--out", "/dev/null/data")
    assert bad.returncode == 1
    line = next(line for line in bad.stdout.splitlines() if "output folder" in line)
    assert line.startswith("FAIL") and "-> fix: choose another --out" in line


def test_the_configs_plugins_make_their_requirements_required() -> None:
    from synthloop.config import load_config
    from synthloop.doctor import checks

    cfg = load_config(None, ["backend.name='vllm'"])
    [vllm] = [c for c in checks(Path("data"), cfg) if c.name == "vllm"]
    assert (
        vllm.required and not vllm.ok and "synthloop[vllm]" in vllm.fix and "backend vllm (the config's)" in vllm.detail
    )
    [ct2] = [c for c in checks(Path("data"), cfg) if c.name == "ctranslate2"]
    assert not ct2.required and ct2.ok
