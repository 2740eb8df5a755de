"""The transformers backend: llama.cpp-style repeat penalty (unit), and real batched generation of the embedded
SmolLM2 GGUF on CPU through transformers, end to end through the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from conftest import run_cli
from synthloop.backends.base import Prompt
from synthloop.backends.transformers import TransformersBackend, TransformersOptions, penalize_recent
from synthloop.store.dataset import Dataset


def test_penalty_touches_only_recent_tokens_and_keeps_sign() -> None:
    scores = torch.tensor([[2.0, -2.0, 2.0, 4.0]])
    ids = torch.tensor([[2, 0, 1]])  # token 2 is outside the last two
    out = penalize_recent(ids, scores, 2.0, last_n=2)
    assert out.tolist() == [[1.0, -4.0, 2.0, 4.0]]
    assert penalize_recent(ids, scores, 1.0, last_n=2) is scores


def test_missing_model_is_a_user_error(tmp_path: Path) -> None:
    from synthloop.errors import UserError

    backend = TransformersBackend(TransformersOptions(model_path=tmp_path / "nope.gguf"))
    with pytest.raises(UserError, match="model_path"):
        backend.check()
    (tmp_path / "folder").mkdir()
    with pytest.raises(UserError, match=r"no config\.json"):
        TransformersBackend(TransformersOptions(model_path=tmp_path / "folder")).check()


@pytest.mark.slow
def test_real_gguf_batched_generation_is_seeded_and_counted() -> None:
    messages = [{"role": "user", "content": "Write a short story for children about a red ball."}]
    prompts = [Prompt(f"p{i}", messages, seed=i) for i in range(3)]
    backend = TransformersBackend(TransformersOptions(max_tokens=24, temperature=0.5, micro_batch=2, device="cpu"))
    try:
        first = backend.generate(prompts)
        again = backend.generate(prompts)
    finally:
        backend.close()
    assert len(first) == 3 and all(c.finish_reason in ("stop", "length") for c in first)
    assert all(c.tokens_in > 10 and 0 < c.tokens_out <= 24 and len(c.text.split()) >= 5 for c in first)
    assert [c.text for c in first] == [c.text for c in again]
    assert first[0].model == "SmolLM2-135M-Instruct.Q4_1"


@pytest.mark.slow
def test_cli_generates_with_the_transformers_backend(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = run_cli(
        "generate",
        "-n",
        "2",
        "--out",
        str(out),
        "--set",
        "backend.name=transformers",
        "--set",
        "backend.options.max_tokens=40",
        "--set",
        "backend.options.device=cpu",
        "--set",
        "generate.max_attempts=1",
    )
    assert result.returncode == 0, result.stderr
    records = list(Dataset.open(out).iter_records())
    assert len(records) == 2 and all(r.backend == "transformers" and r.tokens_out > 0 for r in records), records
