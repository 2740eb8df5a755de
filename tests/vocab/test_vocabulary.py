import json
from pathlib import Path

import pytest

from synthloop.errors import UserError
from synthloop.vocab import load_vocabulary

ROOT = Path(__file__).resolve().parents[2]


def test_default_vocabulary_has_child_words_by_pos() -> None:
    vocabulary = load_vocabulary()
    assert 2000 <= len(vocabulary.entries) <= 3000
    counts = vocabulary.counts()
    assert counts["noun"] > 1000 and counts["verb"] > 300 and counts["adjective"] > 200
    pos = {e.word: e.pos for e in vocabulary.entries}
    assert pos["dog"] == "noun" and pos["jump"] == "verb" and pos["happy"] == "adjective"
    ranks = sorted(e.rank for e in vocabulary.entries)
    assert ranks == list(range(1, len(ranks) + 1))


def test_default_vocabulary_keeps_base_forms_and_drops_blocklist() -> None:
    words = load_vocabulary().words
    for inflected in ("ran", "mice", "acts", "babies", "went"):
        assert inflected not in words
    assert {"run", "mouse", "act", "baby", "go"} <= words
    blocked = [
        line.split()[0]
        for line in (ROOT / "scripts" / "vocab_blocklist.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert blocked and not set(blocked) & words


def test_user_lists_in_every_format(tmp_path: Path) -> None:
    (tmp_path / "w.tsv").write_text("word\tpos\nball\tnoun\njump\tverb\nred\tadj\n")
    (tmp_path / "w.csv").write_text("word,pos,rank\nball,noun,2\njump,verb,1\nred,adjective,3\n")
    (tmp_path / "w.json").write_text(json.dumps({"noun": ["ball"], "verb": ["jump"], "adjective": ["red"]}))
    (tmp_path / "w.txt").write_text("# my words\nball\njump verb\nred adjective\n")
    for name in ("w.tsv", "w.csv", "w.json", "w.txt"):
        vocabulary = load_vocabulary(tmp_path / name)
        assert {(e.word, e.pos) for e in vocabulary.entries} == {
            ("ball", "noun"),
            ("jump", "verb"),
            ("red", "adjective"),
        }


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", "", "is empty"),
        ("blank.txt", "# only a comment\n\n", "no words"),
        ("bad.tsv", "term\tpos\nball\tnoun\n", "header must name a 'word' column"),
        ("badpos.tsv", "word\tpos\nball\tthing\n", "line 2: pos 'thing' is not one of"),
        ("bad.json", "{not json", "invalid JSON"),
        ("num.txt", "ball\n42\n", "line 2: word '42' is not a single word"),
        ("rank.csv", "word,pos,rank\nball,noun,first\n", "rank 'first' is not a whole number"),
        ("many.txt", "ball noun extra\n", "expected 'word' or 'word pos'"),
    ],
)
def test_bad_vocabulary_files_are_one_line_errors(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(UserError) as caught:
        load_vocabulary(path)
    assert message in str(caught.value) and name in str(caught.value)


def test_binary_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UserError, match="not UTF-8"):
        load_vocabulary(tmp_path / "bin.txt")
    with pytest.raises(UserError, match="not found"):
        load_vocabulary(tmp_path / "missing.tsv")
