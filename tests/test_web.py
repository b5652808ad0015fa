"""The web app over HTTP (FastAPI's TestClient): log-in, sessions, CSRF, the log-in throttle, the headers,
the JSON twins, and who may do what.

The role × action table is written here from the rules (docs/record.md, "Roles"), not from the code:
a customer and a supplier sign, dispute and resolve for their own party; an auditor reads everything
and changes nothing. The amounts are the desk agreement's by hand: January's fixed-first-time rate
is 50%, under the 80% target, so the credit is 10% of the 1,000 fee.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from typer.testing import CliRunner

from tests.helpers import ws
from tests.test_settle import AGREEMENT, TICKETS
from vested.cli import app as cli
from vested.render.web_views import ledger_json, portfolio_json, statement_page_json
from vested.services import accounts, running, signoff, views
from vested.services.result import result_json

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's notice that its test client will move to httpx2
    from fastapi.testclient import TestClient

from vested.web.app import create_app
from vested.web.security import LOGIN_FAILURES, SecretFileError, load_secret

USERS = {"cust": ("c", "customer"), "supp": ("s", "supplier"), "aud": ("c", "auditor")}
ROLE_USER = {role: user for user, (_, role) in USERS.items()}
PASSWORD = "a long enough pass phrase"
JSON = {"accept": "application/json"}


def build_project(folder: Path, periods: tuple[str, ...] = ("2025-01", "2025-02"), dispute: str | None = "2025-02") -> Path:
    """The desk agreement's project: its tickets, a customer, a supplier and an auditor (each with a key and a
    password), ``periods`` proposed by the supplier, and (``dispute``) one of them disputed by the supplier."""
    (folder / "desk.yaml").write_text(AGREEMENT, encoding="utf-8")
    data = folder / "tickets.csv"
    data.write_text("ticket_id,opened_at,fixed\n" + "".join(f"{a},{b},{c}\n" for a, b, c in TICKETS), encoding="utf-8")
    project = folder / "project"
    assert running.ingest(ws(project, "setup"), folder / "desk.yaml", "tickets", str(data)).ok
    for user, (party, role) in USERS.items():
        added = signoff.add_user(ws(project, "cust" if role == "auditor" else "setup"), folder / "desk.yaml", user, user,
                                 party, role, folder / f"{user}.key")
        assert added.ok, added.diagnostics
        assert accounts.set_password(ws(project, user), user, PASSWORD).ok
    assert running.settle(ws(project, "supp"), folder / "desk.yaml", list(periods)).ok
    if dispute:
        assert signoff.dispute(ws(project, "supp"), folder / "desk.yaml", dispute, "1", "the fee is wrong").ok
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_project(tmp_path_factory.mktemp("web"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def place(built: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(built, target)
    return target


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(place: Path, clock: Clock) -> Iterator[TestClient]:
    made = create_app(views.workspaces(place / "project", None), b"s" * 32, secure_cookies=False, clock=clock)
    with TestClient(made, base_url="http://127.0.0.1") as test_client:
        yield test_client


def login(client: TestClient, user: str, password: str = PASSWORD, **extra: Any) -> Any:
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    return client.post("/login", data={"user": user, "password": password, "csrf": token.group(1)}, follow_redirects=False,
                       **extra)


def csrf_of(client: TestClient, url: str = "/portfolio") -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(url).text)
    assert found
    return found.group(1)


def ledger_size(folder: Path) -> int:
    con = sqlite3.connect(folder / "project" / "vested.db")
    try:
        return int(con.execute("SELECT count(*) FROM ledger").fetchone()[0])
    finally:
        con.close()


STATEMENT = "/agreements/desk/statements/2025-01"
DISPUTED = "/agreements/desk/statements/2025-02"


# -- log-in, sessions, cookies -----------------------------------------------------------------------

def test_a_page_needs_a_log_in_and_the_session_ends_at_log_out(client: TestClient) -> None:
    first = client.get("/portfolio", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/login?next=")
    assert client.get("/portfolio.json").status_code == 401
    wrong = login(client, "cust", "not the password at all")
    assert wrong.status_code == 401 and "wrong user or password" in wrong.text
    answered = login(client, "cust")
    assert answered.status_code == 303 and answered.headers["location"] == "/portfolio"
    cookie = next(v for k, v in answered.headers.multi_items() if k == "set-cookie" and v.startswith("vested_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie  # loopback over http
    assert client.get("/portfolio.json").json()["viewer"]["user_id"] == "cust"
    assert client.post("/logout", data={"csrf": csrf_of(client)}, follow_redirects=False).status_code == 303
    assert client.get("/portfolio.json").status_code == 401


def test_log_in_sends_back_to_the_page_asked_for_but_never_off_the_site(client: TestClient) -> None:
    page = client.get("/login?next=/audit")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert 'name="next" value="/audit"' in page.text
    answered = client.post("/login", data={"user": "aud", "password": PASSWORD, "csrf": token, "next": "//evil.example/x"},
                           follow_redirects=False)
    assert answered.headers["location"] == "/portfolio"


def test_cookies_are_secure_off_loopback(place: Path) -> None:
    made = create_app(views.workspaces(place / "project", None), b"s" * 32, secure_cookies=True)
    with TestClient(made, base_url="https://vested.example") as secure:
        answered = login(secure, "cust")
    assert answered.status_code == 303
    cookie = next(v for k, v in answered.headers.multi_items() if k == "set-cookie" and v.startswith("vested_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_a_session_expires_when_idle(client: TestClient, clock: Clock) -> None:
    login(client, "cust")
    clock.now += 31 * 60
    assert client.get("/portfolio.json").status_code == 401


# -- CSRF -----------------------------------------------------------------------------------------------

def test_log_in_without_its_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    assert client.post("/login", data={"user": "cust", "password": PASSWORD}).status_code == 403
    assert client.post("/login", data={"user": "cust", "password": PASSWORD, "csrf": "0" * 64}).status_code == 403


def test_an_action_without_the_sessions_csrf_token_is_refused_and_writes_nothing(client: TestClient, place: Path) -> None:
    login(client, "cust")
    before = ledger_size(place)
    for data in ({"line": "1", "comment": "no token"}, {"line": "1", "comment": "a forged token", "csrf": "forged"}):
        answered = client.post(STATEMENT + "/dispute", data=data, headers=JSON)
        assert answered.status_code == 403
        assert answered.json()["diagnostics"][0]["code"] == "csrf"
    assert client.post("/logout", data={}).status_code == 403  # logging out is a change too
    assert ledger_size(place) == before


def test_the_csrf_token_may_come_in_a_header(client: TestClient, place: Path) -> None:
    login(client, "cust")
    answered = client.post(STATEMENT + "/dispute", data={"line": "1", "comment": "by header"},
                           headers={**JSON, "x-csrf-token": csrf_of(client)})
    assert answered.status_code == 200 and answered.json()["status"] == "disputed"


# -- the log-in throttle -----------------------------------------------------------------------------------

def test_the_sixth_failed_log_in_within_a_minute_is_refused_even_with_the_right_password(client: TestClient,
                                                                                          clock: Clock) -> None:
    for _ in range(LOGIN_FAILURES):
        assert login(client, "cust", "guess guess guess").status_code == 401
    refused = login(client, "cust")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert login(client, "supp").status_code == 303, "another user is not locked out"
    clock.now += 61
    assert login(client, "cust").status_code == 303


# -- headers and pages without inline script ----------------------------------------------------------------

@pytest.mark.parametrize("url", ["/login", "/portfolio", STATEMENT, "/agreements/desk/history", "/audit", "/nowhere",
                                 "/static/style.css", "/portfolio.json"])
def test_every_answer_has_the_security_headers(client: TestClient, url: str) -> None:
    login(client, "cust")
    answered = client.get(url)
    csp = answered.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert answered.headers["x-content-type-options"] == "nosniff"
    assert answered.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("user", sorted(USERS))
def test_pages_have_no_inline_script_or_style(client: TestClient, user: str) -> None:
    login(client, user)
    for url in ("/portfolio", STATEMENT, DISPUTED, "/agreements/desk/history", "/audit"):
        text = client.get(url).text
        assert client.get(url).status_code == 200
        assert "<script" not in text and not re.search(r"\s(style|on[a-z]+)=", text), url


# -- JSON twins ------------------------------------------------------------------------------------------

def test_each_json_twin_is_the_services_result_json(client: TestClient, place: Path) -> None:
    login(client, "cust")
    w = ws(place / "project", "cust")
    assert client.get("/portfolio.json").json() == result_json(views.portfolio(w), portfolio_json(views.portfolio(w).value))
    page = views.statement_page(w, "desk", "2025-01")
    assert client.get(STATEMENT + ".json").json() == result_json(page, statement_page_json(page.value))  # type: ignore[arg-type]
    ledger = views.ledger_page(w, 0, 50)
    assert client.get("/audit.json").json() == result_json(ledger, ledger_json(ledger.value))  # type: ignore[arg-type]
    for url in ("/portfolio", STATEMENT, "/agreements/desk/history", "/audit"):
        assert client.get(url, headers=JSON).json() == client.get(url + ".json").json(), url


def test_the_history_twin_is_what_vested_history_json_prints(client: TestClient, place: Path) -> None:
    login(client, "cust")
    printed = CliRunner().invoke(cli, ["history", str(place / "desk.yaml"), "--project", str(place / "project"),
                                       "--json"])
    assert printed.exit_code == 0, printed.output
    assert client.get("/agreements/desk/history.json").json() == json.loads(printed.output)


def test_the_statement_shows_every_recorded_line_and_its_explanation(client: TestClient, place: Path) -> None:
    login(client, "cust")
    data = client.get(STATEMENT + ".json").json()
    con = sqlite3.connect(place / "project" / "vested.db")
    recorded = json.loads(con.execute("SELECT text FROM statements WHERE period = '2025-01'").fetchone()[0])["statement"]
    con.close()
    assert [(x["label"], x["amount"], x["calculation"]) for x in data["lines"]] == \
           [(x["label"], x["amount"], x["calculation"]) for x in recorded["lines"]]
    assert [(x["amount"], x["payer"], x["payee"]) for x in data["lines"]] == [("1000.00", "Customer", "Supplier"),
                                                                            ("100.00", "Supplier", "Customer")]
    assert data["status"] == "proposed" and data["awaiting"] == ["c", "s"]
    html = client.get(STATEMENT).text
    for line in recorded["lines"]:
        assert str(escape(line["calculation"])) in html and str(escape(line["label"])) in html


def test_the_openapi_document_describes_every_json_twin_and_action(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/portfolio.json", "/agreements/{agreement_id}/statements/{period}.json", "/agreements/{agreement_id}/history.json",
                 "/audit.json"):
        assert "application/json" in paths[path]["get"]["responses"]["200"]["content"], path
    for action in ("sign", "dispute", "resolve"):
        assert "post" in paths[f"/agreements/{{agreement_id}}/statements/{{period}}/{action}"]


# -- who may do what ---------------------------------------------------------------------------------------

ALLOWED = {"view": {"customer", "supplier", "auditor"}, "sign": {"customer", "supplier"},
           "dispute": {"customer", "supplier"}, "resolve": {"customer", "supplier"}}


def act(client: TestClient, place: Path, role: str, action: str, token: str) -> Any:
    user = ROLE_USER[role]
    if action == "view":
        return client.get(STATEMENT, headers=JSON)
    if action == "sign":
        key = (place / f"{user}.key").read_bytes()
        return client.post(STATEMENT + "/sign", data={"csrf": token}, files={"key": ("my.key", key)}, headers=JSON)
    if action == "dispute":
        return client.post(STATEMENT + "/dispute", data={"csrf": token, "line": "2", "comment": "not what we agreed"}, headers=JSON)
    [opened] = client.get(DISPUTED + ".json").json()["disputes"]
    return client.post(DISPUTED + "/resolve", data={"csrf": token, "dispute": str(opened["id"]), "comment": "agreed"}, headers=JSON)


@pytest.mark.parametrize("role", sorted(ROLE_USER))
@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_exactly_the_allowed_requests_succeed(client: TestClient, place: Path, role: str, action: str) -> None:
    assert login(client, ROLE_USER[role]).status_code == 303
    token = csrf_of(client)
    before = ledger_size(place)
    answered = act(client, place, role, action, token)
    if role in ALLOWED[action]:
        assert answered.status_code == 200, answered.text
        assert answered.json()["ok"] is True
        assert ledger_size(place) == before + (action != "view")
    else:
        assert answered.status_code == 403, answered.text
        assert "an auditor may only read, verify and export" in answered.json()["diagnostics"][0]["message"]
        assert ledger_size(place) == before


def test_a_forged_form_post_by_an_auditor_is_a_403_page_not_a_500(client: TestClient, place: Path) -> None:
    login(client, "aud")
    page = client.get(STATEMENT).text
    assert "/sign" not in page and "/dispute" not in page and "/resolve" not in page  # no buttons for an auditor
    answered = client.post(STATEMENT + "/sign", data={"csrf": csrf_of(client)},
                           files={"key": ("aud.key", (place / "aud.key").read_bytes())})
    assert answered.status_code == 403 and "an auditor may only read" in answered.text
    assert "<h1>Refused" in answered.text


def test_buttons_are_shown_only_for_what_the_rules_allow(client: TestClient) -> None:
    login(client, "cust")
    page = client.get(STATEMENT).text
    assert 'action="/agreements/desk/statements/2025-01/sign"' in page
    assert 'action="/agreements/desk/statements/2025-01/dispute"' in page
    disputed = client.get(DISPUTED).text  # an open dispute: resolve, and no signing until it is resolved
    assert "/resolve" in disputed and 'action="/agreements/desk/statements/2025-02/sign"' not in disputed


def test_a_form_action_sends_a_browser_back_to_the_statement(client: TestClient) -> None:
    login(client, "supp")
    answered = client.post(STATEMENT + "/dispute", data={"csrf": csrf_of(client), "line": "1", "comment": "why"},
                           follow_redirects=False)
    assert answered.status_code == 303 and answered.headers["location"] == STATEMENT


# -- bad input ----------------------------------------------------------------------------------------------

BAD = [
    ("post", STATEMENT + "/dispute", {"line": "1", "comment": "  "}, 422, "comment"),
    ("post", STATEMENT + "/dispute", {"line": "9", "comment": "x"}, 422, "line"),
    ("post", STATEMENT + "/dispute", {"line": "no such label", "comment": "x"}, 422, "line"),
    ("post", STATEMENT + "/dispute", {"line": "1", "comment": "x" * 5000}, 422, "comment"),
    ("post", DISPUTED + "/resolve", {"dispute": "abc", "comment": "x"}, 422, "dispute"),
    ("post", DISPUTED + "/resolve", {"comment": "x"}, 422, "dispute"),
    ("post", DISPUTED + "/resolve", {"dispute": "99999", "comment": "x"}, 403, "no open dispute 99999"),
    ("post", STATEMENT + "/sign", {}, 422, "key"),
    ("post", STATEMENT + "/sign", {"key": b"not a key"}, 422, "key"),
    ("post", "/agreements/desk/statements/2025-13/dispute", {"line": "1", "comment": "x"}, 422, "period"),
    ("post", "/agreements/desk/statements/2025-09/dispute", {"line": "1", "comment": "x"}, 404, "not settled"),
    ("post", "/agreements/nope/statements/2025-01/dispute", {"line": "1", "comment": "x"}, 404, "no agreement 'nope'"),
    ("get", "/agreements/desk/statements/2025-13.json", {}, 422, "period"),
    ("get", "/agreements/desk/statements/2025-01.json?revision=0", {}, 422, "revision"),
    ("get", "/agreements/desk/statements/2025-01.json?revision=7", {}, 404, "no revision 7"),
    ("get", "/agreements/desk/statements/2025-01.json?revision=x", {}, 422, "revision"),
    ("get", "/agreements/nope/history.json", {}, 404, "nope"),
    ("get", "/audit.json?limit=0", {}, 422, "limit"),
    ("get", "/audit.json?after=-1", {}, 422, "after"),
]


@pytest.mark.parametrize(("method", "url", "data", "status", "names"), BAD, ids=[f"{m} {u} {s}" for m, u, _, s, _ in BAD])
def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(client: TestClient, place: Path, method: str, url: str,
                                                                data: dict[str, Any], status: int, names: str) -> None:
    login(client, "cust")
    before = ledger_size(place)
    if method == "get":
        answered = client.get(url)
    else:
        form = {k: v for k, v in data.items() if k != "key"}
        files = {"key": ("k.pem", data["key"])} if "key" in data else None
        answered = client.post(url, data={**form, "csrf": csrf_of(client)}, files=files, headers=JSON)
    assert answered.status_code == status, answered.text
    body = answered.json()
    assert body["ok"] is False and names in json.dumps(body["diagnostics"])
    assert ledger_size(place) == before


def test_signing_with_the_other_users_key_is_refused(client: TestClient, place: Path) -> None:
    login(client, "supp")
    before = ledger_size(place)
    answered = client.post(STATEMENT + "/sign", data={"csrf": csrf_of(client)}, headers=JSON,
                           files={"key": ("cust.key", (place / "cust.key").read_bytes())})
    assert answered.status_code == 403 and "is not supp's signature" in answered.text
    assert ledger_size(place) == before


# -- passwords, the secret, serve -----------------------------------------------------------------------------

def test_a_password_is_set_only_by_its_user_or_their_own_party_and_kept_hashed(place: Path) -> None:
    project = place / "project"
    refused = accounts.set_password(ws(project, "supp"), "cust", "another long pass phrase")
    assert not refused.ok and "may not set cust's password" in refused.errors[0].message
    assert not accounts.set_password(ws(project, "aud"), "cust", "another long pass phrase").ok
    short = accounts.set_password(ws(project, "cust"), "cust", "short")
    assert not short.ok and "at least 12 characters" in short.errors[0].message
    con = sqlite3.connect(project / "vested.db")
    [stored] = con.execute("SELECT password_hash FROM users WHERE user_id = 'cust'").fetchone()
    con.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.check_password(ws(project), "cust", PASSWORD).ok
    assert not accounts.check_password(ws(project), "cust", PASSWORD + "!").ok
    assert not accounts.check_password(ws(project), "nobody", PASSWORD).ok


def test_setting_a_password_leaves_the_record_verifying(place: Path) -> None:
    from vested.services import record

    assert accounts.set_password(ws(place / "project", "cust"), "cust", "yet another pass phrase").ok
    verified = record.verify(ws(place / "project", "aud"))
    assert verified.ok, verified.diagnostics


def test_vested_user_password_reads_a_file(place: Path) -> None:
    secret = place / "pw.txt"
    secret.write_text("a pass phrase from a file\n", encoding="utf-8")
    done = CliRunner().invoke(cli, ["user", "password", "supp", "--as", "supp", "--password-file", str(secret),
                                    "--project", str(place / "project")])
    assert done.exit_code == 0, done.output
    assert accounts.check_password(ws(place / "project"), "supp", "a pass phrase from a file").ok


def test_the_secret_is_made_once_private_and_refused_when_others_can_read_it(tmp_path: Path) -> None:
    first = load_secret(tmp_path)
    assert len(first) == 32 and (tmp_path / "web-secret").stat().st_mode & 0o777 == 0o600
    assert load_secret(tmp_path) == first
    (tmp_path / "web-secret").chmod(0o644)
    with pytest.raises(SecretFileError, match="chmod 600"):
        load_secret(tmp_path)


def test_serve_says_clearly_when_the_project_has_no_record(tmp_path: Path) -> None:
    done = CliRunner().invoke(cli, ["serve", "--project", str(tmp_path / "empty")])
    assert done.exit_code == 1
    assert "there is no record at" in done.output and "vested demo" in done.output
    assert not (tmp_path / "empty").exists(), "nothing is made on the way"
