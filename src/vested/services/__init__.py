"""The application layer: the only thing the faces (CLI, web, Python) call.

Every service takes a :class:`~vested.services.workspace.Workspace` (the store, the metric engine, a
clock and the acting user, all injected) and returns a :class:`~vested.services.result.Result`: a
value, or the located diagnostics saying why there is none; :func:`~vested.services.result.result_json`
is its one JSON form. One module per job, imported by the face that needs it (so ``vested check``
does not load the simulation's numpy or the measurement's DuckDB):

* :mod:`.agreements`: ``check``, ``price`` (write an agreement);
* :mod:`.running`: ``ingest``, ``measure``, ``scorecard``, ``settle`` (run it on data;
  :mod:`.settling` is settlement's orchestration over the store);
* :mod:`.deal`: ``economics``, ``compare``, ``align`` (test the deal before signing);
* :mod:`.risk`: ``simulate``, ``tune`` (uncertainty and the search for terms);
* :mod:`.charts`: the simulation's and the search's charts, written to a folder;
* :mod:`.demo`: the help-desk story end to end.

Layering (checked by ``tests/test_layering.py``): faces -> services -> storage, adapters and engines
(ingest, measure, simulate) -> core; the renderers take view-models and import neither the services
nor the storage.
"""

from vested.services.result import Refused, Result, result_json
from vested.services.workspace import Workspace, open_workspace

__all__ = ["Refused", "Result", "Workspace", "open_workspace", "result_json"]
