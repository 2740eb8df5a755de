"""Where a generator adapter comes from: the one shipped in the package (by name) or a user's file (by path).

The shipped adapter's SHA-256 is pinned in its card (tune/data/<name>.json); a file that does not match is refused
with a one-line error rather than loaded, so a damaged install never silently changes what the main job writes.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from synthloop.errors import UserError
from synthloop.tune import lora

SHIPPED = ("tinystories",)  # adapters in tune/data/: <name>.safetensors + <name>.json (card with sha256)


def shipped_path(name: str) -> Path:
    return Path(str(resources.files("synthloop.tune").joinpath("data", f"{name}.safetensors")))


def check_base(path: Path, metadata: dict[str, str], base: str | None) -> None:
    """An adapter trained on another base model is refused in one line (its card names the base GGUF)."""
    try:
        card = json.loads(metadata.get("card", "{}"))
    except json.JSONDecodeError as error:
        raise UserError(f"{path}: the adapter's card is not JSON ({error})") from error
    trained_on = card.get("base_model") if isinstance(card, dict) else None
    if base is not None and trained_on is not None and trained_on != base:
        raise UserError(f"{path}: this adapter was trained on {trained_on}, not on {base}: set backend.options.model")


def resolve(adapter: str, base: str | None = None) -> tuple[Path, str]:
    """(adapter file, its SHA-256) for a shipped adapter's name or a path to an adapter file; `base`, the GGUF file
    name it will be merged into, must be the one it was trained on."""
    if adapter in SHIPPED:
        path = shipped_path(adapter)
        card_path = path.with_suffix(".json")
        if not path.is_file() or not card_path.is_file():
            raise UserError(f"shipped adapter {adapter!r} is missing from the package ({path}): reinstall synthloop")
        expected = json.loads(card_path.read_text(encoding="utf-8"))["sha256"]
        actual = lora.sha256(path)
        if actual != expected:
            raise UserError(
                f"{path}: SHA-256 {actual[:12]}... does not match its card ({expected[:12]}...): "
                "the shipped adapter is damaged; reinstall synthloop"
            )
        check_base(path, lora.load(path)[1], base)
        return path, actual
    path = Path(adapter)
    if not path.is_file():
        known = ", ".join(SHIPPED)
        raise UserError(f"backend.options.adapter: {adapter!r} is neither a shipped adapter ({known}) nor a file")
    check_base(path, lora.load(path)[1], base)  # and a one-line error for a file that is not an adapter
    return path, lora.sha256(path)
