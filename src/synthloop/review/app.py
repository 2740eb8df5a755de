"""The review web app (FastAPI, server-rendered HTML, one small script for keyboard shortcuts).

Pages: / (queues with counts and progress), /q/<queue> (the reviewer's next undecided item), /q/<queue>/<index>
(an item), /stats (agreement and conflicts). JSON: /api/items/<id>, /api/items/<id>/decisions, /api/stats.
Model output is untrusted: templates autoescape everything, and the Content-Security-Policy allows only this
server's own script, so even a story that slipped past escaping could not run code. Requests are untrusted too:
every body is bounded and fully checked (synthloop/review/validate.py) before anything is written, a mistake is a
4xx with a one-line message, and a decision retried after a lost answer is stored once (its key). Who is asking
is one FastAPI dependency (`session`, and `signed_in` for the routes that need a reviewer: a request without a
known token gets the login page or a 401 from one place); every decision, form or JSON, is one `store.decide`.
Needs the `review` extra.
"""

from __future__ import annotations

import importlib.resources
import socket
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader
from starlette.exceptions import HTTPException as StarletteHTTPException

from synthloop.errors import UserError
from synthloop.records import Record
from synthloop.review import auth, validate
from synthloop.review.agreement import agreement
from synthloop.review.items import highlight, load_items
from synthloop.review.store import REASONS, Decided, KeyReused, ReviewStore, conflicts, default_db
from synthloop.review.validate import DecisionInput, InvalidInput, decision_input, parse_form, parse_json_object
from synthloop.store.dataset import Dataset

QUEUES = {
    "random": "Random sample",
    "lowest": "Lowest quality scores first",
    "flagged": "Flagged or rejected by filters",
    "uncertain": "Nearest the quality threshold first",
    "mine": "My history",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" makes Chromium send "Origin: null" on form posts
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True, slots=True)
class Session:
    """Who sent a request: the reviewer its token belongs to (None: no or unknown token), the token, and whether
    it came in the session cookie (then a form post must also carry the CSRF token) or a Bearer header."""

    reviewer: str | None
    token: str
    from_cookie: bool


@dataclass(frozen=True, slots=True)
class Reviewer:
    name: str
    token: str
    from_cookie: bool


class NotSignedIn(Exception):
    """Raised by the `signed_in` dependency; answered with the login page (HTML) or a 401 (the JSON API)."""


def session(request: Request) -> Session:
    token, from_cookie = auth.request_token(dict(request.headers), dict(request.cookies))
    return Session(review_state(request).store.reviewer_for(token), token, from_cookie)


def signed_in(current: Annotated[Session, Depends(session)]) -> Reviewer:
    if current.reviewer is None:
        raise NotSignedIn
    return Reviewer(current.reviewer, current.token, current.from_cookie)


AnySession = Annotated[Session, Depends(session)]
SignedIn = Annotated[Reviewer, Depends(signed_in)]


