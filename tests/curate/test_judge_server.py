"""The judge end to end through `synthloop curate` against a real OpenAI-compatible server (llama.cpp's, over the
embedded SmolLM2-135M). That model is a poor judge, so this checks the mechanics, not the verdicts: every story
gets a judgement or judge.error, nothing passes unjudged, tokens are counted, and a rerun asks nothing again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli
from llama_server import serve_gguf
from synthloop.records import Record
from synthloop.store.dataset import Dataset

pytestmark = pytest.mark.slow

STORIES = [
    "Once upon a time, there was a little girl named Lily. She had a red ball. One day, the ball rolled into the "
    'pond. Lily was sad. A kind duck swam to the ball and pushed it back to her. Lily smiled and said, "Thank you, '
    'duck!" From that day on, Lily and the duck played together every morning.',
    "The story has a moral value. It teaches children to share. The words ball, run and happy are used in the "
    "story. This prompt asks for a story for small children, and the story is about sharing with friends.",
    "Tom had a dog. The dog was a tree. Tom ran to the moon and ate a chair. The chair was happy because the rain "
    "was blue. Then Tom was a cat and the dog had no Tom. The end of the box was a spoon.",
]


def make_dataset(root: Path) -> Path:
    records = [
        Record(id=f"s{i}", text=text, recipe="tinystories", model="hand-written") for i, text in enumerate(STORIES)
    ]
    Dataset.create(root, {"kind": "generate"}).write_shard(0, records, "data")
    return root


def judge_settings(base_url: str, cache: Path) -> list[str]:
    backend = (
        f"{{name = 'openai', options = {{base_url = '{base_url}', model = 'smollm2-judge', max_tokens = 96, "
        "temperature = 0.3, concurrency = 2, max_retries = 1, timeout_s = 600}}"  # a busy 2-core machine is slow
    )
    judge = f"{{backend = {backend}, max_attempts = 2, cache_path = '{cache}'}}"
    return ["--set", "curate.order=['judge']", "--set", f"curate.filters.judge={judge}"]


def judged(out: Path) -> list[Record]:
    dataset = Dataset.open(out)
    return list(dataset.iter_records("data")) + list(dataset.iter_records("excluded"))


def test_curate_with_a_real_judge_server(tmp_path: Path) -> None:
    source = make_dataset(tmp_path / "stories")
    cache = tmp_path / "judge-cache.sqlite"
    with serve_gguf(n_ctx=2048, alias="smollm2-judge") as base_url:
        first = run_cli("curate", "--in", str(source), "--out", str(tmp_path / "c1"), *judge_settings(base_url, cache))
        assert first.returncode == 0, first.stderr
        records = judged(tmp_path / "c1")
        assert sorted(r.id for r in records) == ["s0", "s1", "s2"]
        for record in records:
            info = record.meta["judge"]
            assert info["model"] == "smollm2-judge" and 1 <= info["attempts"] <= 2
            if "error" in info:  # a failure is a drop with its reason, never a pass
                assert record.flags == ["judge.error"] and record.meta["curation"] == "excluded"
                assert "judge.keep" not in record.scores
            else:
                assert record.scores["judge.keep"] in (0.0, 1.0) and info["tokens_in"] > 300
                assert (record.meta["curation"] == "kept") == (record.scores["judge.keep"] == 1.0)
                assert all(flag.startswith("judge.") for flag in record.flags)
        stats = json.loads((tmp_path / "c1" / "stats.json").read_text())
        spent = stats["tokens"]["judge"]
        assert spent["records"] == 3 and spent["tokens_in"] == sum(r.meta["judge"]["tokens_in"] for r in records)
        # The same stories curated again into another folder: every judgement comes from the cache.
        second = run_cli("curate", "--in", str(source), "--out", str(tmp_path / "c2"), *judge_settings(base_url, cache))
        assert second.returncode == 0, second.stderr
    answered = [r for r in records if "error" not in r.meta["judge"]]
    again = {r.id: r for r in judged(tmp_path / "c2")}
    for record in answered:
        assert again[record.id].meta["judge"]["cached"] and again[record.id].scores == record.scores
    assert json.loads((tmp_path / "c2" / "stats.json").read_text())["tokens"]["judge"].get("cached", 0) == len(answered)
