"""Which generator setting gives the most keep-worthy stories per CPU-minute: one table, every variant, one run.

Each variant is the main config (configs/tinystories.toml) with a few `--set` overrides, run as the main job runs:
`synthloop generate` then `synthloop curate` with the main config's filters, on the same prompts (same seed and n).
The baseline is the untuned embedded model (SmolLM2-135M-Instruct as int8 for CTranslate2) without the quality
filter, as the main config was before the fine-tune. Columns: tokens/s of generation, the share of stories that used
all three required words, the share kept by every filter but `quality`, the share kept by all of them (quality
included: the model's estimate of keep-worthy), and kept stories per CPU-minute (user + system time of generate and
curate, both processes). The quality-kept column is an estimate by the shipped quality model; the closing note of
the issue gives the hand-labelled figures for the main variant.

    .venv/bin/python benchmarks/generator_variants.py [-n 48] [--variants base,tuned,tuned-t07,tuned-half]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from synthloop.store.dataset import Dataset

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "tinystories.toml"
VARIANTS = {
    "base": ["backend.options.adapter=null"],  # the untuned model (the main config before the fine-tune)
    "tuned": [],  # the main config as shipped
    "tuned-t07": ["backend.options.temperature=0.7"],
    "tuned-half": ["backend.options.adapter_strength=0.5"],
    "tuned-1try": ["generate.max_attempts=1"],
    # The larger embedded model (Qwen2.5-Coder-0.5B-Instruct, ~4x the parameters), untuned.
    "qwen": ["backend.options.model=qwen2.5-coder-0.5b", "backend.options.adapter=null"],
}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"failed: {' '.join(command)}\n{result.stderr[-2000:]}")


def measure(name: str, n: int, folder: Path) -> dict[str, object]:
    out, curated = folder / name, folder / f"{name}-curated"
    sets = [item for override in VARIANTS[name] for item in ("--set", override)]
    synthloop = [sys.executable, "-m", "synthloop.cli"]
    before = cpu_seconds()
    run([*synthloop, "generate", "--config", str(CONFIG), "-n", str(n), "--out", str(out), "--no-progress", *sets])
    generated = list(Dataset.open(out).iter_records())
    generate_cpu = cpu_seconds() - before
    run([*synthloop, "curate", "--in", str(out), "--out", str(curated), "--config", str(CONFIG), *sets])
    cpu = cpu_seconds() - before
    data = Dataset.open(curated)
    records = list(data.iter_records("data")) + list(data.iter_records("excluded"))
    flags = [set(r.flags) for r in records]
    kept_but_quality = sum(all(f.startswith("quality.") for f in fs) for fs in flags)
    kept = sum(not fs for fs in flags)
    all_three = sum(not any(f.startswith("constraints.missing_") for f in fs) for fs in flags)
    tokens = sum(r.tokens_out for r in generated)
    seconds = sum(r.latency_s for r in generated)
    return {
        "variant": name,
        "stories": len(records),
        "tok/s": round(tokens / max(seconds, 1e-9), 1),
        "all three words": round(all_three / len(records), 3),
        "kept (form filters)": round(kept_but_quality / len(records), 3),
        "kept (all, quality too)": round(kept / len(records), 3),
        "kept per CPU-minute": round(kept / (cpu / 60), 2),
        "CPU-minutes": round(cpu / 60, 2),
        "of which generate": round(generate_cpu / 60, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=48, help="stories per variant")
    parser.add_argument("--variants", default="base,tuned,tuned-t07,tuned-half", help="comma-separated names")
    parser.add_argument("--json", type=Path, help="also write the table here")
    args = parser.parse_args()
    names = [v for v in args.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown or args.n < 1:
        parser.error(f"unknown variants {unknown} (known: {', '.join(VARIANTS)}) or -n < 1")
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in names:
            rows.append(measure(name, args.n, Path(scratch)))
            print(json.dumps(rows[-1]), flush=True)
    columns = list(rows[0])
    print("\n| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
