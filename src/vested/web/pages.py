"""The pages (portfolio, statement, history, audit) and the sign-off actions (sign, dispute, resolve).

Each page is one route registered twice: ``PATH.json`` (the JSON twin, in the OpenAPI document)
and ``PATH`` (HTML, or JSON when asked with ``Accept: application/json``). Each calls one service
of ``vested.services.views`` and renders its view-model. The actions are POSTs with the session's
CSRF token; the services authorise them again by party and role, so a forged POST is refused with
403 and a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from vested.render.record import history_json, signoff_json
from vested.render.web_views import ledger_json, portfolio_json, statement_page_json
from vested.services import views
from vested.services.signoff import StatementStatus
from vested.web.respond import check_csrf, current_session, done, respond, state
from vested.web.security import Session

router = APIRouter()
LoggedIn = Annotated[Session, Depends(current_session)]

JSON_PAGE: dict[int | str, dict[str, Any]] = {200: {"description": "The page's data: `ok`, the view-model's fields, "
                                                    "`diagnostics` (the same JSON as the CLI's --json)",
                                                    "content": {"application/json": {"schema": {
                                                        "type": "object", "required": ["ok", "diagnostics"],
                                                        "properties": {"ok": {"type": "boolean"},
                                                                       "diagnostics": {"type": "array",
                                                                                       "items": {"type": "object"}}}}}}},
                                              401: {"description": "Not logged in"}, 403: {"description": "Refused"},
                                              404: {"description": "No such agreement or period"},
                                              422: {"description": "A parameter (named) cannot be used"}}


def twin(path: str, summary: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a page at ``path.json`` (documented) and ``path`` (HTML; not in the OpenAPI document)."""

    def register(endpoint: Callable[..., Response]) -> Callable[..., Response]:
        router.add_api_route(path + ".json", endpoint, methods=["GET"], summary=summary, responses=JSON_PAGE,
                             operation_id=endpoint.__name__ + "_json", response_model=None)
        router.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False, response_model=None)
        return endpoint

    return register


def status_json(s: StatementStatus) -> dict[str, Any]:
    return signoff_json(s.agreement_id, s.period, s.state, s.parties)


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return Response(status_code=204)


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    return RedirectResponse("/portfolio", status_code=303)


@twin("/portfolio", "The agreements in the record, what awaits the user's signature, the open disputes")
def portfolio_page(request: Request, session: LoggedIn) -> Response:
    return respond(request, views.portfolio(state(request).workspace(session.user_id)), "portfolio.html", portfolio_json)


@twin("/agreements/{agreement_id}/statements/{period}", "One period's statement: every line explained, its sign-off")
def statement(request: Request, session: LoggedIn, agreement_id: str, period: str,
              revision: Annotated[int | None, Query(ge=1, le=1_000_000)] = None) -> Response:
    result = views.statement_page(state(request).workspace(session.user_id), agreement_id, period, revision)
    return respond(request, result, "statement.html", statement_page_json)


@twin("/agreements/{agreement_id}/history", "Every revision (and why), signature and dispute of an agreement")
def history(request: Request, session: LoggedIn, agreement_id: str) -> Response:
    result = views.agreement_history(state(request).workspace(session.user_id), agreement_id)
    return respond(request, result, "history.html", lambda h: history_json(h.agreement_id, h.periods, h.entries, h.head))


@twin("/audit", "The ledger, a page at a time, and the result of verifying the whole record")
def audit(request: Request, session: LoggedIn, after: Annotated[int, Query(ge=0, le=10**12)] = 0,
          limit: Annotated[int, Query(ge=1, le=views.PAGE_LIMIT)] = 50) -> Response:
    return respond(request, views.ledger_page(state(request).workspace(session.user_id), after, limit), "audit.html", ledger_json)


def back_to(agreement_id: str, period: str) -> str:
    from urllib.parse import quote

    return f"/agreements/{quote(agreement_id, safe='')}/statements/{quote(period, safe='')}"


@router.post("/agreements/{agreement_id}/statements/{period}/sign", summary="Sign the current revision",
             description="Multipart form: csrf, key (your private key file; used once, never kept), passphrase (if the key has one).")
def sign(request: Request, session: LoggedIn, agreement_id: str, period: str,
         key: Annotated[UploadFile | None, File(description="your private key file (PEM)")] = None,
         passphrase: Annotated[str, Form(max_length=1024)] = "", csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, session, csrf)
    data = key.file.read(views.MAX_KEY_BYTES + 1) if key is not None else b""
    result = views.sign_with_key(state(request).workspace(session.user_id), agreement_id, period, data, passphrase)
    return done(request, result, status_json, back_to(agreement_id, period))


@router.post("/agreements/{agreement_id}/statements/{period}/dispute", summary="Dispute one line of the current revision",
             description="Form: csrf, line (its number from 1, or its label), comment (why).")
def dispute(request: Request, session: LoggedIn, agreement_id: str, period: str,
            line: Annotated[str, Form(max_length=500)] = "", comment: Annotated[str, Form(max_length=views.MAX_COMMENT)] = "",
            csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, session, csrf)
    result = views.dispute_line(state(request).workspace(session.user_id), agreement_id, period, line, comment)
    return done(request, result, status_json, back_to(agreement_id, period))


@router.post("/agreements/{agreement_id}/statements/{period}/resolve", summary="Sign the resolution of an open dispute",
             description="Form: csrf, dispute (its id), comment.")
def resolve(request: Request, session: LoggedIn, agreement_id: str, period: str,
            dispute: Annotated[int, Form(ge=1, le=10**12)], comment: Annotated[str, Form(max_length=views.MAX_COMMENT)] = "",
            csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    check_csrf(request, session, csrf)
    result = views.resolve_dispute(state(request).workspace(session.user_id), agreement_id, period, dispute, comment)
    return done(request, result, status_json, back_to(agreement_id, period))
