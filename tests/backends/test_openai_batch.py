"""The openai-batch backend against the local batch API server (tests/batch_server.py): completed, failed, expired
and partly failed batches, bounded resubmission, bad result files, the deadline, and the CLI with costs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from batch_server import batch_config, batch_server
from conftest import run_cli
from synthloop.backends.base import Prompt
from synthloop.backends.batch_journal import parse_results
from synthloop.backends.openai_batch import OpenAIBatchBackend, OpenAIBatchOptions
from synthloop.errors import UserError
from synthloop.store.dataset import Dataset

PROMPT = 'Write a story. The story should use the verb "run", the noun "cat" and the adjective "big".'


def prompts(count: int) -> list[Prompt]:
    return [Prompt(f"p{i}", [{"role": "user", "content": PROMPT}], i) for i in range(count)]


def backend(url: str, folder: Path, **options: object) -> OpenAIBatchBackend:
    made = OpenAIBatchBackend(OpenAIBatchOptions(base_url=url, poll_s=0.01, max_poll_s=0.02, **options))
    made.attach(folder)
    return made


def line(custom_id: str, content: str | None = "A story.", status: int = 200) -> bytes:
    body = {
        "choices": [{"message": {"content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2},
    }
    return json.dumps({"custom_id": custom_id, "response": {"status_code": status, "body": body}}).encode() + b"\n"


def test_parse_results_maps_by_custom_id_and_reports_bad_lines() -> None:
    output = line("a") + b"{not json\n" + line("stranger") + line("b", content="  ")
    errors = json.dumps({"custom_id": "c", "error": {"code": "batch_expired", "message": "late"}}).encode()
    outcomes, notes = parse_results(output, errors, ["a", "b", "c", "d"], "batch x")
    assert outcomes["a"] == {"text": "A story.", "finish_reason": "stop", "tokens_in": 3, "tokens_out": 2, "model": ""}
    assert outcomes["b"] == {"error": "empty completion"}  # an empty completion is a failure, never a story
    assert outcomes["c"] == {"error": "batch_expired: late"}
    assert "no result" in outcomes["d"]["error"]
    assert len(notes) == 2 and all("\n" not in note for note in notes)
    assert "do not parse" in notes[0] and "output file line 2" in notes[0]
    assert "matches no request" in notes[1] and "line 3" in notes[1] and "ignored" in notes[1]


def test_completed_batch_maps_every_result_back(tmp_path: Path) -> None:
    with batch_server() as (url, server):
        out = backend(url, tmp_path).generate(prompts(5))
    assert [c.finish_reason for c in out] == ["stop"] * 5
    assert [c.text.split("Story ")[-1] for c in out] == [f"{i}." for i in range(5)]  # each prompt its own answer
    assert all(c.tokens_in == 40 and c.tokens_out > 0 for c in out)
    assert len(server.batches) == 1 and set(server.submissions.values()) == {1}


@pytest.mark.parametrize("outcome", ["failed", "expired"])
def test_failed_or_expired_requests_alone_are_resubmitted(tmp_path: Path, outcome: str) -> None:
    with batch_server(outcomes=[outcome], error_mod=3, empty_mod=4) as (url, server):
        out = backend(url, tmp_path).generate(prompts(8))
    assert all(c.finish_reason == "stop" and c.text for c in out)
    again = [cid for cid, count in server.submissions.items() if count > 1]
    if outcome == "failed":  # the whole batch failed: all resubmitted once
        assert len(again) == 8
    else:  # the odd half expired, seeds divisible by 3 erred, by 4 came back empty: only those again
        firsts = {f"p{i}-{i}" for i in range(8) if i % 2 == 1 or i % 3 == 0 or i % 4 == 0}
        assert set(again) <= firsts and {f"p{i}-{i}" for i in range(8) if i % 2 == 1} <= set(again)
        assert "p2-2" not in again
    assert max(server.submissions.values()) <= 3


def test_resubmission_is_bounded_and_the_failure_recorded(tmp_path: Path) -> None:
    with batch_server(outcomes=["failed"] * 10) as (url, server):
        out = backend(url, tmp_path, max_resubmits=1).generate(prompts(3))
    assert [c.finish_reason for c in out] == ["error"] * 3
    assert all("injected validation failure" in (c.error or "") and "after 2 batches" in (c.error or "") for c in out)
    assert set(server.submissions.values()) == {2} and len(server.batches) == 2


def test_a_create_whose_answer_was_lost_is_found_not_repeated(tmp_path: Path) -> None:
    with batch_server(fail_create_once=True) as (url, server):
        out = backend(url, tmp_path, backoff_s=0.01).generate(prompts(4))
    assert all(c.finish_reason == "stop" for c in out)
    assert len(server.batches) == 1 and set(server.submissions.values()) == {1}


def test_bad_result_lines_lose_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with batch_server(garbage=True, foreign=True) as (url, _server):
        out = backend(url, tmp_path).generate(prompts(4))
    assert all(c.finish_reason == "stop" for c in out)
    logged = capsys.readouterr().err
    assert "do not parse" in logged and "matches no request" in logged


def test_a_batch_past_its_deadline_stops_in_one_line_and_resumes(tmp_path: Path) -> None:
    with batch_server(outcomes=["never"]) as (url, server):
        with pytest.raises(UserError) as raised:
            backend(url, tmp_path, deadline_s=0.05).generate(prompts(3))
        message = str(raised.value)
        assert "\n" not in message and "still in_progress" in message and "deadline_s" in message
        server.batches["batch-0002"]["_outcome"] = "completed"  # the provider catches up
        out = backend(url, tmp_path, deadline_s=60).generate(prompts(3))  # a rerun, with a later deadline
    assert all(c.finish_reason == "stop" for c in out)
    assert len(server.batches) == 1 and set(server.submissions.values()) == {1}  # the same batch, not a new one


def test_a_short_download_is_fetched_again_not_resubmitted(tmp_path: Path) -> None:
    """The first download of each file is cut short with a Content-Length that matches the cut: only the File
    object's `bytes` shows it. The file is downloaded again; no request goes into a second batch."""
    with batch_server(short_downloads=1) as (url, server):
        out = backend(url, tmp_path, backoff_s=0.01).generate(prompts(6))
    assert [c.finish_reason for c in out] == ["stop"] * 6
    assert set(server.submissions.values()) == {1} and len(server.batches) == 1
    assert set(server.downloads.values()) == {2}


