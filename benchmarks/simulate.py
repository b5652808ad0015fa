"""Benchmark of the risk simulation: 1,000,000 scenarios × 60 months of the help-desk Vested agreement.

    python -m benchmarks simulate [--runs N] [--periods P] [--chunk C] [--seed S] [--loop-sample K] [--repeats R]

``run`` reads like its table of contents: each method runs in its own fresh Python process (so
each has its own peak memory), ``repeats`` times, taking turns -> the results are checked
against each other -> the table, the ratios and the targets of issue 4 are printed (vested at
most 1.0× the hand-written numpy reference, at least 30× faster than the per-scenario loop, peak
memory under 2 GB).

The agreement (``vested/examples/helpdesk/vested.yaml``): a fixed fee of 270,000 a month; 30% of
the savings in lost sales against a 240,000 baseline once they clear a 2% corridor, capped at 15%
of the baseline; availability credits of 2%, 4% or 6% of the fee by tier, capped at 6% a month.
The drivers are uncertain, drawn with numpy from a fixed seed, a chunk of runs at a time (the
same draws for every method): store availability ~ normal(98.7, 0.9) percent, clipped to
0-100, and lost sales ~ lognormal (mean 205,000, sd 45,000) correlated -0.6 with availability
(a month with more downtime loses more sales), both rounded as they are reported (0.01 point,
the cent). The three methods:

* **vested**: :class:`vested.simulate.VectorEngine` prices each month for a chunk of runs;
* **numpy**: the same formulas written directly in numpy (:func:`price_by_hand`), as a
  competent numpy user would write them for this one agreement;
* **loop**: ``price_period`` (the exact Decimal engine) for each scenario and month, on a
  sample of ``loop_sample`` scenarios, its time extrapolated to all of them.

Each method adds up, per run, what the customer pays over the term, the shared value and the
credits, and counts the months where the gainshare cap binds. The check: vested and numpy agree
to the cent for every run on each of the three totals, and on the counts; vested agrees with
the exact engine to the cent on every month and term of the sampled scenarios.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.children import peak_mb  # light: imports no numpy, DuckDB or pandas

AGREEMENT = ("examples", "helpdesk", "vested.yaml")
"""The agreement simulated, inside the ``vested`` package."""
FEE, BASELINE, SHARING_RATE, CORRIDOR, CAP, MONTHLY_CAP = 270000.0, 240000.0, 0.30, 0.02, 0.15, 0.06
"""The help-desk terms as the hand-written reference spells them (checked against the agreement by :func:`check_terms`)."""
CREDIT_TIERS = ((99.0, 0.0), (98.0, 0.02), (97.0, 0.04))
"""(availability from, credit) of the hand-written reference; below 97: 6%."""
LOWEST_CREDIT = 0.06
TERMS = ("store_fee", "shared_value", "availability_credits")
CENT = 0.005 + 1e-6
"""Half a cent and float noise: amounts in cents that differ by less are the same amount."""

Array = Any  # numpy arrays; numpy is imported inside the functions that use it (the parent process never does)


# -- the drivers -----------------------------------------------------------------------------------


def draw_drivers(chunk: int, runs: int, periods: int, seed: int) -> tuple[Array, Array]:
    """Availability (percent) and lost sales of ``runs`` runs × ``periods`` months, shape (periods, runs).

    Deterministic from (seed, chunk): every method and the check draw the same numbers.
    """
    import numpy as np

    rng = np.random.default_rng([seed, chunk])
    z = rng.standard_normal((2, periods, runs))
    availability = np.clip(98.7 + 0.9 * z[0], 0.0, 100.0)
    rho = -0.6
    mixed = rho * z[0] + math.sqrt(1 - rho * rho) * z[1]
    mean, sd = 205000.0, 45000.0
    sigma2 = math.log(1 + (sd / mean) ** 2)
    lost_sales = np.exp(math.log(mean) - sigma2 / 2 + math.sqrt(sigma2) * mixed)
    return np.round(availability, 2), np.round(lost_sales, 2)


# -- the three methods -----------------------------------------------------------------------------


def price_by_hand(lost_sales: Array, availability: Array) -> tuple[Array, Array, Array, Array]:
    """One month of the help-desk agreement for every run, written directly in numpy.

    Returns the net the customer pays, the shared value, the credits and where the gainshare cap binds.
    """
    import numpy as np

    savings = BASELINE - lost_sales
    shared = np.where(savings >= CORRIDOR * BASELINE, SHARING_RATE * savings, 0.0)
    cap_binds = shared > CAP * BASELINE
    shared = np.minimum(shared, CAP * BASELINE)
    shared = np.floor(shared * 100 + 0.5 + 1e-6) / 100  # half up to the cent
    rate = np.select([availability >= tier for tier, _ in CREDIT_TIERS], [credit for _, credit in CREDIT_TIERS], LOWEST_CREDIT)
    credits = np.minimum(rate * FEE, MONTHLY_CAP * FEE)
    credits = np.floor(credits * 100 + 0.5 + 1e-6) / 100
    return FEE + shared - credits, shared, credits, cap_binds


def price_tuned(lost_sales: Array, availability: Array) -> tuple[Array, Array, Array, Array]:
    """:func:`price_by_hand` tuned: no ``where``/``select`` (they branch on every value), fewer temporaries.

    A mask multiplies instead of selecting; the credit tier is the number of tier bounds the
    availability reaches, looked up in a table of the credits, rounded beforehand.
    """
    import numpy as np

    shared = BASELINE - lost_sales
    cleared = (shared >= CORRIDOR * BASELINE).view(np.uint8)
    shared *= SHARING_RATE
    cap_binds = shared > CAP * BASELINE
    np.minimum(shared, CAP * BASELINE, out=shared)
    shared *= cleared
    shared *= 100
    shared += 0.5 + 1e-6
    np.floor(shared, out=shared)
    shared /= 100
    tier = (availability >= 97.0).view(np.uint8) + (availability >= 98.0).view(np.uint8)
    tier += (availability >= 99.0).view(np.uint8)
    credits = TUNED_CREDITS.take(tier.astype(np.intp))
    net = shared + FEE
    net -= credits
    return net, shared, credits, cap_binds


TUNED_CREDITS: Any = None
"""Credits by number of tier bounds reached (below 97, 97-98, 98-99, 99 and above), set by :func:`simulate_tuned`."""


def simulate_vested(runs: int, periods: int, chunk: int, seed: int, sample: int) -> dict[str, Any]:
    """Every run through :class:`~vested.simulate.VectorEngine`, a chunk of runs at a time."""
    import numpy as np

    from vested.simulate import VectorEngine

    engine = VectorEngine(load_agreement())

    def chunk_of(availability: Array, lost_sales: Array, totals: dict[str, Array], flows: dict[str, Array] | None) -> int:
        state = engine.initial_state(availability.shape[1])
        binds = 0
        for month in range(periods):
            result = engine.price({"store_availability": availability[month], "downtime_cost": lost_sales[month]}, state)
            state = result.state
            totals["paid"] += result.net
            totals["shared"] += result.flows["shared_value"]
            totals["credits"] -= result.flows["availability_credits"]
            binds += int(np.count_nonzero(result.binds["shared_value.cap"]))
            if flows is not None:
                for term in TERMS:
                    flows[term][month] = result.flows[term][:sample]
                flows["net"][month] = result.net[:sample]
        return binds

    return _simulate(chunk_of, runs, periods, chunk, seed, sample)


def simulate_numpy(runs: int, periods: int, chunk: int, seed: int, sample: int, *,
                   price: Callable[[Array, Array], tuple[Array, Array, Array, Array]] = price_by_hand) -> dict[str, Any]:
    """Every run through :func:`price_by_hand` (or ``price``), a chunk of runs at a time."""
    import numpy as np

    def chunk_of(availability: Array, lost_sales: Array, totals: dict[str, Array], flows: dict[str, Array] | None) -> int:
        binds = 0
        for month in range(periods):
            net, shared, credits, cap_binds = price(lost_sales[month], availability[month])
            totals["paid"] += net
            totals["shared"] += shared
            totals["credits"] += credits
            binds += int(np.count_nonzero(cap_binds))
        return binds

    return _simulate(chunk_of, runs, periods, chunk, seed, 0)


def simulate_tuned(runs: int, periods: int, chunk: int, seed: int, sample: int) -> dict[str, Any]:
    """Every run through :func:`price_tuned`."""
    import numpy as np

    global TUNED_CREDITS
    rates = [LOWEST_CREDIT, *(credit for _, credit in reversed(CREDIT_TIERS))]
    TUNED_CREDITS = np.floor(np.array(rates) * FEE * 100 + 0.5 + 1e-6) / 100
    return simulate_numpy(runs, periods, chunk, seed, sample, price=price_tuned)


def _simulate(chunk_of: Callable[..., int], runs: int, periods: int, chunk: int, seed: int, sample: int) -> dict[str, Any]:
    """Draw and price every chunk; time the drawing and the pricing apart. Per-run totals over the term."""
    import numpy as np

    totals = {name: np.zeros(runs) for name in ("paid", "shared", "credits")}
    flows = {name: np.zeros((periods, sample)) for name in (*TERMS, "net")} if sample else None
    drawing = pricing = 0.0
    binds = 0
    for number, start in enumerate(range(0, runs, chunk)):
        size = min(chunk, runs - start)
        began = time.perf_counter()
        availability, lost_sales = draw_drivers(number, size, periods, seed)
        drew = time.perf_counter()
        part = {name: array[start:start + size] for name, array in totals.items()}
        binds += chunk_of(availability, lost_sales, part, flows if number == 0 else None)
        pricing += time.perf_counter() - drew
        drawing += drew - began
        del availability, lost_sales
    return {"pricing": pricing, "drawing": drawing, "cap_binds": binds, "totals": totals, "flows": flows}


def simulate_loop(runs: int, periods: int, chunk: int, seed: int, sample: int) -> dict[str, Any]:
    """The first ``sample`` runs, one scenario and one month at a time, through the exact engine."""
    from decimal import Decimal

    import numpy as np

    from vested.core.facts import Facts
    from vested.core.pricing import price_period

    agreement = load_agreement()
    availability, lost_sales = draw_drivers(0, min(chunk, runs), periods, seed)
    months = [f"{2025 + m // 12}-{m % 12 + 1:02d}" for m in range(periods)]
    flows = {name: np.zeros((periods, sample)) for name in (*TERMS, "net")}
    began = time.perf_counter()
    for run in range(sample):
        state: Mapping[str, Any] = {}
        for month in range(periods):
            values = {"store_availability": Decimal(repr(float(availability[month, run]))),
                      "downtime_cost": Decimal(repr(float(lost_sales[month, run])))}
            priced = price_period(agreement, Facts(values=values, period=months[month]), state)
            assert priced.statement is not None, priced.diagnostics
            state = priced.state
            for line in priced.statement.lines:
                flows[line.term_id][month, run] += float(line.amount) * (1 if line.payer == "acme" else -1)
            flows["net"][month, run] = float(priced.statement.owed("acme", "deskco"))
    seconds = time.perf_counter() - began
    return {"pricing": seconds, "drawing": 0.0, "cap_binds": None, "totals": None, "flows": flows}


METHODS: Mapping[str, Callable[[int, int, int, int, int], dict[str, Any]]] = {
    "vested": simulate_vested, "numpy": simulate_numpy, "numpy-tuned": simulate_tuned, "loop": simulate_loop}


def load_agreement() -> Any:
    """The help-desk Vested agreement shipped in the package."""
    from importlib.resources import files

    from vested.adapters.load import load_agreement_text

    text = files("vested").joinpath(*AGREEMENT).read_text(encoding="utf-8")
    loaded = load_agreement_text(text, "/".join(("vested", *AGREEMENT)), lint=False)
    assert loaded.agreement is not None, loaded.diagnostics
    return loaded.agreement


def check_terms() -> list[str]:
    """Where the hand-written reference's constants differ from the agreement (none, or the check is void)."""
    from decimal import Decimal

    a = load_agreement()
    fee, share, credits = (a.term(t) for t in TERMS)
    found = {"fee": fee.amount, "baseline": share.baseline.amount, "sharing rate": share.sharing_rate,
             "corridor": share.minimum_savings_rate, "cap": share.cap, "monthly cap": credits.monthly_cap,
             "tiers": tuple((t.lower, t.credit) for t in credits.service_levels[0].tiers)}
    written = {"fee": FEE, "baseline": BASELINE, "sharing rate": SHARING_RATE, "corridor": CORRIDOR, "cap": CAP,
               "monthly cap": MONTHLY_CAP, "tiers": (*CREDIT_TIERS[1:], (None, LOWEST_CREDIT))}
    differ = []
    for name, value in written.items():
        expected = found[name]
        same = (tuple((None if lo is None else Decimal(repr(lo)), Decimal(repr(c))) for lo, c in value) == expected
                if isinstance(value, tuple) else Decimal(repr(value)) == expected)
        if not same:
            differ.append(f"{name}: the reference has {value}, the agreement {expected}")
    return differ


