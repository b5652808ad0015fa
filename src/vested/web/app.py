"""Make the web app: FastAPI over a workspace factory, server-rendered pages with JSON twins.

    create_app(workspace, secret, *, secure_cookies=True, clock=time.monotonic) -> FastAPI

``workspace(user)`` gives the workspace a request acts in as its logged-in user
(``vested.services.views.workspaces`` makes one over a project's record). The app sets the
security headers on every answer, maps every error to its status in one handler
(:func:`answer_error`), and never shows a traceback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from vested.core.diagnostics import Diagnostic, error
from vested.services.result import Result, result_json
from vested.services.workspace import Workspace
from vested.web import auth, pages
from vested.web.errors import Unauthenticated, WebError, field_error
from vested.web.respond import TEMPLATES, WebState, page, wants_json
from vested.web.security import HEADERS, LoginThrottle, Sessions

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("vested.web")


def create_app(workspace: Callable[[str], Workspace], secret: bytes, *, secure_cookies: bool = True,
               clock: Callable[[], float] = time.monotonic) -> FastAPI:
    app = FastAPI(title="vested", version="0.1.0", docs_url=None, redoc_url=None,
                  description="The shared dashboard of an outcome-based agreement: every page has a JSON twin (PATH.json).")
    templates = Jinja2Templates(directory=TEMPLATES)
    app.state.web = WebState(workspace, Sessions(clock), LoginThrottle(clock), secret, secure_cookies, templates)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(auth.router)
    app.include_router(pages.router)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    app.add_exception_handler(WebError, answer_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, answer_invalid)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, answer_http)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, answer_bug)
    return app


def error_response(request: Request, status: int, diagnostics: tuple[Diagnostic, ...],
                   headers: dict[str, str] | None = None) -> Response:
    """The one error answer: ``result_json`` of the diagnostics with the status, or the error page."""
    if status == 401 and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if wants_json(request):
        return JSONResponse(result_json(Result(None, diagnostics)), status_code=status, headers=headers)
    response = page(request, "error.html", {"status": status, "diagnostics": diagnostics}, status=status)
    response.headers.update(headers or {})
    return response


async def answer_error(request: Request, exc: WebError) -> Response:
    if isinstance(exc, Unauthenticated):
        return error_response(request, 401, exc.diagnostics)
    return error_response(request, exc.status, exc.diagnostics, exc.headers)


async def answer_invalid(request: Request, exc: RequestValidationError) -> Response:
    """A form field, path or query parameter that FastAPI could not accept: 422 naming it."""
    problems = []
    for problem in exc.errors():
        where = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path", "form")]
        problems.append(field_error(".".join(where) or "request", str(problem.get("msg", "is not valid"))))
    return error_response(request, 422, tuple(problems))


async def answer_http(request: Request, exc: StarletteHTTPException) -> Response:
    code = "not-found" if exc.status_code == 404 else "request"
    message = "there is no such page" if exc.status_code == 404 else str(exc.detail)
    return error_response(request, exc.status_code, (error(code, message, "", (), "request"),), getattr(exc, "headers", None))


async def answer_bug(request: Request, exc: Exception) -> Response:
    log.exception("internal error on %s %s", request.method, request.url.path)
    return error_response(request, 500, (error("internal", "internal error: this is a bug in vested, not in your data",
                                               "please report it with what you did", (), "request"),))
