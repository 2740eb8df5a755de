"""synthloop reads its own `review export` back (issue 15, item 9): JSON lines end at "\\n" only, so a story with
U+2028, U+2029 or U+0085 (which JSON allows raw in a string, and the export leaves raw) stays one story in every
reader: tokenizer, train, eval, report --reference and collapse --real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SHARED, run_cli
from synthloop.errors import UserError
from synthloop.records import Record
from synthloop.review.store import ReviewStore, default_db
from synthloop.store.dataset import Dataset
from synthloop.store.jsonl import read_jsonl
from synthloop.store.texts import read_texts

SEPARATORS = ["\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c"]  # str.splitlines breaks at all


def test_lines_end_at_newline_only(tmp_path: Path) -> None:
    path = tmp_path / "odd.jsonl"
    rows = [{"text": f"before{sep}after", "n": i} for i, sep in enumerate(SEPARATORS)]
    path.write_bytes(b"".join(json.dumps(r, ensure_ascii=False).encode() + b"\r\n" for r in rows) + b"\n  \n")
    assert [value for _, value in read_jsonl(path)] == rows
    assert read_texts(path) == [r["text"] for r in rows]
    (tmp_path / "bad.jsonl").write_bytes(b'{"text": "ok"}\n{"text": "cut\xe2\x80\xa8\n')
    with pytest.raises(UserError, match=r"bad.jsonl: line 2: invalid JSON"):
        read_texts(tmp_path / "bad.jsonl")
    (tmp_path / "deep.jsonl").write_bytes(b"[" * 100_000 + b"]" * 100_000 + b"\n")
    with pytest.raises(UserError, match="line 1: invalid JSON"):
        read_texts(tmp_path / "deep.jsonl")


def stories() -> list[str]:
    base = json.loads((SHARED / "corpora" / "tinystories_sample.jsonl").read_text().split("\n")[0])["text"]
    words = base.split()
    return [" ".join(words[: 40 + i]) + f" {sep} The end{sep}" for i, sep in enumerate(SEPARATORS * 2)]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("roundtrip")
    dataset = Dataset.create(folder / "curated", {"kind": "curate"})
    records = [Record(id=f"s{i}", text=t, words={"noun": "dog"}, finish_reason="stop") for i, t in enumerate(stories())]
    dataset.write_shard(0, records, "data")
    store = ReviewStore(default_db(dataset.root))
    from synthloop.review.items import load_items

    store.sync_items(load_items(dataset)[1])
    store.add_reviewer("ann")
    store.decide("s0", "ann", "edit", text="An edit\u2028with a line separator.")
    out = folder / "review.jsonl"
    result = run_cli("review", "export", "--in", str(dataset.root), "--out", str(out))
    assert result.returncode == 0, result.stderr
    raw = out.read_bytes()
    assert "\u2028".encode() in raw and raw.count(b"\n") == len(records)  # left raw, one line per story
    return dataset.root, out


def test_export_reads_back_whole(exported: tuple[Path, Path]) -> None:
    _, out = exported
    assert read_texts(out) == stories()


def test_tokenizer_train_and_eval_read_the_export(exported: tuple[Path, Path], tmp_path: Path) -> None:
    _, out = exported
    tokenizer = run_cli("tokenizer", "--in", str(out), "--vocab-size", "300", "--out", str(tmp_path / "t.json"))
    assert tokenizer.returncode == 0 and "tokens, byte-level BPE" in tokenizer.stdout, tokenizer.stderr
    train = run_cli(
        "train",
        "--in",
        str(out),
        "--out",
        str(tmp_path / "run"),
        "--max-steps",
        "1",
        "--batch-size",
        "2",
        "--block-size",
        "16",
        "--eval-every",
        "1",
        "--vocab-size",
        "300",
        "--no-progress",
    )
    assert train.returncode == 0, train.stderr
    beginnings = tmp_path / "beginnings.jsonl"
    beginnings.write_text(json.dumps({"prompt": "Once\u2028upon a time"}, ensure_ascii=False) + "\n", encoding="utf-8")
    evaluated = run_cli(
        "eval",
        "--model",
        str(tmp_path / "run"),
        "--text",
        str(out),
        "--max-tokens",
        "2",
        "--beginnings",
        str(beginnings),
    )
    assert evaluated.returncode == 0, evaluated.stderr
    assert f"tokens)  {out}" in evaluated.stdout


def test_report_reference_and_collapse_real_read_the_export(exported: tuple[Path, Path], tmp_path: Path) -> None:
    from synthloop.collapse.config import LabConfig
    from synthloop.collapse.lab import Lab
    from synthloop.report.runner import report

    dataset, out = exported
    result = report(dataset, tmp_path / "report", reference=out)
    assert result.metrics["reference"]["stories"] == len(stories())
    lab = Lab(LabConfig(real=out, out=tmp_path / "lab", documents=10, document_words=10), log=lambda _: None)
    assert lab.held_out and all(story in stories() for story in lab.held_out)  # whole stories, none cut in two
