"""Load a vocabulary: the shipped default (vocab/data/child_vocab.tsv) or a user's list.

A vocabulary is a list of base-form words, each with a part of speech (noun, verb, adjective or other) and a
frequency rank (1 = most frequent). User lists may be TSV or CSV with a header (`word`, `pos`, optional `rank`),
JSON (a list of {"word", "pos", "rank"} objects, or {"noun": [...], "verb": [...], "adjective": [...]}), or plain
text with one word per line, optionally followed by its POS. A word with no POS gets one from lemminflect's
lexicon (noun before verb before adjective). Bad files raise a one-line UserError naming the file and line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from synthloop.errors import UserError

POS_TAGS = ("noun", "verb", "adjective", "other")
POS_ALIASES = {
    "n": "noun",
    "noun": "noun",
    "v": "verb",
    "verb": "verb",
    "adj": "adjective",
    "a": "adjective",
    "adjective": "adjective",
    "other": "other",
    "o": "other",
}
DEFAULT_FILE = "child_vocab.tsv"


@dataclass(frozen=True, slots=True)
class Entry:
    word: str
    pos: str
    rank: int


@dataclass(slots=True)
class Vocabulary:
    entries: list[Entry]
    source: str
    by_pos: dict[str, list[Entry]] = field(init=False)
    words: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_pos = {pos: [e for e in self.entries if e.pos == pos] for pos in POS_TAGS}
        self.words = frozenset(e.word for e in self.entries)

    def counts(self) -> dict[str, int]:
        return {pos: len(items) for pos, items in self.by_pos.items()}

    def digest(self) -> str:
        """A fingerprint of the content: two runs with the same digest used the same vocabulary."""
        text = "\n".join(f"{e.word}\t{e.pos}\t{e.rank}" for e in self.entries)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()

    def require(self, *pos_tags: str) -> None:
        for pos in pos_tags:
            if not self.by_pos[pos]:
                raise UserError(f"{self.source}: vocabulary has no {pos}s; a TinyStories prompt needs at least one")


def load_vocabulary(path: Path | str | None = None) -> Vocabulary:
    if path is None:
        text = resources.files("synthloop.vocab").joinpath("data", DEFAULT_FILE).read_text(encoding="utf-8")
        return Vocabulary(_parse_table(text, "\t", f"<packaged {DEFAULT_FILE}>"), f"<packaged {DEFAULT_FILE}>")
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: vocabulary file not found")
    try:
        text = path.read_text(encoding="utf-8-sig")  # a byte-order mark (spreadsheets write one) is not the header
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from error
    if not text.strip():
        raise UserError(f"{path}: vocabulary file is empty")
    suffix = path.suffix.lower()
    if suffix == ".json":
        entries = _parse_json(text, str(path))
    elif suffix in (".tsv", ".csv"):
        entries = _parse_table(text, "\t" if suffix == ".tsv" else ",", str(path))
    else:
        entries = _parse_plain(text, str(path))
    return Vocabulary(_dedupe(entries), str(path))


def _entry(word: Any, pos: Any, rank: Any, where: str) -> Entry:
    if not isinstance(word, str) or not word.strip() or not all(c.isalpha() or c in "-'" for c in word.strip()):
        raise UserError(f"{where}: word {word!r} is not a single word of letters")
    word = word.strip().lower()
    if pos is None or (isinstance(pos, str) and not pos.strip()):
        pos = _guess_pos(word)
    if not isinstance(pos, str) or pos.strip().lower() not in POS_ALIASES:
        raise UserError(f"{where}: pos {pos!r} is not one of {', '.join(POS_TAGS)}")
    try:
        rank_value = int(rank)
    except (TypeError, ValueError) as error:
        raise UserError(f"{where}: rank {rank!r} is not a whole number") from error
    if rank_value < 1:
        raise UserError(f"{where}: rank {rank_value} must be >= 1")
    return Entry(word, POS_ALIASES[pos.strip().lower()], rank_value)


def _parse_table(text: str, delimiter: str, source: str) -> list[Entry]:
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "word" not in header:
        raise UserError(f"{source}: line 1: header must name a 'word' column (got {reader.fieldnames})")
    reader.fieldnames = header
    entries = []
    for number, row in enumerate(reader, start=2):
        rank = row.get("rank") or number - 1
        entries.append(_entry(row.get("word"), row.get("pos"), rank, f"{source}: line {number}"))
    if not entries:
        raise UserError(f"{source}: no words after the header")
    return entries


def _parse_json(text: str, source: str) -> list[Entry]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise UserError(f"{source}: invalid JSON ({error.msg} at line {error.lineno})") from error
    entries: list[Entry] = []
    if isinstance(data, dict):
        for pos, words in data.items():
            if not isinstance(words, list):
                raise UserError(f"{source}: key {pos!r} must map to a list of words")
            entries += [_entry(w, pos, i + 1, f"{source}: {pos}[{i}]") for i, w in enumerate(words)]
    elif isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, str):
                entries.append(_entry(item, None, i + 1, f"{source}: item {i}"))
            elif isinstance(item, dict):
                entries.append(
                    _entry(item.get("word"), item.get("pos"), item.get("rank", i + 1), f"{source}: item {i}")
                )
            else:
                raise UserError(f"{source}: item {i} must be a word or an object with 'word' and 'pos'")
    else:
        raise UserError(f"{source}: expected a JSON list or object of words")
    if not entries:
        raise UserError(f"{source}: no words")
    return entries


def _parse_plain(text: str, source: str) -> list[Entry]:
    entries: list[Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = line.split("#", 1)[0].replace(",", " ").split()
        if not parts:
            continue
        if len(parts) > 2:
            raise UserError(f"{source}: line {number}: expected 'word' or 'word pos', got {line.strip()!r}")
        entries.append(
            _entry(parts[0], parts[1] if len(parts) == 2 else None, len(entries) + 1, f"{source}: line {number}")
        )
    if not entries:
        raise UserError(f"{source}: no words (only blank lines or comments)")
    return entries


def _dedupe(entries: list[Entry]) -> list[Entry]:
    seen: Counter[tuple[str, str]] = Counter()
    unique = []
    for entry in entries:
        if not seen[(entry.word, entry.pos)]:
            unique.append(entry)
        seen[(entry.word, entry.pos)] += 1
    return unique


def _guess_pos(word: str) -> str:
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word)
    for upos, tag in (("NOUN", "noun"), ("VERB", "verb"), ("ADJ", "adjective")):
        if upos in lemmas:
            return tag
    return "other"
