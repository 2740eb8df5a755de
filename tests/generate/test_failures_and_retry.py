"""An answer with no story is a failure for every backend (issue 15, item 1), and a rerun retries exactly the
prompts that failed, keeping their ids and recomputing nothing else (item 2). A retry killed with -9 at random
points is in the crash harness (tests/reliability/test_crash.py, stage "retry")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_cli, scripted_config
from fault_server import fault_server
from synthloop.backends.base import Backend, Completion, Prompt, SamplingOptions
from synthloop.config import load_config
from synthloop.generate.runner import generate
from synthloop.generate.step import EMPTY_ANSWER, NO_STORY, GenerateStep, usable
from synthloop.recipes.tinystories import TinyStories
from synthloop.store.dataset import Dataset
from synthloop.vocab import load_vocabulary


def parts(out: Path) -> dict[str, dict[str, dict]]:
    dataset = Dataset.open(out)
    return {part: {r.id: r.to_row() for r in dataset.iter_records(part)} for part in ("data", "failed")}


@pytest.mark.parametrize("text", ["", " ", "\n\n\t ", "\u2028"])
def test_an_empty_or_blank_answer_is_a_failure_never_a_story(tmp_path: Path, text: str) -> None:
    reply = f"backend.options.reply={json.dumps(text)}"  # a TOML basic string: the escapes become the characters
    result = generate(load_config(scripted_config(tmp_path, n=6), [reply]))
    stored = parts(tmp_path / "out")
    assert (result.stories, result.failed) == (0, 6) and not stored["data"]
    for row in stored["failed"].values():
        assert row["finish_reason"] == "error" and "generate.empty" in row["flags"]
        assert EMPTY_ANSWER in row["meta"] and row["attempts"] == 2  # retried like any failure


def test_an_answer_that_parses_to_nothing_is_a_failure_with_the_raw_answer(tmp_path: Path) -> None:
    result = generate(load_config(scripted_config(tmp_path, n=3), ['backend.options.reply="Title: Nothing\\n"']))
    assert (result.stories, result.failed) == (0, 3)
    for record in Dataset.open(tmp_path / "out").iter_records("failed"):
        assert record.meta["error"] == NO_STORY and record.meta["raw"] == "Title: Nothing\n"


def test_only_prompts_whose_every_attempt_was_empty_fail(tmp_path: Path) -> None:
    result = generate(load_config(scripted_config(tmp_path, n=30, empty_seeds_mod=2)))
    stored = parts(tmp_path / "out")
    assert result.stories == len(stored["data"]) and result.failed == len(stored["failed"]) > 0
    assert result.stories + result.failed == 30 and result.stories > 0
    assert all(row["text"].strip() for row in stored["data"].values())
    assert all(row["attempts"] == 2 for row in stored["failed"].values())


def test_the_rule_lives_in_the_step_for_any_backend() -> None:
    """A plugin backend that answers None, "" or whitespace gets the same treatment as the built-in ones."""

    class Blank(Backend[SamplingOptions]):
        name, model_name = "blank", "blank-1"

        def generate(self, prompts: list[Prompt], options: object = None) -> list[Completion]:
            return [
                Completion(None if i % 3 == 0 else " " * (i % 3), "stop", 5, 1, 0.0, "blank-1")  # type: ignore[arg-type]
                for i, _ in enumerate(prompts)
            ]

    recipe = TinyStories(TinyStories.Options(), load_vocabulary(None), 0)
    stories = GenerateStep(recipe, Blank(SamplingOptions()), max_attempts=3).generate_batch(
        [recipe.render(i) for i in range(4)]
    )
    assert all(s.finish_reason == "error" and s.meta["error"] == EMPTY_ANSWER and s.attempts == 3 for s in stories)
    assert all(s.meta["tokens_out_total"] == 3 for s in stories)  # what the failed attempts cost is still counted
    assert usable(Completion("x", "stop", 1, 1, 0.0, "m")).text == "x"


def test_an_openai_server_answering_empty_content_fails_the_prompts(tmp_path: Path) -> None:
    """The issue's case: 200 with empty (or blank) content used to count as '2 stories, 0 failed'."""
    with fault_server({"empty_content": 0.5, "blank_content": 0.5}) as (url, log):
        result = generate(load_config(openai_config(tmp_path, url, n=4, attempts=2)))
    assert (result.stories, result.failed) == (0, 4)
    assert sum(len(v) for v in log.requests.values()) == 4 * 2  # each prompt tried max_attempts times
    assert {r.meta["error"] for r in Dataset.open(tmp_path / "out").iter_records("failed")} == {EMPTY_ANSWER}


