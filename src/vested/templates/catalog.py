"""The templates ``vested init`` can write, in the order ``vested init --list`` shows them.

Each names its files in the package (``vested/examples/<folder>``), its story in one line, the
lever that tells it (misaligned under the task-based contract, aligned under the Vested one), and
the generator of its data: the months from ``data_start``, with the lever rolled out in
``lever_month`` (1 = the first month), as they would run under the Vested agreement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vested import demo_data
from vested.templates import generate
from vested.templates.generate import Generator, Rows

FILES = ("task-based.yaml", "vested.yaml", "scenario.yaml")
"""The files every template has: the contract as bought today, the Vested agreement, the scenario."""


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    story: str
    """The story in one line (``vested init --list``)."""
    folder: tuple[str, ...]
    """Where the files are, inside ``vested/examples``."""
    lever: str
    """The scenario's transforming lever: left out under the task-based contract, pulled under the Vested one."""
    lever_month: int
    """The month of the data (1 = ``data_start``) the lever goes live in: the month it starts in the scenario."""
    generator: Generator
    data_start: str = "2025-01"

    def generate(self, seed: int, months: int) -> dict[str, Rows]:
        return self.generator(seed, self.data_start, months, self.lever_month if self.lever_month <= months else None)


def _helpdesk(seed: int, start: str, months: int, lever_month: int | None) -> dict[str, Rows]:
    """The help-desk story of ``vested demo`` (``vested.demo_data``), from the agreement's first month."""
    data: dict[str, Any] = demo_data.generate_helpdesk(seed, start, months, invest_month=lever_month)
    return data


TEMPLATES = (
    Template("helpdesk", "Store IT help desk",
             "Retail stores' IT support: pay for supported, working stores and share the value of less downtime, "
             "not per call and per visit; remote support (Acme invests) removes most engineer visits.",
             ("helpdesk",), "remote_support", 3, _helpdesk),
    Template("logistics", "Third-party logistics (3PL) for an online shop",
             "Online-order fulfilment: pay per order sold with a perfect-order bonus, shared freight savings and "
             "on-time credits, not per parcel and per replacement; smart fulfilment cuts failed orders and freight.",
             ("templates", "logistics"), "smart_fulfilment", 4, generate.logistics),
    Template("facilities", "Facilities management of office buildings",
             "Twelve office buildings: pay for working buildings with an uptime bonus, credits and shared energy "
             "savings, not per work order and call-out; predictive maintenance cuts faults, outages and energy.",
             ("templates", "facilities"), "predictive_maintenance", 4, generate.facilities),
    Template("equipment", "Maintenance of production machines",
             "A packing plant's 60 machines: pay for available machines with an availability bonus and a fee at risk "
             "on the mean time between failures, not per breakdown and hour; condition monitoring halves breakdowns.",
             ("templates", "equipment"), "condition_monitoring", 4, generate.equipment),
)

TEMPLATES_BY_NAME = {template.name: template for template in TEMPLATES}