async def read_body(request: Request) -> bytes:
    """The request body, refused (TooLarge) as soon as it passes MAX_BODY bytes: never read whole first."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit():
        validate.check_size(int(declared))
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        validate.check_size(len(body))
    return bytes(body)


@dataclass(frozen=True, slots=True)
class ReviewState:
    """What the routes share, kept on `app.state.review`: the dataset's name, its items' records by id, the review
    store and the page templates."""

    dataset_name: str
    records: dict[str, Record]
    store: ReviewStore
    templates: Environment

    def page(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        return HTMLResponse(self.templates.get_template(name).render(dataset=self.dataset_name, **values), status)

    def queue_state(self, queue: str, reviewer: str) -> dict[str, Any]:
        ids = self.store.queue_ids(queue, reviewer)
        mine, anyone = self.store.decided_by(reviewer), self.store.decided_by_anyone()
        done = sum(i in mine for i in ids)
        progress = round(100 * done / len(ids)) if ids else 100
        return {
            "name": queue,
            "title": QUEUES[queue],
            "total": len(ids),
            "mine": done,
            "anyone": sum(i in anyone for i in ids),
            "progress": progress,
        }

    def item_view(self, record: Record, reviewer: str, token: str) -> dict[str, Any]:
        decisions = self.store.decisions(record.id)
        edits = [d for d in decisions if d.action == "edit"]
        current = edits[-1].text if edits else record.text
        return {
            "record": record,
            "segments": highlight(current or "", record.words),
            "current_text": current,
            "original_segments": highlight(record.text, record.words) if edits else None,
            "decisions": decisions,
            "conflict": conflicts(decisions).get(record.id),
            "seen": max((d.id for d in decisions), default=""),
            "scores": sorted(record.scores.items()),
            "csrf": auth.csrf_token(token),
            "reasons": REASONS,
            "reviewer": reviewer,
            "mine": [d for d in decisions if d.reviewer == reviewer],
        }


def review_state(request: Request) -> ReviewState:
    state: ReviewState = request.app.state.review
    return state


State = Annotated[ReviewState, Depends(review_state)]
router = APIRouter()


def create_app(dataset_path: Path, db_path: Path | None = None) -> Any:
    dataset = Dataset.open(dataset_path)
    records, items = load_items(dataset)  # a dataset that cannot be read fails here, before a database is made
    store = ReviewStore(db_path or default_db(dataset.root))
    store.sync_items(items)
    templates = Environment(loader=PackageLoader("synthloop.review", "templates"), autoescape=True)
    app = FastAPI(title="synthloop review", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.review = ReviewState(dataset.root.name, records, store, templates)  # what `session` and routes ask
    app.middleware("http")(security_headers)
    app.exception_handler(NotSignedIn)(not_signed_in)
    app.exception_handler(RequestValidationError)(bad_path)
    app.exception_handler(StarletteHTTPException)(no_route)
    app.include_router(router)
    return app


async def security_headers(request: Request, call_next: Any) -> Any:
    response = await call_next(request)
    response.headers.update(SECURITY_HEADERS)
    return response


def unauthorized(request: Request, message: str = "log in with your reviewer token") -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, 401, headers={"WWW-Authenticate": "Bearer"})
    return review_state(request).page("login.html", 401, message=message)


def error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": message}, status)
    return review_state(request).page("message.html", status, title=f"Error {status}", message=message)


async def not_signed_in(request: Request, problem: NotSignedIn) -> Response:
    return unauthorized(request)


async def bad_path(request: Request, problem: RequestValidationError) -> Response:
    return error(request, 404, f"no page at {request.url.path[:80]!r} (an item position is a whole number)")


async def no_route(request: Request, problem: StarletteHTTPException) -> Response:  # 404, 405 from routing
    what = "no page at" if problem.status_code == 404 else f"{request.method[:10]} is not accepted at"
    return error(request, problem.status_code, f"{what} {request.url.path[:80]!r}")


def decide(request: Request, item_id: str, me: Reviewer, submitted: DecisionInput) -> Response | Decided:
    """The one way both the form and the JSON API store a decision: the store's Decided, or a 409."""
    try:
        return review_state(request).store.decide(item_id, me.name, **asdict(submitted))
    except KeyReused:
        return error(request, 409, "field 'key': already used for a different decision")


@router.get("/login", response_class=HTMLResponse)
def login_page(review: State) -> Response:
    return review.page("login.html")


@router.post("/login")
async def login(request: Request, review: State) -> Response:
    try:
        token = parse_form(await read_body(request), allowed=("token",)).get("token", "").strip()
    except InvalidInput as problem:
        return error(request, problem.status, str(problem))
    if review.store.reviewer_for(token) is None:
        return review.page("login.html", 401, message="unknown token")
    response = RedirectResponse("/", 303)
    response.set_cookie(auth.COOKIE, token, httponly=True, samesite="strict", path="/")
    return response


