"""Engines: SQLite connection settings, PostgreSQL through psycopg 3, clear errors for bad URLs."""

from pathlib import Path

import pytest
from sqlalchemy import text

from arrears.adapters.db.engine import DatabaseUrlError, make_engine


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    engine.dispose()
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 1,
        "busy_timeout": 10_000,
    }


def test_a_sqlite_transaction_rolls_back_as_a_whole_even_its_ddl(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        transaction.rollback()
        tables = connection.execute(text("SELECT name FROM sqlite_master")).all()
    engine.dispose()
    assert tables == []


def test_in_memory_sqlite_works() -> None:
    engine = make_engine("sqlite://")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@db.example/x",
        "postgres://u@db.example/x",
        "postgresql+psycopg://u@db.example/x",
    ],
)
def test_postgresql_urls_go_through_psycopg_3(url: str) -> None:
    engine = make_engine(url)
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.url.host == "db.example"


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("mysql://u@h/x", "unsupported database URL scheme 'mysql'"),
        ("postgresql+psycopg2://u@h/x", "driver 'psycopg2' is not supported"),
        ("not a url", "is not a database URL"),
    ],
)
def test_unusable_urls_are_refused_with_an_example(url: str, said: str) -> None:
    with pytest.raises(DatabaseUrlError, match=said) as refused:
        make_engine(url)
    assert "sqlite:///" in str(refused.value) or "postgresql" in str(refused.value)
