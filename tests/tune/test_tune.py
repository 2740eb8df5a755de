"""Fine-tuning pieces: prompt -> story pairs from human stories, LoRA attach/save/load/merge, shipped-adapter checks."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
import torch
from torch import nn

from conftest import SHARED
from synthloop.errors import UserError
from synthloop.recipes.tinystories import SMALL_MODEL_TEMPLATE, TinyStories, TinyStoriesOptions
from synthloop.tune import lora
from synthloop.tune.adapters import resolve
from synthloop.tune.pairs import build_pairs, read_written_pairs
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


def test_written_pairs_ask_the_main_jobs_own_prompt(tmp_path: Path) -> None:
    recipe = TinyStories(TinyStoriesOptions(template="small-model", max_features=1), load_vocabulary(), seed=5)
    rows, records = [], [recipe.render(i) for i in range(3)]
    for record in records:
        story = "Once there was a " + " and a ".join(record.words.values()) + '. "Hi," said Sam.'
        rows.append({**record.words, "features": record.features, "story": story})
    path = tmp_path / "written.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    system = TinyStoriesOptions().system_prompt
    pairs = read_written_pairs(path, SMALL_MODEL_TEMPLATE, system)
    assert [p.messages for p in pairs] == [recipe.messages(r) for r in records]
    assert [p.story for p in pairs] == [row["story"] for row in rows]


def test_the_shipped_written_stories_answer_the_main_jobs_prompts() -> None:
    """Each shipped teacher story answers the prompt the main config's recipe renders for its id (seed 20261202,
    not the main job's seed), and every one uses its three words."""
    path = Path(str(resources.files("synthloop.tune").joinpath("data", "written_stories.jsonl")))
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
    assert len(rows) == 1040
    recipe = TinyStories(TinyStoriesOptions(template="small-model", max_features=1), load_vocabulary(), 20261202)
    for row in rows[::50]:
        record = recipe.render(int(row["id"][1:]))
        assert (record.words, record.features) == ({r: row[r] for r in record.words}, row["features"])
    pairs = read_written_pairs(path, SMALL_MODEL_TEMPLATE, TinyStoriesOptions().system_prompt)
    assert len(pairs) == len(rows)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"noun": "cat", "verb": "run", "story": "A cat ran."}, "line 1: expected a non-empty string 'adjective'"),
        ({"noun": "cat", "verb": "run", "adjective": "big", "story": "A cat ran."}, "does not use all of cat, run"),
        ({"noun": "cat", "verb": "run", "adjective": "big", "story": "A big cat ran.", "features": ["X"]}, "features"),
    ],
)
def test_a_bad_written_stories_file_is_one_line_error(tmp_path: Path, row: dict, expected: str) -> None:
    path = tmp_path / "written.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(UserError, match=expected):
        read_written_pairs(path, SMALL_MODEL_TEMPLATE, "")


def test_a_missing_written_stories_file_is_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file"):
        read_written_pairs(tmp_path / "absent.jsonl", SMALL_MODEL_TEMPLATE, "")
    with pytest.raises(UserError, match="no such file"):
        read_written_pairs(tmp_path, SMALL_MODEL_TEMPLATE, "")


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


def test_an_adapter_trained_on_another_base_model_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.safetensors"
    lora.save(path, lora.attach(Tiny(), rank=2, alpha=2.0), 2, 2.0, {"base_model": "SmolLM2-135M-Instruct.Q4_1.gguf"})
    assert resolve(str(path), "SmolLM2-135M-Instruct.Q4_1.gguf")[0] == path
    with pytest.raises(UserError, match=r"trained on SmolLM2-135M-Instruct\.Q4_1\.gguf, not on Qwen.*options\.model"):
        resolve(str(path), "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf")
    with pytest.raises(UserError, match="trained on SmolLM2"):
        resolve("tinystories", "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf")  # the shipped one is SmolLM2's


class TinyLM(nn.Module):
    """A causal LM's interface (`.logits`) over a bag of embeddings: enough to check the loss arithmetic."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(11, 4)
        self.head = nn.Linear(4, 11)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> object:
        class Out:
            logits = self.head(self.embed(input_ids).cumsum(1))

        return Out()


def test_micro_batches_give_the_whole_batchs_loss_and_gradient() -> None:
    from synthloop.tune.finetune import collate, weighted_loss

    torch.manual_seed(0)
    model = TinyLM()
    examples = [([1, 2, 3, 4, 5], 2, [1.0, 8.0, 1.0]), ([1, 6, 7], 1, [1.0, 1.0]), ([2, 3, 9, 10], 2, [8.0, 1.0])]
    whole = weighted_loss(model, *collate(examples, 0))
    whole.backward()
    expected = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    total = torch.tensor(sum(sum(w) for _, _, w in examples))
    parts = [weighted_loss(model, *collate(chunk, 0), total) for chunk in (examples[:2], examples[2:])]
    for part in parts:
        part.backward()
    assert sum(float(part.detach()) for part in parts) == pytest.approx(float(whole.detach()), rel=1e-5)
    for grad, want in zip((p.grad for p in model.parameters()), expected, strict=True):
        assert torch.allclose(grad, want, atol=1e-6)


def test_an_adapter_whose_card_is_not_json_is_one_line(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "bad-card.safetensors"
    tensors = {"q_proj.lora_a": torch.zeros(2, 8).half(), "q_proj.lora_b": torch.zeros(6, 2).half()}
    save_file(tensors, str(path), metadata={"format": lora.FORMAT, "rank": "2", "alpha": "2", "card": "{"})
    with pytest.raises(UserError, match="the adapter's card is not JSON"):
        resolve(str(path), "SmolLM2-135M-Instruct.Q4_1.gguf")
