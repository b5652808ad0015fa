"""The one result type every service returns, and its one JSON form.

A :class:`Result` holds what the job produced (``value``; None when it could not be done) and its
diagnostics, located in the files they are about. ``ok`` is true when there is a value and no
diagnostic is an error. :func:`result_json` is the JSON form of every result, the same for the
CLI's ``--json`` and the HTTP API::

    {"ok": true|false, ...the value's fields..., "diagnostics": [{"severity", "code", "message", ...}]}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from vested.core.diagnostics import Diagnostic, error
from vested.render.diagnostics import diagnostics_json

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Result(Generic[T]):
    """A service's answer: a value, or (``value`` None) the located diagnostics saying why there is none."""

    value: T | None
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def ok(self) -> bool:
        return self.value is not None and not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    def map(self, change: Callable[[T], U]) -> Result[U]:
        return Result(change(self.value) if self.value is not None else None, self.diagnostics)


def done(value: T, diagnostics: Sequence[Diagnostic] = ()) -> Result[T]:
    return Result(value, tuple(diagnostics))


def failed(diagnostics: Sequence[Diagnostic]) -> Result[Any]:
    return Result(None, tuple(diagnostics))


class Refused(Exception):
    """A step of a service cannot go on; ``diagnostics`` (located) say where and why.

    Raised inside a service between its steps and turned into a :class:`Result` at its edge; it never
    reaches a face.
    """

    def __init__(self, diagnostics: Sequence[Diagnostic]):
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


def guarded(run: Callable[[], Result[T]]) -> Result[T]:
    """Run a service step that reads or writes the record; a store that cannot be read or written
    (a damaged file, a full disk, a folder that is not writable) becomes a diagnostic naming the place."""
    from vested.storage import StorageError

    try:
        return run()
    except StorageError as exc:
        return Result(None, (error("store", exc.message, exc.hint, (), "project"),))
    except OSError as exc:
        where = f" {exc.filename!r}" if exc.filename else ""
        return Result(None, (error("store", f"cannot read or write{where}: {exc.strerror or exc}",
                                   "free some disk space, check the folder's permissions, or choose another --project",
                                   (), "project"),))


def result_json(result: Result[Any], body: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON form of a result: ``ok``, the value's fields (``body``, from its view-model), the diagnostics."""
    return {"ok": result.ok, **(body or {}), "diagnostics": diagnostics_json(result.diagnostics)}