# -- one method in a fresh process -----------------------------------------------------------------


def child(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Run one method as the spec says; save its per-run totals and sampled flows; report times and memory."""
    import numpy as np

    if not spec["method"].startswith("numpy"):
        import vested.simulate  # noqa: F401  (imported before the baseline is taken, as numpy is)
    startup = peak_mb()
    began = time.perf_counter()
    done = METHODS[spec["method"]](spec["runs"], spec["periods"], spec["chunk"], spec["seed"], spec["sample"])
    seconds = time.perf_counter() - began
    arrays = {f"total_{k}": v for k, v in (done["totals"] or {}).items()}
    arrays.update({f"flow_{k}": v for k, v in (done["flows"] or {}).items()})
    np.savez(spec["output"], **arrays)
    return {"method": spec["method"], "seconds": seconds, "pricing": done["pricing"], "drawing": done["drawing"],
            "cap_binds": done["cap_binds"], "startup_mb": startup, "peak_mb": peak_mb(), "numpy": np.__version__}


def run_child(spec: Mapping[str, Any]) -> dict[str, Any]:
    """``python -m benchmarks.simulate --child SPEC`` and the JSON it prints.

    The parent imports neither numpy nor vested's engine while children run: on Linux a child's
    ``ru_maxrss`` starts from the parent's peak at the fork, so a big parent would hide the children's own peaks.
    """
    done = subprocess.run([sys.executable, "-m", "benchmarks.simulate", "--child", json.dumps(spec)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        problem = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise RuntimeError(f"the {spec['method']} child failed: {problem}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


# -- the benchmark ---------------------------------------------------------------------------------


def run(*, runs: int = 1_000_000, periods: int = 60, chunk: int = 100_000, seed: int = 1, loop_sample: int = 200,
        repeats: int = 3) -> int:
    """The whole benchmark; prints its report. Exit status 1 when the methods disagree."""
    differ = check_terms()
    if differ:
        print("the hand-written reference no longer matches the agreement:\n  " + "\n  ".join(differ))
        return 1
    sample = min(loop_sample, runs, chunk)
    print(f"vested simulate benchmark: {runs:,} scenarios × {periods} months of the help-desk Vested agreement, "
          f"chunks of {min(chunk, runs):,} runs, seed {seed}")
    print(machine())
    with tempfile.TemporaryDirectory(prefix="vested-bench-simulate-") as scratch:
        base = {"runs": runs, "periods": periods, "chunk": chunk, "seed": seed}

        def spec(method: str) -> dict[str, Any]:
            return {**base, "method": method, "sample": sample, "output": str(Path(scratch) / f"{method}.npz")}

        reports: dict[str, list[dict[str, Any]]] = {"vested": [], "numpy": [], "numpy-tuned": []}
        for _ in range(repeats):  # taking turns, so a burst of other work slows both rather than one
            for method in reports:
                reports[method].append(run_child(spec(method)))
        loop = run_child(spec("loop"))
        problems = compare(Path(scratch), reports, sample)
    print_report(reports, loop, runs, periods, sample)
    if problems:
        print("DISAGREEMENT:\n  " + "\n  ".join(problems))
        return 1
    print(f"check: vested = numpy to the cent for every one of the {runs:,} runs (customer payments, shared value, credits over "
          f"the term) and on the months the gainshare cap binds; vested = the exact engine to the cent on every term and month "
          f"of {sample} scenarios ({sample * periods:,} statements)")
    return 0


def compare(folder: Path, reports: Mapping[str, Sequence[Mapping[str, Any]]], sample: int) -> list[str]:
    """What differs between the methods' saved results (nothing, when they agree)."""
    import numpy as np

    ours, exact = np.load(folder / "vested.npz"), np.load(folder / "loop.npz")
    problems = []
    for method in ("numpy", "numpy-tuned"):
        theirs = np.load(folder / f"{method}.npz")
        for name in ("paid", "shared", "credits"):
            gap = np.abs(ours[f"total_{name}"] - theirs[f"total_{name}"])
            if gap.max() > CENT:
                problems.append(f"{name}: {int((gap > CENT).sum())} runs differ from {method}, by up to {gap.max():.2f}")
            total_gap = abs(float(ours[f"total_{name}"].sum()) - float(theirs[f"total_{name}"].sum()))
            if total_gap > 1.0:
                problems.append(f"{name}: the grand totals of vested and {method} differ by {total_gap:.2f}")
        binds = (reports["vested"][-1]["cap_binds"], reports[method][-1]["cap_binds"])
        if binds[0] != binds[1]:
            problems.append(f"the gainshare cap binds in {binds[0]} months (vested), {binds[1]} ({method})")
    for name in (*TERMS, "net"):
        gap = np.abs(ours[f"flow_{name}"][:, :sample] - exact[f"flow_{name}"][:, :sample])
        if gap.max() > CENT:
            problems.append(f"{name}: {int((gap > CENT).sum())} months of the sampled runs differ from the exact engine")
    return problems


def machine() -> str:
    """CPU model, cores, memory, Python (numpy's version is reported by the children)."""
    cpu = platform.processor() or "unknown CPU"
    memory = ""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8")
        cpu = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), cpu)
        total_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
                        if line.startswith("MemTotal"))
        memory = f", {total_kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return f"machine: {cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()} ({sys.platform})"


