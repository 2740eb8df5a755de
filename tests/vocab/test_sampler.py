"""Word samplers: uniform, and coverage-aware (unit, and inside the real generate pipeline with its feedback)."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from pathlib import Path

from conftest import run_cli, scripted_config
from synthloop.store.dataset import Dataset
from synthloop.vocab import load_vocabulary
from synthloop.vocab.sampler import CoverageSampler, UniformSampler

WORDS = "word\tpos\n" + "".join(f"{w}\tnoun\n" for w in ["ball", "cat", "dog", "tree", "cake", "boat"]) + "".join(
    f"{w}\tverb\n" for w in ["run", "jump", "sing", "play"]) + "".join(f"{w}\tadjective\n" for w in ["big", "red",
    "happy", "soft"])  # fmt: skip


def test_coverage_sampler_prefers_words_not_yet_kept(tmp_path: Path) -> None:
    (tmp_path / "words.tsv").write_text(WORDS)
    vocabulary = load_vocabulary(tmp_path / "words.tsv")
    sampler = CoverageSampler(vocabulary, strength=2.0)
    for _ in range(20):
        sampler.observe({"noun": "ball", "verb": "run", "adjective": "big"})
    rng = random.Random(0)
    drawn = Counter(sampler.sample(rng)["noun"] for _ in range(2000))
    assert drawn["ball"] < 20 and min(drawn[w] for w in ["cat", "dog", "tree", "cake", "boat"]) > 300
    uniform = Counter(UniformSampler(vocabulary).sample(random.Random(0))["noun"] for _ in range(1))
    assert sum(uniform.values()) == 1


def kept_noun_counts(tmp_path: Path, sampler: str, n: int) -> tuple[Counter[str], dict[str, tuple[str, str]]]:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "words.tsv").write_text(WORDS)
    config = scripted_config(tmp_path, n=n, skip_words_mod=3)  # every third first attempt leaves its words out
    with open(config, "a", encoding="utf-8") as handle:
        handle.write(
            f'[vocab]\npath = "{tmp_path / "words.tsv"}"\n[recipe.options]\nsampler = "{sampler}"\n'
            '[curate]\norder = ["constraints"]\n'
        )  # a 14-word vocabulary: every story is "out of vocabulary"
    result = run_cli("generate", "--config", str(config), "--set", "generate.max_attempts=1", "--set",
                     "generate.shard_size=6")  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = list(Dataset.open(tmp_path / "out").iter_records())
    kept = Counter(r.words["noun"] for r in records if not r.meta["missing"])
    return kept, {r.id: (r.text, r.words["noun"]) for r in records}


def test_coverage_sampling_spreads_kept_stories_evenly_and_resumes_exactly(tmp_path: Path) -> None:
    uniform, _ = kept_noun_counts(tmp_path / "uniform", "uniform", 48)
    aware, everything = kept_noun_counts(tmp_path / "aware", "coverage", 48)
    assert sum(aware.values()) == sum(uniform.values())  # same budget, same survival (it depends on the seed)
    assert statistics.pstdev(aware.values()) < statistics.pstdev(uniform.values())
    assert max(aware.values()) - min(aware.values()) < max(uniform.values()) - min(uniform.values())
    # The adaptive prompts depend only on finished shards: a run extended in two steps makes the same data.
    _, first = kept_noun_counts(tmp_path / "steps", "coverage", 18)
    _, extended = kept_noun_counts(tmp_path / "steps", "coverage", 48)
    assert extended == everything and set(first) <= set(extended)
