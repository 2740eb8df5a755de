"""Crash harness at full size: for each stage (generate, generate's retry of failed prompts, curate, train), 20
seeds, each killed with SIGKILL at two random points of its run and then rerun to completion; prints kills landed
and mismatches against an uninterrupted run (must be 0). The suite runs 2 seeds per stage
(tests/reliability/test_crash.py).

    .venv/bin/python benchmarks/crash_harness.py [--seeds 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "reliability")]

from crash_harness import curate_stage, generate_stage, retry_stage, run_seed, train_stage  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    args = parser.parse_args()
    corpus = ROOT.parent / "shared" / "corpora" / "tinystories_sample.jsonl"
    with tempfile.TemporaryDirectory() as folder:
        for name in ("generate", "retry", "curate", "train"):
            work = Path(folder) / name
            work.mkdir()
            builders = {"generate": generate_stage, "retry": retry_stage, "curate": curate_stage}
            stage = train_stage(work, corpus) if name == "train" else builders[name](work)
            started, landed, mismatches = time.perf_counter(), 0, 0
            for seed in range(args.seeds):
                try:
                    landed += run_seed(stage, work, seed)
                except AssertionError as error:
                    mismatches += 1
                    print(f"{name} seed {seed}: {error}")
            print(
                f"{name:9} seeds {args.seeds}  kills landed {landed}/{2 * args.seeds}  mismatches {mismatches}  "
                f"({time.perf_counter() - started:.0f} s; uninterrupted run {stage[2]:.1f} s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
