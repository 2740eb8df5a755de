"""Verification in the collapse lab: the oversampling rounds (resumable, deterministic, capped with a recorded
shortfall), the regime grammar, and a 2-generation miniature of the verified and scaled regimes that is killed in
the middle of oversampling and resumed."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any, ClassVar

import pytest

from conftest import SHARED, run_cli
from synthloop.collapse.config import PRESETS, LabConfig, Regime, parse_regime
from synthloop.collapse.lab import run_lab
from synthloop.collapse.report import console_table, write_report
from synthloop.collapse.verify import KEPT_FILE, SUMMARY, Verifier, verify
from synthloop.errors import UserError

TINYSTORIES = SHARED / "corpora" / "tinystories_sample.jsonl"


class KeepsGood:
    """A stand-in verifier: keeps texts that contain "good"."""

    name = "fake"
    settings: ClassVar[dict[str, Any]] = {}

    def judge(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            row
            | {"kept": "good" in row["text"], "reasons": [] if "good" in row["text"] else ["fake.bad"], "scores": {}}
            for row in rows
        ]


class Killed(Exception):
    pass


def drawer(kill_at_call: int | None = None, good_share: float = 0.15) -> Any:
    calls: list[int] = []

    def draw(count: int, seed: int) -> list[str]:
        calls.append(count)
        if kill_at_call is not None and len(calls) == kill_at_call:
            raise Killed
        rng = random.Random(seed)
        return [f"{'good' if rng.random() < good_share else 'bad'} sample {rng.random():.9f}" for _ in range(count)]

    draw.calls = calls  # type: ignore[attr-defined]
    return draw


def first_round(n: int) -> list[dict[str, Any]]:
    return [
        {"id": f"s{i}", "text": ("good" if i % 4 == 0 else "bad") + f" first {i}", "generation": 1} for i in range(n)
    ]


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_oversampling_reaches_the_target_and_resumes_after_a_kill(tmp_path: Path) -> None:
    lineage = {"generation": 1, "regime": "replace+fake"}
    whole = verify(tmp_path / "one" / "gen-1" / "v", KeepsGood(), first_round(200), drawer(), 200, 2000, lineage, 0)  # type: ignore[arg-type]
    assert whole["kept"] >= 200 and whole["used"] == 200 and whole["shortfall"] == 0
    assert whole["drawn"] == sum(r["drawn"] for r in whole["rounds"]) and whole["rounds"][0]["drawn"] == 200
    rejected = whole["drawn"] - whole["kept"]
    assert whole["extra_samples"] == whole["drawn"] - 200 and whole["reasons"] == {"fake.bad": rejected}
    assert whole["kept_fraction"] == whole["kept"] / whole["drawn"] and whole["first_round_kept_fraction"] == 0.25
    kept = [json.loads(line) for line in (tmp_path / "one" / "gen-1" / "v" / KEPT_FILE).read_text().splitlines()]
    assert len(kept) == 200 and len({k["id"] for k in kept}) == 200 and all("good" in k["text"] for k in kept)
    assert {k["generation"] for k in kept} == {1} and {k.get("regime") for k in kept[50:]} == {"replace+fake"}

    assert len(whole["rounds"]) >= 3  # samples from later rounds are kept less often than round 0's: more rounds
    # Killed while drawing the second extra round: the finished rounds stay and are not drawn again.
    folder = tmp_path / "two" / "gen-1" / "v"  # round seeds derive from the lab's seed and the last two folder names
    with pytest.raises(Killed):
        verify(folder, KeepsGood(), first_round(200), drawer(kill_at_call=2), 200, 2000, lineage, 0)  # type: ignore[arg-type]
    before = files(folder)
    assert sorted(before) == ["round-000.json", "round-001.json"]  # no summary, no half-written round
    again = drawer()
    resumed = verify(folder, KeepsGood(), first_round(200), again, 200, 2000, lineage, 0)  # type: ignore[arg-type]
    assert {name: files(folder)[name] for name in before} == before and len(again.calls) == len(whole["rounds"]) - 2
    strip = ("rounds", "extra_seconds")  # timings differ; everything else is the same
    assert {k: v for k, v in resumed.items() if k not in strip} == {k: v for k, v in whole.items() if k not in strip}
    assert (folder / KEPT_FILE).read_bytes() == (tmp_path / "one" / "gen-1" / "v" / KEPT_FILE).read_bytes()
    # Done: a rerun reads the summary and draws nothing.
    idle = drawer()
    assert verify(folder, KeepsGood(), first_round(200), idle, 200, 2000, lineage, 0) == resumed  # type: ignore[arg-type]
    assert idle.calls == []


def test_a_verifier_that_rejects_nearly_everything_stops_at_the_cap(tmp_path: Path) -> None:
    lineage = {"generation": 1, "regime": "replace+fake"}
    summary = verify(tmp_path, KeepsGood(), first_round(100), drawer(good_share=0.01), 100, 300, lineage, 0)  # type: ignore[arg-type]
    assert summary["drawn"] == 300 and summary["shortfall"] == 100 - summary["kept"] > 0
    assert summary["used"] == summary["kept"] == len((tmp_path / KEPT_FILE).read_text().splitlines())
    rejected = sum(len(json.loads(p.read_text())["rows"]) for p in tmp_path.glob("round-*.json")) - summary["kept"]
    assert rejected == summary["rejected_samples"] == 300 - summary["kept"]  # rejects are kept, with reasons
    last = verify(tmp_path / "last", KeepsGood(), first_round(100), drawer(), 0, 300, lineage, 0)  # type: ignore[arg-type]
    assert last["drawn"] == 100 and last["extra_samples"] == 0 and last["kept"] == 25  # verified, not oversampled


def test_regime_grammar() -> None:
    assert parse_regime("replace+curate") == Regime("replace", 0.0, "curate")
    assert parse_regime("accumulate-scaled") == Regime("accumulate-scaled", 0.0, None)
    assert parse_regime("mix:0.1+form") == Regime("mix", 0.1, "form")
    with pytest.raises(UserError, match="unknown verifier 'judge'"):
        parse_regime("replace+judge")
    with pytest.raises(UserError, match="regime 'scaled'"):
        parse_regime("scaled")
    with pytest.raises(ValueError, match="not in verifier_filters"):
        LabConfig(real=Path("x"), out=Path("y"), verifier_options={"vocab": {}})
    dedup = LabConfig(real=Path("x"), out=Path("y"), verifier_filters=["form", "minhash"])
    with pytest.raises(UserError, match="minhash cannot judge one sample at a time"):
        Verifier("form", dedup, ["a real document."])
    with pytest.raises(UserError, match="unknown filter 'spelling'"):
        Verifier("form", dedup.model_copy(update={"verifier_filters": ["spelling"]}), ["a real document."])


def test_bad_verified_regime_is_a_one_line_error(tmp_path: Path) -> None:
    result = run_cli(
        "collapse",
        "--reference",
        str(TINYSTORIES),
        "--out",
        str(tmp_path / "x"),
        "--preset",
        "miniature",
        "--regimes",
        "replace+judge",
    )
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "unknown verifier" in result.stderr
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_miniature_verified_and_scaled_regimes_resume_mid_oversampling(tmp_path: Path) -> None:
    real = tmp_path / "real.jsonl"
    real.write_text("".join(TINYSTORIES.read_text().splitlines(keepends=True)[:150]))
    # The miniature's 15-step model writes near-gibberish: loosened form bounds and a quality threshold at the real
    # documents' 1st percentile let some through, so the rounds, the kept set and the shortfall are all exercised.
    loose = {
        "form": {"reject_truncated": False, "min_words": 5, "max_garbage_char_fraction": None, "min_stop_words": None}
    }
    regimes = ["replace+curate", "accumulate+form", "accumulate-scaled"]
    cfg = LabConfig(
        **PRESETS["miniature"],
        real=real,
        out=tmp_path / "lab",
        regimes=regimes,  # type: ignore[arg-type]
        verifier_options=loose,
        quality_keeps_real=0.99,
        threads=1,
    )
    results = run_lab(cfg, log=lambda line: None)
    out = tmp_path / "lab"
    rows = results["regimes"]
    assert list(rows) == regimes and all([r["generation"] for r in rows[g]] == [0, 1] for g in regimes)
    for regime, entries in rows.items():
        for row in entries:
            assert row["guard"]["verdict"] in ("pass", "fail") and row["guard"]["checks"] >= 1, regime
            assert ("verification" in row) == ("+" in regime)
    curate0, curate1 = (r["verification"] for r in rows["replace+curate"])
    assert curate0["verifier"] == "curate" and 0 < curate0["settings"]["threshold"] < 1
    assert curate0["used"] == 60 - curate0["shortfall"] and curate0["drawn"] > 60  # oversampled for generation 1
    assert curate1["extra_samples"] == 0 and curate1["target"] == 0  # the last generation: verified only
    train = lambda regime: (out / regime / "gen-1" / "train.jsonl").read_text().splitlines()  # noqa: E731
    assert len(train("replace+curate")) == curate0["used"]
    assert len(train("accumulate+form")) == 60 + rows["accumulate+form"][0]["verification"]["used"]
    assert len(train("accumulate-scaled")) == 120 and rows["accumulate-scaled"][1]["steps"] == 30  # 2x data, 2x steps
    saved = json.loads((out / "gen-0" / "verified-curate" / SUMMARY).read_text())
    assert rows["replace+curate"][0]["verification"] == saved
    write_report(results, out)
    page = (out / "index.html").read_text()
    assert "<h2>Verification</h2>" in page and "guard verdict" in page and (out / "kept_fraction.png").exists()
    assert "replace+curate" in console_table(results) and " fail" in console_table(results)

    # Killed in the middle of oversampling generation 0 for +curate: its last round and everything after it is
    # lost. The rerun keeps the finished rounds and every other regime's work, and redoes only what is missing.
    verified = out / "gen-0" / "verified-curate"
    rounds = sorted(verified.glob("round-*.json"))
    for path in [verified / SUMMARY, verified / KEPT_FILE, rounds[-1], out / "metrics.json"]:
        path.unlink()
    kept_round = rounds[0].read_bytes()
    shutil.rmtree(out / "replace+curate")
    scaled = out / "accumulate-scaled" / "gen-1" / "metrics.json"
    other = scaled.read_bytes()
    again = run_lab(cfg, log=lambda line: None)
    assert rounds[0].read_bytes() == kept_round and scaled.read_bytes() == other
    redone = again["regimes"]["replace+curate"][0]["verification"]
    assert [r["drawn"] for r in redone["rounds"]] == [r["drawn"] for r in curate0["rounds"]]  # the same rounds
    assert len(train("replace+curate")) == redone["used"] and redone["target"] == 60
    assert again["regimes"]["accumulate-scaled"] == json.loads(json.dumps(rows["accumulate-scaled"]))

    changed = LabConfig(**(cfg.model_dump() | {"quality_keeps_real": 0.9}))
    with pytest.raises(UserError, match=r"different quality_keeps_real\)"):
        run_lab(changed, log=lambda line: None)
