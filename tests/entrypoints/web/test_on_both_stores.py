"""The workbench on SQLite and on PostgreSQL: the same flow, the append-only audit log
enforced by the database, and concurrent appends that keep one unbroken chain."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from arrears.adapters.db.casework_tables import assignments, login_failures
from arrears.adapters.db.tables import loan_states
from arrears.bootstrap import App
from arrears.domain.audit_chain import AuditEntry, verify_chain
from arrears.services.assignment import place_case
from arrears.services.identity import (
    USER_FAILURES_MAX,
    SignInRefused,
    SignInThrottled,
    authenticate,
)
from tests.entrypoints.web.desk_book import (
    DAY_TIME,
    NIGHT_TIME,
    ROLES,
    Desk,
    build_desk,
    desk_on,
    placement_steps_done,
)


@pytest.fixture
def desk_app(store_url: str, tmp_path: Path) -> Iterator[App]:
    app = build_desk(store_url, tmp_path)
    yield app
    app.close()


def test_a_collectors_flow_on_the_store(desk_app: App) -> None:
    desk: Desk = desk_on(desk_app)
    s = loan_states.c
    owed = s.overdue_principal + s.overdue_interest + s.overdue_penalty + s.overdue_fees
    with desk_app.engine.connect() as conn:
        mine = set(
            conn.execute(
                select(assignments.c.loan_id).where(assignments.c.collector_id == "col-east-1")
            ).scalars()
        )
        worst = (
            conn.execute(select(s.loan_id).where(s.loan_id.in_(mine)).order_by(owed.desc()))
            .scalars()
            .first()
        )
    headers = desk.bearer("col-east-1")
    queue = desk.client().get("/api/v1/queue", headers=headers).json()["cases"]
    assert {c["loan_id"] for c in queue} <= mine
    assert worst in {c["loan_id"] for c in queue}
    case = desk.client().get(f"/api/v1/cases/{worst}", headers=headers).json()
    assert case["balance"]["overdue"]["total"] != "0.00"
    desk.now = NIGHT_TIME
    flagged = desk.client().post(
        f"/api/v1/cases/{worst}/contacts",
        headers=desk.bearer("col-east-1"),
        json={"channel": "call", "outcome": "connected"},
    )
    assert flagged.status_code == 201  # made at night: recorded, flagged
    assert flagged.json()["allowed"] is False
    proposal = (
        desk.client()
        .post(
            f"/api/v1/cases/{worst}/proposals",
            headers=desk.bearer("col-east-1"),
            json={"kind": "extension", "days": 60},
        )
        .json()
    )
    assert proposal["status"] == "pending"
    decided = desk.client().post(
        f"/api/v1/approvals/{proposal['proposal_id']}",
        headers=desk.bearer("sup-east"),
        json={"approve": True},
    )
    assert decided.json()["status"] == "approved"
    assert verify_chain(desk_app.audit_log.chain()).intact


def test_the_database_refuses_to_change_the_audit_log(desk_app: App) -> None:
    for statement in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), desk_app.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert verify_chain(desk_app.audit_log.chain()).intact


def test_concurrent_appends_make_one_unbroken_chain(desk_app: App) -> None:
    before = sum(1 for _ in desk_app.audit_log.chain())

    def append(worker: int) -> None:
        for n in range(15):
            at = datetime(2025, 10, 1, 3, worker, n, tzinfo=UTC)
            desk_app.audit_log.record(AuditEntry(at, f"w{worker}", "test.append", "t", {"n": n}))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(append, range(4)))
    check = verify_chain(desk_app.audit_log.chain())
    assert check.intact, check.problem
    assert check.entries == before + 60


def test_two_placements_at_once_leave_one_in_force(desk_app: App) -> None:
    from arrears.adapters.db.casework_tables import placements
    from arrears.domain.errors import DomainError

    admin = ROLES["admin"].principal()
    loan_id = next(
        c["loan_id"]
        for c in desk_on(desk_app)
        .client()
        .get("/api/v1/queue", headers=desk_on(desk_app).bearer("admin"))
        .json()["cases"]
        if c["agency_id"] is None
    )
    placement_steps_done(desk_app, [loan_id])  # what the ladder's guard asks first
    refused: list[str] = []

    def place(_: int) -> None:
        try:
            place_case(desk_app.desk, desk_app.track, desk_app.step_terms, admin, loan_id,
                       "agency-hz", date(2025, 10, 1), DAY_TIME)  # fmt: skip
        except DomainError as error:
            refused.append(str(error))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(place, range(8)))
    with desk_app.engine.connect() as conn:
        open_ = conn.execute(
            select(placements.c.placement_id).where(
                placements.c.loan_id == loan_id, placements.c.recalled_on.is_(None)
            )
        ).all()
    assert len(open_) == 1
    assert len(refused) == 7


def test_wrong_passwords_sent_at_once_are_throttled_after_the_limit(desk_app: App) -> None:
    # Twelve guesses at once: each is counted before its (slow) password check, so only the
    # limit's five are checked and the other seven are refused unchecked.
    answers: list[str] = []

    def guess(n: int) -> None:
        try:
            authenticate(desk_app.identity, desk_app.passwords, "col-east-1", f"guess-{n}",
                         "10.0.0.9", DAY_TIME)  # fmt: skip
        except SignInThrottled:
            answers.append("throttled")
        except SignInRefused:
            answers.append("refused")

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(guess, range(12)))
    assert sorted(answers) == ["refused"] * USER_FAILURES_MAX + ["throttled"] * 7
    with desk_app.engine.connect() as conn:
        kept = conn.execute(select(login_failures.c.failure_id)).all()
    assert len(kept) == USER_FAILURES_MAX  # the refused unchecked were not failures
    # ... but every one is in the audit log: guessing on past the limit shows.
    actions = [e.entry.action for e in desk_app.audit_log.entries(subject="user:col-east-1")]
    assert sorted(a for a in actions if a.startswith("login.")) == (
        ["login.failed"] * USER_FAILURES_MAX + ["login.throttled"] * 7
    )


def test_calls_logged_at_once_are_decided_one_after_another(desk_app: App) -> None:
    # Six connected calls to one borrower logged at the same moment from three desks: each
    # decision counts the calls stored before it, so three are recorded as allowed (the cap)
    # and three flagged, over it (helper-57: each read the same count, and five or six were
    # stored as allowed).
    from threading import Barrier

    from sqlalchemy import func

    from arrears.adapters.db.tables import contact_attempts, loans

    desk = desk_on(desk_app)
    headers = [desk.bearer(user) for user in ("col-east-1", "sup-east", "admin")] * 2
    s = loan_states.c
    with desk_app.engine.connect() as conn:
        mine = select(assignments.c.loan_id).where(assignments.c.collector_id == "col-east-1")
        loan_id = conn.execute(mine.order_by(assignments.c.loan_id)).scalars().first()
        borrower = conn.execute(
            select(loans.c.borrower_id).where(loans.c.loan_id == loan_id)
        ).scalar_one()
        assert conn.execute(select(s.dpd).where(s.loan_id == loan_id)).scalar_one() > 0
    together = Barrier(len(headers))

    def log(sent: dict[str, str]) -> tuple[int, bool]:
        client = desk.client()
        together.wait()
        answer = client.post(f"/api/v1/cases/{loan_id}/contacts", headers=sent,
                             json={"channel": "call", "outcome": "connected"})  # fmt: skip
        return answer.status_code, answer.json()["allowed"]

    with ThreadPoolExecutor(max_workers=len(headers)) as pool:
        answers = sorted(pool.map(log, headers))
    assert answers == [(201, False)] * 3 + [(201, True)] * 3
    a = contact_attempts.c
    with desk_app.engine.connect() as conn:
        stored = conn.execute(
            select(a.allowed, func.count())
            .where(a.borrower_id == borrower, a.outcome == "connected")
            .group_by(a.allowed)
        ).all()
    assert sorted(tuple(row) for row in stored) == [(False, 3), (True, 3)]


def test_one_hold_placed_twice_at_once_is_placed_once(desk_app: App) -> None:
    # Two desks place the same hold at the same moment: one is placed, the other refused as
    # placed already (helper-57: PostgreSQL's key violation came out as a 500).
    from threading import Barrier

    desk = desk_on(desk_app)
    with desk_app.engine.connect() as conn:
        mine = select(assignments.c.loan_id).where(assignments.c.collector_id == "col-east-1")
        loan_id = conn.execute(mine.order_by(assignments.c.loan_id)).scalars().first()
    headers = [desk.bearer(user) for user in ("col-east-1", "sup-east")]
    for day in range(1, 6):
        together = Barrier(2)

        def place(sent: dict[str, str], day: int = day, together: Barrier = together) -> int:
            client = desk.client()
            together.wait()
            held = {"kind": "hardship", "starts_on": f"2025-10-0{day}"}
            return client.post(f"/api/v1/cases/{loan_id}/holds", headers=sent,
                               json=held).status_code  # fmt: skip

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert sorted(pool.map(place, headers)) == [201, 422]


def test_extensions_proposed_at_once_are_limited_together(desk_app: App) -> None:
    # Two extensions of 20 days proposed at the same moment: a collector grants 30 days in
    # all, so one is approved and the other waits (each had counted none approved before).
    from threading import Barrier

    desk = desk_on(desk_app)
    with desk_app.engine.connect() as conn:
        mine = select(assignments.c.loan_id).where(assignments.c.collector_id == "col-east-1")
        loans = conn.execute(mine.order_by(assignments.c.loan_id)).scalars().all()
    headers = desk.bearer("col-east-1")
    for loan_id in loans[:3]:
        together = Barrier(2)

        def extend(_: int, loan_id: str = loan_id, together: Barrier = together) -> str:
            client = desk.client()
            together.wait()
            answer = client.post(f"/api/v1/cases/{loan_id}/proposals", headers=headers,
                                 json={"kind": "extension", "days": 20})  # fmt: skip
            assert answer.status_code == 201, answer.text
            return str(answer.json()["status"])

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert sorted(pool.map(extend, range(2))) == ["approved", "pending"]


def test_extensions_approved_at_once_are_limited_together(desk_app: App) -> None:
    # Two pending extensions of 50 days on one case, approved by two supervisors' requests at
    # the same moment: a supervisor grants 90 days in all, so one is approved and the other
    # refused as beyond the limit (each had counted none approved before).
    from threading import Barrier

    desk = desk_on(desk_app)
    with desk_app.engine.connect() as conn:
        mine = select(assignments.c.loan_id).where(assignments.c.collector_id == "col-east-1")
        loans = conn.execute(mine.order_by(assignments.c.loan_id)).scalars().all()
    proposer, approver = desk.bearer("col-east-1"), desk.bearer("sup-east")
    for loan_id in loans[:3]:
        ids = []
        for _ in range(2):
            answer = desk.client().post(f"/api/v1/cases/{loan_id}/proposals", headers=proposer,
                                        json={"kind": "extension", "days": 50})  # fmt: skip
            assert answer.json()["status"] == "pending", answer.text
            ids.append(answer.json()["proposal_id"])
        together = Barrier(2)

        def approve(proposal_id: int, together: Barrier = together) -> int:
            client = desk.client()
            together.wait()
            answer = client.post(f"/api/v1/approvals/{proposal_id}", headers=approver,
                                 json={"approve": True})  # fmt: skip
            return answer.status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            assert sorted(pool.map(approve, ids)) == [200, 403]
        case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=proposer).json()
        statuses = sorted(p["status"] for p in case["proposals"])
        assert statuses == ["approved", "pending"], case["proposals"]


def test_visits_requested_at_once_leave_one_open(desk_app: App) -> None:
    # Each request passes the service's checks before any is written: the store looks for an
    # open visit once it holds the write lock, so one is stored and the others refused.
    from datetime import timedelta

    from arrears.adapters.db.casework_tables import field_visits
    from arrears.adapters.db.tables import loans, outbox
    from arrears.domain.errors import DomainError
    from arrears.domain.field_visits import VisitRequest
    from arrears.services.field_visit import request_visit

    collector = ROLES["col-east-1"].principal()
    loan_id = next(
        c["loan_id"]
        for c in desk_on(desk_app)
        .client()
        .get("/api/v1/queue", headers=desk_on(desk_app).bearer("col-east-1"))
        .json()["cases"]
    )
    placement_steps_done(desk_app, [loan_id], calls=6)  # the notice, six failed calls
    with desk_app.engine.begin() as conn:
        owner = conn.execute(select(loans.c.borrower_id).where(loans.c.loan_id == loan_id))
        conn.execute(outbox.insert().values(
            action_key=f"test:{loan_id}:agency_placement", loan_id=loan_id,
            borrower_id=owner.scalar_one(), action="agency_placement", channel=None,
            template="agency_placement", planned_for=date(2025, 8, 1), stage="late",
            arm="champion", status="done", outcome="done",
        ))  # fmt: skip
    wanted = VisitRequest(loan_id, "col-east-1", ("col-east-1", "col-east-2"),
                          date(2025, 10, 3), "unreachable")  # fmt: skip
    refused: list[str] = []

    def ask(n: int) -> None:
        try:
            request_visit(desk_app.desk, desk_app.track, desk_app.step_terms, collector, wanted,
                          date(2025, 10, 1), DAY_TIME + timedelta(seconds=n))  # fmt: skip
        except DomainError as error:
            refused.append(str(error))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(ask, range(6)))
    with desk_app.engine.connect() as conn:
        stored = conn.execute(
            select(field_visits.c.visit_id).where(field_visits.c.loan_id == loan_id)
        ).all()
    assert len(stored) == 1
    assert len(refused) == 5
    assert all("one visit at a time" in why for why in refused), refused
    entries = [e for e in desk_app.audit_log.entries(actor="col-east-1")
               if e.entry.action == "visit.request"]  # fmt: skip
    assert len(entries) == 1  # the refused ones' entries were rolled back
