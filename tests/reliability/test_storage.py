"""Disk full and read-only output: a clear one-line error, earlier data intact, and a rerun that finishes the job.

Runs the real CLI on a 160 KiB tmpfs inside a user and mount namespace (`unshare -rm`), so no root is needed;
skipped where the kernel does not allow unprivileged namespaces."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env, run_cli, scripted_config, snapshot
from synthloop.store.dataset import Dataset

SCRIPT = """
set -u
D=$1; H=$2; CFG=$3; PY=$4
mount -t tmpfs -o size=160k tmpfs "$D" || exit 90
"$PY" -m synthloop.cli generate --config "$CFG" -n 10 --out "$D/out"; echo "first=$?"
cp -a "$D/out" "$H/before"
"$PY" -m synthloop.cli generate --config "$CFG" -n 2000 --out "$D/out"; echo "full=$?"
cp -a "$D/out" "$H/after-full"
mount -o remount,ro "$D"
"$PY" -m synthloop.cli generate --config "$CFG" -n 2100 --out "$D/out"; echo "readonly=$?"
cp -a "$D/out" "$H/after-readonly"
"""


def namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


@pytest.mark.skipif(not namespaces_work(), reason="unprivileged user+mount namespaces are not available")
def test_disk_full_and_read_only_output(tmp_path: Path) -> None:
    (tmp_path / "mnt").mkdir()
    (tmp_path / "host").mkdir()
    (tmp_path / "script.sh").write_text(SCRIPT)
    config = scripted_config(tmp_path, n=10)
    result = subprocess.run(
        [
            "unshare",
            "-rm",
            "sh",
            str(tmp_path / "script.sh"),
            str(tmp_path / "mnt"),
            str(tmp_path / "host"),
            str(config),
            sys.executable,
        ],
        capture_output=True,
        text=True,
        env=cli_env(),
        timeout=300,
    )
    assert "first=0" in result.stdout and "full=2" in result.stdout and "readonly=2" in result.stdout, result
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 2 and all(line.startswith("synthloop: error: ") for line in errors), result.stderr
    assert "No space left on device" in errors[0] and "Read-only file system" in errors[1]
    host = tmp_path / "host"
    before, full = snapshot(host / "before"), snapshot(host / "after-full")
    for path, data in before.items():  # every finished shard of the earlier run is byte-for-byte intact
        if "/data/" in str(path):
            assert full[host / "after-full" / path.relative_to(host / "before")] == data
    assert snapshot(host / "after-readonly") == {
        host / "after-readonly" / p.relative_to(host / "after-full"): d for p, d in full.items()
    }
    partial = Dataset.open(host / "after-full")
    assert 10 < len(list(partial.iter_records())) < 2000  # every shard that is there reads back whole

    # With room again, the same command finishes the job: identical to an uninterrupted run.
    resumed = tmp_path / "resumed"
    shutil.copytree(host / "after-full", resumed)
    assert run_cli("generate", "--config", str(config), "-n", "2000", "--out", str(resumed)).returncode == 0
    clean = tmp_path / "clean"
    assert run_cli("generate", "--config", str(config), "-n", "2000", "--out", str(clean)).returncode == 0
    ours = {r.id: r.text for r in Dataset.open(resumed).iter_records()}
    assert ours == {r.id: r.text for r in Dataset.open(clean).iter_records()} and len(ours) == 2000
