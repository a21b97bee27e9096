"""A proposal made `alone` (a borrower's, from the portal) is stored only while none on its case
waits, checked with the case held: asked at once from many places, one is stored, on SQLite
and PostgreSQL."""

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from arrears.adapters.db import tables
from arrears.adapters.db.casework_tables import proposals
from arrears.bootstrap import App, build_app
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal

AT = datetime(2025, 10, 1, 2, 30, tzinfo=UTC)
DAY_BEGAN = datetime(2025, 9, 30, 16, 0, tzinfo=UTC)  # 1 October began in Shanghai


def lent(store_url: str, tmp_path: Path) -> App:
    """A store with one borrower and one loan, L1."""
    app = build_app(store_url, None, tmp_path)
    app.migrate()
    with app.engine.begin() as conn:
        conn.execute(insert(tables.borrowers).values(borrower_id="B1", name="张三",
                                                     phone="+8613800000001"))  # fmt: skip
        conn.execute(insert(tables.loans).values(
            loan_id="L1", borrower_id="B1", product="cn-cash", currency="CNY",
            principal=100_000, annual_rate="0.2", contract_date=date(2025, 1, 1)))  # fmt: skip
    return app


def test_one_made_before_the_day_began_stops_nothing(store_url: str, tmp_path: Path) -> None:
    app = lent(store_url, tmp_path)
    try:
        for at in (DAY_BEGAN - timedelta(seconds=1), DAY_BEGAN):
            row = {"loan_id": "L1", "kind": "plan", "terms": {"months": 3, "overdue": 1},
                   "waived": 0, "status": "approved", "proposed_by": "portal:borrower",
                   "proposed_at": at, "decided_by": "portal:policy", "decided_at": at,
                   "decision_note": "within", "effective_on": date(2025, 10, 1)}  # fmt: skip
            entry = AuditEntry(AT, "portal:borrower", "proposal.add", "loan:L1", {})
            app.desk.add_proposal(row, entry, None, alone_since=DAY_BEGAN)
        with pytest.raises(Refusal, match="today already"):
            app.desk.add_proposal(row, entry, None, alone_since=DAY_BEGAN)
    finally:
        app.close()


@pytest.mark.parametrize("status", ["pending", "approved"])
def test_of_requests_made_at_once_one_is_stored_the_others_are_refused(
    store_url: str, tmp_path: Path, status: str
) -> None:
    # pending: one waits, so the others are refused; approved (granted at once, as a plan
    # sent twice by a double click would be): the proposer asked today already.
    app = lent(store_url, tmp_path)
    start = threading.Barrier(6, timeout=10)
    stored: list[int] = []
    refused: list[str] = []

    def ask(n: int) -> None:
        row = {"loan_id": "L1", "kind": "extension", "terms": {"days": 20 + n, "overdue": 1},
               "waived": 0, "status": status, "proposed_by": "portal:borrower",
               "proposed_at": AT, "decided_by": None, "decided_at": None,
               "decision_note": None, "effective_on": None}  # fmt: skip
        entry = AuditEntry(AT, "portal:borrower", "proposal.add", "loan:L1", {"n": n})
        start.wait()
        try:
            stored.append(app.desk.add_proposal(row, entry, None, alone_since=DAY_BEGAN))
        except Refusal as error:
            refused.append(str(error))

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert len(stored) == 1
        assert len(refused) == 5
        why = "is waiting for the lender's answer" if status == "pending" else "today already"
        assert all(why in said for said in refused)
        with app.engine.connect() as conn:
            rows = conn.execute(select(proposals.c.proposal_id)).all()
        assert [row.proposal_id for row in rows] == stored
    finally:
        app.close()
