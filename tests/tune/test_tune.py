"""Fine-tuning pieces: prompt -> story pairs from human stories, LoRA attach/save/load/merge, shipped-adapter checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import SHARED
from synthloop.errors import UserError
from synthloop.recipes.tinystories import SMALL_MODEL_TEMPLATE
from synthloop.tune import lora
from synthloop.tune.adapters import resolve
from synthloop.tune.pairs import build_pairs
from synthloop.vocab import load_vocabulary
from synthloop.vocab.inflection import uses_word, word_tokens

SAMPLE = SHARED / "corpora" / "tinystories_sample.jsonl"


def test_pairs_ask_for_words_the_story_uses_in_the_main_jobs_prompt() -> None:
    stories = [json.loads(line)["text"] for line in SAMPLE.read_text().split("\n")[:40] if line.strip()]
    pairs = build_pairs(stories, load_vocabulary(), SMALL_MODEL_TEMPLATE, "You write stories.", seed=0, epochs=2)
    assert len(pairs) > 40  # two epochs, most stories offer all three roles
    for pair in pairs:
        tokens = set(word_tokens(pair.story))
        for role, word in pair.words.items():
            assert uses_word(tokens, word, role), (word, role)
        prompt = pair.messages[-1]["content"]
        assert prompt.startswith("Write a short, simple story for young children using these words: ")
        assert all(word in prompt for word in pair.words.values())
        assert pair.messages[0] == {"role": "system", "content": "You write stories."}
        if pair.features:
            assert pair.features == ["Dialogue"] and '"' in pair.story
    first = [p.words for p in pairs if p.story_index == 3]
    assert len(first) == 2  # one pair per epoch
    again = build_pairs(stories, load_vocabulary(), SMALL_MODEL_TEMPLATE, "You write stories.", seed=0, epochs=2)
    assert [p.words for p in again] == [p.words for p in pairs]


class Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q_proj = nn.Linear(8, 6, bias=False)
        self.other = nn.Linear(6, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.other(self.q_proj(x))


def test_lora_saved_and_merged_gives_the_adapted_outputs(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = Tiny()
    base = Tiny()
    base.load_state_dict(model.state_dict())
    wrapped = lora.attach(model, rank=2, alpha=4.0)
    assert list(wrapped) == ["q_proj"]
    assert not model.other.weight.requires_grad
    with torch.no_grad():
        wrapped["q_proj"].lora_b.normal_()
    x = torch.randn(3, 8)
    adapted = model(x)
    path = tmp_path / "adapter.safetensors"
    sha = lora.save(path, wrapped, rank=2, alpha=4.0, card={"note": "test"})
    assert sha == lora.sha256(path)
    assert lora.merge(base, path) == 1
    assert torch.allclose(base(x), adapted, atol=1e-2)  # the adapter is stored in fp16


def test_bad_adapters_are_one_line_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.safetensors"
    with pytest.raises(UserError, match="neither a shipped adapter"):
        resolve(str(missing))
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00" * 64)
    with pytest.raises(UserError, match="not a readable safetensors adapter"):
        resolve(str(junk))
    from safetensors.torch import save_file

    foreign = tmp_path / "foreign.safetensors"
    save_file({"x": torch.zeros(2)}, str(foreign), metadata={"format": "something-else"})
    with pytest.raises(UserError, match="not a synthloop LoRA adapter"):
        resolve(str(foreign))
    model = Tiny()
    wrapped = lora.attach(Tiny(), rank=2, alpha=2.0)
    path = tmp_path / "a.safetensors"
    lora.save(path, wrapped, 2, 2.0, {})
    model.q_proj = nn.Linear(8, 5, bias=False)  # another shape: an adapter for another model
    with pytest.raises(UserError, match="has shape"):
        lora.merge(model, path)
