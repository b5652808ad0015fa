"""Write the risk simulation's and the deal search's charts (SVG and PNG) into a folder.

    write_simulate_charts(simulation, folder) -> paths
    write_tune_charts(result, folder) -> paths

Every chart is rendered first (``vested.render.risk_charts``, which loads altair and vl-convert only
here), then each file is written atomically: a chart that fails to render leaves no file
half-written, and a reader sees an old file or the new one.
"""

from __future__ import annotations

from pathlib import Path

from vested.simulate.run import Simulation
from vested.simulate.tune import TuneResult
from vested.storage.folder import atomic_write_bytes


def write_files(files: dict[str, bytes], folder: str | Path) -> list[Path]:
    written = []
    for name, data in files.items():
        path = Path(folder) / name
        atomic_write_bytes(path, data)
        written.append(path)
    return written


def write_simulate_charts(simulation: Simulation, folder: str | Path) -> list[Path]:
    from vested.render.risk_charts import simulate_chart_files

    return write_files(simulate_chart_files(simulation), folder)


def write_tune_charts(result: TuneResult, folder: str | Path) -> list[Path]:
    from vested.render.risk_charts import tune_chart_files

    return write_files(tune_chart_files(result), folder)
