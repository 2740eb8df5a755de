"""Claiming an output folder: the one check every resumable command makes before it writes anything.

A folder is ours to write when it does not exist, is empty, or holds a run of the same kind made with the same
settings (a resume). Anything else is refused with one line that names what differs, so a user knows whether to
pass the original settings again or choose a new --out. Each kind keeps its settings where it always has: a
dataset's `manifest.json` (under "kind" and "settings"), a training run's `config.json`, the collapse lab's
`lab.json` (the whole file is the settings).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from synthloop.errors import UserError

SHOWN = 4  # differing settings named in a refusal; the rest are counted


def differences(before: Any, after: Any, prefix: str = "") -> list[str]:
    """Dotted names of the settings that differ (recursing into tables, so a curate filter's option is named as
    `curate.filters.form.min_words`, not just `curate`)."""
    if isinstance(before, dict) and isinstance(after, dict):
        names = []
        for key in sorted(before.keys() | after.keys(), key=str):
            names += differences(before.get(key), after.get(key), f"{prefix}{key}.")
        return names
    return [] if before == after else [prefix.rstrip(".") or "settings"]


def with_defaults(stored: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
    """The stored settings with every setting they lack (at any depth) taken from `defaults`."""
    merged = dict(stored)
    for key, value in defaults.items():
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = with_defaults(merged[key], value)
    return merged


def describe(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")


def read_marker(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UserError(f"{path}: not readable JSON ({error}); choose a new --out") from error
    if not isinstance(value, dict):
        raise UserError(f"{path}: expected a JSON object; choose a new --out")
    return value


def claim(
    out: Path,
    kind: str,
    settings: dict[str, Any],
    marker: str,
    in_manifest: bool = False,
    defaults: dict[str, Any] | None = None,
) -> bool:
    """Check that `out` may hold this run; True when it already holds it (a resume), False when it is new or empty.
    Writes nothing: the caller creates the folder and its marker once every other input has been checked.

    `marker` is the file that records a run's settings; with `in_manifest` it is a dataset manifest whose "kind"
    and "settings" fields are compared (read by the caller, who validates its format), else the whole file is the
    settings. `defaults`: a setting the stored ones lack, at any depth (a folder made before the setting existed),
    counts as this default, so adding a setting does not refuse every older folder."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder; choose another --out")
    path = out / marker
    if not path.exists():
        if out.exists() and any(out.iterdir()):
            raise UserError(
                f"{out}: folder is not empty and holds no synthloop {kind} run (no {marker}); choose another --out"
            )
        return False
    stored = read_marker(path)
    before_kind = stored.get("kind") if in_manifest else kind
    if before_kind != kind:
        raise UserError(f"{out}: holds a {before_kind or 'different'} run, not a {kind} run; choose another --out")
    before = stored.get("settings") if in_manifest else stored
    before = before if isinstance(before, dict) else {}
    before = with_defaults(before, defaults or {})
    changed = differences(before, settings)
    if changed:
        raise UserError(
            f"{out}: holds another run's data (different {describe(changed)}); "
            "rerun with its original settings to resume, or choose a new --out"
        )
    return True
