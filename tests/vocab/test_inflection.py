"""Hand-made tricky cases for 'did the story use the word': inflections, irregulars, substrings, clitics."""

import pytest

from synthloop.vocab.inflection import lemmas, missing_words, surface_forms, word_tokens


@pytest.mark.parametrize(
    ("text", "word", "pos"),
    [
        ("Tom ran to the shop.", "run", "verb"),
        ("She is running fast.", "run", "verb"),
        ("Two mice lived there.", "mouse", "noun"),
        ("The dog was happier than before.", "happy", "adjective"),
        ("It was the happiest day.", "happy", "adjective"),
        ("He went home.", "go", "verb"),
        ("The children laughed.", "child", "noun"),
        ("The dog's ball was red.", "dog", "noun"),
        ("They ate ice-cream.", "cream", "noun"),
        ("She caught it.", "catch", "verb"),
        ("THE BOXES WERE BIG.", "box", "noun"),
        ("He flew away.", "fly", "verb"),
        ("Lily’s kite was blue.", "kite", "noun"),
    ],
)
def test_word_used_in_some_inflection(text: str, word: str, pos: str) -> None:
    assert missing_words(text, {pos: word}) == []


@pytest.mark.parametrize(
    ("text", "word", "pos"),
    [
        ("Tom liked to catch fish.", "cat", "noun"),  # a word inside another word
        ("The scatter of seeds.", "cat", "noun"),
        ("He was unhappy.", "happy", "adjective"),  # a different word
        ("Ann walked home.", "an", "other"),
        ("The carpet was soft.", "car", "noun"),
    ],
)
def test_word_inside_other_word_is_not_used(text: str, word: str, pos: str) -> None:
    assert missing_words(text, {pos: word}) == [pos]


def test_tokens_split_contractions_and_hyphens() -> None:
    assert word_tokens("Don't go! It's Tom's ball, a well-known one.") == [
        "do",
        "go",
        "it",
        "tom",
        "ball",
        "a",
        "well-known",
        "well",
        "known",
        "one",
    ]


def test_surface_forms_and_lemmas() -> None:
    assert {"mouse", "mice"} <= surface_forms("mouse", "noun")
    assert {"run", "ran", "running", "runs"} <= surface_forms("run", "verb")
    assert "mouse" in lemmas("mice")
    assert "go" in lemmas("went")
