"""Migrations create every table of tables.py exactly, on both stores, and run twice safely."""

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, inspect, select

from arrears.adapters.db import schema, tables
from arrears.adapters.db.casework_tables import (
    agencies,
    api_tokens,
    field_visits,
    legal_cases,
    loan_flags,
    notes,
    proposals,
    users,
    web_sessions,
)
from arrears.adapters.db.engine import make_engine
from arrears.adapters.db.identity_store import SqlIdentityStore
from arrears.adapters.db.migrate import MIGRATIONS, current_revision, head_revision, upgrade


def borrower_with_loans(connection: Connection, *loan_ids: str) -> None:
    """Borrower B1 and their cn-cash loans of 1,000.00 signed on 1 January 2025, as any
    revision since the first stores them."""
    connection.execute(
        tables.borrowers.insert(), {"borrower_id": "B1", "name": "n", "phone": "+8613812345678"}
    )
    for loan_id in loan_ids:
        connection.execute(tables.loans.insert(), {
            "loan_id": loan_id, "borrower_id": "B1", "product": "cn-cash", "currency": "CNY",
            "principal": 100_000, "annual_rate": "0.24", "contract_date": date(2025, 1, 1),
        })  # fmt: skip


def test_a_new_database_has_no_revision(engine: Engine) -> None:
    assert current_revision(engine) is None


def test_migrations_create_every_table_of_the_metadata(engine: Engine) -> None:
    upgrade(engine)
    assert set(inspect(engine).get_table_names()) >= set(schema.metadata.tables)
    assert current_revision(engine) == head_revision() == "0031_hold_placed_by"


def test_the_migrated_schema_matches_the_metadata_exactly(engine: Engine) -> None:
    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, schema.metadata) == []


def test_the_migrated_keys_and_indexes_match_the_metadata(engine: Engine) -> None:
    # Autogenerate comparison skips primary keys; compare keys and indexes by name and columns.
    upgrade(engine)
    inspector = inspect(engine)
    for table in schema.metadata.sorted_tables:
        pk = inspector.get_pk_constraint(table.name)
        assert pk["constrained_columns"] == [column.name for column in table.primary_key.columns]
        foreign = {
            (fk["name"], tuple(fk["constrained_columns"]), fk["referred_table"])
            for fk in inspector.get_foreign_keys(table.name)
        }
        assert foreign == {
            (fk.name, tuple(fk.column_keys), fk.referred_table.name)
            for fk in table.foreign_key_constraints
        }
        indexes = {
            (ix["name"], tuple(ix["column_names"])) for ix in inspector.get_indexes(table.name)
        }
        assert indexes == {
            (ix.name, tuple(column.name for column in ix.columns)) for ix in table.indexes
        }


def test_migrating_twice_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        borrower_with_loans(connection)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(tables.borrowers.select()).all() == [
            ("B1", "n", "+8613812345678", None, None, None, None, None)
        ]


def test_the_package_ships_its_migration_scripts() -> None:
    shipped = {path.name for path in MIGRATIONS.rglob("*") if path.is_file()}
    assert {
        "env.py",
        "script.py.mako",
        "0001_ledger.py",
        "0002_contacts.py",
        "0003_engine.py",
        "0005_casework.py",
        "0006_visits_legal.py",
        "0007_one_in_force.py",
        "0008_dials_by_number.py",
        "0009_loan_segment_score.py",
        "0010_loan_flags.py",
        "0011_month_end_buckets.py",
        "0012_credentials.py",
        "0013_cases_prior.py",
        "0014_content_findings.py",
        "0015_legal_deadline_source.py",
        "0016_priced_terms.py",
        "0017_loan_pauses.py",
        "0018_proposal_effective_on.py",
        "0019_borrower_phone_index.py",
        "0020_agency_evaluation.py",
        "0021_more_content_findings.py",
        "0022_late_fees_charged.py",
        "0023_bureau_records.py",
        "0024_bureau_disputes.py",
        "0025_deliveries.py",
        "0026_delivery_parts.py",
        "0027_unmatched_receipts.py",
        "0028_sms_replies.py",
        "0029_sms_reply_parts.py",
        "0030_portal.py",
        "0031_hold_placed_by.py",
    } <= shipped


