"""What every route shares: the app's state, who is logged in, the CSRF check, and answering HTML or JSON.

A page answers JSON (its twin) when its URL ends in ``.json`` or the request accepts
``application/json`` and not ``text/html``; both are made from the same view-model, the JSON by
``result_json`` exactly as the CLI's ``--json``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from vested.services.result import Result, result_json
from vested.services.workspace import Workspace
from vested.web.errors import CsrfRefused, Failed, Unauthenticated
from vested.web.security import LoginThrottle, Session, Sessions, same

T = TypeVar("T")
SESSION_COOKIE = "vested_session"
PRE_SESSION_COOKIE = "vested_login"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class WebState:
    """Everything the routes need, made once by :func:`vested.web.app.create_app`."""

    workspace: Callable[[str], Workspace]
    """A workspace acting as the given user (all over one record)."""
    sessions: Sessions
    throttle: LoginThrottle
    secret: bytes
    secure_cookies: bool
    templates: Jinja2Templates


def state(request: Request) -> WebState:
    found: WebState = request.app.state.web
    return found


def wants_json(request: Request) -> bool:
    if request.url.path.endswith(".json"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def current_session(request: Request) -> Session:
    """The logged-in user's session; 401 (the log-in page, for a browser) without one."""
    session = state(request).sessions.find(request.cookies.get(SESSION_COOKIE))
    if session is None:
        raise Unauthenticated()
    request.state.session = session
    return session


def check_csrf(request: Request, session: Session, token: str | None) -> None:
    """A state-changing request carries the session's CSRF token (form field ``csrf`` or header ``X-CSRF-Token``)."""
    given = token or request.headers.get("x-csrf-token") or ""
    if not given or not same(given, session.csrf):
        raise CsrfRefused()


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", secure=state(request).secure_cookies, httponly=True,
                        samesite="strict")


def drop_cookie(request: Request, response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=state(request).secure_cookies, httponly=True, samesite="strict")


def page(request: Request, template: str, context: Mapping[str, Any], status: int = 200) -> Response:
    session: Session | None = getattr(request.state, "session", None)
    base = {"csrf": session.csrf if session else "", "user": session.user_id if session else None,
            "json_url": twin_url(request)}
    return state(request).templates.TemplateResponse(request, template, {**base, **context}, status_code=status)


def twin_url(request: Request) -> str:
    path = request.url.path
    if path.endswith(".json") or path in ("/", "/login"):
        return ""
    return path + ".json" + (f"?{request.url.query}" if request.url.query else "")


def respond(request: Request, result: Result[T], template: str, body: Callable[[T], Mapping[str, Any]]) -> Response:
    """A page or its JSON twin from one service result; no value: :class:`Failed` (the handler answers)."""
    if result.value is None:
        raise Failed(result.diagnostics)
    data = body(result.value)
    if wants_json(request):
        return JSONResponse(result_json(result, data))
    return page(request, template, {"view": result.value, "data": data, "diagnostics": result.diagnostics})


def done(request: Request, result: Result[T], body: Callable[[T], Mapping[str, Any]], back: str) -> Response:
    """The answer to an action: its result as JSON, or (a browser's form) back to the page it was made on."""
    if result.value is None or not result.ok:
        raise Failed(result.diagnostics)
    if wants_json(request):
        return JSONResponse(result_json(result, body(result.value)))
    return RedirectResponse(back, status_code=303)
