"""Start a project from a template: ``vested init DIR --template NAME``, for the faces (CLI, Python).

    list_templates() -> tuple[TemplateInfo, ...]
    init(ws, folder, template, force=False, seed=1, months=12) -> Result[Initialised]

``init_project`` reads like its table of contents: find the template -> refuse a folder that is
not empty (unless ``force``) -> copy its agreements and scenario from the package -> generate its
data (seeded) into ``data/`` -> write a README.md saying the next commands. Nothing is written when
it refuses; the result holds the files written, or the diagnostics saying why there are none.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from vested.core.diagnostics import Diagnostic, error
from vested.core.facts import did_you_mean
from vested.core.periods import add_months
from vested.services.result import Result
from vested.services.workspace import Workspace
from vested.storage.folder import atomic_write_bytes
from vested.templates.catalog import FILES, TEMPLATES, TEMPLATES_BY_NAME, Template
from vested.templates.generate import write_csv

DOCUMENT = "command"


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    title: str
    story: str


@dataclass(frozen=True)
class Initialised:
    folder: str
    template: str
    files: tuple[str, ...]
    """The files written, relative to the folder, in the order they were written."""


def list_templates() -> tuple[TemplateInfo, ...]:
    """The templates, each with its title and its story in one line."""
    return tuple(TemplateInfo(t.name, t.title, t.story) for t in TEMPLATES)


def init(ws: Workspace, folder: str | Path, template: str, force: bool = False, *, seed: int = 1,
         months: int = 12) -> Result[Initialised]:
    """Write ``template`` into ``folder``: the agreements, the scenario, a README.md and ``data/`` (``months``
    months of generated measurements, from ``seed``). A folder that is not empty is refused unless ``force``
    (then the template's files are overwritten; other files are left as they are)."""
    target = Path(folder)
    chosen = TEMPLATES_BY_NAME.get(template)
    if chosen is None:
        return Result(None, (error(
            "unknown-template", f"there is no template {template!r}",
            f"{did_you_mean(template, list(TEMPLATES_BY_NAME))} (`vested init --list` shows them all)", ("template",), DOCUMENT),))
    problem = _check_folder(target, force, months)
    if problem is not None:
        return Result(None, (problem,))
    written = []
    for name in FILES:
        text = resources.files("vested").joinpath("examples", *chosen.folder, name).read_bytes()
        atomic_write_bytes(target / name, text)
        written.append(name)
    data = write_csv(target / "data", chosen.generate(seed, months))
    written.extend(f"data/{path.name}" for path in data.values())
    atomic_write_bytes(target / "README.md", readme(chosen, sorted(data), seed, months).encode("utf-8"))
    written.append("README.md")
    return Result(Initialised(str(target), template, tuple(written)))


def _check_folder(target: Path, force: bool, months: int) -> Diagnostic | None:
    if months < 1:
        return error("months", f"{months} months of data: at least one is needed", "give a positive number of months", (), DOCUMENT)
    if target.exists() and not target.is_dir():
        return error("not-a-folder", f"{str(target)!r} exists and is not a folder", "give a new or empty folder", (), DOCUMENT)
    if target.is_dir() and any(target.iterdir()) and not force:
        return error("folder-not-empty", f"the folder {str(target)!r} is not empty",
                     "give a new or empty folder, or --force to write the template's files into it (other files are kept)",
                     (), DOCUMENT)
    return None


def readme(template: Template, datasets: list[str], seed: int, months: int) -> str:
    """The folder's README.md: the story, the files, and the next commands."""
    first, last = template.data_start, add_months(template.data_start, months - 1)
    lever_month = add_months(first, template.lever_month - 1) if template.lever_month <= months else None
    ingest = "\n".join(f"vested ingest vested.yaml {name} data/{name}.csv" for name in datasets)
    lever_note = (f"with the lever `{template.lever}` going live in {lever_month}, as the supplier would run it under "
                  "the Vested agreement" if lever_month else "before the lever goes live")
    return f"""# {template.title}

{template.story}

Made by `vested init --template {template.name}`. The files:

- `task-based.yaml`: the contract as it is bought today, paid per activity. `vested check` warns
  about it (the Activity Trap), as intended.
- `vested.yaml`: the same service as a Vested agreement, paid for outcomes. It checks clean.
- `scenario.yaml`: the business month by month over the term, with the supplier's levers, to test both
  agreements before signing.
- `data/`: {months} months of measurements ({first} to {last}), generated with seed {seed}, {lever_note}.
  Edit them, or replace them with your own exports in the same columns.

## Test the deal before signing

```sh
vested check vested.yaml
vested check task-based.yaml
vested compare task-based.yaml vested.yaml --scenario scenario.yaml
vested align task-based.yaml scenario.yaml
vested align vested.yaml scenario.yaml
vested economics vested.yaml scenario.yaml
vested simulate vested.yaml scenario.yaml --runs 20000 --seed 1
```

Under the task-based contract the supplier's most profitable choice leaves `{template.lever}` out,
although it is best for both together; under the Vested agreement the supplier chooses it, and
both parties end up better off than today.

## Run the deal after signing

From this folder (batches and statements go to `.vested/`):

```sh
{ingest}
vested measure vested.yaml --from {first} --to {last}
vested scorecard vested.yaml --period {last}
vested settle vested.yaml --from {first} --to {last}
```

The formats are explained in the vested documentation: the agreement (docs/format.md), the
scenario (docs/scenario.md) and running it on data (docs/running.md).
"""
