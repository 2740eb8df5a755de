import numpy as np
import pytest

from synthloop.curate.text import normalize
from synthloop.metrics.bias import bias_audit
from synthloop.metrics.coverage import coverage, gini, prompt_word_coverage
from synthloop.metrics.diversity import (
    compression_ratio,
    distinct_n,
    embedding_diversity,
    opening_concentration,
    self_bleu,
)
from synthloop.metrics.mauve import kmeans, mauve
from synthloop.records import Record
from synthloop.vocab import load_vocabulary


def test_distinct_n_counts_unique_over_total() -> None:
    assert distinct_n([["a", "b", "a", "b"]], 1) == 0.5
    assert distinct_n([["a", "b", "a", "b"]], 2) == pytest.approx(2 / 3)
    assert distinct_n([["a", "b"], ["a", "b"]], 2) == 0.5


def test_compression_ratio_grows_with_redundancy() -> None:
    varied = [
        f"story {i} about a {w} that went to {v}" for i, (w, v) in enumerate(zip("abcdefgh", "ijklmnop", strict=True))
    ]
    assert compression_ratio(["the same story. " * 3] * 50) > 3 * compression_ratio(varied)


def test_self_bleu_is_high_for_copies_low_for_distinct() -> None:
    copies = [normalize("Tom went to the park and played with his red ball all day.").split()] * 40
    words = [f"w{i}" for i in range(2000)]
    distinct = [words[i * 12 : (i + 1) * 12] for i in range(40)]
    assert self_bleu(copies, 20, 20) == pytest.approx(1.0)
    assert self_bleu(distinct, 20, 20) < 0.05


def test_opening_concentration() -> None:
    texts = ["Once upon a time, there was a cat."] * 6 + ["One day Tom ran.", "Lily saw a dog."] * 2
    result = opening_concentration(texts, top=1)
    assert result["top10_share"] == 0.6 and result["once_upon_a_time_share"] == 0.6


def test_vendi_score_counts_effective_distinct_items() -> None:
    basis = np.eye(4, dtype=np.float32)
    assert embedding_diversity(basis)["vendi_score"] == pytest.approx(4.0)
    assert embedding_diversity(np.repeat(basis[:1], 5, axis=0))["vendi_score"] == pytest.approx(1.0)


def test_mauve_same_distribution_high_disjoint_low() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(300, 8))
    b = rng.normal(size=(300, 8))
    far = rng.normal(size=(300, 8)) + 6.0
    assert mauve(a, b, clusters=10)["mauve"] > 0.9
    assert mauve(a, far, clusters=10)["mauve"] < 0.1
    labels = kmeans(np.concatenate([a, far]), 2)
    assert len(set(labels[:300])) == 1 and labels[0] != labels[-1]


def test_coverage_counts_inflected_use_and_rare_half() -> None:
    vocabulary = load_vocabulary()
    records = [Record(id="1", text="Two mice ran to the zoo.", words={"noun": "mouse", "verb": "run"})]
    result = coverage(records, vocabulary)
    assert result["requested_words"] == 2 and result["requested_words_used"] == 2
    assert result["vocabulary_words_used"] >= 4 and 0 < result["vocabulary_used_share"] < 0.01


def test_prompt_word_coverage_and_gini() -> None:
    vocabulary = load_vocabulary()
    words = [e.word for e in vocabulary.by_pos["noun"]][:3]
    records = [Record(id=str(i), text="", words={"noun": words[i % 3]}) for i in range(9)]
    result = prompt_word_coverage(records, vocabulary)
    size = sum(len(vocabulary.by_pos[p]) for p in ("noun", "verb", "adjective"))
    assert result["words"] == size and result["share_asked_1"] == result["share_asked_3"] == pytest.approx(3 / size)
    assert gini([5, 5, 5, 5]) == 0 and gini([0, 0, 0, 20]) == pytest.approx(0.75) and gini([0, 0]) == 0
    assert coverage(records, vocabulary)["prompt_words"] == result


def test_bias_audit_pronouns_names_verbs_occupations() -> None:
    texts = ["Lily was a doctor. She ran to the park. She smiled.", "Tom saw a bird. He jumped. He was a farmer."]
    result = bias_audit(texts)
    assert result["pronouns"]["female"] == 2 and result["pronouns"]["male"] == 2
    assert result["names"]["female"] == 1 and result["names"]["male"] == 1
    assert ("run", 1) in result["verbs_after_pronoun"]["she"] and ("jump", 1) in result["verbs_after_pronoun"]["he"]
    assert result["occupations"] == {"farmer": {"male": 1}}
