"""Checking a submitted decision (HTML form or JSON) before anything is written: one clear message per mistake."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from synthloop.review.store import ACTIONS, REASONS

MAX_TEXT = 20_000  # characters of an edited story
MAX_NOTE = 2_000
MAX_TAGS, MAX_TAG = 20, 40
MAX_BODY = 256 * 1024  # bytes of a request body


class InvalidInput(ValueError):
    """A request field that is missing or malformed; the message names the field and what was expected."""


@dataclass(slots=True)
class DecisionInput:
    action: str
    reason: str | None = None
    note: str | None = None
    text: str | None = None
    tags: list[str] = field(default_factory=list)
    seen: int | None = None


def parse_form(body: bytes) -> dict[str, str]:
    if len(body) > MAX_BODY:
        raise InvalidInput(f"request body: {len(body)} bytes, expected at most {MAX_BODY}")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as error:
        raise InvalidInput("request body: expected UTF-8 form data") from error
    return {name: values[-1] for name, values in fields.items()}


def text_field(data: dict[str, Any], name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"field '{name}': expected text")
    if len(value) > limit:
        raise InvalidInput(f"field '{name}': {len(value)} characters, expected at most {limit}")
    return value


def decision_input(data: dict[str, Any]) -> DecisionInput:
    action = data.get("action")
    if action not in ACTIONS:
        raise InvalidInput(f"field 'action': expected one of {', '.join(ACTIONS)}, got {action!r}")
    note = text_field(data, "note", MAX_NOTE)
    decision = DecisionInput(action=action, note=note.strip() if note else None)
    if action == "reject":
        reason = data.get("reason")
        if reason not in REASONS:
            raise InvalidInput(f"field 'reason': a reject needs one of {', '.join(REASONS)}, got {reason!r}")
        if reason == "other" and not decision.note:
            raise InvalidInput("field 'note': a reject with reason 'other' needs a note saying why")
        decision.reason = reason
    if action == "edit":
        text = text_field(data, "text", MAX_TEXT)
        if text is None or not text.strip():
            raise InvalidInput("field 'text': an edit needs the new, non-empty story text")
        decision.text = text.replace("\r\n", "\n").strip()
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= MAX_TAG for t in tags):
        raise InvalidInput(f"field 'tags': expected comma-separated tags of 1-{MAX_TAG} characters")
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"field 'tags': {len(tags)} tags, expected at most {MAX_TAGS}")
    if action == "tag" and not tags:
        raise InvalidInput("field 'tags': a tag decision needs at least one tag")
    decision.tags = tags
    seen = data.get("seen")
    if seen not in (None, ""):
        try:
            decision.seen = int(seen)
        except (TypeError, ValueError) as error:
            raise InvalidInput(f"field 'seen': expected a decision id (integer), got {seen!r}") from error
    return decision
