"""The board pack as a PDF: its HTML (``vested.render.pack_html``) laid out by WeasyPrint.

    render_pack_pdf(view) -> bytes

The print CSS of the HTML gives the pages: A4, numbered "page N of M" (``@page`` counters), the
table of contents with the page each section starts on (``target-counter``), charts as vector SVG.
No file is read or written: WeasyPrint gets the HTML as a string and returns the PDF's bytes, and
the page fetches nothing (every chart is inline; a URL in the page is refused, not fetched).
"""

from __future__ import annotations

from typing import Any

from vested.render.pack import PackView
from vested.render.pack_html import render_pack_html


def html_to_pdf(page: str) -> bytes:
    """The PDF of an HTML page, laid out for print; nothing outside the page is fetched."""
    import weasyprint  # imported here: it loads Pango, which only the PDF needs

    def refuse(url: str, *args: Any, **kwargs: Any) -> Any:
        raise ValueError(f"a board pack fetches nothing ({url})")

    data: bytes | None = weasyprint.HTML(string=page, url_fetcher=refuse).write_pdf()
    assert data is not None  # no target given: the bytes are returned
    return data


def render_pack_pdf(view: PackView, *, with_charts: bool = True) -> bytes:
    """The pack as PDF bytes."""
    return html_to_pdf(render_pack_html(view, with_charts=with_charts))
