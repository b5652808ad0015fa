"""A progress bar for long work (simulate, tune, settle), on the terminal only.

    with progress_bar(as_json) as tell:   # tell(what, done, total), or None
        result = service(..., progress=tell)

The services report their steps to an optional ``progress(what, done, total)`` callback; this face
draws them as a rich progress bar that disappears when the work is done. Nothing is drawn when the
output is not a terminal (a pipe, a file, a test) or when the command prints JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from vested.cli import console

Tell = Callable[[str, int, int], None]


@contextmanager
def progress_bar(as_json: bool, start: str = "starting") -> Iterator[Tell | None]:
    if as_json or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(start, total=None)

        def tell(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total or None)

        yield tell
