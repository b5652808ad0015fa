"""Seeded measurement data for the help-desk example: the seed's story, month by month.

    generate_helpdesk(seed, start="2024-07", months=24, stores=400) -> {dataset id: rows}
    write_helpdesk_csv(folder, seed, ...) -> {dataset id: path}

Acme Retail's 400 stores call DeskCo's help desk about 6,000 times a month; about 15% of the
problems need an engineer on site. In month 12 (``invest_month``) Acme's remote-support
investment is rolled out, store by store over that month. From a store's go-live on, most
problems that needed a visit are fixed remotely, proactive monitoring catches problems before
the store calls (fewer tickets, fewer and shorter outages), and the desk gets better at fixing
things at the first contact. Part of each improvement comes at once (``jump``); the rest grows
over the following four months (``RAMP_DAYS``) as people learn the new tools.

The datasets follow the help-desk agreements (``examples/helpdesk``):

* ``tickets``: one row per store IT problem (ticket_id, store, opened_at, resolved_at, channel,
  first_contact, satisfaction). Timestamps carry the store's local UTC offset (Central time).
* ``outages``: store trading time with tills down (outage_id, store, started_at, ended_at,
  planned), from the monitoring platform, in UTC (``Z``). Stores trade 08:00-22:00 every day; an
  outage still open at closing continues in a new row the next morning. Planned maintenance
  windows are marked ``planned``.
* ``relief``: events that excuse outages (relief_id, store, starts_at, ends_at, reason, note):
  storms (force majeure) and a point-of-sale release of Acme's that stopped tills (customer-caused).
* ``reported``: the values Acme reports each month (the store-manager survey score and the sales
  lost to store IT incidents), in the columns of the built-in ``reported`` dataset.

The same seed gives the same rows. Each month draws from its own stream
(``numpy.random.default_rng([seed, stream, month])``), so a month's rows do not depend on the
months after it: with ``invest_month=None`` (no investment, the task-based counterfactual) the
months before the investment are exactly those of the default run, and a 12-month run is the
first half of a 24-month one (but for what is still open at its end).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from vested.core.periods import add_months, month_bounds
from vested.storage.folder import atomic_write_file

Rows = list[dict[str, Any]]

COLUMNS = {
    "tickets": ("ticket_id", "store", "opened_at", "resolved_at", "channel", "first_contact", "satisfaction"),
    "outages": ("outage_id", "store", "started_at", "ended_at", "planned"),
    "relief": ("relief_id", "store", "starts_at", "ends_at", "reason", "note"),
    "reported": ("metric", "period", "value", "reported_by", "note"),
}
"""The columns of each dataset, in order (the CSV headers)."""

OPEN_HOUR, CLOSE_HOUR = 8, 22
"""Stores trade from 08:00 to 22:00 local time, every day (14 hours: the agreement's hours_per_day)."""
RAMP_DAYS = 120
"""Days after a store's go-live until the improvements are complete."""
HOUR = 3600


@dataclass(frozen=True)
class Shift:
    """A quantity before the investment, after it (fully bedded in), and how much changes at once."""

    before: float
    after: float
    jump: float = 0.5

    def at(self, effect: np.ndarray) -> np.ndarray:
        """The value at each ``effect`` (0 = before, 1 = fully after)."""
        return self.before + (self.after - self.before) * effect


@dataclass(frozen=True)
class Story:
    """The numbers of the story; the defaults give the help-desk example."""

    tickets: Shift = Shift(6000 / 400 * 12 / 365.25, 6000 / 400 * 12 / 365.25 * 0.74, jump=0.3)
    """Tickets per store per day (about 6,000 a month for 400 stores before; monitoring prevents a quarter)."""
    onsite: Shift = Shift(0.15, 0.035, jump=0.7)
    """Share of tickets that need an engineer on site."""
    remote: Shift = Shift(0.20, 0.46, jump=0.7)
    """Share of tickets fixed by remote support (the rest by phone)."""
    phone_first_contact: Shift = Shift(0.78, 0.87, jump=0.3)
    remote_first_contact: Shift = Shift(0.58, 0.81, jump=0.3)
    phone_hours: Shift = Shift(0.4, 0.35)
    """Median hours to resolve, by channel (lognormal)."""
    remote_hours: Shift = Shift(1.6, 1.0)
    onsite_hours: Shift = Shift(20.0, 12.0)
    ticket_satisfaction: Shift = Shift(3.4, 4.2, jump=0.3)
    """Mean answer (1-5) of the survey after a ticket; about 30% answer."""
    outages: Shift = Shift(540 * 12 / 365.25 / 400, 300 * 12 / 365.25 / 400, jump=0.3)
    """Unplanned outages per store per day."""
    outage_hours: Shift = Shift(5.0, 1.8, jump=0.6)
    """Median trading hours an outage lasts (lognormal)."""
    survey: Shift = Shift(3.1, 4.25, jump=0.15)
    """The monthly store-manager survey score (1-5) Acme reports."""
    lost_sales_per_hour: float = 62.0
    """Sales lost per store trading hour with tills down (USD), before seasonality: about 240,000 a month
    before the investment, the gainshare baseline of ``examples/helpdesk/vested.yaml``."""
    planned_per_month: float = 40
    """Planned maintenance windows per month across the chain."""


@dataclass(frozen=True)
class Relief:
    """A scripted relief event: month index (0-based), reason, note, stores hit, local start, hours."""

    month: int
    reason: str
    note: str
    stores: int
    day: int
    hour: float
    hours: float
    outage_hours: tuple[float, float]


RELIEF_EVENTS = (
    Relief(9, "force majeure", "Severe thunderstorms cut power to stores around Chicago", 30, 12, 14.0, 30.0, (5.0, 12.0)),
    Relief(15, "customer-caused", "Acme's point-of-sale release 7.3 stopped the tills until rolled back", 60, 8, 9.0, 5.0, (2.0, 3.5)),
    Relief(19, "force majeure", "Ice storm: power cuts across stores in Iowa and Wisconsin", 25, 15, 8.0, 48.0, (6.0, 14.0)),
)


STORES, TICKETS, OUTAGES, RELIEF, REPORTED, GO_LIVE = range(6)
"""The random streams, each keyed by (seed, stream, month or event)."""


def generate_helpdesk(seed: int, start: str = "2024-07", months: int = 24, stores: int = 400, *,
                      invest_month: int | None = 12, time_zone: str = "America/Chicago", customer: str = "acme",
                      story: Story | None = None) -> dict[str, Rows]:
    """The four datasets of the help-desk story, as rows (timestamps as ISO 8601 text with an offset).

    ``invest_month`` is the month (1 = ``start``) the remote support is rolled out in, store by
    store; None: never (the help desk as it was).
    """
    calendar = _Calendar(start, months, ZoneInfo(time_zone))
    told = story or Story()
    rollout = np.random.default_rng([seed, GO_LIVE]).random(stores)
    if invest_month is not None and 1 <= invest_month <= months:
        go_live = calendar.month_start[invest_month - 1] + np.floor(rollout * calendar.month_days(invest_month - 1)).astype(int)
    else:
        go_live = np.full(stores, calendar.days)
    effect, live = _effect(go_live, calendar.days)
    days = _Days(calendar, effect, live, told, seed)
    outages, relief, downtime = _outages(days)
    return {"tickets": _tickets(days), "outages": outages, "relief": relief,
            "reported": _reported(days, downtime, customer)}


def write_helpdesk_csv(folder: str | Path, seed: int, start: str = "2024-07", months: int = 24, stores: int = 400,
                       **options: Any) -> dict[str, Path]:
    """Write each dataset to ``folder/<dataset>.csv`` (booleans as true/false, missing values empty).

    Each file is written atomically (a killed run leaves the old file or the new one, never a part
    that a later ``vested demo`` would ingest as if it were whole).
    """
    target = Path(folder)
    paths = {}
    for name, rows in generate_helpdesk(seed, start, months, stores, **options).items():
        path = target / f"{name}.csv"

        def write(tmp: Path, name: str = name, rows: Rows = rows) -> None:
            with tmp.open("w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(COLUMNS[name])
                writer.writerows([_csv(row[column]) for column in COLUMNS[name]] for row in rows)

        atomic_write_file(path, write)
        paths[name] = path
    return paths


def _csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- the calendar: days, months and local offsets ------------------------------------------------------


class _Calendar:
    """Day indices from the first day of ``start`` (local), their months, and local <-> UTC."""

    def __init__(self, start: str, months: int, zone: ZoneInfo) -> None:
        labels = [add_months(start, i) for i in range(months)]
        first = month_bounds(labels[0])[0]
        self.labels = labels
        self.month_start = [(month_bounds(label)[0] - first).days for label in labels]
        self.days = (month_bounds(labels[-1])[1] - first).days
        self.month_of_day = np.searchsorted(np.array(self.month_start), np.arange(self.days), side="right") - 1
        self.first = np.datetime64(first.isoformat(), "s")
        noon = [datetime(first.year, first.month, first.day, 12, tzinfo=zone) + timedelta(days=d) for d in range(self.days + 2)]
        self.day_offset = np.array([int(n.utcoffset().total_seconds()) for n in noon])  # type: ignore[union-attr]
        # Offsets by UTC hour, for instants that may fall on any hour (resolutions after a DST change).
        utc0 = datetime(first.year, first.month, first.day, tzinfo=UTC) - timedelta(days=1)
        self.utc0 = np.datetime64(utc0.replace(tzinfo=None).isoformat(), "s")
        hours = (self.days + 60) * 24
        self.hour_offset = np.array([int((utc0 + timedelta(hours=h)).astimezone(zone).utcoffset().total_seconds())  # type: ignore[union-attr]
                                     for h in range(hours)])

    def month_days(self, index: int) -> int:
        end = self.month_start[index + 1] if index + 1 < len(self.month_start) else self.days
        return end - self.month_start[index]

    def utc(self, day: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """UTC instants (datetime64[s]) of local wall times: ``seconds`` after midnight of ``day``.

        Trading-hour times are never in a daylight-saving gap (the clocks change at 02:00),
        so the day's noon offset is the offset of every time given here.
        """
        local = self.first + (day.astype("int64") * 86400 + np.round(seconds).astype("int64")).astype("timedelta64[s]")
        instants: np.ndarray = local - self.day_offset[day].astype("timedelta64[s]")
        return instants

    def local_text(self, instants: np.ndarray) -> np.ndarray:
        """ISO 8601 local times with their offset (2025-03-09T14:05:00-05:00)."""
        hour = np.clip(((instants - self.utc0).astype("int64") // HOUR), 0, len(self.hour_offset) - 1)
        offset = self.hour_offset[hour]
        local = np.datetime_as_string(instants + offset.astype("timedelta64[s]"), unit="s")
        values, which = np.unique(offset, return_inverse=True)
        suffix = np.array([_offset_text(int(v)) for v in values])[which]
        return np.char.add(local, suffix)

    def end(self) -> np.datetime64:
        """The UTC instant the last month ends (local midnight)."""
        end: np.datetime64 = self.utc(np.array([self.days]), np.array([0]))[0]
        return end


def _offset_text(seconds: int) -> str:
    sign, minutes = ("-" if seconds < 0 else "+"), abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _utc_text(instants: np.ndarray) -> np.ndarray:
    return np.char.add(np.datetime_as_string(instants, unit="s"), "Z")


def _effect(go_live: np.ndarray, days: int) -> tuple[np.ndarray, np.ndarray]:
    """For each store (rows) and day (columns): how far it has come (0..1 over RAMP_DAYS), and whether it is live."""
    since = np.arange(days)[None, :] - go_live[:, None]
    return np.clip(since / RAMP_DAYS, 0.0, 1.0), since >= 0


class _Days:
    """The store-by-day state of the story, sliced month by month, and each month's random stream."""

    def __init__(self, calendar: _Calendar, effect: np.ndarray, live: np.ndarray, story: Story, seed: int) -> None:
        self.calendar, self.effect, self.live, self.story, self.seed = calendar, effect, live, story, seed
        self.stores = effect.shape[0]
        drawn = np.asarray(np.random.default_rng([seed, STORES]).gamma(4.0, 0.25, size=self.stores))
        self.busy = drawn / drawn.mean()  # some stores call far more than others
        month = np.array([int(label[5:]) for label in calendar.labels])[calendar.month_of_day]
        # Busier in the run-up to Christmas, a little quieter in late winter.
        self.season = np.select([month == 12, month == 11, np.isin(month, (1, 2))], [1.12, 1.06, 0.95], 1.0)

    def months(self) -> range:
        return range(len(self.calendar.labels))

    def span(self, month: int) -> slice:
        first = self.calendar.month_start[month]
        return slice(first, first + self.calendar.month_days(month))

    def rng(self, stream: int, index: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream, index])

    def bedded(self, shift: Shift, days: slice) -> np.ndarray:
        """The shift's value per (store, day): ``jump`` of the change at go-live, the rest as the effect grows."""
        return _bedded(shift, self.effect[:, days], self.live[:, days])


def _bedded(shift: Shift, effect: np.ndarray, live: np.ndarray) -> np.ndarray:
    progress = np.where(live, shift.jump + (1 - shift.jump) * effect, 0.0)
    return shift.at(progress)


def _store_days(rng: np.random.Generator, rate: np.ndarray, first_day: int) -> tuple[np.ndarray, np.ndarray]:
    """Poisson counts per (store, day), expanded to one (store, day) pair per event."""
    counts = rng.poisson(rate)
    store, day = np.nonzero(counts)
    repeat = counts[store, day]
    return np.repeat(store, repeat), np.repeat(day, repeat) + first_day


def _store_names(store: np.ndarray) -> np.ndarray:
    return np.char.add("S", np.char.zfill((store + 1).astype(str), 3))


def _joined(parts: Sequence[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    return tuple(np.concatenate(column) for column in zip(*parts, strict=True))


# -- tickets -----------------------------------------------------------------------------------------


def _tickets(days: _Days) -> Rows:
    calendar = days.calendar
    store, day, seconds, channel, first_contact, hours, score = _joined([_ticket_month(days, m) for m in days.months()])
    opened = calendar.utc(day, seconds)
    resolved = opened + np.round(hours * HOUR).astype("timedelta64[s]")
    still_open = resolved >= calendar.end()  # not resolved when the data was extracted
    opened_text, resolved_text = calendar.local_text(opened), calendar.local_text(resolved)
    ids = np.char.add("T", np.char.zfill(np.arange(1, store.size + 1).astype(str), 7))
    return [
        {"ticket_id": t, "store": s, "opened_at": o, "resolved_at": None if x else r, "channel": c, "first_contact": f,
         "satisfaction": sc or None}
        for t, s, o, r, x, c, f, sc in zip(ids.tolist(), _store_names(store).tolist(), opened_text.tolist(), resolved_text.tolist(),
                                           still_open.tolist(), channel.tolist(), first_contact.tolist(), score.tolist(), strict=True)
    ]


def _ticket_month(days: _Days, month: int) -> tuple[np.ndarray, ...]:
    """One month's tickets, in the order they were opened: store, day, seconds, channel, first contact, hours, score (0: none)."""
    rng, span, story = days.rng(TICKETS, month), days.span(month), days.story
    rate = days.bedded(story.tickets, span) * days.busy[:, None] * days.season[None, span]
    store, day = _store_days(rng, rate, span.start)
    seconds = np.where(rng.random(store.size) < 0.04, rng.uniform(6, OPEN_HOUR, store.size),
                       rng.uniform(OPEN_HOUR, CLOSE_HOUR, store.size)) * HOUR
    order = np.lexsort((seconds, day))
    store, day, seconds = store[order], day[order], seconds[order]
    e, on = days.effect[store, day], days.live[store, day]
    draw = rng.random(store.size)
    onsite_share, remote_share = _bedded(story.onsite, e, on), _bedded(story.remote, e, on)
    channel = np.where(draw < onsite_share, "onsite", np.where(draw < onsite_share + remote_share, "remote", "phone"))
    phone, remote = channel == "phone", channel == "remote"
    fixed_share = np.select([phone, remote], [_bedded(story.phone_first_contact, e, on), _bedded(story.remote_first_contact, e, on)], 0.0)
    first_contact = rng.random(store.size) < fixed_share
    median = np.select([phone, remote], [_bedded(story.phone_hours, e, on), _bedded(story.remote_hours, e, on)],
                       _bedded(story.onsite_hours, e, on))
    hours = rng.lognormal(np.log(median), 0.6) * np.where(first_contact | (channel == "onsite"), 1.0, 3.0)
    mood = _bedded(story.ticket_satisfaction, e, on) - 0.4 * (channel == "onsite") - 0.3 * ~first_contact
    answered = rng.random(store.size) < 0.3
    score = np.where(answered, np.clip(np.rint(rng.normal(mood, 0.9)), 1, 5), 0).astype(int)
    return store, day, seconds, channel, first_contact, hours, score


# -- outages and relief ------------------------------------------------------------------------------

UNPLANNED, PLANNED, EXCUSED = 0, 1, 2
"""What caused an outage segment: an IT problem, planned maintenance, a force-majeure relief event."""


def _outages(days: _Days) -> tuple[Rows, Rows, np.ndarray]:
    """Outage rows, relief rows, and the unplanned IT downtime hours of each month (for the lost sales)."""
    calendar = days.calendar
    parts = [_outage_month(days, m) for m in days.months()]
    relief: Rows = []
    for index, event in enumerate(RELIEF_EVENTS):
        if event.month < len(calendar.labels):
            segments, rows = _relief_event(days, index, event)
            parts.append(segments)
            relief.extend(rows)
    store, day, start, length, cause = _joined(parts)
    began = calendar.utc(day, start)
    order = np.argsort(began, kind="stable")
    store, day, length, cause, began = store[order], day[order], length[order], cause[order], began[order]
    ended = began + np.round(length).astype("timedelta64[s]")
    downtime = np.bincount(calendar.month_of_day[day], weights=np.where(cause == UNPLANNED, length / HOUR, 0.0),
                           minlength=len(calendar.labels))
    ids = np.char.add("O", np.char.zfill(np.arange(1, store.size + 1).astype(str), 6))
    rows = [{"outage_id": i, "store": s, "started_at": b, "ended_at": n, "planned": p}
            for i, s, b, n, p in zip(ids.tolist(), _store_names(store).tolist(), _utc_text(began).tolist(),
                                     _utc_text(ended).tolist(), (cause == PLANNED).tolist(), strict=True)]
    return rows, relief, downtime


def _outage_month(days: _Days, month: int) -> tuple[np.ndarray, ...]:
    """One month's unplanned outages and planned maintenance windows, as trading-time segments."""
    rng, span, story = days.rng(OUTAGES, month), days.span(month), days.story
    store, day = _store_days(rng, days.bedded(story.outages, span), span.start)
    e, on = days.effect[store, day], days.live[store, day]
    start = rng.uniform(OPEN_HOUR, CLOSE_HOUR, store.size) * HOUR
    length = rng.lognormal(np.log(_bedded(story.outage_hours, e, on)), 0.8) * HOUR
    count = rng.poisson(story.planned_per_month)
    planned_store, planned_day = rng.integers(0, days.stores, count), rng.integers(span.start, span.stop, count)
    return _joined([
        _split(store, day, start, length, np.full(store.size, UNPLANNED), days.calendar.days),
        _split(planned_store, planned_day, np.full(count, OPEN_HOUR * HOUR, dtype=float), rng.choice([1.0, 1.5, 2.0], count) * HOUR,
               np.full(count, PLANNED), days.calendar.days),
    ])


def _relief_event(days: _Days, index: int, event: Relief) -> tuple[tuple[np.ndarray, ...], Rows]:
    """The outages a relief event causes at the stores it hits, and its relief rows (one per store)."""
    calendar, rng = days.calendar, days.rng(RELIEF, index)
    hit = np.sort(rng.choice(days.stores, min(event.stores, days.stores), replace=False))
    first_day = calendar.month_start[event.month] + event.day - 1
    starts = calendar.utc(np.array([first_day]), np.array([event.hour * HOUR]))[0]
    ends = starts + np.timedelta64(int(event.hours * HOUR), "s")
    begin = (event.hour + rng.uniform(0, 0.5, hit.size)) * HOUR
    cause = np.full(hit.size, EXCUSED if event.reason == "force majeure" else UNPLANNED)
    segments = _split(hit, np.full(hit.size, first_day), begin, rng.uniform(*event.outage_hours, hit.size) * HOUR, cause, calendar.days)
    inside = calendar.utc(segments[1], segments[2]) < ends  # relief excuses what starts during the event
    window = calendar.local_text(np.array([starts, ends]))
    relief_id = f"R-{calendar.labels[event.month]}-{event.reason.split()[0].upper()}"
    rows = [{"relief_id": relief_id, "store": s, "starts_at": str(window[0]), "ends_at": str(window[1]), "reason": event.reason,
             "note": event.note} for s in _store_names(hit).tolist()]
    return tuple(a[inside] for a in segments), rows


def _split(store: np.ndarray, day: np.ndarray, start: np.ndarray, length: np.ndarray, cause: np.ndarray,
           days: int) -> tuple[np.ndarray, ...]:
    """Outages as trading-time segments: one still open at closing goes on the next morning, in a new row."""
    found: list[tuple[np.ndarray, ...]] = []
    while store.size:
        take: np.ndarray = np.minimum(length, CLOSE_HOUR * HOUR - start)
        found.append((store, day, start, take, cause))
        rest = length - take
        more = (rest >= 60) & (day + 1 < days)
        store, day, cause, length = store[more], day[more] + 1, cause[more], rest[more]
        start = np.full(store.size, OPEN_HOUR * HOUR, dtype=float)
    return _joined(found) if found else tuple(np.array([], dtype=a.dtype) for a in (store, day, start, length, cause))


# -- what Acme reports -------------------------------------------------------------------------------


def _reported(days: _Days, downtime: np.ndarray, customer: str) -> Rows:
    """The monthly store-manager survey score and the sales lost to store IT incidents."""
    calendar, story, stores = days.calendar, days.story, days.stores
    progress = _bedded(story.survey, days.effect, days.live).mean(axis=0)
    rows: Rows = []
    for month in days.months():
        rng, label = days.rng(REPORTED, month), calendar.labels[month]
        # Managers answer about the weeks before the survey: the score lags the change by a fortnight.
        asked = max(0, calendar.month_start[month] + calendar.month_days(month) // 2 - 15)
        score = float(np.clip(progress[asked] + rng.normal(0, 0.06), 1, 5))
        answers = int(rng.integers(int(stores * 0.75), stores + 1))
        season = {12: 1.2, 11: 1.1}.get(int(label[5:]), 1.0)
        lost = float(downtime[month] * story.lost_sales_per_hour * season * rng.normal(1, 0.04))
        rows.append({"metric": "satisfaction", "period": label, "value": round(score, 2), "reported_by": customer,
                     "note": f"store-manager survey: {answers} of {stores} stores answered"})
        rows.append({"metric": "downtime_cost", "period": label, "value": round(max(lost, 0.0), 2), "reported_by": customer,
                     "note": "finance incident log: sales lost to store IT incidents (power cuts excluded)"})
    return rows
