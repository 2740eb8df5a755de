import random

from helpers import STORY, make

from synthloop.curate.step import CurateStep
from synthloop.records import Record


def run(stage_names: list[str], texts: list[str], **context: object) -> list[Record]:
    stages = [make(name, context=dict(context)) for name in stage_names]
    return CurateStep(stages).curate_batch([Record(id=f"r{i}", text=t) for i, t in enumerate(texts)])


def other_story(seed: int) -> str:
    rng = random.Random(seed)
    animals = ["cat", "dog", "bird", "fish", "frog", "duck", "bear", "cow"]
    things = ["kite", "cake", "boat", "hat", "drum", "book", "shoe", "cup"]
    return " ".join(
        f"The {rng.choice(animals)} found a {rng.choice(things)} near the {rng.choice(things)}." for _ in range(12)
    )


def test_exact_dedup_folds_case_and_punctuation_and_records_cluster() -> None:
    texts = [STORY, STORY.upper().replace(",", ""), other_story(1)]
    result = run(["exact"], texts)
    assert [r.meta["curation"] for r in result] == ["kept", "excluded", "kept"]
    assert result[1].flags == ["exact.duplicate"]
    assert result[1].meta["duplicate_of"] == result[1].meta["cluster"] == "r0"


def test_minhash_drops_near_duplicates_only() -> None:
    near = STORY.replace("red ball", "blue ball")  # one word changed: 5 of ~90 shingles
    result = run(["minhash"], [STORY, near, other_story(2), other_story(3)])
    assert [r.meta["curation"] for r in result] == ["kept", "excluded", "kept", "kept"]
    assert result[1].flags == ["minhash.near_duplicate"] and result[1].meta["duplicate_of"] == "r0"
    assert result[1].scores["minhash.max_similarity"] >= 0.8


def test_semantic_dedup_catches_reworded_story_minhash_misses() -> None:
    reworded = (
        STORY.replace("little dog", "small puppy")
        .replace("liked to run", "loved to play")
        .replace("One day", "Then")
        .replace("big tree", "tall tree")
        .replace("happy bird", "glad bird")
        .replace("played all day", "had fun all day")
        .replace("went home", "walked home")
    )
    unrelated = [other_story(s) for s in range(4, 40)]
    result = run(["minhash", "semantic"], [STORY, *unrelated, reworded], sample_texts=[STORY, *unrelated])
    assert result[-1].flags == ["semantic.duplicate"] and result[-1].meta["duplicate_of"] == "r0"
    assert result[-1].scores["minhash.max_similarity"] < 0.8
    assert all(r.meta["curation"] == "kept" for r in result[:-1])


def test_dedup_state_rebuilt_by_remember_gives_same_decisions() -> None:
    texts = [STORY, other_story(5), STORY.replace("red", "green"), other_story(5)]
    first = run(["exact", "minhash"], texts)
    step = CurateStep([make("exact"), make("minhash")])
    step.remember(first[:2])  # as after a kill following the first two records
    rest = step.curate_batch([Record(id=f"r{i}", text=t) for i, t in enumerate(texts)][2:])
    assert [(r.meta["curation"], r.flags) for r in rest] == [(r.meta["curation"], r.flags) for r in first[2:]]
