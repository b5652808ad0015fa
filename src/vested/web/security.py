"""The web app's security machinery: the server's secret, sessions, CSRF tokens, the log-in throttle, headers.

Sessions are kept **in memory**, in a dict keyed by a random token (256 bits from ``secrets``) that
is the session cookie's value. Why not a table in the record: the record is the agreement's
evidence (every write a ledger entry, nothing deleted), and a session is neither evidence nor
meant to outlive the server; one ``vested serve`` process serves a project, so nothing needs to be
shared between processes; and a stolen copy of the database then holds no live session. The price:
restarting the server logs everyone out.

The secret (32 random bytes, made on first start in the project folder as ``web-secret``, mode
0600) keys the CSRF token of the log-in form, which is made before there is a session.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SECRET_FILE = "web-secret"
IDLE_SECONDS = 30 * 60
LIFETIME_SECONDS = 12 * 60 * 60
LOGIN_FAILURES = 5
"""Failed log-ins of one user name within ``LOGIN_WINDOW`` seconds before further attempts are refused."""
LOGIN_WINDOW = 60.0

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class SecretFileError(Exception):
    """The secret file cannot be made or is unsafe (readable by others)."""


def load_secret(folder: Path) -> bytes:
    """The server's secret, made on first start (0600, never overwritten); refused when others can read it."""
    path = folder / SECRET_FILE
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    secret = secrets.token_bytes(32)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret.hex() + "\n")
    return secret


def _read_secret(path: Path) -> bytes:
    if path.stat().st_mode & 0o077:
        raise SecretFileError(f"{path} is readable by other users; make it private: chmod 600 {path}")
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (UnicodeDecodeError, ValueError):
        secret = b""
    if len(secret) < 32:
        raise SecretFileError(f"{path} is not a secret vested made; remove it, and the next start makes a new one")
    return secret


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def login_token(secret: bytes, pre_session: str) -> str:
    """The CSRF token of the log-in form: tied to the browser's pre-session cookie by the server's secret."""
    return hmac.new(secret, b"login:" + pre_session.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass
class Session:
    user_id: str
    csrf: str
    created: float
    seen: float


@dataclass
class Sessions:
    """The live sessions, in memory, keyed by their random token."""

    clock: Callable[[], float]
    _live: dict[str, Session] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, user_id: str) -> tuple[str, Session]:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        session = Session(user_id, secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._live[token] = session
        return token, session

    def find(self, token: str | None) -> Session | None:
        """The session of a cookie's token, when it is live (each use extends its idle time)."""
        if not token:
            return None
        now = self.clock()
        with self._lock:
            session = self._live.get(token)
            if session is None:
                return None
            if now - session.seen > IDLE_SECONDS or now - session.created > LIFETIME_SECONDS:
                del self._live[token]
                return None
            session.seen = now
            return session

    def end(self, token: str | None) -> None:
        with self._lock:
            self._live.pop(token or "", None)


@dataclass
class LoginThrottle:
    """At most ``LOGIN_FAILURES`` failed log-ins per user name in any ``LOGIN_WINDOW`` seconds."""

    clock: Callable[[], float]
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, user: str) -> deque[float]:
        times = self._failures.setdefault(user.casefold(), deque())
        while times and self.clock() - times[0] >= LOGIN_WINDOW:
            times.popleft()
        return times

    def retry_after(self, user: str) -> int | None:
        """Seconds until ``user`` may try again, or None when they may now."""
        with self._lock:
            times = self._recent(user)
            if len(times) < LOGIN_FAILURES:
                return None
            return max(1, int(LOGIN_WINDOW - (self.clock() - times[0]) + 0.999))

    def failed(self, user: str) -> None:
        with self._lock:
            self._recent(user).append(self.clock())
            if len(self._failures) > 100_000:  # many made-up names: forget the oldest rather than grow without end
                self._failures.pop(next(iter(self._failures)))

    def succeeded(self, user: str) -> None:
        with self._lock:
            self._failures.pop(user.casefold(), None)
