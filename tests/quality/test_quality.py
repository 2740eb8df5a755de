"""The quality model end to end through the CLI: train on labels + a human corpus, score files and datasets, refuse
bad input with one line and nothing written; and the `quality` curation filter inside `synthloop curate`, where every
scored story carries quality.score and quality.margin."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED, run_cli, scripted_config, snapshot
from synthloop.quality.corrupt import KINDS, corrupt
from synthloop.quality.model import load_model
from synthloop.quality.train import auc
from synthloop.store.dataset import Dataset

LABELS = SHARED / "labels" / "stories_dev.jsonl"
SAMPLE = SHARED / "corpora" / "tinystories_sample.jsonl"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """200 TinyStories stories (unlabelled positives) as a small JSONL."""
    path = tmp_path_factory.mktemp("corpus") / "human.jsonl"
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")[100:300]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    out = tmp_path_factory.mktemp("models") / "q1"
    result = run_cli(
        "quality", "train", "--labels", str(LABELS), "--positives", str(corpus), "--corrupt", "100", "--out", str(out)
    )
    assert result.returncode == 0, result.stderr
    assert "held-out" in result.stdout
    return out


def test_train_writes_a_card_with_held_out_figures(model_dir: Path) -> None:
    card = json.loads((model_dir / "card.json").read_text())
    assert card["format"] == "synthloop-quality-1"
    held = card["held_out"]
    keeps = sum(json.loads(line)["keep"] for line in LABELS.read_text().split("\n") if line.strip())
    assert held["held_out_stories"] == round(keeps * 0.3) + round((108 - keeps) * 0.3)  # stratified
    assert 0 <= held["auc"] <= 1
    assert set(held["at_threshold"]) >= {"precision", "recall", "threshold", "kept"}
    assert card["training"]["by_source"]["human.jsonl"]["keep"] == 200
    assert sum(card["training"]["by_source"][f"corrupted:{k}"]["drop"] for k in KINDS) == 100
    model = load_model(model_dir)
    assert 0 <= model.threshold <= 1


def test_score_a_jsonl_file_and_a_dataset(tmp_path: Path, model_dir: Path) -> None:
    stories = [json.loads(line) for line in LABELS.read_text().split("\n") if line.strip()][:10]
    source = tmp_path / "in.jsonl"
    rows = [{"text": s["text"]} for s in stories[:5]] + [{"id": s["id"], "text": s["text"]} for s in stories[5:]]
    source.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    out = tmp_path / "scores.jsonl"
    result = run_cli("quality", "score", "--in", str(source), "--out", str(out), "--model", str(model_dir))
    assert result.returncode == 0, result.stderr
    scored = [json.loads(line) for line in out.read_text().split("\n") if line]
    assert [s["id"] for s in scored] == ["1", "2", "3", "4", "5"] + [s["id"] for s in stories[5:]]
    threshold = load_model(model_dir).threshold
    for line in scored:
        assert set(line) == {"id", "score", "keep"}
        assert line["keep"] == (line["score"] >= threshold)
    # The library gives the same numbers.
    expected = load_model(model_dir).score([s["text"] for s in stories])
    assert np.allclose([s["score"] for s in scored], expected, atol=1e-6)


def test_human_stories_outscore_their_corruptions(model_dir: Path) -> None:
    texts = [json.loads(line)["text"] for line in SAMPLE.read_text().split("\n")[600:700] if line.strip()]
    broken = [text for kind, text in corrupt(texts, 100, seed=5) if kind in ("fragment", "loop")]
    model = load_model(model_dir)
    assert np.median(model.score(texts)) > np.median(model.score(broken))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"text": "A story."}\n', "expected 'keep' true or false"),
        ('{"keep": true}\n', "expected a non-empty string 'text'"),
        ('{"text": "A story.", "keep": "yes"}\n', "expected 'keep' true or false"),
        ("not json\n", "invalid JSON"),
        ("", "no labelled stories"),
    ],
)
def test_bad_labels_are_one_line_and_write_nothing(tmp_path: Path, content: str, expected: str) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(content, encoding="utf-8")
    out = tmp_path / "model"
    result = run_cli("quality", "train", "--labels", str(labels), "--out", str(out))
    assert result.returncode == 2
    assert expected in result.stderr and str(labels) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_bad_model_folders_are_refused(tmp_path: Path, model_dir: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "Tom had a red ball. He played with it all day."}\n', encoding="utf-8")
    out = tmp_path / "scores.jsonl"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "card.json").write_text((model_dir / "card.json").read_text())
    (broken / "model.npz").write_bytes(b"not an npz")
    other = tmp_path / "other"
    other.mkdir()
    card = json.loads((model_dir / "card.json").read_text()) | {"format": "synthloop-quality-0"}
    (other / "card.json").write_text(json.dumps(card))
    (other / "model.npz").write_bytes((model_dir / "model.npz").read_bytes())
    cases = [
        (tmp_path / "missing", "no such quality model folder"),
        (broken, "damaged model weights"),
        (other, "this synthloop reads"),
    ]
    for folder, expected in cases:
        result = run_cli("quality", "score", "--in", str(source), "--out", str(out), "--model", str(folder))
        assert result.returncode == 2, folder
        assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert not out.exists()


def test_train_refuses_an_existing_output_folder(tmp_path: Path, model_dir: Path) -> None:
    before = snapshot(model_dir)
    result = run_cli("quality", "train", "--labels", str(LABELS), "--out", str(model_dir))
    assert result.returncode == 2 and "already exists" in result.stderr
    assert snapshot(model_dir) == before


def test_auc_matches_the_rank_definition() -> None:
    labels = np.array([True, False, True, False, True])
    scores = np.array([0.9, 0.1, 0.4, 0.4, 0.8])
    # pairs (keep, drop): (0.9 > 0.1, 0.4), (0.4 > 0.1, = 0.4), (0.8 > both): 5.5 of 6
    assert auc(labels, scores) == pytest.approx(5.5 / 6)
    assert auc(np.array([True, True]), np.array([0.1, 0.2])) is None


def test_corruptions_are_deterministic_and_keep_paragraphs() -> None:
    texts = [json.loads(line)["text"] for line in SAMPLE.read_text().split("\n")[:60] if line.strip()]
    first, second = corrupt(texts, 20, seed=3), corrupt(texts, 20, seed=3)
    assert first == second
    assert {kind for kind, _ in first} == set(KINDS)
    assert any("\n\n" in text for kind, text in first if kind == "splice")


def test_curate_with_the_quality_filter(tmp_path: Path, model_dir: Path) -> None:
    config = scripted_config(tmp_path, n=6)
    assert run_cli("generate", "--config", str(config)).returncode == 0
    curate_toml = tmp_path / "curate.toml"
    curate_toml.write_text(f'[curate]\norder = ["quality"]\n[curate.filters.quality]\nmodel = "{model_dir}"\n')
    result = run_cli(
        "curate", "--in", str(tmp_path / "out"), "--out", str(tmp_path / "cur"), "--config", str(curate_toml)
    )
    assert result.returncode == 0, result.stderr
    dataset = Dataset.open(tmp_path / "cur")
    records = list(dataset.iter_records("data")) + list(dataset.iter_records("excluded"))
    assert len(records) == 6
    threshold = load_model(model_dir).threshold
    for record in records:
        score = record.scores["quality.score"]
        assert abs(record.scores["quality.margin"] - (score - threshold)) < 1e-5
        assert (record.meta["curation"] == "kept") == (score >= threshold)
        assert ("quality.low_score" in record.flags) == (score < threshold)
    # The same --out with a model retrained in place is another curation, refused before any write.
    retrained = tmp_path / "retrained"
    shutil.copytree(model_dir, retrained)
    curate_toml.write_text(f'[curate]\norder = ["quality"]\n[curate.filters.quality]\nmodel = "{retrained}"\n')
    args = ("curate", "--in", str(tmp_path / "out"), "--out", str(tmp_path / "again"), "--config", str(curate_toml))
    assert run_cli(*args).returncode == 0
    card = json.loads((retrained / "card.json").read_text())
    (retrained / "card.json").write_text(json.dumps(card | {"threshold": 0.5}))
    refused = run_cli(*args)
    assert refused.returncode != 0 and "different filter_files.quality" in refused.stderr
