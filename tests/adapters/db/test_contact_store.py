"""The contact store on SQLite and PostgreSQL: attempts round-trip in UTC, holds, opt-outs."""

from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy import Engine, insert

from arrears.adapters.db import tables
from arrears.adapters.db.contact_store import SqlContactStore, _dialled_to
from arrears.domain.contact import ContactAttempt, ContactDecision, Hold, OptOut, Reason

BEIJING = timezone(timedelta(hours=8))


def seeded(engine: Engine) -> SqlContactStore:
    """A store holding borrower B1 with contact C1 and loan L1, and borrower B2 with nothing."""
    with engine.begin() as conn:
        conn.execute(
            insert(tables.borrowers),
            [
                {"borrower_id": "B1", "name": "张三", "phone": "+8613812345678", "timezone": None},
                {"borrower_id": "B2", "name": "Ann", "phone": "+12125551234",
                 "timezone": "America/New_York"},
            ],
        )  # fmt: skip
        conn.execute(
            insert(tables.contacts),
            {"contact_id": "C1", "borrower_id": "B1", "name": "李四", "phone": "+8613912345678",
             "relation": "spouse"},
        )  # fmt: skip
        conn.execute(
            insert(tables.loans),
            {"loan_id": "L1", "borrower_id": "B1", "product": "cn-cash", "currency": "CNY",
             "principal": 1_000_000, "annual_rate": "0.24", "contract_date": date(2026, 1, 1)},
        )  # fmt: skip
    return SqlContactStore(engine)


BLOCKED = ContactDecision(False, (Reason("cn.quiet_hours", "GB/T 45251-2025", "22:00", False),))


def test_an_unknown_borrower_has_no_file(migrated: Engine) -> None:
    assert seeded(migrated).load_contact_file("B9") is None


def test_a_file_holds_the_borrower_contacts_and_products(migrated: Engine) -> None:
    store = seeded(migrated)
    file = store.load_contact_file("B1")
    assert file is not None
    assert (file.phone, file.timezone, file.products) == (
        "+8613812345678",
        None,
        frozenset({"cn-cash"}),
    )
    assert file.contacts == {"C1": "+8613912345678"}
    other = store.load_contact_file("B2")
    assert other is not None
    assert (other.timezone, other.products, other.contacts) == ("America/New_York", frozenset(), {})


def test_an_attempt_round_trips_as_an_aware_utc_instant(migrated: Engine) -> None:
    store = seeded(migrated)
    at = datetime(2026, 3, 2, 23, 30, tzinfo=BEIJING)
    made = ContactAttempt(at, "call", "+8613812345678", None, "no_answer")
    recorded = datetime(2026, 3, 3, tzinfo=UTC)
    stored = store.record_attempt("B1", made, recorded, BLOCKED)
    second = store.record_attempt("B1", made, recorded, BLOCKED)
    assert second.attempt_id > stored.attempt_id
    file = store.load_contact_file("B1")
    assert file is not None
    assert file.attempts == (made, made)
    assert file.attempts[0].at.tzinfo is not None
    assert file.attempts[0].at == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)


def test_an_attempt_keeps_its_decision(migrated: Engine) -> None:
    store = seeded(migrated)
    made = ContactAttempt(datetime(2026, 3, 2, tzinfo=UTC), "sms", None, "C1", "sent")
    store.record_attempt("B1", made, datetime(2026, 3, 3, tzinfo=UTC), BLOCKED)
    with migrated.connect() as conn:
        row = conn.execute(tables.contact_attempts.select()).one()
    assert (row.allowed, row.contact_id, row.channel) == (False, "C1", "sms")
    assert row.reasons == [
        {"rule": "cn.quiet_hours", "source": "GB/T 45251-2025", "detail": "22:00", "passed": False}
    ]


def test_placing_a_hold_again_changes_its_end(migrated: Engine) -> None:
    store = seeded(migrated)
    at = datetime(2026, 3, 1, 9, tzinfo=BEIJING)
    store.record_hold("B1", Hold("dispute", date(2026, 3, 1), None, "customer disputes"), at)
    store.record_hold("B1", Hold("hardship", date(2026, 3, 5)), at)
    store.record_hold("B1", Hold("dispute", date(2026, 3, 1), date(2026, 3, 10), "resolved"), at)
    file = store.load_contact_file("B1")
    assert file is not None
    assert file.holds == (
        Hold("dispute", date(2026, 3, 1), date(2026, 3, 10), "resolved"),
        Hold("hardship", date(2026, 3, 5)),
    )


def test_the_earliest_opt_out_of_a_channel_is_kept(migrated: Engine) -> None:
    store = seeded(migrated)
    first = datetime(2026, 3, 1, 9, tzinfo=BEIJING)
    store.record_opt_out("B1", OptOut("sms", first + timedelta(days=1)))
    store.record_opt_out("B1", OptOut("sms", first))
    store.record_opt_out("B1", OptOut("sms", first + timedelta(days=2)))
    store.record_opt_out("B1", OptOut("email", first))
    file = store.load_contact_file("B1")
    assert file is not None
    assert sorted(file.opt_outs, key=lambda o: o.channel) == [
        OptOut("email", first),
        OptOut("sms", first),
    ]


def test_the_other_borrowers_calls_to_a_number_are_found_by_index(migrated: Engine) -> None:
    # A contact's check reads the calls other borrowers' desks made to the numbers it
    # concerns: through the borrowers on them (ix_borrowers_phone), then their attempts. It
    # scanned every borrower, and on SQLite every call logged without a number (0.8 s a
    # decision on a million borrowers with 300,000 such calls).
    seeded(migrated)
    dialect = migrated.dialect
    with migrated.connect() as conn:
        if dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")  # tiny tables: would it use one?
        plans = []
        for query in _dialled_to("B1", ["+8613812345678", "+12125551234"]):
            text = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
            if dialect.name == "sqlite":
                rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {text}").all()
                plans.append(" | ".join(str(row[-1]) for row in rows))
            else:
                rows = conn.exec_driver_sql(f"EXPLAIN {text}").all()
                plans.append(" | ".join(str(row[0]) for row in rows))
    named, blank = plans
    assert "ix_contact_attempts_to_phone_at" in named, named
    assert "ix_borrowers_phone" in blank, blank
    assert "ix_contact_attempts_borrower_id_at" in blank, blank
    assert "ix_contact_attempts_to_phone_at" not in blank, blank
    assert "SCAN" not in blank.replace("Index Scan", "").replace("Bitmap Heap Scan", "").replace(
        "Bitmap Index Scan", ""
    ).replace("Index Only Scan", ""), blank
