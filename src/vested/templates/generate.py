"""Seeded measurement data for the templates: one small generator per domain, in the style of ``vested.demo_data``.

    generate(domain, seed, start, months, lever_month) -> {dataset id: rows}
    write_csv(folder, rows) -> {dataset id: path}

Each generator tells its template's story month by month: the operation as measured in 2024 until
``lever_month`` (1 = ``start``; None: never), then the template's transforming lever rolled out over
``RAMP_DAYS`` days, moving the figures toward those of the lever's effects in the template's
``scenario.yaml``. Only the transforming lever is in the data; the scenario's other levers are left
to the deal analysis. The help desk reuses ``vested.demo_data``.

The same seed gives the same rows. Each month draws from its own stream
(``numpy.random.default_rng([seed, stream, month])``), so a month's rows do not depend on the
months after it, and the data before the lever is the same with or without it.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from vested.core.periods import add_months, month_bounds
from vested.storage.folder import atomic_write_file

Rows = list[dict[str, Any]]
RAMP_DAYS = 60
"""Days after go-live until the lever's improvements are complete."""


@dataclass(frozen=True)
class Month:
    """One month of the data: its label, days (local dates), index, and how far the lever has come each day."""

    label: str
    index: int
    days: tuple[date, ...]
    effect: np.ndarray
    """Per day: 0 before the lever, rising to 1 over RAMP_DAYS from its go-live."""


def calendar(start: str, months: int, lever_month: int | None) -> list[Month]:
    """The months from ``start``, with the lever's go-live on the first day of ``lever_month`` (1 = start)."""
    go_live = month_bounds(add_months(start, lever_month - 1))[0] if lever_month else None
    found = []
    for index in range(months):
        first, end = month_bounds(add_months(start, index))
        days = tuple(first + timedelta(days=d) for d in range((end - first).days))
        since = np.array([(day - go_live).days if go_live else -1 for day in days], dtype=float)
        effect = np.where(since >= 0, np.clip((since + 1) / RAMP_DAYS, 0.0, 1.0), 0.0)
        found.append(Month(add_months(start, index), index, days, effect))
    return found


def shift(before: float, after: float, effect: np.ndarray | float) -> Any:
    """The value between ``before`` (effect 0) and ``after`` (effect 1)."""
    return before + (after - before) * effect


