"""Review decisions flowing back (apply), export, agreement figures, and the CLI's one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from review_helpers import make_dataset

from conftest import run_cli, snapshot
from synthloop.review.agreement import agreement, cohen_kappa
from synthloop.review.apply import apply_review
from synthloop.review.export import export
from synthloop.review.items import load_items
from synthloop.review.store import ReviewStore, default_db
from synthloop.store.dataset import Dataset


def reviewed_dataset(tmp_path: Path) -> tuple[Path, ReviewStore]:
    dataset = make_dataset(tmp_path / "curated")
    store = ReviewStore(default_db(dataset))
    store.sync_items(load_items(Dataset.open(dataset))[1])
    for name in ("ann", "ben"):
        store.add_reviewer(name)
    store.decide("item000", "ann", "accept")
    store.decide("item000", "ben", "reject", reason="biased")  # a conflict
    store.decide("item001", "ann", "edit", text="Tom ran to the ball, happy.")
    store.decide("item001", "ben", "accept")
    store.decide("item002", "ann", "reject", reason="other", note="rhymes badly")
    store.decide("item100", "ben", "accept")  # rescues a filter reject
    store.decide("item003", "ann", "tag", tags=["funny"])
    return dataset, store


def test_kappa_matches_sklearn_and_textbook_cases() -> None:
    from sklearn.metrics import cohen_kappa_score

    a = ["accept", "accept", "reject", "accept", "reject", "reject", "accept", "accept"]
    b = ["accept", "reject", "reject", "accept", "reject", "accept", "accept", "accept"]
    assert cohen_kappa(list(zip(a, b, strict=True))) == pytest.approx(cohen_kappa_score(a, b))
    assert cohen_kappa([("accept", "accept")] * 4) is None  # no variation: undefined, not 1.0
    assert cohen_kappa([]) is None


@pytest.mark.parametrize(("rule", "item000_part"), [("reject", "excluded"), ("accept", "data"), ("latest", "excluded")])
def test_apply_excludes_rejects_keeps_edits_and_rescues(tmp_path: Path, rule: str, item000_part: str) -> None:
    dataset, _ = reviewed_dataset(tmp_path)
    before = snapshot(dataset)
    stats = apply_review(dataset, tmp_path / "out", on_conflict=rule)
    assert snapshot(dataset) == before  # the input is never touched
    out = Dataset.open(tmp_path / "out")
    data = {r.id: r for r in out.iter_records("data")}
    excluded = {r.id: r for r in out.iter_records("excluded")}
    assert ("item000" in data) == (item000_part == "data") and ("item000" in excluded) == (item000_part != "data")
    if item000_part == "excluded":
        assert "review.biased" in excluded["item000"].flags
    assert excluded["item002"].meta["review"].items() >= {"reason": "other", "note": "rhymes badly"}.items()
    [edited] = [r for r in data.values() if r.parent_id == "item001"]
    assert edited.text == "Tom ran to the ball, happy." and edited.id != "item001"
    assert data["item100"].meta["review"]["status"] == "rescued" and data["item100"].flags == []
    assert data["item100"].meta["review"]["overridden_flags"] == ["constraints.missing_noun"]
    assert data["item003"].meta["review"] == {"status": "unreviewed", "tags": ["funny"]}
    assert stats["kept"] + stats["excluded"] == 8 and stats["agreement"]["conflicts"] == 1
    assert json.loads((tmp_path / "out" / "stats.json").read_text()) == stats
    assert out.manifest["kind"] == "review" and out.manifest["review"]["on_conflict"] == rule


def test_export_jsonl_and_argilla(tmp_path: Path) -> None:
    dataset, store = reviewed_dataset(tmp_path)
    assert export(dataset, tmp_path / "all.jsonl", "jsonl") == 8
    rows = {json.loads(line)["id"]: json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()}
    assert rows["item000"]["verdicts"] == {"ann": "accept", "ben": "reject"} and len(rows["item000"]["decisions"]) == 2
    assert rows["item100"]["part"] == "excluded"
    assert export(dataset, tmp_path / "argilla", "argilla") == 8
    settings = json.loads((tmp_path / "argilla" / "settings.json").read_text())
    assert [q["name"] for q in settings["questions"]] == ["verdict", "reason", "edited_story", "note"]
    records = [json.loads(line) for line in (tmp_path / "argilla" / "records.jsonl").read_text().splitlines()]
    first = next(r for r in records if r["id"] == "item001")
    assert first["responses"]["edited_story"] == [{"value": "Tom ran to the ball, happy.", "user_id": "ann"}]
    assert {r["status"] for r in records} == {"completed", "pending"}
    assert agreement(store.decisions())["items_double_reviewed"] == 2


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    dataset, _ = reviewed_dataset(tmp_path)
    (tmp_path / "plain").mkdir()
    cases = [
        (["review", "--in", str(tmp_path / "plain")], "not a synthloop dataset"),
        (["review", "add-user", "ann", "--in", str(dataset)], "already exists"),
        (["review", "add-user", "bad name!", "--in", str(dataset)], "expected 1-64 letters"),
        (["review", "add-user", "--in", str(dataset)], "the following arguments are required: NAME"),
        (["review", "frobnicate", "--in", str(dataset)], "argument ACTION: invalid choice: 'frobnicate'"),
        (["review", "apply", "--in", str(dataset)], "the following arguments are required: --out"),
        (["review", "apply", "--in", str(dataset), "--out", str(dataset)], "must differ from --in"),
        (
            ["review", "apply", "--in", str(dataset), "--out", str(tmp_path / "o"), "--on-conflict", "coin"],
            "argument --on-conflict: invalid choice: 'coin'",
        ),
        (
            ["review", "export", "--in", str(dataset), "--out", str(tmp_path / "x"), "--format", "csv"],
            "argument --format: invalid choice: 'csv'",
        ),
        (["review", "stats", "--in", str(make_dataset(tmp_path / "fresh"))], "no review database"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and message in result.stderr, (args, result.stderr)
    (tmp_path / "broken.sqlite").write_text("not sqlite at all" * 100)
    result = run_cli("review", "stats", "--in", str(dataset), "--db", str(tmp_path / "broken.sqlite"))
    assert result.returncode == 2 and "not a usable review database" in result.stderr
    result = run_cli("review", "stats", "--in", str(dataset))
    assert result.returncode == 0 and json.loads(result.stdout)["conflicts"] == 1


def test_report_of_a_reviewed_dataset_shows_review_outcomes(tmp_path: Path) -> None:
    from synthloop.report.runner import report

    dataset, _ = reviewed_dataset(tmp_path)
    apply_review(dataset, tmp_path / "out")
    result = report(tmp_path / "out", tmp_path / "report")
    assert result.metrics["review"]["agreement"]["items_double_reviewed"] == 2
    page = (tmp_path / "report" / "index.html").read_text()
    assert "<h2>Human review</h2>" in page and 'data-metric="review/counts/rescued"' in page