def openai_config(tmp_path: Path, url: str, n: int, attempts: int = 1) -> Path:
    path = tmp_path / "openai.toml"
    path.write_text(
        f'[run]\nn = {n}\nseed = 5\nout = "{tmp_path / "out"}"\n[recipe]\nname = "tinystories"\n'
        f'[backend]\nname = "openai"\n[backend.options]\nbase_url = "{url}"\nconcurrency = 4\nmax_retries = 0\n'
        "backoff_s = 0.0\ntimeout_s = 5.0\n"
        f"[generate]\nshard_size = 4\nbatch_size = 4\nmax_attempts = {attempts}\nmin_words = 0\nprogress = false\n",
        encoding="utf-8",
    )
    return path


def test_a_rerun_retries_exactly_the_failed_prompts_keeping_ids(tmp_path: Path) -> None:
    """The issue's case: the server failed some prompts; rerun with it healthy sent 0 requests."""
    n = 24
    with fault_server({"500": 0.4}, seed=2) as (url, log):
        first = generate(load_config(openai_config(tmp_path, url, n)))
    before = parts(tmp_path / "out")
    failed_seeds = {row["seed"] for row in before["failed"].values()}
    assert first.failed == len(failed_seeds) > 0 and first.stories == len(before["data"]) > 0
    with fault_server({}, seed=0) as (url, log):  # healthy now, at another address (not part of the run's identity)
        again = generate(load_config(openai_config(tmp_path, url, n)))
    after = parts(tmp_path / "out")
    # Exactly the failed prompts were sent, with their own first attempt seed (one try each: they succeeded).
    assert sorted(log.requests) == sorted(failed_seeds) and all(len(v) == 1 for v in log.requests.values())
    assert (again.stories, again.failed, again.retried, again.recovered) == (n, 0, len(failed_seeds), len(failed_seeds))
    assert not after["failed"] and set(after["data"]) == set(before["data"]) | set(before["failed"])
    assert all(after["data"][i] == row for i, row in before["data"].items())  # nothing else recomputed
    assert not list((tmp_path / "out" / "work").glob("*"))
    with fault_server({}, seed=0) as (url, log):  # nothing failed any more: a rerun sends nothing
        generate(load_config(openai_config(tmp_path, url, n)))
    assert not log.requests


def test_retry_failed_flag_and_its_off_switch(tmp_path: Path) -> None:
    marker = tmp_path / "server-down"
    marker.touch()
    config = scripted_config(tmp_path, n=12, fail_seeds_mod=2, fail_while=str(marker))
    assert run_cli("generate", "--config", str(config)).returncode == 0
    failed = set(parts(tmp_path / "out")["failed"])
    assert failed
    marker.unlink()
    off = run_cli("generate", "--config", str(config), "--no-retry-failed")
    assert off.returncode == 0 and set(parts(tmp_path / "out")["failed"]) == failed, off.stdout
    on = run_cli("generate", "--config", str(config), "--retry-failed")
    assert on.returncode == 0, on.stderr
    assert f"retried: {len(failed)} prompts that had failed before; {len(failed)} are stories now" in on.stdout
    assert not parts(tmp_path / "out")["failed"] and "(12 stories, 0 failed)" in on.stdout


def test_a_retry_cut_between_its_two_part_files_leaves_each_prompt_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The one window a retry adds: data/ rewritten with the recovered stories, failed/ not yet; then killed."""
    marker = tmp_path / "server-down"
    marker.touch()
    config = scripted_config(tmp_path, n=10, fail_seeds_mod=2, fail_while=str(marker))
    generate(load_config(config))
    before = parts(tmp_path / "out")
    marker.unlink()
    write_shard = Dataset.write_shard

    def killed_after_data(self, index, records, part="data"):  # type: ignore[no-untyped-def]
        write_shard(self, index, records, part)
        raise KeyboardInterrupt  # before failed/ of this shard is rewritten (or removed)

    with monkeypatch.context() as patched:
        patched.setattr(Dataset, "write_shard", killed_after_data)
        with pytest.raises(KeyboardInterrupt):
            generate(load_config(config))
    assert set(parts(tmp_path / "out")["data"]) & set(before["failed"])  # the window: some prompts in both parts
    result = generate(load_config(config))
    after = parts(tmp_path / "out")
    assert not after["failed"] and set(after["data"]) == set(before["data"]) | set(before["failed"])
    assert (result.stories, result.failed) == (10, 0)
