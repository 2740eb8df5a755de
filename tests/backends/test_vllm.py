"""The vllm backend: options and errors everywhere; real generation only where vLLM and CUDA are installed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import run_cli
from synthloop.backends.base import Prompt
from synthloop.backends.vllm import VLLMBackend, VLLMOptions
from synthloop.errors import UserError

HAVE_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.mark.skipif(HAVE_VLLM, reason="checks the message shown when vLLM is missing")
def test_missing_vllm_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"pip install 'synthloop\[vllm\]'"):
        VLLMBackend(VLLMOptions(model_path=tmp_path)).check()
    result = run_cli("generate", "-n", "1", "--out", str(tmp_path / "o"), "--set", "backend.name=vllm")
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "synthloop[vllm]" in result.stderr


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="gpu_memory_utilization"):
        VLLMOptions(gpu_memory_utilization=1.5)
    assert VLLMBackend(VLLMOptions(model_path=Path("/m/SmolLM2.gguf"))).model_name == "SmolLM2"


@pytest.mark.gpu
@pytest.mark.skipif(not HAVE_VLLM, reason="vLLM is not installed")
def test_real_vllm_generation(tmp_path: Path) -> None:
    import os

    model = os.environ.get("SYNTHLOOP_VLLM_MODEL")
    if not model:
        pytest.skip("set SYNTHLOOP_VLLM_MODEL to a local HF model folder")
    backend = VLLMBackend(VLLMOptions(model_path=Path(model), max_tokens=32))
    messages = [{"role": "user", "content": "Write a short story about a red ball."}]
    completions = backend.generate([Prompt("a", messages, 1), Prompt("b", messages, 2)])
    assert len(completions) == 2 and all(c.tokens_out > 0 and c.text for c in completions)