def local(day: date, hours: float, zone: ZoneInfo) -> datetime:
    """``hours`` after local midnight of ``day`` (past midnight runs on into the next days)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(seconds=round(hours * 3600))


def stamp(moment: datetime) -> str:
    """ISO 8601 with the local UTC offset (2025-03-04T09:15:00+01:00)."""
    return moment.isoformat(timespec="seconds")


def events(rng: np.random.Generator, month: Month, per_month: float, factor_after: float) -> np.ndarray:
    """Day indices (in the month) of Poisson events whose monthly rate moves from ``per_month`` to × ``factor_after``."""
    rate = per_month * 12 / 365.25 * shift(1.0, factor_after, month.effect)
    counts = rng.poisson(rate)
    return np.repeat(np.arange(len(month.days)), counts)


# -- third-party logistics ----------------------------------------------------------------------------

LOGISTICS_ZONE = ZoneInfo("Europe/Amsterdam")


def logistics(seed: int, start: str, months: int, lever_month: int | None) -> dict[str, Rows]:
    """Northwind's parcels: ~8,000 orders a month; 3% arrive incomplete or damaged and are replaced.

    Smart fulfilment (the lever): on time 96.5% → 99%, complete and undamaged 97% → 98.8%,
    freight per parcel 6.5% lower (right-sized cartons).
    """
    parcels: list[tuple[datetime, str, str, bool, bool, bool, float]] = []
    end = local(month_bounds(add_months(start, months - 1))[1], 0, LOGISTICS_ZONE)
    order = 0
    for month in calendar(start, months, lever_month):
        rng = np.random.default_rng([seed, 1, month.index])
        day = events(rng, month, 8000, 1.0)
        e = month.effect[day]
        on_time = rng.random(day.size) < shift(0.965, 0.99, e)
        ok = rng.random(day.size) < shift(0.97, 0.988, e)
        damaged = ~ok & (rng.random(day.size) < 0.4)  # the rest of the failures are incomplete orders
        freight = np.round(np.clip(rng.normal(4.27 * shift(1.0, 0.935, e), 0.7), 1.9, None), 2)
        hour = rng.uniform(8, 20, day.size)
        later = rng.integers(1, 4, day.size)  # a replacement leaves 1-3 days after the complaint
        replacement_freight = np.round(np.clip(rng.normal(4.27, 0.7, day.size), 1.9, None), 2)
        for i in range(day.size):
            order += 1
            order_id = f"N{order:07d}"
            shipped = local(month.days[day[i]], hour[i], LOGISTICS_ZONE)
            complete, damage_free = bool(ok[i] or damaged[i]), not bool(damaged[i])
            parcels.append((shipped, order_id, "order", bool(on_time[i]), complete, damage_free, float(freight[i])))
            if not ok[i]:
                again = shipped + timedelta(days=int(later[i]))
                if again < end:
                    parcels.append((again, order_id, "replacement", True, True, True, float(replacement_freight[i])))
    parcels.sort(key=lambda p: (p[0], p[1], p[2]))
    rows = [{"shipment_id": f"P{n:08d}", "order_id": order_id, "kind": kind, "shipped_at": stamp(at), "on_time": t,
             "complete": c, "damage_free": d, "freight_cost": f"{cost:.2f}"}
            for n, (at, order_id, kind, t, c, d, cost) in enumerate(parcels, start=1)]
    return {"shipments": rows}


# -- facilities management ----------------------------------------------------------------------------

FACILITIES_ZONE = ZoneInfo("Europe/London")
BUILDINGS = 12
SYSTEMS = ("heating", "cooling", "lifts", "lighting", "water")


def facilities(seed: int, start: str, months: int, lever_month: int | None) -> dict[str, Rows]:
    """Meridian's 12 buildings: ~900 reactive work orders, ~90 system outages (438 system-hours) and
    1.5 GWh a month. Predictive maintenance (the lever): 35% fewer faults, half the call-outs, 40%
    fewer outages and shorter ones (60% fewer hours down), 8% less energy."""
    work_orders: list[tuple[datetime, str, datetime | None, str, bool, bool]] = []
    outages: list[tuple[datetime, str, str, datetime, bool]] = []
    readings: Rows = []
    end = local(month_bounds(add_months(start, months - 1))[1], 0, FACILITIES_ZONE)
    for month in calendar(start, months, lever_month):
        rng = np.random.default_rng([seed, 2, month.index])
        for kind, per_month, after in (("reactive", 900, 0.65), ("planned", 300, 1.0)):
            day = events(rng, month, per_month, after)
            e = month.effect[day]
            out_of_hours = (kind == "reactive") & (rng.random(day.size) < shift(40 / 900, 20 / 585, e))
            hour = np.where(out_of_hours, rng.uniform(19, 31, day.size), rng.uniform(7, 19, day.size))
            first_visit = rng.random(day.size) < shift(0.78, 0.86, e)
            took = rng.lognormal(np.log(4.0), 0.7, day.size) * np.where(first_visit, 1.0, 3.0)
            building = rng.integers(1, BUILDINGS + 1, day.size)
            for i in range(day.size):
                raised = local(month.days[day[i]], hour[i], FACILITIES_ZONE)
                done = raised + timedelta(seconds=round(took[i] * 3600))
                work_orders.append((raised, f"B{building[i]:02d}", done if done < end else None, kind, bool(out_of_hours[i]),
                                    bool(first_visit[i])))
        for planned, per_month, after in ((False, 90, 0.6), (True, 15, 1.0)):
            day = events(rng, month, per_month, after)
            e = month.effect[day]
            hours = rng.lognormal(np.log(3.53 * shift(1.0, 0.667, e)), 0.8) if not planned else np.full(day.size, 2.0)
            began = rng.uniform(0, 24, day.size)
            building, system = rng.integers(1, BUILDINGS + 1, day.size), rng.integers(0, len(SYSTEMS), day.size)
            for i in range(day.size):
                at = local(month.days[day[i]], began[i], FACILITIES_ZONE)
                outages.append((at, f"B{building[i]:02d}", SYSTEMS[system[i]], at + timedelta(seconds=round(hours[i] * 3600)),
                                planned))
        weekday = np.array([d.weekday() < 5 for d in month.days])
        use = 1_500_000 * 12 / 365.25 / BUILDINGS * np.where(weekday, 1.15, 0.625) * shift(1.0, 0.92, month.effect)
        kwh = np.round(use[None, :] * rng.normal(1.0, 0.05, (BUILDINGS, len(month.days))), 1)
        for b in range(BUILDINGS):
            for d, day_date in enumerate(month.days):
                readings.append({"building": f"B{b + 1:02d}", "read_on": day_date.isoformat(), "kwh": f"{kwh[b, d]:.1f}",
                                 "cost": f"{kwh[b, d] * 0.22:.2f}"})
    work_orders.sort(key=lambda w: w[0])
    outages.sort(key=lambda o: o[0])
    return {
        "work_orders": [{"work_order_id": f"W{n:06d}", "building": b, "raised_at": stamp(at), "completed_at": stamp(done) if done else None,
                         "kind": kind, "out_of_hours": ooh, "fixed_first_visit": first}
                        for n, (at, b, done, kind, ooh, first) in enumerate(work_orders, start=1)],
        "system_outages": [{"outage_id": f"X{n:06d}", "building": b, "system": s, "started_at": stamp(at),
                            "ended_at": stamp(until) if until < end else None, "planned": planned}
                           for n, (at, b, s, until, planned) in enumerate(outages, start=1)],
        "meter_readings": readings,
    }


# -- equipment maintenance ----------------------------------------------------------------------------

EQUIPMENT_ZONE = ZoneInfo("America/Chicago")
MACHINES = 60
SHIFT_START, SHIFT_HOURS = 6.0, 16.0
"""Two shifts, 06:00-22:00, Monday to Friday."""


def equipment(seed: int, start: str, months: int, lever_month: int | None) -> dict[str, Rows]:
    """Cascade's 60 machines, scheduled 16 hours each weekday: ~120 breakdowns a month, each stopping its
    machine about 12 scheduled hours (availability about 93%) and taking 6 technician hours. Condition
    monitoring (the lever): 45% fewer breakdowns."""
    machine_days: Rows = []
    repairs: list[tuple[datetime, str, str, datetime, float]] = []
    carry = np.zeros(MACHINES)  # scheduled hours of a breakdown still to run on the machine's next production days
    for month in calendar(start, months, lever_month):
        rng = np.random.default_rng([seed, 3, month.index])
        rate = 120 / (MACHINES * 21.74) * shift(1.0, 0.55, month.effect)
        for d, day in enumerate(month.days):
            if day.weekday() >= 5:
                continue
            broke = rng.poisson(rate[d], MACHINES)
            for m in range(MACHINES):
                down = min(carry[m], SHIFT_HOURS)
                carry[m] -= down
                for _ in range(broke[m]):
                    at = rng.uniform(0, SHIFT_HOURS)
                    lasts = float(rng.lognormal(np.log(8.7), 0.8))  # mean about 12 scheduled hours
                    here = min(lasts, SHIFT_HOURS - max(at, down))
                    down += max(here, 0.0)
                    carry[m] += lasts - max(here, 0.0)
                    started = local(day, SHIFT_START + at, EQUIPMENT_ZONE)
                    repairs.append((started, f"M{m + 1:02d}", "breakdown", started + timedelta(hours=lasts),
                                    round(float(rng.lognormal(np.log(5.0), 0.6)), 1)))
                machine_days.append({"machine": f"M{m + 1:02d}", "day": day.isoformat(), "scheduled_hours": f"{SHIFT_HOURS:.1f}",
                                     "run_hours": f"{SHIFT_HOURS - min(down, SHIFT_HOURS):.2f}", "breakdowns": int(broke[m])})
        for _ in range(int(rng.poisson(40))):  # planned jobs, in the planned stops at night
            day = month.days[int(rng.integers(0, len(month.days)))]
            started = local(day, 22.5, EQUIPMENT_ZONE)
            repairs.append((started, f"M{int(rng.integers(1, MACHINES + 1)):02d}", "planned", started + timedelta(hours=3), 3.0))
    end = local(month_bounds(add_months(start, months - 1))[1], 0, EQUIPMENT_ZONE)
    repairs.sort(key=lambda r: (r[0], r[1]))
    return {
        "machine_days": machine_days,
        "repairs": [{"repair_id": f"J{n:06d}", "machine": machine, "kind": kind, "started_at": stamp(at),
                     "restored_at": stamp(until) if until < end else None, "labour_hours": f"{hours:.1f}"}
                    for n, (at, machine, kind, until, hours) in enumerate(repairs, start=1)],
    }


# -- writing ------------------------------------------------------------------------------------------

Generator = Callable[[int, str, int, "int | None"], dict[str, Rows]]


def write_csv(folder: str | Path, datasets: dict[str, Rows]) -> dict[str, Path]:
    """Write each dataset to ``folder/<dataset>.csv`` (booleans as true/false, missing values empty), atomically."""
    target = Path(folder)
    paths = {}
    for name, rows in datasets.items():
        path = target / f"{name}.csv"
        columns = list(rows[0]) if rows else []

        def write(tmp: Path, rows: Rows = rows, columns: list[str] = columns) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(columns)
                writer.writerows([_text(row[column]) for column in columns] for row in rows)

        atomic_write_file(path, write)
        paths[name] = path
    return paths


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
