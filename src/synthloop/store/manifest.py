"""A dataset manifest, typed: what made the data, read the same way by every command.

A manifest is the JSON `manifest.json` of a dataset folder. Each kind of run writes its own fields: generate
(settings: recipe, backend, model, vocabulary digest; config; counts; cost), curate (settings.input, the folder it
curated; source_manifest, a copy of that folder's manifest), review (source, source_manifest, review). A derived
dataset thus carries its whole lineage; `Manifest` walks it so no reader digs through nested dicts by hand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LINEAGE_LIMIT = 8  # generated <- curated <- reviewed <- ...: far more than any real chain


def table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Manifest:
    raw: Mapping[str, Any]

    @property
    def kind(self) -> str | None:
        kind = self.raw.get("kind")
        return kind if isinstance(kind, str) else None

    @property
    def fingerprint(self) -> str | None:
        fingerprint = self.raw.get("fingerprint")
        return fingerprint if isinstance(fingerprint, str) else None

    @property
    def review(self) -> dict[str, Any] | None:
        """A reviewed dataset's review counts; None for other kinds."""
        return table(self.raw.get("review")) if self.kind == "review" else None

    @property
    def settings(self) -> dict[str, Any]:
        return table(self.raw.get("settings"))

    @property
    def config(self) -> dict[str, Any]:
        return table(self.raw.get("config"))

    @property
    def counts(self) -> dict[str, int]:
        return {k: v for k, v in table(self.raw.get("counts")).items() if isinstance(v, int)}

    @property
    def source(self) -> Path | None:
        """The dataset folder this one was made from (curate's --in, review's source); None for a generation."""
        source = self.settings.get("input") or self.raw.get("source")
        return Path(source) if isinstance(source, str) and source else None

    @property
    def parent(self) -> Manifest | None:
        """The manifest of the source dataset, as it was when this one was made."""
        parent = self.raw.get("source_manifest")
        return Manifest(parent) if isinstance(parent, dict) else None

    def lineage(self) -> Iterator[Manifest]:
        """This manifest, then its parent's, and so on back to the run that generated the stories."""
        manifest: Manifest | None = self
        for _ in range(LINEAGE_LIMIT):
            if manifest is None:
                return
            yield manifest
            manifest = manifest.parent

    @property
    def generation(self) -> Manifest:
        """The manifest of the run that generated the stories (itself for a generated dataset)."""
        chain = list(self.lineage())
        return next((m for m in chain if m.kind == "generate"), chain[-1])

    @property
    def vocab_path(self) -> str | None:
        """The vocabulary the stories were judged against: the nearest run in the lineage that names one."""
        for manifest in self.lineage():
            path = table(manifest.config.get("vocab")).get("path")
            if path:
                return str(path)
        return None

    @property
    def recipe(self) -> tuple[str | None, dict[str, Any]]:
        """The generating recipe's name and options."""
        settings = self.generation.settings
        name = settings.get("recipe")
        return (name if isinstance(name, str) else None), table(settings.get("recipe_options"))

    @property
    def backend(self) -> tuple[str | None, str | None]:
        """The generating backend's name and model."""
        settings = self.generation.settings
        name, model = settings.get("backend"), settings.get("model")
        return (name if isinstance(name, str) else None), (model if isinstance(model, str) else None)

    @property
    def cost(self) -> dict[str, Any] | None:
        cost = self.generation.raw.get("cost")
        return cost if isinstance(cost, dict) else None
