"""Parse a judge's answer into a Judgement, robust to how models really answer.

Tried in order: a JSON object with a "keep" field anywhere in the answer (inside code fences, after a preamble,
before trailing talk; the first such object wins), then a keep/scores text form ("Keep: yes", "**Grammar**: 8/10",
"reason = incoherent"). Keep values may be booleans, yes/no, true/false, keep/drop or 1/0; a score outside 1..10
is treated as missing. An answer without a keep decision is unparseable (None): the judge asks again.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from synthloop.curate.judging.rubric import SCORES

YES = {"yes", "true", "keep", "1", "y"}
NO = {"no", "false", "drop", "0", "n", "reject"}
KEEP_TEXT = re.compile(r"\bkeep\b[\"*_\s]*[:=][\"*_\s]*(yes|no|true|false|keep|drop|1|0)\b", re.IGNORECASE)
SCORE_TEXT = re.compile(
    r"\b(grammar|consistency|plot|simplicity)\b[\"*_\s]*[:=][\"*_\s]*(\d+(?:\.\d+)?)", re.IGNORECASE
)
REASON_TEXT = re.compile(r"\breason\b[\"*_\s]*[:=][\"*_\s]*([^\n\"*]*)", re.IGNORECASE)


@dataclass(slots=True)
class Judgement:
    keep: bool
    scores: dict[str, float] = field(default_factory=dict)  # grammar, consistency, plot, simplicity: 1..10
    reason: str = ""  # the judge's own words; mapped onto the rubric's codes by the filter

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Judgement:
        return cls(bool(data["keep"]), {k: float(v) for k, v in data.get("scores", {}).items()}, data.get("reason", ""))


def keep_value(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().strip(".!").lower()
        return True if word in YES else False if word in NO else None
    return None


def score_value(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        match = re.match(r"\s*(\d+(?:\.\d+)?)", value)
        value = float(match.group(1)) if match else None
    if isinstance(value, int | float) and 1 <= value <= 10:
        return float(value)
    return None


def from_object(data: dict[str, Any]) -> Judgement | None:
    lowered = {str(k).strip().lower(): v for k, v in data.items()}
    keep = keep_value(lowered.get("keep"))
    if keep is None:
        return None
    scores = {name: s for name in SCORES if (s := score_value(lowered.get(name))) is not None}
    reason = lowered.get("reason")
    return Judgement(keep, scores, reason.strip() if isinstance(reason, str) else "")


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object that starts at some '{' of the text (nested ones too), in order of position."""
    decoder = json.JSONDecoder()
    found = []
    for match in re.finditer(r"\{", text):
        try:
            value, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


def from_text(text: str) -> Judgement | None:
    keep_match = KEEP_TEXT.search(text)
    if keep_match is None:
        return None
    keep = keep_value(keep_match.group(1))
    if keep is None:
        return None
    scores: dict[str, float] = {}
    for name, value in SCORE_TEXT.findall(text):
        score = score_value(value)
        if score is not None:
            scores.setdefault(name.lower(), score)
    reason_match = REASON_TEXT.search(text)
    return Judgement(keep, scores, reason_match.group(1).strip() if reason_match else "")


def parse_answer(text: str) -> Judgement | None:
    for data in json_objects(text):
        judgement = from_object(data)
        if judgement is not None:
            return judgement
    return from_text(text)