def test_a_download_that_stays_short_stops_the_run_and_a_rerun_resumes(tmp_path: Path) -> None:
    with batch_server(short_downloads=100) as (url, server):
        with pytest.raises(UserError) as raised:
            backend(url, tmp_path, backoff_s=0.0, max_retries=1).generate(prompts(4))
        assert "\n" not in str(raised.value) and "downloaded short" in str(raised.value)
        server.short_downloads = 0  # the network recovers
        out = backend(url, tmp_path).generate(prompts(4))
    assert [c.finish_reason for c in out] == ["stop"] * 4
    assert set(server.submissions.values()) == {1}  # nothing was paid twice


def test_results_the_batch_counts_but_its_file_lacks_are_never_resubmitted(tmp_path: Path) -> None:
    with batch_server(lose_results=True) as (url, server), pytest.raises(UserError) as raised:
        backend(url, tmp_path, backoff_s=0.0, max_retries=1).generate(prompts(6))
    message = str(raised.value)
    assert "\n" not in message and "counts 6 completed requests" in message and "3 readable results" in message
    assert set(server.submissions.values()) == {1} and len(server.batches) == 1


def test_a_large_call_is_split_at_requests_per_batch(tmp_path: Path) -> None:
    with batch_server() as (url, server):
        out = backend(url, tmp_path, requests_per_batch=4).generate(prompts(10))
    assert [c.finish_reason for c in out] == ["stop"] * 10
    sizes = sorted(server.batches[b]["request_counts"]["total"] for b in server.batches)
    assert sizes == [2, 4, 4] and set(server.submissions.values()) == {1}


def test_without_a_run_folder_it_says_so(tmp_path: Path) -> None:
    made = OpenAIBatchBackend(OpenAIBatchOptions(base_url="http://127.0.0.1:9/v1"))
    with pytest.raises(UserError, match="run folder"):
        made.generate(prompts(1))


def price_table(tmp_path: Path, body: str | None = None) -> Path:
    path = tmp_path / "prices.toml"
    path.write_text(
        body or '[prices."gpt-4o-mini"]\ninput_per_million = 0.15\noutput_per_million = 0.60\nbatch_discount = 0.5\n',
        encoding="utf-8",
    )
    return path


def test_generate_through_the_batch_api_records_costs(tmp_path: Path) -> None:
    with batch_server(error_mod=5) as (url, server):
        config = batch_config(tmp_path, url, requests_per_batch=6)  # a batch per shard of six
        result = run_cli("generate", "--config", str(config), "--prices", str(price_table(tmp_path)))
    assert result.returncode == 0, result.stderr
    records = list(Dataset.open(tmp_path / "out").iter_records())
    assert len(records) == 12 and all(r.backend == "openai-batch" and r.text for r in records)
    tokens_in = sum(r.meta["tokens_in_total"] for r in records)
    tokens_out = sum(r.meta["tokens_out_total"] for r in records)
    expected = (tokens_in * 0.15 + tokens_out * 0.60) / 1e6 * 0.5  # the batch discount applies
    assert sum(r.meta["cost_usd"] for r in records) == pytest.approx(expected)
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["cost"]["usd"] == pytest.approx(expected, abs=1e-6) and manifest["cost"]["batch_discount"] == 0.5
    assert "cost:" in result.stdout and f"{expected:.4f} USD" in result.stdout
    erred = {f"{r.id}-{r.seed}" for r in records if r.seed % 5 == 0}  # failed once at the server, then resubmitted
    assert server.submissions == {f"{r.id}-{r.seed}": 1 + (f"{r.id}-{r.seed}" in erred) for r in records}
    shards_with_errors = len({r.meta["index"] // 6 for r in records if r.seed % 5 == 0})
    assert len(server.batches) == 2 + shards_with_errors
    assert not list((tmp_path / "out" / "batches").glob("*.results.json"))  # dropped once the run is done


def test_price_table_mistakes_are_one_line_and_write_nothing(tmp_path: Path) -> None:
    config = batch_config(tmp_path, "http://127.0.0.1:9/v1")
    cases = [
        ('[prices."gpt-4o-mini"]\ninput_per_million = -1\noutput_per_million = 1\n', "greater than or equal to 0"),
        ('[prices."gpt-x"]\ninput_per_million = 1\noutput_per_million = 1\n', "no [prices.'gpt-4o-mini'] entry"),
        ('[prices."gpt-4o-mini"]\ninput_per_million = 1\n', "output_per_million: Field required"),
    ]
    for body, message in cases:
        prices = price_table(tmp_path, body)
        result = run_cli("generate", "--config", str(config), "--prices", str(prices))
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    result = run_cli("generate", "--config", str(config), "--max-cost", "1")
    assert result.returncode == 2 and "needs a price table" in result.stderr
    assert not (tmp_path / "out").exists()
