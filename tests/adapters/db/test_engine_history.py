"""What the SQL store gives a night's escalation guards: every attempt of the borrowers they
ask about, and the legal track's letters and the desk's agency placements beside the plan's
worked actions."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, insert

from arrears.adapters.db import tables
from arrears.adapters.db.casework_tables import agencies, legal_cases, legal_steps, placements
from arrears.adapters.db.engine_store import SqlEngineStore, attempts_of
from arrears.adapters.settings import load_settings
from arrears.bootstrap import App
from arrears.domain.escalation import ActionRecord
from tests.adapters.db.test_contact_store import seeded


def test_the_guards_read_every_attempt_of_the_borrowers_they_ask_about(migrated: Engine) -> None:
    """engine_store.attempts_of: the whole record (a year back too), of the borrowers asked
    about only, in queries of a bounded number of ids (1,201 asked here)."""
    seeded(migrated)
    at = datetime(2025, 1, 5, 12, tzinfo=UTC)
    with migrated.begin() as conn:
        conn.execute(insert(tables.contact_attempts), [
            {"borrower_id": who, "contact_id": None, "channel": "call", "to_phone": None,
             "at": at + timedelta(days=n), "outcome": "no_answer", "recorded_at": at,
             "allowed": True, "reasons": []}
            for n, who in enumerate(["B1", "B2", "B1"])
        ])  # fmt: skip
    asked = ["B1", *(f"X{n}" for n in range(1_200))]
    got = attempts_of(migrated, asked).sort("at")
    assert got.get_column("borrower_id").to_list() == ["B1", "B1"]
    assert got.get_column("at").to_list() == [at, at + timedelta(days=2)]
    assert attempts_of(migrated, []).height == 0


def test_a_lawyers_letter_on_the_legal_track_is_on_the_nights_record(migrated: Engine) -> None:
    """The legal track's letter (the legal service records it, not the plan) is sent, for the
    night's guards and `until_done` as for the track's own guard (track_store.history)."""
    seeded(migrated)
    with migrated.begin() as conn:
        conn.execute(insert(legal_cases), {
            "legal_id": 1, "loan_id": "L1", "step": "lawyers_letter", "costs": 0,
            "opened_by": "legal", "opened_on": date(2026, 8, 3),
        })  # fmt: skip
        conn.execute(insert(legal_steps), {
            "legal_id": 1, "step": "lawyers_letter", "on": date(2026, 8, 3), "cost": 50_000,
            "by": "legal",
        })  # fmt: skip
    app = App(str(migrated.url), load_settings(None))
    frames = SqlEngineStore(migrated).load(app.run_context(date(2026, 8, 9)))
    assert frames.history.of(["L1"])["L1"] == [
        ActionRecord("lawyers_letter", date(2026, 8, 3), "sent")
    ]


def test_an_agency_placement_made_at_the_desk_is_on_the_nights_record(migrated: Engine) -> None:
    """A placement the desk made is the agency tried, for the night's guards and the legal
    stage's recall, as a planned placement worked is; its recall at the desk is the recall."""
    seeded(migrated)
    with migrated.begin() as conn:
        conn.execute(insert(agencies), {"agency_id": "A1", "name": "杭州某资产管理",
                                        "commission_rate": "0.18", "listed": True})  # fmt: skip
        conn.execute(insert(placements), {
            "loan_id": "L1", "agency_id": "A1", "placed_on": date(2026, 8, 1),
            "placed_balance": 100_000, "commission_rate": "0.18", "placed_by": "sup",
            "recalled_on": date(2026, 8, 5),
        })  # fmt: skip
    app = App(str(migrated.url), load_settings(None))
    frames = SqlEngineStore(migrated).load(app.run_context(date(2026, 8, 9)))
    assert frames.history.of(["L1"])["L1"] == [
        ActionRecord("agency_placement", date(2026, 8, 1), "done"),
        ActionRecord("agency_recall", date(2026, 8, 5), "done"),
    ]
