"""The one Record type every stage reads and writes, and its Parquet schema.

A Record is a story (or a prompt waiting for one) with typed provenance. Ids derive from the recipe, seed and
prompt index, never from wall-clock time or order of arrival, so a rerun produces the same ids: that is what makes
resume exact and dedup stable. `params` and `meta` are free-form and stored as JSON text; everything else is a
typed column that `datasets.load_dataset("parquet", ...)` reads as-is.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass(slots=True)
class Record:
    id: str
    text: str = ""
    recipe: str = ""
    prompt: str = ""
    prompt_id: str = ""
    words: dict[str, str] = field(default_factory=dict)  # role -> word, e.g. {"noun": "ball", "verb": "jump"}
    features: list[str] = field(default_factory=list)
    backend: str = ""
    model: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # sampling parameters sent to the backend
    seed: int = 0
    generation: int = 0  # collapse-loop index: 0 = made by a model never trained on synthloop data
    parent_id: str | None = None  # the record this one was derived from (an edit, a retry)
    finish_reason: str = ""  # "stop" | "length" | "error" | "" (not generated yet)
    tokens_in: int = 0
    tokens_out: int = 0
    latency_s: float = 0.0  # wall seconds of the backend call that produced the text
    attempts: int = 0  # how many generations were made for this prompt
    scores: dict[str, float] = field(default_factory=dict)  # e.g. {"vocab.oov_rate": 0.02}
    flags: list[str] = field(default_factory=list)  # reason codes, e.g. ["constraints.missing_verb"]
    meta: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> Record:
        """A copy whose containers can be changed without touching this one (cheaper than copy.deepcopy)."""
        return dataclasses.replace(
            self,
            words=dict(self.words),
            features=list(self.features),
            params=dict(self.params),
            scores=dict(self.scores),
            flags=list(self.flags),
            meta={k: copy.deepcopy(v) if isinstance(v, dict | list) else v for k, v in self.meta.items()},
        )

    def to_row(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in FIELD_NAMES}
        row["words"] = [{"role": k, "word": v} for k, v in self.words.items()]
        row["scores"] = [{"name": k, "value": float(v)} for k, v in self.scores.items()]
        row["params"] = json.dumps(self.params, sort_keys=True)
        row["meta"] = json.dumps(self.meta, sort_keys=True)
        return row

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Record:
        """A Record from a stored row. A null column takes the field's default; a null or non-string `text` (a
        foreign file; the schema allows a null) becomes "" with the flag `record.null_text`, so every stage sees a
        failed record with its reason rather than crashing on None. The id is checked by the reader (read_shard)."""
        values = {name: row[name] for name in FIELD_NAMES if row.get(name) is not None}
        if not isinstance(values.get("text", ""), str):
            del values["text"]
        no_text = not isinstance(row.get("text"), str)
        values["words"] = {item["role"]: item["word"] for item in row.get("words") or []}
        values["scores"] = {item["name"]: item["value"] for item in row.get("scores") or []}
        values["params"] = json.loads(row.get("params") or "{}")
        values["meta"] = json.loads(row.get("meta") or "{}")
        values["features"] = list(row.get("features") or [])
        values["flags"] = list(row.get("flags") or [])
        if no_text and NULL_TEXT not in values["flags"]:
            values["flags"].append(NULL_TEXT)
        return cls(**values)


NULL_TEXT = "record.null_text"  # the flag of a stored record whose text was null or not a string
FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Record))

SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False),
        pa.field("text", pa.string()),
        pa.field("recipe", pa.string()),
        pa.field("prompt", pa.string()),
        pa.field("prompt_id", pa.string()),
        pa.field("words", pa.list_(pa.struct([("role", pa.string()), ("word", pa.string())]))),
        pa.field("features", pa.list_(pa.string())),
        pa.field("backend", pa.string()),
        pa.field("model", pa.string()),
        pa.field("params", pa.string()),  # JSON
        pa.field("seed", pa.int64()),
        pa.field("generation", pa.int32()),
        pa.field("parent_id", pa.string()),
        pa.field("finish_reason", pa.string()),
        pa.field("tokens_in", pa.int32()),
        pa.field("tokens_out", pa.int32()),
        pa.field("latency_s", pa.float64()),
        pa.field("attempts", pa.int32()),
        pa.field("scores", pa.list_(pa.struct([("name", pa.string()), ("value", pa.float64())]))),
        pa.field("flags", pa.list_(pa.string())),
        pa.field("meta", pa.string()),  # JSON
    ]
)

assert tuple(SCHEMA.names) == FIELD_NAMES, "records.SCHEMA must list the Record fields in order"


def to_table(records: Iterable[Record]) -> pa.Table:
    return pa.Table.from_pylist([r.to_row() for r in records], schema=SCHEMA)


def from_table(table: pa.Table) -> list[Record]:
    return [Record.from_row(row) for row in table.to_pylist()]


def stable_id(*parts: object, length: int = 16) -> str:
    """A short hex id derived from its parts: the same parts always give the same id."""
    digest = hashlib.blake2b("\x1f".join(str(p) for p in parts).encode("utf-8"), digest_size=16)
    return digest.hexdigest()[:length]
