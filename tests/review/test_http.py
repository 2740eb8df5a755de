"""The real review server over HTTP: authentication, CSRF, bad input, escaping, and ten concurrent reviewers."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from review_helpers import UNCERTAIN_ORDER, XSS_PAYLOADS, add_user, make_dataset, serving

from synthloop.review.auth import COOKIE, csrf_token

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    dataset = make_dataset(tmp_path_factory.mktemp("review") / "curated")
    tokens = {name: add_user(dataset, name) for name in [f"r{i}" for i in range(10)]}
    with serving(dataset) as url:
        yield url, tokens, dataset


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_missing_or_bad_token_is_401(server) -> None:  # type: ignore[no-untyped-def]
    url, _, _ = server
    for method, path in [
        ("GET", "/"),
        ("GET", "/q/random/0"),
        ("GET", "/api/stats"),
        ("GET", "/api/items/item000"),
        ("POST", "/items/item000/decisions"),
        ("POST", "/api/items/item000/decisions"),
    ]:
        for headers in ({}, bearer("wrong-token")):
            response = httpx.request(method, url + path, headers=headers, data={"action": "accept"})
            assert response.status_code == 401, (method, path, headers)


def test_csrf_is_required_for_cookie_sessions(server) -> None:  # type: ignore[no-untyped-def]
    url, tokens, _ = server
    token = tokens["r0"]
    cookies = {COOKIE: token}
    form = {"action": "tag", "tags": "csrf-test", "queue": "random", "index": "0"}
    with httpx.Client(base_url=url, cookies=cookies) as client:
        assert client.post("/items/item000/decisions", data=form).status_code == 403
        assert client.post("/items/item000/decisions", data=form | {"csrf": "forged"}).status_code == 403
        evil = {"Origin": "http://evil.example"}
        assert (
            client.post("/items/item000/decisions", data=form | {"csrf": csrf_token(token)}, headers=evil).status_code
            == 403
        )
        ok = client.post("/items/item000/decisions", data=form | {"csrf": csrf_token(token)})
        assert ok.status_code == 303
        # The JSON API refuses cookie authentication (only a Bearer header, which no other site can send).
        assert client.post("/api/items/item000/decisions", json={"action": "accept"}).status_code == 403


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"action": "delete"}, 400, "field 'action'"),
        ({"action": "reject"}, 400, "field 'reason'"),
        ({"action": "reject", "reason": "other"}, 400, "needs a note"),
        ({"action": "edit", "text": "   "}, 400, "non-empty story text"),
        ({"action": "tag"}, 400, "at least one tag"),
        ({"action": "accept", "seen": "yesterday"}, 400, "field 'seen'"),
        ({"action": "edit", "text": "x" * 20_001}, 400, "at most 20000"),
    ],
)
def test_bad_decisions_get_a_clear_4xx(server, body, status, message) -> None:  # type: ignore[no-untyped-def]
    url, tokens, _ = server
    response = httpx.post(f"{url}/api/items/item001/decisions", json=body, headers=bearer(tokens["r1"]))
    assert response.status_code == status and message in response.json()["error"]


def test_unknown_item_and_malformed_bodies(server) -> None:  # type: ignore[no-untyped-def]
    url, tokens, _ = server
    headers = bearer(tokens["r1"])
    response = httpx.post(f"{url}/api/items/nope/decisions", json={"action": "accept"}, headers=headers)
    assert response.status_code == 404 and "unknown item id 'nope'" in response.json()["error"]
    assert httpx.get(f"{url}/api/items/nope", headers=headers).status_code == 404
    assert httpx.get(f"{url}/q/random/999", headers=headers).status_code == 404
    assert httpx.get(f"{url}/q/nosuchqueue", headers=headers).status_code == 404
    for content in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        response = httpx.post(f"{url}/api/items/item001/decisions", content=content, headers=headers)
        assert response.status_code == 400 and "JSON object" in response.json()["error"]
    form = httpx.post(f"{url}/items/item001/decisions", content=b"action=%ff", headers=headers)
    assert form.status_code == 400


def test_hostile_story_is_escaped_and_script_blocked_by_policy(server) -> None:  # type: ignore[no-untyped-def]
    url, tokens, _ = server
    response = httpx.get(f"{url}/q/lowest/0", headers=bearer(tokens["r2"]))
    assert response.status_code == 200 and 'data-id="item006"' in response.text
    for payload in XSS_PAYLOADS[:5]:
        assert payload not in response.text
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


def test_uncertain_queue_puts_margins_nearest_zero_first(server) -> None:  # type: ignore[no-untyped-def]
    url, tokens, _ = server
    with httpx.Client(base_url=url, headers=bearer(tokens["r3"])) as client:
        index = client.get("/")
        assert index.status_code == 200 and 'href="/q/uncertain"' in index.text
        assert client.get("/q/uncertain").headers["location"] == "/q/uncertain/0"
        shown = []
        for position in range(len(UNCERTAIN_ORDER)):
            page = client.get(f"/q/uncertain/{position}")
            assert page.status_code == 200
            shown.append(page.text.split('data-id="', 1)[1].split('"', 1)[0])
        assert shown == UNCERTAIN_ORDER  # item003 and item006 have no margin: not in the queue
        assert client.get(f"/q/uncertain/{len(UNCERTAIN_ORDER)}").status_code == 404
        decided = client.post(f"/api/items/{UNCERTAIN_ORDER[0]}/decisions", json={"action": "accept"})
        assert decided.status_code == 201
        assert client.get("/q/uncertain").headers["location"] == "/q/uncertain/1"  # the next undecided one


def test_ten_concurrent_reviewers_lose_nothing(server) -> None:  # type: ignore[no-untyped-def]
    url, tokens, dataset = server
    items = [f"item{i:03d}" for i in range(7)]

    def review(name: str) -> list[int]:
        ids = []
        with httpx.Client(base_url=url, headers=bearer(tokens[name]), timeout=60) as client:
            for round_ in range(3):
                for index, item in enumerate(items):
                    body = (
                        {"action": "reject", "reason": "incoherent"}
                        if (index + int(name[1:]) + round_) % 3 == 0
                        else {"action": "accept"}
                    ) | {"key": f"{name}-{round_}-{item}"}
                    response = client.post(f"/api/items/{item}/decisions", json=body)
                    assert response.status_code == 201, response.text
                    ids.append(response.json()["id"])
        return ids

    with ThreadPoolExecutor(max_workers=10) as pool:
        returned = [i for ids in pool.map(review, sorted(tokens)) for i in ids]
    assert len(returned) == len(set(returned)) == 10 * 3 * 7
    with sqlite3.connect(dataset / "review" / "review.sqlite") as db:
        stored = {row[0] for row in db.execute("SELECT id FROM decisions WHERE reviewer LIKE 'r%'")}
        audited = {
            row[0]
            for row in db.execute("SELECT json_extract(detail, '$.decision') FROM audit WHERE event LIKE 'decision.%'")
        }
    assert set(returned) <= stored and set(returned) <= audited
    stats = httpx.get(f"{url}/api/stats", headers=bearer(tokens["r0"])).json()
    assert stats["items_double_reviewed"] == 7 and stats["conflicts"] == 7 and len(stats["pairs"]) == 45
    assert set(stats["conflict_items"]) == set(items)
