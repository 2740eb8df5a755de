"""The `likelihood` filter, for real: the main generator (embedded model + shipped adapter) reads the stories."""

from __future__ import annotations

import random

import pytest
from helpers import STORY, make

from synthloop.curate.step import CurateStep
from synthloop.errors import UserError
from synthloop.records import Record

pytestmark = pytest.mark.slow


def shuffled(text: str, seed: int) -> str:
    """The same sentences in another order: every word kept, the sense gone."""
    sentences = [s.strip() + "." for s in text.replace("\n\n", " ").split(".") if s.strip()]
    random.Random(seed).shuffle(sentences)
    return " ".join(sentences)


def test_a_story_reads_likelier_than_its_sentences_shuffled_and_the_bound_drops() -> None:
    scorer = make("likelihood")
    try:
        records = [Record(id="story", text=STORY)] + [Record(id=f"s{i}", text=shuffled(STORY, i)) for i in range(3)]
        records.append(Record(id="empty", text="   "))
        results = CurateStep([scorer]).curate_batch(records)
        means = {r.id: r.scores.get("likelihood.mean") for r in results}
        assert means["empty"] is None and "likelihood.no_text" in results[-1].flags
        story = means["story"]
        assert story is not None and -3 < story < 0
        assert all(story > means[f"s{i}"] for i in range(3)), means  # incoherent order reads as less likely
        # The same texts in another batch split score the same (scores do not depend on the batch).
        again = CurateStep([scorer]).curate_batch([Record(id="story", text=STORY)])
        assert again[0].scores["likelihood.mean"] == pytest.approx(story, abs=1e-4)
    finally:
        scorer.close()
    bound = make("likelihood", min_mean_logprob=round(story - 0.01, 3))
    try:
        kept = [r.meta["curation"] for r in CurateStep([bound]).curate_batch([Record(id="story", text=STORY)])]
        dropped = CurateStep([bound]).curate_batch([Record(id="s0", text=shuffled(STORY, 0))])
    finally:
        bound.close()
    assert kept == ["kept"] and dropped[0].flags == ["likelihood.low"]


def test_an_adapter_of_another_model_is_refused_before_any_work() -> None:
    with pytest.raises(UserError, match=r"trained on SmolLM2-135M-Instruct\.Q4_1\.gguf, not on Qwen"):
        make("likelihood", model="qwen2.5-coder-0.5b")  # the default adapter is SmolLM2's
