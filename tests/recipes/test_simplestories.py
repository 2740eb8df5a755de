"""The simplestories recipe: pure render/parse, its parameter lists, several stories per call (a partly failed
parse keeps the parsed stories and records the rest as failed), and provenance, coverage and cost in the report."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import scripted_config
from synthloop.config import load_config
from synthloop.generate.runner import generate
from synthloop.generate.step import NO_STORY
from synthloop.recipes.simplestories import SimpleStories, SimpleStoriesOptions, parameter_lists, split_stories
from synthloop.report.runner import report
from synthloop.store.dataset import Dataset
from synthloop.vocab import load_vocabulary

VOCABULARY = load_vocabulary(None)


def recipe(**options: object) -> SimpleStories:
    return SimpleStories(SimpleStoriesOptions.model_validate(options), VOCABULARY, 3)


def test_render_is_pure_and_records_its_parameters() -> None:
    first, again = recipe().render(5), recipe().render(5)
    assert first.prompt == again.prompt and first.id == again.id and first.seed == again.seed
    assert first.prompt != recipe().render(6).prompt
    parameters = first.meta["parameters"]
    assert set(parameters) == set(parameter_lists())
    assert first.features == [parameters["narrative_feature"]] and set(first.words) == {"noun", "verb", "adjective"}
    for role in ("noun", "verb", "adjective"):
        assert f'"{first.words[role]}"' in first.prompt
    assert parameters["theme"] in first.prompt and parameters["persona"] in first.prompt
    assert 'Do not start the story with "Once upon a time"' in first.prompt
    assert "Once upon a time" not in recipe(avoid_once_upon_a_time=False).render(5).prompt


def test_parameter_lists_are_tens_of_values_and_all_get_used() -> None:
    lists = parameter_lists()
    assert all(len(values) >= 20 for name, values in lists.items() if name != "paragraphs")
    drawn = [recipe().render(i).meta["parameters"] for i in range(400)]
    for name in ("theme", "style", "persona"):
        assert {str(p[name]) for p in drawn} == set(lists[name])


def test_several_stories_per_call_share_prompt_call_and_seed() -> None:
    made = recipe(stories_per_call=3)
    group = [made.render(i) for i in range(3)]
    assert len({r.prompt for r in group}) == 1 and len({r.id for r in group}) == 3
    assert len({made.call_key(r) for r in group}) == 1 and len({r.seed for r in group}) == 1
    assert made.call_key(made.render(3)) != made.call_key(group[0])
    assert "Story 3:" in group[0].prompt and "any story" in group[0].prompt


def test_a_partly_failed_parse_keeps_the_parsed_stories() -> None:
    made = recipe(stories_per_call=3)
    raw = "Here are the stories:\n\n**Story 1:** Tim had a red ball.\n\nHe threw it.\n\nStory 3: A cat sat on a mat"
    one, two, three = (made.parse(made.render(i), raw, "length") for i in range(3))
    assert one.text == "Tim had a red ball.\n\nHe threw it." and not one.flags
    assert two.text == "" and two.flags == ["parse.missing_story"] and two.meta["raw"] == raw
    assert three.text == "" and three.meta["cut"] == "sentence"  # the last story hit max_tokens mid-sentence
    assert split_stories("no headings at all") == {}
    assert made.parse(recipe().render(0), "Just one story.", "stop").text == "Just one story."


def config(tmp_path: Path, **extra: str) -> Path:
    path = scripted_config(tmp_path, n=12)
    text = path.read_text().replace('name = "tinystories"', 'name = "simplestories"')
    for section, body in extra.items():
        text += f"[{section}]\n{body}\n"
    path.write_text(text)
    return path


def test_generate_with_three_stories_per_call_records_the_missing_one_as_failed(tmp_path: Path) -> None:
    reply = "Story 1: Sam saw a dog. The dog ran fast.\n\nStory 2: Mia had a hat. It was red and big."
    prices = tmp_path / "prices.toml"
    prices.write_text('[prices."scripted-1"]\ninput_per_million = 1.0\noutput_per_million = 2.0\n')
    overrides = [
        "recipe.options={stories_per_call=3}",
        "generate.shard_size=6",
        "generate.batch_size=3",
        f"backend.options={{reply={json.dumps(reply)}}}",
        "generate.max_attempts=1",
        "generate.min_words=0",
        f"cost.prices={str(prices)!r}",
    ]
    cfg = load_config(config(tmp_path), overrides)
    result = generate(cfg)
    data = list(Dataset.open(result.out).iter_records("data"))
    failed = list(Dataset.open(result.out).iter_records("failed"))
    assert (len(data), len(failed)) == (8, 4)  # stories 1 and 2 of each of the four calls kept, story 3 failed
    assert {r.meta["slot"] for r in data} == {0, 1} and {r.meta["slot"] for r in failed} == {2}
    assert all(r.meta["error"] == NO_STORY and "parse.missing_story" in r.flags for r in failed)
    assert all(r.meta["parameters"] and r.meta["cost_usd"] > 0 for r in data)
    calls = {r.meta["call"] for r in data + failed}
    assert len(calls) == 4
    # a call's cost is shared by its three stories: the run's total is four calls' worth
    call_cost = (50 * 1.0 + len(reply.split()) * 2.0) / 1e6
    assert abs(sum(r.meta["cost_usd"] for r in data + failed) - 4 * call_cost) < 1e-12
    metrics = report(result.out, tmp_path / "report").metrics  # the raw dataset: curation would drop these stubs
    assert metrics["parameters"]["parameters"]["theme"]["values_possible"] == len(parameter_lists()["theme"])
    assert metrics["cost"]["generation_usd"] > 0
    card = (tmp_path / "report" / "README.md").read_text()
    assert "cost (USD" in card
    assert "Prompt parameters" in (tmp_path / "report" / "index.html").read_text()
    assert json.loads((result.out / "manifest.json").read_text())["cost"]["usd"] > 0