def print_report(reports: Mapping[str, Sequence[Mapping[str, Any]]], loop: Mapping[str, Any], runs: int, periods: int,
                 sample: int) -> None:
    best = {m: min(r["pricing"] for r in rs) for m, rs in reports.items()}
    drawn = {m: min(r["pricing"] + r["drawing"] for r in rs) for m, rs in reports.items()}
    peak = {m: max(r["peak_mb"] for r in rs) for m, rs in reports.items()}
    scale = runs / sample
    loop_all = loop["pricing"] * scale
    print(f"numpy {reports['vested'][0]['numpy']}; best of {len(reports['vested'])} runs per method; pricing = pricing and "
          "adding up the results (the drivers are drawn beforehand, a chunk at a time, and timed apart)")
    print(f"{'method':<36}{'pricing s':>10}{'with draws s':>14}{'per run-month':>15}{'peak MB':>9}")
    for method, label in (("vested", "vested VectorEngine"), ("numpy", "numpy reference, by hand"),
                          ("numpy-tuned", "numpy, hand-tuned (for reference)")):
        print(f"{label:<36}{best[method]:>10.2f}{drawn[method]:>14.2f}{best[method] / (runs * periods) * 1e9:>12.1f} ns"
              f"{peak[method]:>9.0f}")
    print(f"{'loop, exact engine (extrapolated)':<36}{loop_all:>10.0f}{'':>14}{loop['pricing'] / (sample * periods) * 1e6:>12.1f} µs"
          f"{loop['peak_mb']:>9.0f}")
    print(f"  (the loop priced {sample} scenarios × {periods} months in {loop['pricing']:.2f} s; × {scale:,.0f})")
    ratio, speedup = best["vested"] / best["numpy"], loop_all / best["vested"]
    print(f"vested / numpy reference: {ratio:.2f}× (target ≤ 1.0×: {'met' if ratio <= 1.0 else 'NOT met'}); "
          f"with the draws {drawn['vested'] / drawn['numpy']:.2f}×; vested / hand-tuned: {best['vested'] / best['numpy-tuned']:.2f}×")
    print(f"loop / vested: {speedup:,.0f}× (target ≥ 30×: {'met' if speedup >= 30 else 'NOT met'})")
    top = max(*peak.values(), loop["peak_mb"])
    print(f"peak memory: vested {peak['vested']:.0f} MB, numpy {peak['numpy']:.0f} MB, loop {loop['peak_mb']:.0f} MB "
          f"(target < 2 GB: {'met' if top < 2048 else 'NOT met'})")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks simulate`` (also ``python -m benchmarks.simulate``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks simulate",
                                     description="Time the risk simulation: vested vs hand-written numpy vs a per-scenario loop.")
    parser.add_argument("--runs", type=int, default=1_000_000, help="scenarios (default 1,000,000)")
    parser.add_argument("--periods", type=int, default=60, help="months per scenario (default 60)")
    parser.add_argument("--chunk", type=int, default=100_000, help="runs priced at once (default 100,000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the drivers (same seed, same scenarios)")
    parser.add_argument("--loop-sample", type=int, default=200, help="scenarios the per-scenario loop prices (default 200)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of vested and numpy; the best counts (default 3)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    return run(runs=args.runs, periods=args.periods, chunk=args.chunk, seed=args.seed, loop_sample=args.loop_sample,
               repeats=args.repeats)


if __name__ == "__main__":
    sys.exit(main())
