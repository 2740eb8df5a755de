"""store.claim: the one output-folder check (new, empty, a resume of the same run, or refused naming what differs)."""

from __future__ import annotations

import json

import pytest

from synthloop.errors import UserError
from synthloop.store.claim import claim, describe, differences


def test_a_new_or_empty_folder_is_free_and_nothing_is_written(tmp_path):
    assert claim(tmp_path / "new", "training", {"a": 1}, "config.json") is False
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    assert claim(tmp_path / "empty", "training", {"a": 1}, "config.json") is False
    assert list((tmp_path / "empty").iterdir()) == []


def test_the_same_settings_resume_and_other_settings_are_refused_by_name(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"a": 1, "opts": {"x": 1, "y": 2}}))
    assert claim(tmp_path, "training", {"a": 1, "opts": {"x": 1, "y": 2}}, "config.json") is True
    with pytest.raises(UserError, match=r"different a, opts\.y\)"):
        claim(tmp_path, "training", {"a": 2, "opts": {"x": 1, "y": 3}}, "config.json")


def test_a_manifest_of_another_kind_or_a_foreign_folder_is_refused(tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "curate", "settings": {}}))
    with pytest.raises(UserError, match="holds a curate run, not a generate run"):
        claim(tmp_path, "generate", {}, "manifest.json", in_manifest=True)
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match="holds no synthloop generate run"):
        claim(other, "generate", {}, "manifest.json", in_manifest=True)
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="is not a folder"):
        claim(tmp_path / "file", "generate", {}, "manifest.json", in_manifest=True)
    (other / "config.json").write_text("[1]")
    with pytest.raises(UserError, match="expected a JSON object"):
        claim(other, "training", {}, "config.json")


def test_differences_name_nested_settings_and_count_the_rest():
    assert differences({"a": {"b": 1}}, {"a": {"b": 2}, "c": 3}) == ["a.b", "c"]
    many = {str(i): i for i in range(9)}
    assert describe(differences(many, {})) == "0, 1, 2, 3 and 5 more"


def test_a_setting_added_since_counts_as_its_default(tmp_path):
    (tmp_path / "lab.json").write_text(json.dumps({"a": 1}))  # made before setting "b" existed
    assert claim(tmp_path, "collapse lab", {"a": 1, "b": 0}, "lab.json", defaults={"b": 0}) is True
    with pytest.raises(UserError, match=r"different b\)"):
        claim(tmp_path, "collapse lab", {"a": 1, "b": 5}, "lab.json", defaults={"b": 0})
