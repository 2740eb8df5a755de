"""The embedded models: found in their wheels, assembled from chunk wheels and verified, refused when damaged."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from synthloop.backends import models
from synthloop.backends.models import MODELS, EmbeddedModel, model_file
from synthloop.errors import UserError


def chunk_wheels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[bytes], name: str = "fakechunk") -> None:
    """Installs packages <name>_part1..N, each with data/partNN.bin, on sys.path (as the chunk wheels lay them out)."""
    site = tmp_path / "site"
    for index, chunk in enumerate(chunks, start=1):
        folder = site / f"{name}_part{index}"
        (folder / "data").mkdir(parents=True)
        (folder / "__init__.py").write_text("")
        (folder / "data" / f"part{index:02d}.bin").write_bytes(chunk)
    monkeypatch.syspath_prepend(str(site))
    for index in range(1, len(chunks) + 1):
        sys.modules.pop(f"{name}_part{index}", None)


def fake_model(chunks: list[bytes], name: str = "fakechunk", digest: str | None = None) -> EmbeddedModel:
    whole = b"".join(chunks)
    return EmbeddedModel(
        "fake",
        "Fake",
        "fake.gguf",
        tuple(f"{name}_part{i}" for i in range(1, len(chunks) + 1)),
        len(whole),
        digest or hashlib.sha256(whole).hexdigest(),
        "test",
    )


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, EmbeddedModel]:
    monkeypatch.setenv("SYNTHLOOP_CACHE", str(tmp_path / "cache"))
    table = dict(MODELS)
    monkeypatch.setattr(models, "MODELS", table)
    return table


def test_chunks_are_assembled_in_order_once_and_verified(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: dict[str, EmbeddedModel]
) -> None:
    chunks = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]
    chunk_wheels(tmp_path, monkeypatch, chunks)
    registry["fake"] = fake_model(chunks)
    path = model_file("fake")
    assert path.read_bytes() == b"".join(chunks) and path.parent == tmp_path / "cache" / "models"
    assert [p.name for p in path.parent.iterdir()] == ["fake.gguf"]  # no temporary file left
    stamp = path.stat().st_mtime_ns
    assert model_file("fake") == path and path.stat().st_mtime_ns == stamp  # found, not rebuilt


def test_a_damaged_chunk_is_refused_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: dict[str, EmbeddedModel]
) -> None:
    chunks = [b"GGUF" + b"a" * 10, b"b" * 7]
    chunk_wheels(tmp_path, monkeypatch, [chunks[0], b"B" * 7])
    registry["fake"] = fake_model(chunks)
    with pytest.raises(UserError, match=r"SHA-256 .* a chunk wheel is damaged") as error:
        model_file("fake")
    assert "\n" not in str(error.value)
    assert not list((tmp_path / "cache" / "models").iterdir())


def test_a_missing_chunk_wheel_is_named_before_anything_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, registry: dict[str, EmbeddedModel]
) -> None:
    chunk_wheels(tmp_path, monkeypatch, [b"x" * 4], name="onlyone")
    registry["fake"] = fake_model([b"x" * 4, b"y" * 4], name="onlyone")
    with pytest.raises(UserError, match="wheel onlyone-part2 is missing: pip install"):
        model_file("fake")
    assert not (tmp_path / "cache" / "models").exists()


def test_an_unknown_model_name_is_one_line() -> None:
    with pytest.raises(UserError, match=r"unknown embedded model 'gpt-9'; known: smollm2-135m, qwen2\.5-coder-0\.5b"):
        model_file("gpt-9")


def test_the_real_qwen_chunks_assemble_to_the_pinned_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHLOOP_CACHE", str(tmp_path))
    path = model_file("qwen2.5-coder-0.5b")
    assert path.stat().st_size == 491_400_064
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    assert digest.hexdigest() == MODELS["qwen2.5-coder-0.5b"].sha256
    with open(path, "rb") as handle:
        assert handle.read(4) == b"GGUF"
