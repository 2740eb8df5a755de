"""The ctranslate2 backend: the embedded GGUF converted once to int8 and decoded in batches, for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import ROOT, run_cli
from synthloop.backends.base import Prompt
from synthloop.backends.ctranslate2 import CTranslate2Backend, CTranslate2Options
from synthloop.errors import UserError
from synthloop.store.dataset import Dataset


def test_not_a_ct2_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"not a CTranslate2 model folder \(no model\.bin\)"):
        CTranslate2Backend(CTranslate2Options(model_path=tmp_path)).check()


@pytest.mark.slow
def test_converted_embedded_model_generates_seeded_batches(tmp_path: Path) -> None:
    messages = [{"role": "user", "content": "Write a short story for children about a red ball."}]
    prompts = [Prompt(f"p{i}", messages, seed=i) for i in range(3)]
    texts = []
    for _ in range(2):  # a fresh model given the same batches in the same order makes the same stories
        backend = CTranslate2Backend(CTranslate2Options(max_tokens=40, temperature=0.5, max_batch_size=3))
        try:
            first = backend.generate(prompts)
            texts.append([c.text for c in first + backend.generate(prompts)])
        finally:
            backend.close()
    assert texts[0] == texts[1]
    assert all(c.tokens_in > 10 and 0 < c.tokens_out <= 40 and len(c.text.split()) >= 5 for c in first)
    assert len({c.text for c in first}) == 3 and first[0].model == "SmolLM2-135M-Instruct.Q4_1-ct2-int8"
    result = run_cli(
        "generate",
        "-n",
        "3",
        "--out",
        str(tmp_path / "run"),
        "--set",
        "backend.name=ctranslate2",
        "--set",
        "backend.options.max_tokens=40",
        "--set",
        "generate.max_attempts=1",
    )
    assert result.returncode == 0, result.stderr
    assert [r.backend for r in Dataset.open(tmp_path / "run").iter_records()] == ["ctranslate2"] * 3


@pytest.mark.slow
def test_main_config_merges_the_shipped_adapter(tmp_path: Path) -> None:
    """The main config's generator: the embedded model with the shipped LoRA adapter merged before conversion, in a
    cache folder of its own; it writes real stories through `synthloop generate`."""
    from synthloop.backends.ctranslate2 import convert_embedded
    from synthloop.backends.embedded import default_model_path
    from synthloop.tune.adapters import resolve

    gguf = default_model_path()
    assert gguf is not None
    adapter, sha = resolve("tinystories")
    tuned, base = convert_embedded(gguf, "int8", adapter, sha), convert_embedded(gguf, "int8")
    assert tuned != base and (tuned / "model.bin").exists()
    assert (tuned / "model.bin").read_bytes() != (base / "model.bin").read_bytes()
    out = tmp_path / "run"
    result = run_cli(
        "generate",
        "--config",
        str(ROOT / "configs" / "tinystories.toml"),
        "-n",
        "2",
        "--out",
        str(out),
        "--set",
        "backend.options.max_tokens=60",
        "--set",
        "generate.max_attempts=1",
        "--no-progress",
    )
    assert result.returncode == 0, result.stderr
    records = list(Dataset.open(out).iter_records())
    assert [r.model for r in records] == ["SmolLM2-135M-Instruct.Q4_1+tinystories-ct2-int8"] * 2
    assert all(len(r.text.split()) >= 10 for r in records)