@router.post("/logout")
async def logout(request: Request, current: AnySession) -> Response:
    try:
        form = parse_form(await read_body(request), allowed=("csrf",))
    except InvalidInput as problem:
        return error(request, problem.status, str(problem))
    if current.reviewer is None or not auth.csrf_ok(current.token, form.get("csrf", "")):
        return error(request, 403, "logout needs a valid session and CSRF token")
    response = RedirectResponse("/login", 303)
    response.delete_cookie(auth.COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def index(review: State, me: SignedIn) -> Response:
    states = [review.queue_state(q, me.name) for q in QUEUES]
    return review.page(
        "index.html",
        reviewer=me.name,
        queues=states,
        csrf=auth.csrf_token(me.token),
        stats=agreement(review.store.decisions()),
    )


@router.get("/q/{queue}")
def next_in_queue(request: Request, review: State, me: SignedIn, queue: str) -> Response:
    if queue not in QUEUES:
        return error(request, 404, f"no queue {queue!r}; queues: {', '.join(QUEUES)}")
    ids = review.store.queue_ids(queue, me.name)
    mine = review.store.decided_by(me.name)
    index = 0 if queue == "mine" else next((i for i, item in enumerate(ids) if item not in mine), None)
    if index is None or not ids:
        return review.page("message.html", title=QUEUES[queue], message="Nothing left to review in this queue.")
    return RedirectResponse(f"/q/{queue}/{index}", 303)


@router.get("/q/{queue}/{index}", response_class=HTMLResponse)
def item_page(request: Request, review: State, me: SignedIn, queue: str, index: int) -> Response:
    if queue not in QUEUES:
        return error(request, 404, f"no queue {queue!r}; queues: {', '.join(QUEUES)}")
    ids = review.store.queue_ids(queue, me.name)
    if not 0 <= index < len(ids):
        return error(request, 404, f"queue {queue!r} has {len(ids)} items; no item at position {index}")
    view = review.item_view(review.records[ids[index]], me.name, me.token)
    return review.page("item.html", queue=review.queue_state(queue, me.name), index=index, count=len(ids), **view)


@router.post("/items/{item_id}/decisions")
async def decide_form(request: Request, review: State, me: SignedIn, item_id: str) -> Response:
    try:
        form = parse_form(await read_body(request))
    except InvalidInput as problem:
        return error(request, problem.status, str(problem))
    if me.from_cookie and (
        not auth.same_origin(dict(request.headers)) or not auth.csrf_ok(me.token, form.get("csrf", ""))
    ):
        return error(request, 403, "missing or wrong CSRF token (reload the page and try again)")
    if item_id not in review.records:
        return error(request, 404, f"unknown item id {item_id!r}")
    try:  # every field, before anything is written
        submitted = decision_input(form, extra_fields=validate.FORM_FIELDS)
        queue = form.get("queue") or "random"
        if queue not in QUEUES:
            raise InvalidInput(f"field 'queue': expected one of {', '.join(QUEUES)}, got {queue[:40]!r}")
        index = validate.whole_number(form.get("index") or "0", "index", validate.INDEX_MAX)
    except InvalidInput as problem:
        return error(request, problem.status, str(problem))
    decided = decide(request, item_id, me, submitted)
    if isinstance(decided, Response):
        return decided
    if queue == "mine" or submitted.action == "tag":  # stay on the item
        return RedirectResponse(f"/q/{queue}/{index}", 303)
    return RedirectResponse(f"/q/{queue}", 303)


@router.get("/stats", response_class=HTMLResponse)
def stats_page(review: State, me: SignedIn) -> Response:
    decisions = review.store.decisions()
    return review.page("stats.html", reviewer=me.name, stats=agreement(decisions), conflicts=conflicts(decisions))


@router.get("/api/stats")
def stats_json(review: State, me: SignedIn) -> Response:
    decisions = review.store.decisions()
    return JSONResponse(agreement(decisions) | {"conflict_items": conflicts(decisions)})


@router.get("/api/items/{item_id}")
def item_json(request: Request, review: State, me: SignedIn, item_id: str) -> Response:
    if item_id not in review.records:
        return error(request, 404, f"unknown item id {item_id!r}")
    record = review.records[item_id]
    return JSONResponse(
        {
            "id": item_id,
            "text": record.text,
            "words": record.words,
            "features": record.features,
            "flags": record.flags,
            "scores": record.scores,
            "decisions": [d.as_dict() for d in review.store.decisions(item_id)],
        }
    )


@router.post("/api/items/{item_id}/decisions")
async def decide_json(request: Request, review: State, me: SignedIn, item_id: str) -> Response:
    if me.from_cookie:
        return error(request, 403, "the JSON API needs the token in an Authorization: Bearer header")
    if item_id not in review.records:
        return error(request, 404, f"unknown item id {item_id!r}")
    try:
        submitted = decision_input(parse_json_object(await read_body(request)))
    except InvalidInput as problem:
        return error(request, problem.status, str(problem))
    decided = decide(request, item_id, me, submitted)
    if isinstance(decided, Response):
        return decided
    return JSONResponse(decided.decision.as_dict(), 201 if decided.new else 200)


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    types = {"review.js": "text/javascript", "review.css": "text/css"}
    if name not in types:
        return Response("not found", 404)
    static = importlib.resources.files("synthloop.review") / "static"
    return Response((static / name).read_text(encoding="utf-8"), media_type=types[name])


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port, or a one-line UserError (unknown host, port taken or forbidden)."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, protocol)
    except (OSError, OverflowError, UnicodeError) as error:
        raise UserError(f"--host {host!r} --port {port}: cannot serve there ({error})") from error
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise UserError(f"--host {host!r} --port {port}: cannot serve there ({error.strerror})") from error
    return sock


def serve(
    dataset_path: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    db_path: Path | None = None,
    ready: Callable[[], None] = lambda: None,
) -> None:
    """Bind first, then open the dataset and its review database, then serve: a port that cannot be had, or a
    dataset that cannot be read, is refused before anything is created."""
    import uvicorn

    sock = listen(host, port)
    try:
        app = create_app(dataset_path, db_path)
        ready()
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    finally:
        sock.close()
