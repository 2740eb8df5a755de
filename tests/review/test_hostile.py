"""Hostile clients against every endpoint of the review app (issue 15, items 3-8), in process (FastAPI's test
client over the real app, the real SQLite store): any JSON value, form body or path gets a 4xx with a one-line
message or succeeds, never a 5xx, and a 4xx stores nothing; a retried decision is stored once."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from review_helpers import make_dataset

from synthloop.review.auth import COOKIE, csrf_token
from synthloop.review.store import ReviewStore, default_db
from synthloop.review.validate import DECISION_FIELDS, FORM_FIELDS, MAX_BODY

testclient = pytest.importorskip("fastapi.testclient")
HOSTILE = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MESSAGE = re.compile(r'id="message">(.*?)</p>', re.DOTALL)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from synthloop.review.app import create_app

    dataset = make_dataset(tmp_path_factory.mktemp("hostile") / "curated")
    store = ReviewStore(default_db(dataset))
    token = store.add_reviewer("ann")
    client = testclient.TestClient(create_app(dataset), raise_server_exceptions=True, follow_redirects=False)
    return client, token, default_db(dataset)


def stored(db: Path) -> tuple[int, int, int]:
    conn = sqlite3.connect(db)
    try:
        return tuple(
            conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # type: ignore[return-value]
            for table in ("decisions", "audit", "reviewers")
        )
    finally:
        conn.close()


def check(response, before: tuple[int, int, int], db: Path) -> None:  # type: ignore[no-untyped-def]
    """Success, or a 4xx with a one-line message and nothing stored."""
    assert response.status_code < 500, response.text[:300]
    if response.status_code < 400:
        return
    assert stored(db) == before, "a refused request stored something"
    kind = response.headers.get("content-type", "")
    if kind.startswith("application/json"):
        message = response.json()["error"]
    elif kind.startswith("text/html"):
        found = MESSAGE.search(response.text)
        assert found, response.text[:300]
        message = found.group(1)
    else:
        message = response.text
    assert message.strip() and "\n" not in message and "Traceback" not in message, message
    assert len(message) < 400, message


def big_body(kind: str) -> bytes:
    """Bodies too large to show in a failure report, made when drawn."""
    return {
        "deep list": lambda: b"[" * 100_000 + b"]" * 100_000,
        "deep object": lambda: b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
        "many fields": lambda: b"&".join([b"a=1"] * 200),
        "huge": lambda: b"{" + b" " * (MAX_BODY + 1) + b"}",
    }[kind]()


def form_body(fields: dict[str, str]) -> bytes:
    """URL-encoded, lone surrogates included (as the invalid UTF-8 they become)."""
    return urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()


# Any JSON value, with the decision's own field names (and near misses) as likely keys, lone surrogates and
# numbers past what SQLite holds among the leaves.
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "\ud800",
            "a\udfffb",
            "accept",
            "reject",
            "other",
            "incoherent",
            "1e400",
            "99999999999999999999",
            "²",
            "-1",
            "0",
        ]
    ),
    st.sampled_from([2_001, 20_001]).map(lambda n: "x" * n),
)  # past the note and text limits
JSON = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)
NAMES = st.sampled_from([*DECISION_FIELDS, *FORM_FIELDS, "notes", "Action", "token", ""]) | st.text(max_size=8)
OBJECTS = st.dictionaries(NAMES, JSON, max_size=5) | st.fixed_dictionaries(
    {"action": st.sampled_from(["accept", "reject", "edit", "tag"])},
    optional={"seen": LEAVES, "note": LEAVES, "reason": LEAVES, "tags": JSON},
)
BODIES = st.one_of(
    OBJECTS.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    JSON.map(lambda v: json.dumps(v, allow_nan=True).encode()),
    st.binary(max_size=60),
    st.sampled_from(
        [
            b'{"action": "accept", "seen": 1e400}',
            b'{"action": "accept", "note": "\\ud800"}',
            b"\xff\xfe",
            b'{"action": "accept", "seen": NaN}',
        ]
    ),
    st.sampled_from(["deep list", "deep object", "huge"]).map(big_body),
)
FORM_VALUES = st.one_of(st.text(max_size=20), LEAVES.map(str), st.sampled_from(["²", "%ff", "0", "-1", "10" * 12]))
DECISION_FORMS = st.fixed_dictionaries(  # what the item page's forms send, each field possibly odd
    {"action": st.sampled_from(["accept", "reject", "edit", "tag"])},
    optional={name: FORM_VALUES for name in ("seen", "index", "queue", "reason", "note", "text", "tags", "key")},
)
FORMS = st.one_of(
    st.dictionaries(NAMES, FORM_VALUES, max_size=6).map(form_body),
    st.binary(max_size=60),
    DECISION_FORMS.map(form_body),
    st.sampled_from([b"action=%ff", b"note=%ed%a0%80&action=accept"]),
    st.sampled_from(["many fields", "huge"]).map(big_body),
)
SEGMENTS = st.one_of(
    st.text(max_size=12), st.sampled_from(["item001", "random", "mine", "-1", "10" * 20, "..", "%00", "review.js", "0"])
)


@HOSTILE
@given(item=st.sampled_from(["item001", "item100", "nope"]), body=BODIES)
def test_json_decisions(app, item: str, body: bytes) -> None:  # type: ignore[no-untyped-def]
    client, token, db = app
    before = stored(db)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = client.post(f"/api/items/{item}/decisions", content=body, headers=headers)
    check(response, before, db)
    if response.status_code in (200, 201):
        assert stored(db)[0] - before[0] == (1 if response.status_code == 201 else 0)


@HOSTILE
@given(item=st.sampled_from(["item001", "item100", "nope"]), body=FORMS, cookie=st.booleans())
def test_form_decisions(app, item: str, body: bytes, cookie: bool) -> None:  # type: ignore[no-untyped-def]
    client, token, db = app
    before = stored(db)
    if cookie:  # a browser session with a valid CSRF token, so the request reaches the field checks
        body = body + b"&csrf=" + csrf_token(token).encode()
        headers = {"Cookie": f"{COOKIE}={token}"}
    else:
        headers = {"Authorization": f"Bearer {token}"}
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    check(client.post(f"/items/{item}/decisions", content=body, headers=headers), before, db)


@HOSTILE
@given(path=st.sampled_from(["/login", "/logout"]), body=FORMS, signed_in=st.booleans())
def test_login_and_logout(app, path: str, body: bytes, signed_in: bool) -> None:  # type: ignore[no-untyped-def]
    client, token, db = app
    before = stored(db)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signed_in:
        headers["Cookie"] = f"{COOKIE}={token}"
    check(client.post(path, content=body, headers=headers), before, db)


@HOSTILE
@given(
    template=st.sampled_from(
        ["/q/{}", "/q/{}/{}", "/q/random/{}", "/api/items/{}", "/static/{}", "/{}", "/stats", "/api/stats", "/"]
    ),
    first=SEGMENTS,
    second=SEGMENTS,
)
def test_every_page(app, template: str, first: str, second: str) -> None:  # type: ignore[no-untyped-def]
    client, token, db = app
    before = stored(db)
    path = template.format(quote(first, safe=""), quote(second, safe=""))
    for headers in ({"Authorization": f"Bearer {token}"}, {}):
        check(client.get(path, headers=headers), before, db)


def json_post(app, body: object, item: str = "item002"):  # type: ignore[no-untyped-def]
    client, token, _ = app
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(
        f"/api/items/{item}/decisions",
        content=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"action": "accept", "seen": 1e400}', "seen"),  # item 3: was OverflowError (float infinity)
        ({"action": "accept", "seen": 10**20}, "seen"),  # ... too large for SQLite INTEGER
        ({"action": "accept", "seen": str(10**20)}, "seen"),
        ({"action": "accept", "seen": True}, "seen"),  # was taken as 1
        ({"action": "accept", "seen": 1.5}, "seen"),  # was taken as 1
        ({"action": "accept", "seen": -3}, "seen"),
        ({"action": "accept", "note": "\ud800"}, "note"),  # item 4: was UnicodeEncodeError
        ({"action": "tag", "tags": ["ok", "\udfff"]}, "tags"),
        ({"action": "accept", "notes": "misspelt"}, "'notes'"),  # item 8: was dropped silently (201, note null)
    ],
)
def test_the_reported_json_bodies_are_a_4xx_naming_the_field(app, body: object, field: str) -> None:  # type: ignore[no-untyped-def]
    before = stored(app[2])
    response = json_post(app, body)
    assert response.status_code == 400 and field in response.json()["error"], response.text
    assert stored(app[2]) == before


def test_a_deeply_nested_or_huge_body_is_refused_before_parsing(app) -> None:  # type: ignore[no-untyped-def]
    deep = json_post(app, b"[" * 100_000 + b"]" * 100_000)  # item 5: was RecursionError
    assert deep.status_code == 400 and "nested" in deep.json()["error"]
    huge = json_post(app, b'{"action": "accept", "note": "' + b"x" * MAX_BODY + b'"}')
    assert huge.status_code == 413 and "at most" in huge.json()["error"]


def test_a_bad_form_index_stores_nothing_and_a_retried_post_stores_once(app) -> None:  # type: ignore[no-untyped-def]
    """Item 6: index=² answered 500 after the decision was stored, so a retrying client stored it twice."""
    client, token, db = app
    headers = {"Cookie": f"{COOKIE}={token}", "Content-Type": "application/x-www-form-urlencoded"}
    form = {"action": "tag", "tags": "retry-test", "csrf": csrf_token(token), "queue": "mine", "seen": ""}
    before = stored(db)
    bad = client.post("/items/item003/decisions", content=urlencode(form | {"index": "²"}), headers=headers)
    assert bad.status_code == 400 and "index" in MESSAGE.search(bad.text).group(1)  # type: ignore[union-attr]
    assert stored(db) == before
    for _ in range(3):  # the same post, retried
        ok = client.post("/items/item003/decisions", content=urlencode(form | {"index": "0"}), headers=headers)
        assert ok.status_code == 303 and ok.headers["location"] == "/q/mine/0"
    assert stored(db)[0] == before[0] + 1


def test_json_decisions_are_idempotent_by_key(app) -> None:  # type: ignore[no-untyped-def]
    first = json_post(app, {"action": "reject", "reason": "biased", "key": "client-42"}, item="item004")
    again = json_post(app, {"action": "reject", "reason": "biased", "key": "client-42"}, item="item004")
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    other = json_post(app, {"action": "accept", "key": "client-42"}, item="item004")
    assert other.status_code == 409 and "key" in other.json()["error"]
    derived = [json_post(app, {"action": "accept", "seen": first.json()["id"]}, item="item004") for _ in range(2)]
    assert [r.status_code for r in derived] == [201, 200] and derived[0].json()["id"] == derived[1].json()["id"]


def test_logout_with_a_bad_body_is_a_4xx(app) -> None:  # type: ignore[no-untyped-def]
    """Item 7: a non-UTF-8 body or one over 256 KiB raised InvalidInput outside the error handling."""
    client, token, _ = app
    headers = {"Cookie": f"{COOKIE}={token}", "Content-Type": "application/x-www-form-urlencoded"}
    assert client.post("/logout", content=b"csrf=\xff\xfe", headers=headers).status_code == 400
    assert client.post("/logout", content=b"x" * (MAX_BODY + 1), headers=headers).status_code == 413
    ok = client.post("/logout", content=urlencode({"csrf": csrf_token(token)}), headers=headers)
    assert ok.status_code == 303
