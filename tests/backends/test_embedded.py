"""The real embedded model: SmolLM2-135M through llama-cpp-python, end to end through the CLI."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, cli_env, run_cli
from synthloop.backends.base import Prompt
from synthloop.backends.embedded import EmbeddedBackend, EmbeddedOptions, default_model_path
from synthloop.store.dataset import Dataset

pytestmark = pytest.mark.slow


def test_model_file_ships_in_the_wheel() -> None:
    path = default_model_path()
    assert path is not None and path.stat().st_size > 50_000_000


def test_embedded_backend_writes_a_story_with_counts_and_timings() -> None:
    prompt = Prompt("p1", [{"role": "user", "content": "Write a short story for children about a red ball."}], 3)
    other = Prompt("p2", [{"role": "user", "content": "Write a poem."}], 3)
    first, second = (EmbeddedBackend(EmbeddedOptions(max_tokens=60, temperature=0.3)) for _ in range(2))
    try:
        [completion] = first.generate([prompt])
        second.generate([other])
        [again] = second.generate([prompt])
    finally:
        first.close()
        second.close()
    assert completion.finish_reason in ("stop", "length") and len(completion.text.split()) >= 10
    assert completion.tokens_in > 10 and 0 < completion.tokens_out <= 60 and completion.latency_s > 0
    assert completion.model == "SmolLM2-135M-Instruct.Q4_1"
    # Same seed, same story: in a fresh process, and after another prompt (llama.cpp may evaluate a prompt whose
    # exact tokens are already cached one token at a time, which changes float rounding, so that case is not used).
    assert again.text == completion.text


def test_main_config_on_llama_cpp_generates_real_stories_and_resumes_after_kill(tmp_path: Path) -> None:
    out = tmp_path / "run"
    # The main config with the base model: llama.cpp cannot merge the LoRA adapter the ctranslate2 backend uses.
    main = (ROOT / "configs" / "tinystories.toml").read_text(encoding="utf-8")
    config = tmp_path / "main-untuned.toml"
    config.write_text("\n".join(line for line in main.split("\n") if not line.startswith("adapter =")), "utf-8")
    args = [
        "generate",
        "--config",
        str(config),
        "--set",
        "backend.name=embedded",
        "-n",
        "4",
        "--out",
        str(out),
        "--set",
        "generate.shard_size=2",
        "--set",
        "generate.batch_size=1",
        "--set",
        "generate.max_attempts=1",
        "--set",
        "backend.options.max_tokens=80",
        "--no-progress",
    ]
    process = subprocess.Popen(
        [sys.executable, "-m", "synthloop.cli", *args],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 120
    while time.time() < deadline and not list((out / "work").glob("*.jsonl")):
        time.sleep(0.05)  # wait until at least one story is journaled, then kill mid-shard
    process.send_signal(signal.SIGKILL)
    process.wait()
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert "4 stories" in result.stdout
    stories = list(Dataset.open(out).iter_records())
    assert len({s.id for s in stories}) == 4
    assert all(s.backend == "embedded" and s.model == "SmolLM2-135M-Instruct.Q4_1" for s in stories)
    assert all(len(s.text.split()) > 5 and s.tokens_out > 0 for s in stories)


def test_the_larger_embedded_model_writes_through_llama_cpp() -> None:
    backend = EmbeddedBackend(EmbeddedOptions(model="qwen2.5-coder-0.5b", max_tokens=24, temperature=0.3))
    prompt = Prompt("q", [{"role": "user", "content": "Write one sentence about a red ball."}], 1)
    try:
        [completion] = backend.generate([prompt])
    finally:
        backend.close()
    assert completion.model == "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M" and completion.finish_reason in ("stop", "length")
    assert len(completion.text.split()) >= 3 and 0 < completion.tokens_out <= 24
