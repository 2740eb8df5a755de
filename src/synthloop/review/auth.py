"""Who is asking, and is a state-changing request really theirs.

A reviewer proves who they are with their token: in the `Authorization: Bearer` header (scripts, the JSON API) or
in an HttpOnly, SameSite=Strict cookie set by the login form (the browser). Cookie-authenticated form posts must
also carry a CSRF token — an HMAC of the fixed string "csrf" keyed by the reviewer's own token, so a page on
another origin cannot know it — and, when the browser sends one, an Origin header naming this server. Bearer
requests need no CSRF token: a browser never attaches that header cross-site on its own.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

COOKIE = "synthloop_review"


def csrf_token(token: str) -> str:
    return hmac.new(token.encode("utf-8"), b"csrf", hashlib.sha256).hexdigest()[:40]


def request_token(headers: dict[str, str], cookies: dict[str, str]) -> tuple[str, bool]:
    """(token, from_cookie). An empty token when none was sent."""
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip(), False
    return cookies.get(COOKIE, ""), True


def same_origin(headers: dict[str, str]) -> bool:
    """False when the browser says the request comes from a page on another origin."""
    origin = headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == headers.get("host", "")


def csrf_ok(token: str, submitted: str) -> bool:
    return bool(submitted) and hmac.compare_digest(csrf_token(token), submitted)