def test_the_open_legal_cases_of_an_older_database_are_referred_to_legal(engine: Engine) -> None:
    upgrade(engine, "0009_loan_segment_score")
    with engine.begin() as connection:
        borrower_with_loans(connection, "L1", "L2")
        for loan, step in (("L1", "filing"), ("L2", "closed")):
            connection.execute(legal_cases.insert(), {
                "loan_id": loan, "step": step, "costs": 0, "opened_by": "legal-1",
                "opened_on": date(2025, 9, 1),
            })  # fmt: skip
    upgrade(engine)
    with engine.connect() as connection:
        f = loan_flags.c
        rows = connection.execute(select(f.loan_id, f.flag, f.set_on, f.set_by, f.reason)).all()
    assert rows == [("L1", "legal", date(2025, 9, 1), "legal-1", "legal track opened")]


def test_the_deadlines_stored_in_english_take_their_key_and_end_after_enforcement(
    engine: Engine,
) -> None:
    upgrade(engine, "0014_content_findings")
    old = "enforcement application (民事诉讼法 Art. 250)"
    with engine.begin() as connection:
        borrower_with_loans(connection, "L1", "L2", "L3")
        for loan, step in (("L1", "judgment"), ("L2", "enforcement"), ("L3", "closed")):
            connection.execute(legal_cases.insert(), {
                "loan_id": loan, "step": step, "costs": 0, "opened_by": "legal-1",
                "opened_on": date(2025, 9, 1), "deadline": date(2028, 2, 1),
                "deadline_what": old,
            })  # fmt: skip
    upgrade(engine)
    c = legal_cases.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(c.loan_id, c.deadline, c.deadline_what, c.deadline_source).order_by(c.loan_id)
        ).all()
    assert [row[:3] for row in rows] == [
        ("L1", date(2028, 2, 1), "enforcement_application"),
        ("L2", None, None),
        ("L3", None, None),
    ]
    assert rows[0].deadline_source.startswith(
        "cn.enforcement_deadline: 《中华人民共和国民事诉讼法》"
    )
    assert [row.deadline_source for row in rows[1:]] == [None, None]


def test_an_extension_approved_before_is_applied_from_its_approval_day_on_the_desk(
    engine: Engine,
) -> None:
    # Approved at 01:00 on 1 October in Shanghai (17:00 UTC the day before): the ledger
    # applies it from 1 October; a pending one has no day.
    upgrade(engine, "0017_loan_pauses")
    at = datetime(2025, 9, 30, 17, 0, tzinfo=UTC)
    with engine.begin() as connection:
        borrower_with_loans(connection, "L1")
        for status in ("approved", "pending"):
            connection.execute(proposals.insert(), {
                "loan_id": "L1", "kind": "extension", "terms": {"days": 30, "overdue": 100},
                "waived": 0, "status": status, "proposed_by": "col-1", "proposed_at": at,
                "decided_by": "sup-1" if status == "approved" else None,
                "decided_at": at if status == "approved" else None,
            })  # fmt: skip
    upgrade(engine)
    with engine.connect() as connection:
        found = connection.execute(
            select(proposals.c.status, proposals.c.effective_on).order_by(proposals.c.status)
        ).all()
    assert found == [("approved", date(2025, 10, 1)), ("pending", None)]


@pytest.mark.parametrize(
    ("last_run", "kept"), [(date(2025, 10, 31), ["M2"]), (date(2025, 11, 17), [])]
)
def test_a_last_run_on_a_months_end_gives_the_first_month_end_buckets(
    engine: Engine, last_run: date, kept: list[str]
) -> None:
    upgrade(engine, "0010_loan_flags")
    with engine.begin() as connection:
        borrower_with_loans(connection, "L1")
        connection.execute(
            tables.runs.insert(),
            {
                "as_of": last_run,
                "finished_at": datetime(2025, 12, 1, tzinfo=UTC),
                "loans": 1,
                "summary": {},
            },
        )
        connection.execute(
            tables.loan_states.insert(),
            {
                "loan_id": "L1",
                "as_of": last_run,
                "dpd": 40,
                "bucket": "M2",
                "stage": "mid",
                **dict.fromkeys(
                    (
                        "overdue_principal",
                        "overdue_interest",
                        "overdue_penalty",
                        "overdue_fees",
                        "outstanding_principal",
                        "credit",
                        "charged",
                    ),
                    0,
                ),
            },
        )
    upgrade(engine)  # fmt: skip
    with engine.connect() as connection:
        rows = connection.execute(tables.month_end_buckets.select()).all()
    assert [row.bucket for row in rows] == kept
    assert all(row.month_end == last_run for row in rows)


