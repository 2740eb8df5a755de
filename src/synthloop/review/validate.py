"""Checking what a request sends (HTML form or JSON) before anything is written: one clear message per mistake.

Every field is checked, the whole body before any of it is used: the body's size (before it is read whole) and,
for JSON, its nesting depth (before it is parsed, so no body can exhaust the parser's recursion), UTF-8 text
without lone surrogates (SQLite stores UTF-8), a field name the endpoint knows (a misspelt `notes` is refused, not
dropped), and each value's type and range: `seen` is a decision id — a whole number that SQLite's INTEGER holds,
not a boolean or a float. Messages are one line and quote at most a few dozen characters of what was sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from synthloop.review.store import ACTIONS, REASONS, SEEN_MAX

MAX_TEXT = 20_000  # characters of an edited story
MAX_NOTE = 2_000
MAX_TAGS, MAX_TAG = 20, 40
MAX_BODY = 256 * 1024  # bytes of a request body
MAX_DEPTH = 8  # nesting of a JSON body: a decision is an object holding at most a list of tags
MAX_FIELDS = 100
DECISION_FIELDS = ("action", "reason", "note", "text", "tags", "seen", "key")
FORM_FIELDS = ("csrf", "queue", "index")  # what the item page's forms add
KEY = re.compile(r"[A-Za-z0-9._:-]{1,128}")
DIGITS = re.compile(r"[0-9]{1,19}")
INDEX_MAX = 10**9
JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


class InvalidInput(ValueError):
    """A request field that is missing or malformed; the message names the field and what was expected."""

    status = 400


class TooLarge(InvalidInput):
    status = 413


@dataclass(slots=True)
class DecisionInput:
    action: str
    reason: str | None = None
    note: str | None = None
    text: str | None = None
    tags: list[str] = field(default_factory=list)
    seen: int | None = None
    key: str | None = None


def shown(value: Any, limit: int = 40) -> str:
    """A value as a message quotes it: repr (which escapes newlines and surrogates), cut short."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def check_size(length: int) -> None:
    if length > MAX_BODY:
        raise TooLarge(f"request body: {length} bytes or more, expected at most {MAX_BODY}")


def utf8(text: str, where: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidInput(
            f"{where}: holds a lone surrogate ({shown(error.object[error.start])}); expected text"
        ) from error
    return text


def parse_form(body: bytes, allowed: tuple[str, ...] | None = None) -> dict[str, str]:
    """Fields of an application/x-www-form-urlencoded body (the last value of a repeated name)."""
    check_size(len(body))
    try:
        fields = parse_qs(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError as error:
        raise InvalidInput("request body: expected UTF-8 form data") from error
    except ValueError as error:
        raise InvalidInput(f"request body: more than {MAX_FIELDS} fields") from error
    form = {name: values[-1] for name, values in fields.items()}
    if allowed is not None:
        known_fields(form, allowed)
    return form


def nesting_depth(text: str) -> int:
    """How deeply a JSON text nests arrays and objects (brackets inside strings do not count)."""
    brackets = re.sub(r"[^\[\]{}]", "", JSON_STRING.sub("", text))
    depth = deepest = 0
    for bracket in brackets:
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def refuse_constant(name: str) -> None:
    raise InvalidInput(f"request body: {name} is not a JSON number")


def parse_json_object(body: bytes) -> dict[str, Any]:
    check_size(len(body))
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("request body: expected a JSON object in UTF-8") from error
    if nesting_depth(text) > MAX_DEPTH:
        raise InvalidInput(f"request body: JSON nested more than {MAX_DEPTH} levels deep; expected a JSON object")
    try:
        value = json.loads(text, parse_constant=refuse_constant)
    except InvalidInput:
        raise
    except (ValueError, RecursionError) as error:
        raise InvalidInput("request body: expected a JSON object") from error
    if not isinstance(value, dict):
        raise InvalidInput(f"request body: expected a JSON object, got {type(value).__name__}")
    return value


def known_fields(data: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for name in data:
        utf8(name, "field name")
        if name not in allowed:
            raise InvalidInput(f"unknown field {shown(name)}; expected {', '.join(allowed)}")


def text_field(data: dict[str, Any], name: str, limit: int) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"field '{name}': expected text, got {type(value).__name__}")
    if len(value) > limit:
        raise InvalidInput(f"field '{name}': {len(value)} characters, expected at most {limit}")
    return utf8(value, f"field '{name}'")


def choice_field(data: dict[str, Any], name: str, choices: tuple[str, ...], why: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or value not in choices:
        raise InvalidInput(f"field '{name}': {why} one of {', '.join(choices)}, got {shown(value)}")
    return value


def whole_number(value: Any, name: str, maximum: int) -> int:
    """A JSON integer or a string of digits (a form), 0..maximum; never a boolean or a float."""
    if isinstance(value, str) and DIGITS.fullmatch(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidInput(f"field '{name}': expected a whole number from 0 to {maximum}, got {shown(value)}")
    return value


def tags_field(data: dict[str, Any]) -> list[str]:
    tags = data.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",") if t.strip()]
    if not isinstance(tags, list) or not all(isinstance(t, str) and 0 < len(t) <= MAX_TAG for t in tags):
        raise InvalidInput(f"field 'tags': expected comma-separated tags of 1-{MAX_TAG} characters")
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"field 'tags': {len(tags)} tags, expected at most {MAX_TAGS}")
    return [utf8(t, "field 'tags'") for t in tags]


def decision_input(data: dict[str, Any], extra_fields: tuple[str, ...] = ()) -> DecisionInput:
    known_fields(data, DECISION_FIELDS + extra_fields)
    action = choice_field(data, "action", ACTIONS, "expected")
    note = text_field(data, "note", MAX_NOTE)
    decision = DecisionInput(action=action, note=note.strip() or None if note else None)
    if action == "reject" or data.get("reason") not in (None, ""):
        reason = choice_field(data, "reason", REASONS, "a reject needs" if action == "reject" else "expected")
        if action == "reject":
            decision.reason = reason
        if reason == "other" and not decision.note and action == "reject":
            raise InvalidInput("field 'note': a reject with reason 'other' needs a note saying why")
    text = text_field(data, "text", MAX_TEXT)
    if action == "edit":
        if text is None or not text.strip():
            raise InvalidInput("field 'text': an edit needs the new, non-empty story text")
        decision.text = text.replace("\r\n", "\n").strip()
    decision.tags = tags_field(data)
    if action == "tag" and not decision.tags:
        raise InvalidInput("field 'tags': a tag decision needs at least one tag")
    if data.get("seen") not in (None, ""):
        decision.seen = whole_number(data["seen"], "seen", SEEN_MAX)
    key = data.get("key")
    if key not in (None, ""):
        if not isinstance(key, str) or not KEY.fullmatch(key):
            raise InvalidInput(f"field 'key': expected 1-128 letters, digits or . _ : -, got {shown(key)}")
        decision.key = key
    return decision
