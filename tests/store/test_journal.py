from pathlib import Path

from synthloop.records import Record
from synthloop.store.atomic import atomic_write_text, clean_temp_files
from synthloop.store.journal import Journal


def test_torn_last_line_is_ignored_and_cut_before_next_append(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append([Record(id="a", text="one"), Record(id="b", text="two")])
    with open(journal.path, "a") as handle:
        handle.write('{"id": "c", "text": "thr')  # a writer killed mid-line
    assert list(journal.read()) == ["a", "b"]
    journal.append([Record(id="c", text="three")])
    assert [r.text for r in journal.read().values()] == ["one", "two", "three"]


def test_duplicate_ids_keep_first_copy(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j.jsonl")
    journal.append([Record(id="a", text="first")])
    journal.append([Record(id="a", text="second")])
    assert journal.read()["a"].text == "first"


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    atomic_write_text(tmp_path / "f.txt", "hello")
    (tmp_path / ".tmp-f.txt.abc").write_text("leftover of a killed writer")
    assert clean_temp_files(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]