def test_the_sessions_and_tokens_open_before_credentials_stay_valid(engine: Engine) -> None:
    upgrade(engine, "0011_month_end_buckets")
    at = datetime(2026, 12, 4, 9, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(users.insert(), {
            "user_id": "admin", "display_name": "a", "role": "admin", "team_id": None,
            "agency_id": None, "password_hash": "$argon2id$v=19$old", "locale": "zh-CN",
            "active": True, "created_at": at,
        })  # fmt: skip
        connection.execute(web_sessions.insert(), {
            "token_hash": "s" * 64, "user_id": "admin", "csrf_token": "c", "created_at": at,
            "expires_at": at + timedelta(hours=8),
        })  # fmt: skip
        connection.execute(api_tokens.insert(), {
            "token_hash": "t" * 64, "user_id": "admin", "name": "n", "created_at": at,
            "expires_at": at + timedelta(days=9), "revoked": False,
        })  # fmt: skip
    upgrade(engine)
    store = SqlIdentityStore(engine)
    assert store.session("s" * 64, at) == ("admin", "c")
    assert store.token_user("t" * 64, at) == "admin"
    with engine.begin() as connection:  # a new password: neither is valid any more
        connection.execute(users.update().values(password_hash="$argon2id$v=19$new"))
    assert store.session("s" * 64, at) is None
    assert store.token_user("t" * 64, at) is None


def test_a_session_of_a_user_gone_keeps_no_credential_and_is_not_valid(tmp_path: Path) -> None:
    # Only a SQLite file written without foreign keys (the sqlite3 shell) can hold one.
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine, "0011_month_end_buckets")
    engine.dispose()
    at = datetime(2026, 12, 4, 9, tzinfo=UTC)
    with sqlite3.connect(path) as raw:  # foreign keys off, as the shell has them
        raw.execute(
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at)"
            " VALUES (?, 'gone', 'c', ?, ?)",
            ("g" * 64, at.isoformat(), (at + timedelta(hours=8)).isoformat()),
        )
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as connection:
            kept = connection.execute(select(web_sessions.c.credential)).scalar_one()
        assert kept is None
        assert SqlIdentityStore(engine).session("g" * 64, at) is None
    finally:
        engine.dispose()


def test_what_was_written_before_the_content_lint_is_kept_unflagged(engine: Engine) -> None:
    upgrade(engine, "0013_cases_prior")
    at = datetime(2026, 12, 4, 9, tzinfo=UTC)
    with engine.begin() as connection:
        borrower_with_loans(connection, "L1")
        connection.exec_driver_sql(
            "INSERT INTO contact_attempts (borrower_id, channel, at, outcome, recorded_at, "
            "allowed, reasons) VALUES ('B1', 'call', '2026-12-04 09:00:00', 'connected', "
            "'2026-12-04 09:00:00', true, '[]')"
        )
        connection.execute(notes.insert(), {"loan_id": "L1", "author": "a", "at": at,
                                            "text": "你再不还就坐牢"})  # fmt: skip
    upgrade(engine)
    with engine.connect() as connection:
        attempt = connection.execute(select(tables.contact_attempts)).one()
        note = connection.execute(select(notes)).one()
    assert (attempt.note, attempt.note_findings) == (None, None)
    assert (note.text, note.findings) == ("你再不还就坐牢", None)


