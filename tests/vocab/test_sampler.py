"""Word samplers: uniform, and coverage-aware (unit, and inside the real generate pipeline with its feedback)."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from pathlib import Path

import pytest

from conftest import run_cli, scripted_config
from synthloop.store.dataset import Dataset
from synthloop.vocab import load_vocabulary
from synthloop.vocab.sampler import CoverageSampler, UniformSampler

WORDS = (
    "word\tpos\n"
    + "".join(f"{w}\tnoun\n" for w in ["ball", "cat", "dog", "tree", "cake", "boat"])
    + "".join(f"{w}\tverb\n" for w in ["run", "jump", "sing", "play"])
    + "".join(f"{w}\tadjective\n" for w in ["big", "red", "happy", "soft"])
)


def sampler_for(tmp_path: Path, strength: float = 4.0) -> CoverageSampler:
    (tmp_path / "words.tsv").write_text(WORDS)
    return CoverageSampler(load_vocabulary(tmp_path / "words.tsv"), strength=strength)


def test_coverage_sampler_prefers_words_not_yet_kept(tmp_path: Path) -> None:
    sampler = sampler_for(tmp_path, strength=2.0)
    for _ in range(20):
        sampler.observe({"noun": "ball", "verb": "run", "adjective": "big"}, kept=True)
    drawn = Counter(sampler.sample(random.Random(i))["noun"] for i in range(2000))
    # "ball" is never the focus any more, only a partner (weighted by survival like the others).
    assert drawn["ball"] < 0.8 * min(drawn[w] for w in ["cat", "dog", "tree", "cake", "boat"])


def test_hard_words_are_asked_for_with_partners_that_survive(tmp_path: Path) -> None:
    sampler = sampler_for(tmp_path)
    rng = random.Random(1)
    for _ in range(400):  # only "ball" is ever used of the nouns; "jump" is never asked for
        words = UniformSampler.sample(sampler, rng)
        if words["verb"] != "jump":
            used = words["noun"] == "ball"
            sampler.observe(words, kept=used, missing=[] if used else ["noun"])
    assert sampler.relative_rate("noun", "ball") > 3 > 0.3 > sampler.relative_rate("noun", "cat")
    drawn = [sampler.sample(random.Random(i)) for i in range(3000)]
    with_jump = [d for d in drawn if d["verb"] == "jump"]
    # "jump" has no kept story yet, so it is wanted, and mostly with the one noun that lets a story survive
    # (uniform: 1 in 6), although "ball" is the most kept noun.
    assert len(with_jump) > 1000 and sum(d["noun"] == "ball" for d in with_jump) / len(with_jump) > 0.7


def test_usage_is_learnt_from_stories_that_were_not_kept(tmp_path: Path) -> None:
    sampler = sampler_for(tmp_path)
    for _ in range(10):  # no story survives (say, all too short), but "cat" is used and "dog" is not
        sampler.observe({"noun": "cat", "verb": "run", "adjective": "big"}, kept=False)
        sampler.observe({"noun": "dog", "verb": "run", "adjective": "big"}, kept=False, missing=["noun"])
    assert sampler.relative_rate("noun", "cat") > 1.2 > 0.8 > sampler.relative_rate("noun", "dog")
    assert sampler.relative_rate("noun", "tree") == pytest.approx(1.0)  # never asked: the part of speech's mean


def test_earlier_kept_stories_count_as_coverage_not_as_survival(tmp_path: Path) -> None:
    sampler = sampler_for(tmp_path)
    before = sampler.relative_rate("noun", "cat")
    for _ in range(30):
        sampler.count_kept({"noun": "cat", "verb": "run", "adjective": "big"})
    assert sampler.relative_rate("noun", "cat") == before and sampler.kept["noun"]["cat"] == 30
    drawn = Counter(sampler.sample(random.Random(i))["noun"] for i in range(1000))
    assert drawn["cat"] < 0.7 * min(drawn[w] for w in ["ball", "dog", "tree", "cake", "boat"])


def kept_noun_counts(tmp_path: Path, sampler: str, n: int) -> tuple[Counter[str], dict[str, tuple[str, str]]]:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "words.tsv").write_text(WORDS)
    config = scripted_config(tmp_path, n=n, skip_words_mod=3)  # every third first attempt leaves its words out
    with open(config, "a", encoding="utf-8") as handle:
        handle.write(
            f'[vocab]\npath = "{tmp_path / "words.tsv"}"\n[recipe.options]\nsampler = "{sampler}"\n'
            '[curate]\norder = ["constraints"]\n'
        )  # a 14-word vocabulary: every story is "out of vocabulary"
    result = run_cli(
        "generate", "--config", str(config), "--set", "generate.max_attempts=1", "--set", "generate.shard_size=6"
    )
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


def test_coverage_sampling_on_ray_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    config = scripted_config(tmp_path)
    result = run_cli(
        "generate", "--config", str(config), "--executor", "ray", "--set", 'recipe.options.sampler="coverage"'
    )
    assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1
    assert "learns shard by shard" in result.stderr and not (tmp_path / "out").exists()
