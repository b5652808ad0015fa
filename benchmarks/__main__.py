"""``python -m benchmarks measure|simulate|spark [options]``: run a benchmark, print its figures (docs/performance.md)."""

from __future__ import annotations

import argparse
import sys

MASTERS = ("local[2]", "local[1]", "local[4]")
"""The Spark masters of ``spark``'s scaling curve (benchmarks.spark.MASTERS: not imported here, to keep --help light)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Benchmarks of vested (see docs/performance.md).")
    commands = parser.add_subparsers(dest="command", required=True)
    measure = commands.add_parser("measure", help="time measuring 8 metrics for a year: vested vs hand-written DuckDB vs pandas")
    measure.add_argument("--events", type=int, default=10_000_000, help="ticket events in the main comparison (default 10,000,000)")
    measure.add_argument("--seed", type=int, default=1, help="seed of the generated data (same seed, same data)")
    measure.add_argument("--big", type=int, default=0, metavar="N",
                         help="also measure N events from several Parquet files under a DuckDB memory limit (e.g. 100000000)")
    measure.add_argument("--memory-limit", default="1GB", help="DuckDB memory_limit of the --big run (default 1GB)")
    measure.add_argument("--repeats", type=int, default=3, help="runs per method; the best counts (default 3)")
    measure.add_argument("--folder", default=None, help="where to write the Parquet files (default: a temporary folder, removed after)")
    spark = commands.add_parser("spark", help="measure the same year on Spark local[1], local[2], local[4] and on DuckDB")
    spark.add_argument("--events", type=int, default=10_000_000, help="ticket events (default 10,000,000)")
    spark.add_argument("--seed", type=int, default=1, help="seed of the generated data (same seed, same data)")
    spark.add_argument("--masters", default=",".join(MASTERS), help=f"Spark masters to time, comma-separated (default {','.join(MASTERS)})")
    spark.add_argument("--driver-memory", default="4g", help="spark.driver.memory of the local runs (default 4g)")
    spark.add_argument("--folder", default=None, help="where to write (or find) the Parquet files (default: a temporary folder)")
    commands.add_parser("simulate", add_help=False,
                        help="time the risk simulation: vested vs hand-written numpy vs a Python loop (simulate --help)")
    args, rest = parser.parse_known_args(argv)
    if args.command == "simulate":
        from benchmarks import simulate

        return simulate.main(rest)
    if args.command == "spark" and not rest:
        from benchmarks import spark as spark_bench

        return spark_bench.run(events=args.events, seed=args.seed, masters=tuple(m for m in args.masters.split(",") if m),
                               folder=args.folder, driver_memory=args.driver_memory)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

    from benchmarks import measure as bench

    return bench.run(events=args.events, seed=args.seed, big=args.big, memory_limit=args.memory_limit,
                     repeats=args.repeats, folder=args.folder)


if __name__ == "__main__":
    sys.exit(main())