def test_the_agencies_of_an_older_database_come_out_not_evaluated(engine: Engine) -> None:
    # An agency set up before the outsourcing rule: nothing on record says it is on the white
    # list or was ever evaluated, so under the cn pack it is evaluated before its next
    # placement (its placements made stay).
    upgrade(engine, "0019_borrower_phone_index")
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO agencies (agency_id, name, commission_rate) "
            "VALUES ('agency-hz', '杭州信达', '0.18')"
        )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(select(agencies)).all()
    assert rows == [("agency-hz", "杭州信达", "0.18", False, None)]
    store = SqlIdentityStore(engine)
    [agency] = store.agencies()
    assert (agency.listed, agency.evaluated_on) == (False, None)


def test_the_texts_written_before_the_wider_content_lint_are_kept_unflagged(
    engine: Engine,
) -> None:
    # A hold's note, a visit's reason, a proposal's approver's note and a flag's reason of an
    # older database stay as written, none flagged (never linted), and none given an instant.
    upgrade(engine, "0020_agency_evaluation")
    at = datetime(2026, 12, 4, 9, tzinfo=UTC)
    with engine.begin() as connection:
        borrower_with_loans(connection, "L1")
        connection.execute(tables.holds.insert(), {
            "borrower_id": "B1", "kind": "dispute", "starts_on": date(2026, 12, 1), "note": "老赖",
        })  # fmt: skip
        connection.execute(field_visits.insert(), {
            "loan_id": "L1", "requested_by": "col-1", "requested_at": at, "collectors": ["a", "b"],
            "planned_on": date(2026, 12, 5), "reason": "不还就坐牢", "status": "requested",
            "guard": [],
        })  # fmt: skip
        connection.execute(proposals.insert(), {
            "loan_id": "L1", "kind": "extension", "terms": {"days": 30, "overdue": 100},
            "waived": 0, "status": "rejected", "proposed_by": "col-1", "proposed_at": at,
            "decided_by": "sup-1", "decided_at": at, "decision_note": "老赖",
        })  # fmt: skip
        connection.execute(loan_flags.insert(), {
            "loan_id": "L1", "flag": "legal", "set_on": date(2026, 12, 4), "set_by": "sup-1",
            "reason": "老赖",
        })  # fmt: skip
    upgrade(engine)
    with engine.connect() as connection:
        hold = connection.execute(select(tables.holds)).one()
        visit = connection.execute(select(field_visits)).one()
        proposal = connection.execute(select(proposals)).one()
        flag = connection.execute(select(loan_flags)).one()
    assert (hold.note, hold.note_findings, hold.noted_at) == ("老赖", None, None)
    assert (visit.reason, visit.reason_findings) == ("不还就坐牢", None)
    assert (visit.decision_note, visit.decision_note_findings) == (None, None)
    assert (proposal.decision_note, proposal.decision_note_findings) == ("老赖", None)
    assert (flag.reason, flag.reason_findings, flag.set_at) == ("老赖", None, None)


def test_the_stored_states_of_an_older_database_count_their_late_fees(engine: Engine) -> None:
    # A loan's state stored before late fees were counted: those its charges hold, so that a
    # limit set since counts them even where the loan is not worked again from its contract
    # date (a state stored before 0016 keeps no priced terms: helper-90 saw 39.00 of late fees
    # charged under a limit of 15.00); a loan without any: 0.
    upgrade(engine, "0021_more_content_findings")
    with engine.begin() as connection:
        borrower_with_loans(connection, "L1", "L2")
        for loan_id in ("L1", "L2"):
            connection.execute(tables.loan_balances.insert(), {
                "loan_id": loan_id, "state_date": date(2025, 3, 1), "charged": 2500,
                "principal_days": 5_900_000, "credit": 0,
            })  # fmt: skip
        for seq, kind, amount in ((1, "late_fee", 1200), (2, "late_fee", 1200), (1, "fee", 700),
                                  (2, "penalty", 300)):  # fmt: skip
            day = date(2025, 1, 1) + timedelta(days=30 * seq)
            connection.execute(tables.charges.insert(), {
                "loan_id": "L1", "seq": seq, "kind": kind, "posted_on": day, "first_day": day,
                "last_day": day, "base": 0, "daily": amount, "amount": amount,
            })  # fmt: skip
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(select(tables.loan_balances).order_by("loan_id")).all()
    assert [(r.loan_id, r.charged, r.late_fees_charged) for r in rows] == [
        ("L1", 2500, 2400),
        ("L2", 2500, 0),
    ]
