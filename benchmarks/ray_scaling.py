"""Generation throughput with the Ray executor (1 and 2 local workers) against the local executor, same run.

The backend is the scripted test backend with a fixed latency per call (`--delay`, seconds), standing in for a
remote OpenAI-compatible server: waiting on a server is where more workers help on a small machine (the embedded
model is CPU-bound, so on 2 cores two workers only share the same cores). Each variant is a fresh CLI run; the
times include Ray's start-up and actor creation.

    .venv/bin/python benchmarks/ray_scaling.py [-n 80] [--delay 0.2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import run_cli, scripted_config  # noqa: E402


def timed(config: Path, out: Path, *extra: str) -> float:
    started = time.perf_counter()
    result = run_cli("generate", "--config", str(config), "--out", str(out), *extra, timeout=1800)
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=80)
    parser.add_argument("--delay", type=float, default=0.2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = scripted_config(Path(folder), n=args.n, delay_s=args.delay)
        rows = [("local executor", timed(config, Path(folder) / "local"))]
        for workers in (1, 2):
            seconds = timed(
                config, Path(folder) / f"ray{workers}", "--executor", "ray", "--set", f"execute.workers={workers}"
            )
            rows.append((f"ray, {workers} worker(s)", seconds))
        print(f"{args.n} stories, shard size 5, batch 2, backend latency {args.delay} s per call")
        for name, seconds in rows:
            print(f"{name:<22} {seconds:7.1f} s  {args.n / seconds:6.2f} stories/s  {rows[0][1] / seconds:5.2f}x local")


if __name__ == "__main__":
    main()
