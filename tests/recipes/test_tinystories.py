import pytest

from synthloop.config import validate_options
from synthloop.errors import UserError
from synthloop.recipes.base import clean_story
from synthloop.recipes.instruct import InstructOptions, TinyStoriesInstruct
from synthloop.recipes.tinystories import FEATURES, TEMPLATE, TinyStories, TinyStoriesOptions
from synthloop.vocab import load_vocabulary

VOCABULARY = load_vocabulary()


def recipe(seed: int = 0, **options: object) -> TinyStories:
    return TinyStories(TinyStoriesOptions(**options), VOCABULARY, seed)


def test_render_is_reproducible_and_ids_derive_from_seed_and_index() -> None:
    first, again, other_seed = recipe(0).render(3), recipe(0).render(3), recipe(1).render(3)
    assert first == again
    assert first.id != other_seed.id
    assert len({recipe(0).render(i).id for i in range(200)}) == 200


def test_prompt_follows_the_tinystories_template() -> None:
    record = recipe(0).render(0)
    words = record.words
    assert set(words) == {"noun", "verb", "adjective"}
    assert words["noun"] in {e.word for e in VOCABULARY.by_pos["noun"]}
    assert words["verb"] in {e.word for e in VOCABULARY.by_pos["verb"]}
    head = TEMPLATE.split("{features}")[0].format(**words)
    assert record.prompt.startswith(head)
    assert record.prompt.endswith("Remember to only use simple words!")
    for feature in record.features:
        assert FEATURES[feature] in record.prompt


def test_features_are_a_random_subset_within_bounds() -> None:
    seen = set()
    for i in range(300):
        features = recipe(0, max_features=3).render(i).features
        assert len(features) <= 3 and len(set(features)) == len(features)
        seen.update(features)
    assert seen == set(FEATURES)
    assert all(not recipe(0, max_features=0).render(i).features for i in range(20))


def test_unknown_feature_and_bad_template_are_config_errors() -> None:
    with pytest.raises(UserError, match=r"recipe\.options: .*unknown feature"):
        validate_options(TinyStoriesOptions, {"features": ["Dragons"]}, "recipe.options")
    with pytest.raises(UserError, match="template must contain"):
        validate_options(TinyStoriesOptions, {"template": "no placeholders"}, "recipe.options")


def test_clean_story_strips_preamble_and_cuts_truncated_story() -> None:
    raw = "Sure! Here is a story:\n\n**The Red Ball**\n\nTom had a ball.\nIt was red.\n\nThen he ran to the"
    text, cut = clean_story(raw, "length")
    assert text == "Tom had a ball.\n\nIt was red."
    assert cut == "paragraph"
    text, cut = clean_story("Tom had a ball. He ran to the", "length")
    assert (text, cut) == ("Tom had a ball.", "sentence")
    assert clean_story("Tom had a ball. He ran", "stop") == ("Tom had a ball. He ran", "")


def test_parse_keeps_raw_and_flags_empty() -> None:
    r = recipe()
    record = r.parse(r.render(0), "Title: Nothing\n", "stop")
    assert record.text == "" and "parse.empty" in record.flags and record.meta["raw"] == "Title: Nothing\n"


def test_instruct_recipe_asks_for_sentence_and_splits_summary() -> None:
    instruct = TinyStoriesInstruct(InstructOptions(), VOCABULARY, 0)
    prompt = instruct.render(5)
    sentence = prompt.meta["random_sentence"]
    assert f'"{sentence}"' in prompt.prompt and "Summary:" in prompt.prompt
    raw = f"Tom had a dog. {sentence} They played.\n\nSummary: Tom plays with his dog.\n"
    story = instruct.parse(prompt, raw, "stop")
    assert story.text == f"Tom had a dog. {sentence} They played."
    assert story.meta["summary"] == "Tom plays with his dog."
    example = story.meta["instruct_text"]
    assert example.splitlines()[-1].startswith("Story: Tom had a dog.")
    assert f"Random sentence: {sentence}" in example and "Words: " in example
    no_summary = instruct.parse(instruct.render(6), "Just a story.", "stop")
    assert "parse.no_summary" in no_summary.flags


def test_instruct_recipe_honours_its_template_option_and_needs_the_sentence() -> None:
    template = "Use {noun}, {verb}, {adjective}.{features} Include: {sentence}"
    options = validate_options(InstructOptions, {"template": template}, "recipe.options")
    prompt = TinyStoriesInstruct(options, VOCABULARY, 0).render(5)
    assert prompt.prompt.startswith("Use ") and prompt.prompt.endswith(prompt.meta["random_sentence"])
    default = TinyStoriesInstruct(InstructOptions(), VOCABULARY, 0).render(5)
    assert default.meta["random_sentence"] == prompt.meta["random_sentence"]  # the template changes only the text
    with pytest.raises(UserError, match=r"recipe.options.*must contain \{sentence\}"):
        validate_options(InstructOptions, {"template": "small-model"}, "recipe.options")
