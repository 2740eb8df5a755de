"""The collapse lab's mechanics on a 2-generation miniature (not the science: that is the cpu preset's job), the
indicators, and lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SHARED, run_cli
from synthloop.collapse.lab import documents
from synthloop.metrics.collapse import Reference, indicators, js_divergence

GUTENBERG = SHARED / "corpora" / "gutenberg_children.jsonl"


def test_indicators_see_monotony_and_lost_tails() -> None:
    texts = [json.loads(line)["text"] for line in GUTENBERG.read_text().splitlines()[:200]]
    reference = Reference.from_texts(texts)
    same = indicators(texts, reference)
    assert same["tail_coverage"] == 1.0 and same["head_coverage"] == 1.0 and same["js_divergence"] == 0.0
    monotonous = indicators(["the cat sat on the mat and the cat was happy"] * 50, reference)
    assert monotonous["distinct_2"] < 0.05 and monotonous["tail_coverage"] < 0.01
    assert monotonous["js_divergence"] > 0.3
    assert js_divergence(reference.counts, reference.counts) == 0.0


def test_documents_cut_at_sentence_ends() -> None:
    text = " ".join(f"Word{i} word word word word." for i in range(40))  # 200 words, sentences of 5
    pieces = documents([text], 30)
    assert all(p.endswith(".") for p in pieces) and all(30 <= len(p.split()) <= 60 for p in pieces[:-1])
    assert sum(len(p.split()) for p in pieces) == 200


@pytest.mark.slow
def test_miniature_lab_runs_resumes_and_reports(tmp_path: Path) -> None:
    out = tmp_path / "lab"
    args = ["collapse", "--real", str(GUTENBERG), "--preset", "miniature", "--out", str(out)]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["regimes"]) == ["replace", "accumulate", "mix:0.1"]
    for regime, rows in metrics["regimes"].items():
        assert [r["generation"] for r in rows] == [0, 1], regime
        assert all(r["real_perplexity"] > 1 and len(r["samples_under_gen0"]["values"]) > 10 for r in rows)
    sizes = {
        r: len((out / r.replace(":", "-") / "gen-1" / "train.jsonl").read_text().splitlines())
        for r in metrics["regimes"]
    }
    assert sizes == {"replace": 60, "accumulate": 120, "mix:0.1": 66}
    samples = [json.loads(line) for line in (out / "replace" / "gen-1" / "samples.jsonl").read_text().splitlines()]
    assert {s["generation"] for s in samples} == {1}  # lineage on every sample
    lineage = json.loads((out / "replace" / "gen-1" / "model" / "lineage.json").read_text())
    assert lineage["data_generation"] == 0 and lineage["writes_generation"] == 1
    assert json.loads((out / "gen-0" / "model" / "lineage.json").read_text())["writes_generation"] == 0
    for name in ("index.html", "real_perplexity.png", "tail_coverage.png", "sample_perplexity.png"):
        assert (out / name).stat().st_size > 1000
    assert "replace" in result.stdout and "report:" in result.stdout

    # Interrupted in the middle of a generation: that generation is redone from its saved model, the rest is kept.
    kept_model = (out / "accumulate" / "gen-1" / "model" / "model.pt").stat().st_mtime_ns
    (out / "replace" / "gen-1" / "metrics.json").unlink()
    (out / "replace" / "gen-1" / "samples.jsonl").unlink()
    again = run_cli(*args)
    assert again.returncode == 0, again.stderr
    assert "replace generation 1" in again.stdout and "accumulate generation 1" not in again.stdout
    assert (out / "accumulate" / "gen-1" / "model" / "model.pt").stat().st_mtime_ns == kept_model
    rerun = json.loads((out / "metrics.json").read_text())
    assert {r: rerun["regimes"][r] for r in ("accumulate", "mix:0.1")} == {
        r: metrics["regimes"][r] for r in ("accumulate", "mix:0.1")
    }
    redone, before = rerun["regimes"]["replace"][1], metrics["regimes"]["replace"][1]
    # The same model (kept, not retrained): the same held-out perplexity. Fresh samples need not be bit-identical:
    # CPU kernels do not promise the same float rounding from run to run, and sampling amplifies any difference.
    assert redone["real_perplexity"] == before["real_perplexity"] and redone["texts"] == before["texts"]

    changed = run_cli(*args[:-2], "--out", str(out), "--steps", "3")
    assert changed.returncode == 2 and "holds another run's data (different steps)" in changed.stderr


def test_bad_lab_settings_are_one_line_errors(tmp_path: Path) -> None:
    base = ["collapse", "--real", str(GUTENBERG), "--out", str(tmp_path / "x"), "--preset", "miniature"]
    cases = [
        (["--regimes", "replace,shuffle"], "regime 'shuffle'"),
        (["--regimes", "mix:2"], "real fraction must be in (0, 1]"),
        (["--generations", "0"], "generations"),
        (["--preset", "huge"], "argument --preset: invalid choice: 'huge'"),
    ]
    for extra, message in cases:
        result = run_cli(*base, *extra)
        assert result.returncode == 2 and result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    missing = run_cli("collapse", "--real", str(tmp_path / "none.jsonl"), "--out", str(tmp_path / "y"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
