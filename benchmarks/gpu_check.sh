#!/usr/bin/env bash
# The GPU checks for training: throughput against the reference implementation at two preset sizes, then a real
# tiny-8m run on the TinyStories sample with evaluation and samples. Writes what it makes under $OUT.
#   OUT=/tmp/gpu DATA=../shared/corpora bash benchmarks/gpu_check.sh
set -uo pipefail
OUT=${OUT:-/tmp/gpu-check}
DATA=${DATA:-../shared/corpora}
PY=${PY:-python3}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$PY -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name())"
$PY benchmarks/train_throughput.py --preset tiny-8m --steps 30 --batch-size 32
$PY benchmarks/train_throughput.py --preset tiny-33m --steps 20 --batch-size 32
time $PY -m synthloop.cli train --in "$DATA/tinystories_sample.jsonl" --out "$OUT/run8m" --preset tiny-8m \
  --max-steps 600 --batch-size 32 --eval-every 100 --checkpoint-every 300 --no-progress
$PY -m synthloop.cli eval --model "$OUT/run8m" --text "$DATA/tinystories_sample.jsonl" \
  --text "$DATA/gutenberg_children.jsonl" --max-tokens 120
$PY -m synthloop.cli sample --model "$OUT/run8m" --count 3 --max-tokens 120 --temperature 0.7
rm -f "$OUT/run8m/model.pt" "$OUT/run8m/checkpoint.pt"  # too large to bring back; the curve and eval come back
