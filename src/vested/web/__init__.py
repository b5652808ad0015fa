"""The web face: the shared dashboard of an agreement's record (``vested serve``).

FastAPI under uvicorn, pages rendered on the server with Jinja2 (readable without JavaScript),
each with a JSON twin. A thin face like the CLI: routes call ``vested.services`` (``views``,
``accounts``, ``signoff``, ``record``) and render view-models of ``vested.render``; it imports
nothing else of vested (``tests/test_layering.py``). docs/web.md describes the pages and the
security choices.

* :mod:`.app`: ``create_app(workspace, secret, ...)``, the headers, the one error handler;
* :mod:`.auth`: log-in and log-out; :mod:`.pages`: the pages and the sign-off actions;
* :mod:`.respond`: sessions, CSRF and HTML-or-JSON answers; :mod:`.security`: the machinery;
* :mod:`.errors`: web errors and their statuses.
"""
