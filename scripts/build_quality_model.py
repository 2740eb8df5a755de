"""Rebuild the shipped quality model (src/synthloop/quality/data/default/) from shared data, reproducibly.

    .venv/bin/python scripts/build_quality_model.py [--out src/synthloop/quality/data/default]

Training material, all fixed files, fixed seed:
- ../shared/labels/stories_dev.jsonl: 108 stories judged against the rubric by two strong-LLM judges;
- src/synthloop/quality/data/labelled_generated.jsonl: stories of the fine-tuned embedded generator judged the same
  way (two blind judges; keep only where both kept), so the model learns sense among TinyStories-shaped stories and
  not only the style of one generator;
- ../shared/corpora/tinystories_sample.jsonl as unlabelled keep-worthy stories, minus the labelled ones;
- coherence negatives corrupted from those (quality/corrupt.py), as many as the positives.
It is the same code path as `synthloop quality train` (the command line is printed and run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PACKAGE_DATA = ROOT / "src" / "synthloop" / "quality" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PACKAGE_DATA / "default", help="model folder to (re)write")
    parser.add_argument("--held-out", type=float, default=0.3, help="share of labelled stories for the card")
    args = parser.parse_args()
    labels = SHARED / "labels" / "stories_dev.jsonl"
    generated = PACKAGE_DATA / "labelled_generated.jsonl"
    labelled = {
        json.loads(line)["text"].strip()[:80]
        for path in (labels, generated)
        for line in path.read_text(encoding="utf-8").split("\n")
        if line.strip()
    }
    with tempfile.TemporaryDirectory() as scratch:
        positives = Path(scratch) / "tinystories_unlabelled.jsonl"
        rows = [
            line
            for line in (SHARED / "corpora" / "tinystories_sample.jsonl").read_text(encoding="utf-8").split("\n")
            if line.strip() and json.loads(line)["text"].strip()[:80] not in labelled
        ]
        positives.write_text("\n".join(rows) + "\n", encoding="utf-8")
        staging = Path(scratch) / "model"
        command = [
            sys.executable,
            "-m",
            "synthloop.cli",
            "quality",
            "train",
            "--labels",
            str(labels),
            "--labels",
            str(generated),
            "--positives",
            str(positives),
            "--held-out",
            str(args.held_out),
            "--out",
            str(staging),
        ]
        print(" ".join(command), flush=True)
        subprocess.run(command, check=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if args.out.exists():
            shutil.rmtree(args.out)
        shutil.copytree(staging, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
