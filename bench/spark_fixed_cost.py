"""Benchmark: what a Spark night costs beyond its work, on a book small enough to be all cost.

    python bench/spark_fixed_cost.py [--books 3] [--loans 40] [--interpreted]

A Spark night of a few dozen loans is Spark's fixed cost: planning on the driver, round trips
to the JVM, one job per table written. The suite runs dozens of such nights (tests/batch/
test_spark_engine.py), so that cost is most of its time. This makes `--books` small synthetic
books, runs two nights of each on Spark local[2] and on the local engine (the same books, in
one process, one Spark session), prints each night, and ends with one JSON object:
{"loans", "interpreted", "spark_nights", "local_nights", "median_spark", "median_local",
"ratio"} (ratio: the median Spark night over the median local night; the first book's first
night warms the JVM and is left out of the medians). `--interpreted`: Spark's queries run
without generated code, as the tests run them (spark_engine.INTERPRETED).
"""

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from arrears.adapters.parquet_store import ParquetEngineStore
from arrears.adapters.settings import load_settings
from arrears.adapters.spark_engine import SparkEngine, spark_session
from arrears.adapters.synthetic_frames import synthetic_frames, write_book
from arrears.batch.run import run_day
from arrears.bootstrap import App

AS_OF = date(2025, 11, 18)
AT = datetime(2025, 11, 18, 23, 0, tzinfo=UTC)


def main() -> None:
    """Run the nights and print what they took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--books", type=int, default=3)
    parser.add_argument("--loans", type=int, default=40)
    parser.add_argument("--interpreted", action="store_true")
    args = parser.parse_args()
    if args.books < 1 or args.loans < 1:
        parser.error("--books and --loans must be at least 1")
    session = spark_session("local[2]", shuffle_partitions=2, interpreted=args.interpreted)
    app = App("sqlite://", load_settings(None))
    days = [AS_OF - timedelta(days=1), AS_OF]
    spark: list[float] = []
    local: list[float] = []
    with tempfile.TemporaryDirectory() as work:
        for n in range(args.books):
            tables = synthetic_frames(args.loans, AS_OF, seed=12 + n, history_days=150)
            on_spark = SparkEngine(session, write_book(tables, Path(work) / f"s{n}"), buckets=3)
            store = ParquetEngineStore(write_book(tables, Path(work) / f"l{n}"))
            for day in days:
                ctx = app.run_context(day)
                started = time.perf_counter()
                on_spark.run_day(ctx, AT)
                spark.append(time.perf_counter() - started)
                started = time.perf_counter()
                run_day(store, ctx, AT)
                local.append(time.perf_counter() - started)
                print(f"book {n}, {day}: Spark {spark[-1]:.2f} s, local {local[-1]:.2f} s")
    session.stop()
    warm_spark, warm_local = spark[1:], local[1:]
    median_spark, median_local = statistics.median(warm_spark), statistics.median(warm_local)
    print(json.dumps({
        "loans": args.loans, "interpreted": args.interpreted,
        "spark_nights": [round(s, 2) for s in spark], "local_nights": [round(s, 3) for s in local],
        "median_spark": round(median_spark, 2), "median_local": round(median_local, 3),
        "ratio": round(median_spark / median_local, 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
