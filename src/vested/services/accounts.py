"""Web log-in accounts: a user's password, hashed with Argon2id, and checking it at log-in.

    set_password(ws, user_id, password) -> Result[User]
    check_password(ws, user_id, password) -> Result[User]

A password only lets a user into the web app; it signs nothing (a signature still needs the user's
private key). The hash (argon2-cffi's PHC string, with its own salt and parameters) is kept in the
record's ``users.password_hash`` column, outside the ledger, and never leaves the services.

Who may set a password (authorised here, not in the faces): the user themselves, or a user who may
add that user (``vested.core.roles``: a user of the same party and role; an auditor's by either
party's customer or supplier user). An auditor sets only their own.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from vested.core.diagnostics import error
from vested.services.result import Refused, Result
from vested.services.signoff import acting, recording, refusal
from vested.services.workspace import Workspace
from vested.storage.record import User

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_LENGTH = 12
MAX_LENGTH = 1024
"""Longer is refused: hashing a megabyte-long "password" is a cheap way to burn the server's CPU."""
DOCUMENT = "password"


def _hasher() -> PasswordHasher:
    """argon2-cffi's defaults (Argon2id, RFC 9106's low-memory profile); imported on first use."""
    from argon2 import PasswordHasher

    return PasswordHasher()


def password_problem(password: str) -> str | None:
    """Why a password is not good enough (None when it is)."""
    if len(password) < MIN_LENGTH:
        return f"a password has at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    if password.strip() != password:
        return "a password does not start or end with a space"
    return None


def set_password(ws: Workspace, user_id: str, password: str) -> Result[User]:
    """Set ``user_id``'s web password (hashed), as the acting user."""

    def step() -> Result[User]:
        target = ws.record.user(user_id)
        if target is None:
            raise refusal(f"there is no user {user_id!r}", "see the users: vested user list")
        actor = acting(ws)
        if actor.id != target.user_id:
            may = actor.role != "auditor" and (
                target.role == "auditor" or (actor.party == target.party and actor.role == target.role))
            if not may:
                raise refusal(f"{actor.id} may not set {user_id}'s password: only the user, or a {target.role} user of "
                              f"{target.party}, may", f"act as {user_id}: --as {user_id}")
        problem = password_problem(password)
        if problem is not None:
            raise Refused([error("password", problem, "choose a longer pass phrase", ("password",), DOCUMENT)])
        ws.record.set_password_hash(user_id, _hasher().hash(password))
        found = ws.record.user(user_id)
        assert found is not None
        return Result(found)

    return recording(ws, step)


_DUMMY: list[str] = []


def check_password(ws: Workspace, user_id: str, password: str) -> Result[User]:
    """The user, when ``password`` is theirs; else one refusal that does not say whether the user exists.

    An unknown user or one without a password costs a hash too, so the time taken does not tell them apart.
    """
    from argon2.exceptions import InvalidHashError, VerificationError

    def step() -> Result[User]:
        hasher = _hasher()
        wrong = Refused([error("login", "wrong user or password", "", ("password",), DOCUMENT)])
        user = ws.record.user(user_id) if 0 < len(user_id) <= 200 else None
        if len(password) > MAX_LENGTH:
            raise wrong
        if user is None or not user.password_hash:
            if not _DUMMY:
                _DUMMY.append(hasher.hash("not anyone's password"))
            with contextlib.suppress(VerificationError):
                hasher.verify(_DUMMY[0], password)
            raise wrong
        try:
            hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            raise wrong from None
        if hasher.check_needs_rehash(user.password_hash):  # the parameters were raised since it was set
            ws.record.set_password_hash(user.user_id, hasher.hash(password))
        return Result(user)

    return recording(ws, step)
