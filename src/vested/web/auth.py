"""Log-in and log-out: a password checked by ``vested.services.accounts``, then a server-side session.

The log-in form carries a CSRF token tied to a pre-session cookie (there is no session yet); a
successful log-in starts a new session (a new token: no fixation) and drops the pre-session cookie.
Failures are counted per user name (``LoginThrottle``): the sixth within a minute is refused with
429 before the password is even checked.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from vested.services import accounts
from vested.services.result import Result, result_json
from vested.web.errors import CsrfRefused, Failed, TooManyAttempts
from vested.web.respond import (
    PRE_SESSION_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    current_session,
    drop_cookie,
    page,
    set_cookie,
    state,
    wants_json,
)
from vested.web.security import login_token, same

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of this site only (never ``//elsewhere`` or a full URL)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/portfolio"


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    pre = request.cookies.get(PRE_SESSION_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "login.html", {"login_csrf": login_token(state(request).secret, pre), "next": safe_next(next),
                                            "failed": None, "name": ""})
    set_cookie(request, response, PRE_SESSION_COOKIE, pre, max_age=3600)
    return response


@router.post("/login", summary="Log in", description="Form fields: user, password, csrf (from the log-in form). "
             "Sets the session cookie; answers 303 to the portfolio (JSON: the user).")
def login(request: Request, user: Annotated[str, Form(max_length=200)], password: Annotated[str, Form(max_length=1024)],
          csrf: Annotated[str, Form(max_length=200)] = "", next: Annotated[str, Form(max_length=2000)] = "") -> Response:
    web = state(request)
    pre = request.cookies.get(PRE_SESSION_COOKIE, "")
    if not pre or not csrf or not same(csrf, login_token(web.secret, pre)):
        raise CsrfRefused()
    wait = web.throttle.retry_after(user)
    if wait is not None:
        raise TooManyAttempts(wait)
    checked = accounts.check_password(web.workspace(user), user, password)
    if checked.value is None:
        web.throttle.failed(user)
        if wants_json(request):
            raise Failed(checked.diagnostics)
        return page(request, "login.html", {"login_csrf": csrf, "next": safe_next(next), "failed": checked.diagnostics,
                                            "name": user}, status=401)
    web.throttle.succeeded(user)
    token, _ = web.sessions.start(checked.value.user_id)
    response: Response
    if wants_json(request):
        found = checked.value
        response = JSONResponse(result_json(Result(found), {"user": {"user_id": found.user_id, "name": found.name,
                                                                       "party": found.party, "role": found.role}}))
    else:
        response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(request, response, SESSION_COOKIE, token)
    drop_cookie(request, response, PRE_SESSION_COOKIE)
    return response


@router.post("/logout", summary="Log out", description="Form field: csrf. Ends the session.")
def logout(request: Request, csrf: Annotated[str, Form(max_length=200)] = "") -> Response:
    session = current_session(request)
    check_csrf(request, session, csrf)
    state(request).sessions.end(request.cookies.get(SESSION_COOKIE))
    response: Response = JSONResponse({"ok": True, "diagnostics": []}) if wants_json(request) else RedirectResponse(
        "/login", status_code=303)
    drop_cookie(request, response, SESSION_COOKIE)
    return response
