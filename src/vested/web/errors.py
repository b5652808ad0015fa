"""Web errors: each carries its HTTP status; one handler turns them (and a service's diagnostics) into a page or JSON.

A service never raises to the face: it returns a :class:`~vested.services.result.Result` whose
diagnostics say why there is no value. :class:`Failed` carries them to the handler, which takes the
status from the first error's code (:data:`STATUS_BY_CODE`) and answers in the form asked for: the
error page, or ``result_json`` with the status. Bad form fields and query parameters are 422 with
the field named; nothing of an internal error (a bug) is shown beyond its status.
"""

from __future__ import annotations

from collections.abc import Sequence

from vested.core.diagnostics import Diagnostic, error

STATUS_BY_CODE = {
    "input": 422,     # a form field or query parameter (named) that cannot be used
    "password": 422,
    "key": 422,       # the uploaded private key cannot be read or does not sign for this user
    "login": 401,
    "unauthenticated": 401,
    "csrf": 403,
    "refused": 403,   # the rules (vested.core.roles) or the record refuse the action
    "not-found": 404,
    "too-many": 429,
    "store": 503,
    "no-record": 503,
}
DEFAULT_STATUS = 422
"""Any other diagnostic is about user data (an agreement, a statement): unprocessable, never a 500."""


class WebError(Exception):
    """An error of a request, with its status and the diagnostics saying why."""

    status = 400

    def __init__(self, diagnostics: Sequence[Diagnostic], status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)
        if status is not None:
            self.status = status
        self.headers = headers or {}


class Failed(WebError):
    """A service's result without a value: the status comes from its first error."""

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        super().__init__(diagnostics, status_of(diagnostics))


class Unauthenticated(WebError):
    status = 401

    def __init__(self) -> None:
        super().__init__([error("unauthenticated", "log in first", "", (), "request")])


class CsrfRefused(WebError):
    status = 403

    def __init__(self) -> None:
        super().__init__([error("csrf", "csrf: the form's token is missing or out of date",
                                "reload the page and submit the form again", ("csrf",), "request")])


class TooManyAttempts(WebError):
    status = 429

    def __init__(self, retry_after: int):
        super().__init__([error("too-many", f"too many failed log-ins for this user; try again in {retry_after} s", "",
                                (), "request")], headers={"Retry-After": str(retry_after)})


class NotFound(WebError):
    status = 404

    def __init__(self, message: str = "there is no such page"):
        super().__init__([error("not-found", message, "", (), "request")])


def status_of(diagnostics: Sequence[Diagnostic]) -> int:
    first = next((d for d in diagnostics if d.is_error), None)
    return STATUS_BY_CODE.get(first.code, DEFAULT_STATUS) if first is not None else DEFAULT_STATUS


def field_error(field: str, message: str) -> Diagnostic:
    return error("input", f"{field}: {message}", "", (field,), "request")
