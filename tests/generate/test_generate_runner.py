import json
from pathlib import Path

import pytest

from conftest import scripted_config, snapshot
from synthloop.config import load_config
from synthloop.errors import UserError
from synthloop.generate.runner import generate
from synthloop.store.dataset import Dataset


def records(out: Path) -> list:
    return list(Dataset.open(out).iter_records())


def test_generates_shards_with_full_provenance(tmp_path: Path) -> None:
    result = generate(load_config(scripted_config(tmp_path, n=12)))
    out = tmp_path / "out"
    assert result.stories == 12 and result.failed == 0 and result.all_words_used == 12
    assert sorted(p.name for p in (out / "data").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    stories = records(out)
    assert len({r.id for r in stories}) == 12
    first = stories[0]
    assert first.backend == "scripted" and first.model == "scripted-1" and first.recipe == "tinystories"
    assert first.params["temperature"] == 0.7 and first.params["seed"] == first.seed
    assert first.tokens_in == 50 and first.tokens_out > 0 and first.finish_reason == "stop"
    assert all(word in first.text for word in first.words.values())
    assert not list((out / "work").glob("*"))
    manifest = Dataset.open(out).manifest
    assert manifest["counts"] == {"stories": 12, "failed": 0}


def test_rerun_resumes_and_larger_n_extends_with_same_ids(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=7)
    generate(load_config(config))
    before = {r.id: r.text for r in records(tmp_path / "out")}
    again = generate(load_config(config))
    assert again.resumed == 7 and again.tokens_generated == 0
    extended = generate(load_config(config, ["run.n=12"]))
    after = {r.id: r.text for r in records(tmp_path / "out")}
    assert extended.resumed == 7 and len(after) == 12
    assert {k: after[k] for k in before} == before
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    generate(load_config(scripted_config(fresh, n=12)))
    assert {r.id: r.text for r in records(fresh / "out")} == after


def test_failed_prompts_are_recorded_not_lost(tmp_path: Path) -> None:
    result = generate(load_config(scripted_config(tmp_path, n=20, fail_seeds_mod=3)))
    dataset = Dataset.open(tmp_path / "out")
    failed = list(dataset.iter_records("failed"))
    assert result.failed == len(failed) > 0
    assert result.stories + result.failed == 20
    assert all(r.meta["error"] == "scripted failure" and r.finish_reason == "error" for r in failed)
    assert all(r.attempts == 2 for r in failed)


def test_story_missing_words_is_retried_with_new_seed(tmp_path: Path) -> None:
    generate(load_config(scripted_config(tmp_path, n=20, skip_words_mod=2)))
    stories = records(tmp_path / "out")
    retried = [r for r in stories if r.attempts == 2]
    assert retried, "some first attempts miss their words"
    assert all(r.params["seed"] != r.seed or r.meta["kept_attempt"] == 1 for r in retried)
    assert all(r.meta["tokens_out_total"] >= r.tokens_out for r in stories)


def test_folder_of_another_run_is_refused_and_left_intact(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=5)
    generate(load_config(config))
    before = snapshot(tmp_path / "out")
    with pytest.raises(UserError, match="holds another run's data \\(different seed\\)"):
        generate(load_config(config, ["run.seed=8"]))
    with pytest.raises(UserError, match="different backend_options"):
        generate(load_config(config, ["backend.options.temperature=0.1"]))
    assert snapshot(tmp_path / "out") == before


def test_non_empty_foreign_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="holds no synthloop generate run"):
        generate(load_config(scripted_config(tmp_path, n=3)))


def test_a_folder_made_before_a_backend_option_existed_resumes_at_its_default(tmp_path: Path) -> None:
    config = scripted_config(tmp_path, n=4)
    generate(load_config(config))
    manifest_path = tmp_path / "out" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    del manifest["settings"]["backend_options"]["empty_text"]  # as written before the option was added
    manifest_path.write_text(json.dumps(manifest))
    assert generate(load_config(config)).resumed == 4
    with pytest.raises(UserError, match=r"different backend_options\.empty_text"):
        generate(load_config(config, ["backend.options.empty_text=x"]))
