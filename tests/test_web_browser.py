"""The web app in a real browser (Playwright driving Debian's Chromium) against uvicorn on 127.0.0.1.

The story: the supplier proposes a month (settled through the service in the fixture); the customer
disputes a line; both parties sign the resolution; then both sign the month, uploading their key
files, and it is final. An auditor sees no button and a forged POST is refused. Screenshots of the
portfolio and a statement at 1366×768 and 390×844 go to a temporary folder (or $VESTED_SCREENSHOTS).

Without Chromium these tests are skipped, except under CI=true, where they must run.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_web import PASSWORD, build_project
from vested.services import views

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
STATEMENT = "/agreements/desk/statements/2025-01"

if not CHROMIUM.exists() or not __import__("importlib").util.find_spec("playwright"):
    if os.environ.get("CI") == "true":
        raise RuntimeError("the browser tests must run under CI=true: install chromium (apt-get install chromium) and playwright")
    pytest.skip(f"the browser tests need Chromium at {CHROMIUM} and playwright (apt-get install chromium)",
                allow_module_level=True)

import uvicorn  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from vested.web.app import create_app  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """January proposed by the supplier; uvicorn serving the project on a free port of 127.0.0.1."""
    folder = build_project(tmp_path, periods=("2025-01",), dispute=None)
    app = create_app(views.workspaces(folder / "project", None), b"b" * 32, secure_cookies=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", folder
    server.should_exit = True
    thread.join(timeout=10)


def logged_in(browser: Browser, base: str, user: str, **context: Any) -> Page:
    page = browser.new_context(**context).new_page()
    page.goto(base + STATEMENT)  # not logged in: the log-in page, then back here
    page.fill("#user", user)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{STATEMENT}")
    return page


def test_a_disputed_line_is_resolved_by_both_then_the_month_signed_by_both(browser: Browser, site: tuple[str, Path]) -> None:
    base, folder = site
    customer = logged_in(browser, base, "cust")
    expect(customer.locator(".summary .badge")).to_have_text("proposed")
    customer.select_option("#line", "2")
    customer.fill("#comment", "January had a planned outage; the credit should not apply")
    customer.click("form[action$='/dispute'] button")
    expect(customer.locator(".summary .badge")).to_have_text("disputed")
    expect(customer.locator("ul.disputes li.open")).to_contain_text("line 2 (")
    expect(customer.locator("form[action$='/sign']")).to_have_count(0)  # nothing is signed while a dispute is open
    customer.fill("input[name=comment]", "agreed: the outage was announced")
    customer.click("form[action$='/resolve'] button")
    expect(customer.locator("ul.disputes li.open")).to_contain_text("Resolution signed by c")
    expect(customer.locator("form[action$='/resolve']")).to_have_count(0)  # the customer has signed it

    supplier = logged_in(browser, base, "supp")
    supplier.fill("input[name=comment]", "agreed")
    supplier.click("form[action$='/resolve'] button")
    expect(supplier.locator("ul.disputes li.closed")).to_contain_text("Resolution signed by c, s")
    expect(supplier.locator(".summary .badge")).to_have_text("proposed")

    supplier.set_input_files("#key", str(folder / "supp.key"))
    supplier.click("form[action$='/sign'] button")
    expect(supplier.locator(".summary .badge")).to_have_text("partly-signed")
    customer.reload()
    customer.set_input_files("#key", str(folder / "cust.key"))
    customer.click("form[action$='/sign'] button")
    expect(customer.locator(".summary .badge")).to_have_text("final")
    expect(customer.locator("ul.signatures")).to_contain_text("supp (s) signed revision 1")
    expect(customer.locator("ul.signatures")).to_contain_text("cust (c) signed revision 1")


def test_an_auditor_sees_no_button_and_a_forged_post_is_refused(browser: Browser, site: tuple[str, Path]) -> None:
    base, folder = site
    auditor = logged_in(browser, base, "aud")
    expect(auditor.locator("h1")).to_contain_text("2025-01")
    for action in ("sign", "dispute", "resolve"):
        expect(auditor.locator(f"form[action$='/{action}']")).to_have_count(0)
    token = auditor.locator("form.logout input[name=csrf]").get_attribute("value")
    forged = auditor.request.post(base + STATEMENT + "/sign", headers={"accept": "application/json"},
                                  multipart={"csrf": token or "", "key": {"name": "aud.key", "mimeType": "application/x-pem-file",
                                                                          "buffer": (folder / "aud.key").read_bytes()}})
    assert forged.status == 403
    assert "an auditor may only read, verify and export" in forged.json()["diagnostics"][0]["message"]
    auditor.goto(base + "/audit")
    expect(auditor.locator(".verify h2")).to_have_text("The record verifies")


@pytest.mark.parametrize(("size", "width", "height"), [("desktop", 1366, 768), ("phone", 390, 844)])
def test_screenshots_of_the_portfolio_and_a_statement(browser: Browser, site: tuple[str, Path], tmp_path: Path,
                                                      size: str, width: int, height: int) -> None:
    base, _ = site
    out = Path(os.environ.get("VESTED_SCREENSHOTS") or tmp_path / "screenshots")
    out.mkdir(parents=True, exist_ok=True)
    page = logged_in(browser, base, "cust", viewport={"width": width, "height": height})
    for name, url in (("portfolio", "/portfolio"), ("statement", STATEMENT)):
        page.goto(base + url)
        shot = out / f"{name}-{size}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # nothing is wider than the screen: no sideways scrolling of the page itself
        assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} is wider than {width}px"
