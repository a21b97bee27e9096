"""The end-of-day run over a Parquet book folder, on this machine (Polars) or on Apache Spark.

`arrears book run --as-of D --book DIR [--engine local|spark] [--master URL] [--json]`; the
options are also exported for `arrears run` to take (`run_book` does the work).
"""

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from arrears.domain.errors import DomainError
from arrears.entrypoints.cli_values import given_or_left_out

ENGINES = ("local", "spark")

EngineOption = Annotated[
    str, typer.Option("--engine", help="local (Polars in this process) or spark.")
]
BookOption = Annotated[
    Path, typer.Option("--book", help="Book folder: Parquet inputs; runs are written to state/.")
]
MasterOption = Annotated[
    str | None,
    typer.Option(
        "--master", help="Spark master URL (spark only; default local[2]), e.g. spark://host:7077."
    ),
]
BucketsOption = Annotated[
    int | None,
    typer.Option("--buckets", min=1, help="Borrower buckets, one Spark task each (2 × cores)."),
]

book_app = typer.Typer(
    help="Runs over a book kept as a folder of Parquet files.",
    rich_markup_mode=None,  # help is text: "[channels]" must print as written
)


def run_book(
    day: date,
    book: Path,
    engine: str,
    config: str | None,
    master: str = "local[2]",
    buckets: int | None = None,
) -> dict[str, Any]:
    """Run the end of day over a book folder with the chosen engine; its summary document."""
    from arrears.bootstrap import build_app

    if not book.is_dir():
        wrong = "is not a folder" if book.exists() else "does not exist"
        raise DomainError(f"the book folder {book} {wrong}")
    ctx = build_app(None, config).run_context(day)
    now = datetime.now(UTC)  # the clock is read here, in the entrypoint, and passed down
    if engine == "local":
        from arrears.adapters.parquet_store import ParquetEngineStore
        from arrears.batch.run import run_day

        return run_day(ParquetEngineStore(book), ctx, now)
    from arrears.adapters.spark_engine import SparkEngine, spark_session

    spark = spark_session(master, buckets or 4)  # a reduce task for each bucket
    try:
        return SparkEngine(spark, book, buckets).run_day(ctx, now)
    finally:
        spark.stop()


@book_app.command("run")
def run_command(
    as_of: Annotated[str, typer.Option("--as-of", help="Accounting date, YYYY-MM-DD.")],
    book: BookOption,
    engine: EngineOption = "local",
    master: MasterOption = None,
    buckets: BucketsOption = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config", help="Settings TOML (products, LPR, calendars).", callback=given_or_left_out
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
) -> None:
    """The end-of-day run for a date over a Parquet book folder (catching up skipped days)."""
    from arrears.entrypoints.cli import print_run
    from arrears.entrypoints.cli_common import fail, given_first, parse_day

    if engine not in ENGINES:
        fail(f"--engine {engine!r} is not one of {', '.join(ENGINES)}", 2)
    refuse_spark_options(engine, master, buckets)
    day = parse_day(as_of)
    document = book_run_or_fail(day, book, engine, given_first("config", config), master,
                                buckets)  # fmt: skip
    if as_json:
        print(json.dumps(document, ensure_ascii=False))
    else:
        print_run(document)


def refuse_spark_options(engine: str, master: str | None, buckets: int | None) -> None:
    """End the command (exit 2) when Spark's options are given to a run that is not Spark's:
    it would run locally as if they had been heard."""
    from arrears.entrypoints.cli_common import fail

    given = [n for n, value in (("--master", master), ("--buckets", buckets)) if value is not None]
    if engine != "spark" and given:
        verb = "are" if len(given) > 1 else "is"
        fail(f"{' and '.join(given)} {verb} for --engine spark only; this run is {engine}", 2)


def book_run_or_fail(
    day: date, book: Path, engine: str, config: str | None, master: str | None,
    buckets: int | None,
) -> dict[str, Any]:  # fmt: skip
    """run_book's summary, or the command ended (exit 1) with what went wrong, named."""
    from arrears.entrypoints.cli_common import fail

    try:
        return run_book(day, book, engine, config, master or "local[2]", buckets)
    except DomainError as error:
        fail(str(error))
    except OSError as error:
        # A folder it may not write (another user's book, a read-only disk): nothing written.
        fail(f"the book {book} cannot be read or written: {error}")
    except Exception as error:
        if engine != "spark":
            raise
        fail(f"the Spark run failed: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    """The useful line of a Spark error (the worker's own exception, not the JVM stack)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    named = [line for line in lines if "Error:" in line or "Exception:" in line]
    return (named or lines or [type(error).__name__])[-1]


def register(app: typer.Typer) -> None:
    """Add `arrears book run …` to the command line."""
    app.add_typer(book_app, name="book")


if __name__ == "__main__":  # spark-submit …/cli_engine.py --as-of D --book DIR --engine spark
    book_app()
