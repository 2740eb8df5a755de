"""The `judge` filter with the scripted backend (through the real plugin path) and a dead OpenAI-compatible port:
answer parsing, retries, failures as judge.error, reason codes, batching, and the cache across reruns."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from helpers import STORY, make

from conftest import run_cli, scripted_config
from synthloop.config import load_config
from synthloop.curate.judging.answer import parse_answer
from synthloop.curate.judging.rubric import load_rubric
from synthloop.curate.runner import curate
from synthloop.curate.step import CurateStep
from synthloop.errors import UserError
from synthloop.generate.runner import generate
from synthloop.records import Record
from synthloop.store.dataset import Dataset

KEEP = '{"keep": true, "grammar": 9, "consistency": 8, "plot": 7, "simplicity": 9, "reason": ""}'


def drop(reason: str, consistency: int = 6) -> str:
    return json.dumps(
        {"keep": False, "grammar": 6, "consistency": consistency, "plot": 3, "simplicity": 8, "reason": reason}
    )


@pytest.mark.parametrize(
    ("answer", "keep", "scores", "reason"),
    [
        (KEEP, True, {"grammar": 9, "consistency": 8, "plot": 7, "simplicity": 9}, ""),
        (
            "Sure! Here is my judgement:\n```json\n" + drop("incoherent") + "\n```\nThe story contradicts itself.",
            False,
            {"grammar": 6, "consistency": 6, "plot": 3, "simplicity": 8},
            "incoherent",
        ),
        (
            '{"note": {"x": 1}} then {"Keep": "yes", "grammar": "8/10", "plot": 11, "reason": null}',
            True,
            {"grammar": 8},
            "",
        ),
        (
            "Keep: no\nGrammar: 7/10\nConsistency: 3\nPlot: 4 out of 10\nSimplicity: 9\nReason: meta talk",
            False,
            {"grammar": 7, "consistency": 3, "plot": 4, "simplicity": 9},
            "meta talk",
        ),
        ("**Keep**: **Yes**\n**Grammar** = 8", True, {"grammar": 8}, ""),
        ('{"keep": false, "grammar": 5, "consist', False, {"grammar": 5}, ""),  # cut off: the text form still reads it
    ],
)
def test_answer_forms(answer: str, keep: bool, scores: dict[str, float], reason: str) -> None:
    judgement = parse_answer(answer)
    assert judgement is not None
    assert (judgement.keep, judgement.scores, judgement.reason) == (keep, scores, reason)


@pytest.mark.parametrize("answer", ["", "I like this story a lot!", '{"grammar": 8}', "keep: maybe", "```json\n{```"])
def test_unparseable_answers(answer: str) -> None:
    assert parse_answer(answer) is None


def judge(tmp_path: Path, replies: dict[str, list[str]], **options: Any) -> Any:
    calls = tmp_path / "calls.jsonl"
    backend = {"name": "scripted", "options": {"replies": replies, "calls_file": str(calls)}}
    return make("judge", {"out": tmp_path / "curated"}, backend=backend, **options)


def calls(tmp_path: Path) -> list[int]:
    path = tmp_path / "calls.jsonl"
    return [json.loads(line)["prompts"] for line in path.read_text().splitlines()] if path.exists() else []


def story(index: int, marker: str) -> Record:
    return Record(id=f"r{index}", text=f"{STORY} {marker}")


def curate_records(filter_: Any, records: list[Record]) -> dict[str, list[str]]:
    return {r.id: r.flags for r in CurateStep([filter_]).curate_batch(records)}


def test_scores_and_reason_codes_in_one_call_per_batch(tmp_path: Path) -> None:
    replies = {
        "K1": [KEEP],
        "D1": [drop("incoherent")],
        "D2": [drop("Meta talk: it talks about the story")],
        "D3": [drop("the dragon is scary")],
        "D4": [drop("", consistency=2)],
        "L1": [KEEP.replace('"consistency": 8', '"consistency": 4')],
    }
    filter_ = judge(tmp_path, replies, min_consistency=5)
    records = [story(i, marker) for i, marker in enumerate(replies)] + [story(9, "K1")]  # K1 twice: asked once
    flags = curate_records(filter_, records)
    assert flags == {
        "r0": [],
        "r1": ["judge.incoherent"],
        "r2": ["judge.meta-talk"],
        "r3": ["judge.other"],
        "r4": ["judge.other", "judge.low_consistency"],
        "r5": ["judge.low_consistency"],
        "r9": [],
    }
    assert calls(tmp_path) == [6]
    kept = records[0]
    assert kept.scores == {
        "judge.keep": 1.0,
        "judge.grammar": 9.0,
        "judge.consistency": 8.0,
        "judge.plot": 7.0,
        "judge.simplicity": 9.0,
    }
    assert records[1].scores["judge.keep"] == 0.0
    assert kept.meta["judge"]["model"] == "scripted-1" and kept.meta["judge"]["attempts"] == 1
    assert kept.meta["judge"]["tokens_in"] == 50 and kept.meta["judge"]["tokens_out"] > 0
    assert records[2].meta["judge"]["reason"].startswith("Meta talk")


def test_unparseable_answers_are_retried_then_judge_error(tmp_path: Path) -> None:
    replies = {
        "R1": ["hmm, let me think", "Keep: yes\nGrammar: 8\nPlot: 6"],
        "R2": ["no idea"],
        "R3": [""],
        "R4": [KEEP.replace('"plot": 7, ', "")],
    }
    filter_ = judge(tmp_path, replies, max_attempts=3, min_plot=3)
    records = [story(i, marker) for i, marker in enumerate(replies)]
    flags = curate_records(filter_, records)
    assert flags == {"r0": [], "r1": ["judge.error"], "r2": ["judge.error"], "r3": ["judge.error"]}
    assert calls(tmp_path) == [4, 4, 3]  # the first batch, then only the answers that did not parse
    assert records[0].meta["judge"]["attempts"] == 2 and records[0].meta["judge"]["tokens_in"] == 100
    assert records[1].meta["judge"]["error"] == "unparseable answer 'no idea' (after 3 attempts)"
    assert records[2].meta["judge"]["error"] == "empty answer (after 3 attempts)"
    assert "without the bounded score(s) plot" in records[3].meta["judge"]["error"]
    assert all("judge.keep" not in r.scores for r in records[1:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_server_down_is_judge_error_never_a_pass(tmp_path: Path) -> None:
    backend = {
        "name": "openai",
        "options": {
            "base_url": f"http://127.0.0.1:{free_port()}/v1",
            "max_retries": 1,
            "backoff_s": 0.0,
            "model": "judge-x",
        },
    }
    filter_ = make("judge", {"out": tmp_path / "curated"}, backend=backend)
    records = [story(0, "a"), story(1, "b")]
    assert curate_records(filter_, records) == {"r0": ["judge.error"], "r1": ["judge.error"]}
    error = records[0].meta["judge"]["error"]
    assert (
        error.startswith("backend failed: gave up after 2 attempts: transport")
        and records[0].meta["curation"] == "excluded"
    )
    assert not (tmp_path / "curated" / "judge" / "cache.sqlite").exists() or not load_cached(tmp_path / "curated")


def load_cached(out: Path) -> list[str]:
    import sqlite3

    with sqlite3.connect(out / "judge" / "cache.sqlite") as db:
        return [row[0] for row in db.execute("SELECT key FROM judgements")]


def test_a_rubric_needs_a_keep_decision(tmp_path: Path) -> None:
    rubric = tmp_path / "mine.md"
    rubric.write_text("Score the story's grammar from 1 to 10.\n")
    with pytest.raises(UserError, match=r"mine\.md: the judge rubric has no keep decision"):
        judge(tmp_path, {}, rubric=str(rubric))
    shipped = load_rubric(None)
    assert shipped.reasons == (
        "not-a-story",
        "meta-talk",
        "incoherent",
        "ungrammatical",
        "too-hard",
        "fragment",
        "cut-off",
        "looping",
        "unsafe",
        "prompt-echo",
    )
    rubric.write_text("Keep a story only if it rhymes. Reasons: `no-rhyme`, `too_long`.\n")
    own = judge(tmp_path, {"X1": [drop("too long")]}, rubric=str(rubric))
    assert own.rubric.digest != shipped.digest
    assert curate_records(own, [story(0, "X1")]) == {"r0": ["judge.too_long"]}


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    generate(load_config(scripted_config(tmp_path, n=12)))
    return tmp_path / "out"


def inline_toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {inline_toml(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)  # a JSON string or number is a TOML one too


def judge_config(tmp_path: Path, reply: str, *extra: str) -> list[str]:
    """--set values that put the judge (the scripted backend answering `reply`) between constraints and exact."""
    backend = {"name": "scripted", "options": {"reply": reply, "calls_file": str(tmp_path / "calls.jsonl")}}
    inline = inline_toml(backend)
    return [
        "curate.order=['constraints', 'judge', 'exact']",
        f"curate.filters.judge={{backend = {inline}{''.join(extra)}}}",
        "curate.batch_size=5",
    ]


def test_resumed_and_repeated_curation_never_asks_twice(generated: Path, tmp_path: Path) -> None:
    shared = tmp_path / "shared-cache.sqlite"
    cfg = load_config(None, judge_config(tmp_path, KEEP, f", cache_path = '{shared}'"))
    first = curate(cfg, generated, tmp_path / "c1")
    assert calls(tmp_path) == [5, 5, 2] and first.stats["kept"] == 12
    assert first.stats["tokens"]["judge"] == {
        "records": 12,
        "tokens_in": 600,
        "tokens_out": 12 * len(KEEP.split()),
        "errors": 0,
    }
    # A kill before the shards were finished: their markers and parts gone, the cache is what remains.
    c1 = tmp_path / "c1"
    for folder in ("completions", "data", "excluded"):
        for path in (c1 / folder).glob("*"):
            path.unlink()
    again = curate(cfg, generated, c1)
    other = curate(cfg, generated, tmp_path / "c2")  # another folder, the same cache_path
    assert calls(tmp_path) == [5, 5, 2]
    assert again.stats["tokens"]["judge"] == {"records": 12, "cached": 12} == other.stats["tokens"]["judge"]
    kept = list(Dataset.open(tmp_path / "c2").iter_records("data"))
    assert len(kept) == 12 and all(r.scores["judge.grammar"] == 9.0 and r.meta["judge"]["cached"] for r in kept)


def test_default_cache_lives_in_the_output_and_a_new_rubric_asks_again(generated: Path, tmp_path: Path) -> None:
    curate(load_config(None, judge_config(tmp_path, KEEP)), generated, tmp_path / "c1")
    assert len(load_cached(tmp_path / "c1")) == 12 and sum(calls(tmp_path)) == 12
    rubric = tmp_path / "rubric.md"
    rubric.write_text("Keep only stories about cats.\n")
    cfg = load_config(None, judge_config(tmp_path, drop("dogs"), f", rubric = '{rubric}'"))
    result = curate(cfg, generated, tmp_path / "c3")
    assert sum(calls(tmp_path)) == 24 and result.stats["dropped"] == {"judge.other": 12}


def test_cli_refuses_a_rubric_without_keep_before_writing(generated: Path, tmp_path: Path) -> None:
    rubric = tmp_path / "bad.md"
    rubric.write_text("Grade grammar.\n")
    sets = judge_config(tmp_path, KEEP, f", rubric = '{rubric}'")
    result = run_cli(
        "curate", "--in", str(generated), "--out", str(tmp_path / "c"), *(a for s in sets for a in ("--set", s))
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "bad.md: the judge rubric has no keep decision" in result.stderr and not (tmp_path / "c").exists()
    not_a_cache = tmp_path / "notes.txt"
    not_a_cache.write_text("these are my notes, not a database\n")
    sets = judge_config(tmp_path, KEEP, f", cache_path = '{not_a_cache}'")
    result = run_cli(
        "curate", "--in", str(generated), "--out", str(tmp_path / "c"), *(a for s in sets for a in ("--set", s))
    )
    assert result.returncode == 2 and "notes.txt: not a usable judge cache" in result.stderr
    assert not (tmp_path / "c").exists() and not_a_cache.read_text().startswith("these are my notes")
    missing = run_cli("curate", "--in", str(generated), "--out", str(tmp_path / "c"), "--set", "curate.order=['judge']")
    assert missing.returncode == 2 and "curate.filters.judge.backend" in missing.stderr


@pytest.mark.parametrize("judge_rejected", [False, True])
def test_the_judge_reads_only_what_earlier_filters_kept(tmp_path: Path, judge_rejected: bool) -> None:
    filters = [make("constraints"), judge(tmp_path, {"W": [drop("incoherent")]}, judge_rejected=judge_rejected)]
    records = [
        Record(id="fine", text=f"{STORY} W", words={"noun": "ball"}),
        Record(id="dropped", text=f"{STORY} W.", words={"noun": "zebra"}),
    ]
    flags = {r.id: r.flags for r in CurateStep(filters).curate_batch(records)}
    if judge_rejected:
        assert calls(tmp_path) == [2] and flags["dropped"] == ["constraints.missing_noun", "judge.incoherent"]
    else:
        assert calls(tmp_path) == [1] and flags["dropped"] == ["constraints.missing_noun"]
        assert "judge" not in records[1].meta and "judge.keep" not in records[1].scores
    assert flags["fine"] == ["judge.incoherent"]


def test_an_edited_rubric_is_another_curation_not_a_resume(generated: Path, tmp_path: Path) -> None:
    rubric = tmp_path / "rubric.md"
    rubric.write_text("Keep only stories about cats.\n")
    cfg = load_config(None, judge_config(tmp_path, KEEP, f", rubric = '{rubric}'"))
    curate(cfg, generated, tmp_path / "c1")
    rubric.write_text("Keep only stories about dogs.\n")  # the same path and options, other text
    with pytest.raises(UserError, match=r"holds another run's data \(different filter_files\.judge\)"):
        curate(cfg, generated, tmp_path / "c1")
