"""A small desk to test the workbench on: a synthetic book run to a day, the demo's people,
cases balanced and some placed, and a test client whose clock is fixed."""

import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from arrears.adapters.db.tables import cases, contact_attempts, loans, outbox
from arrears.adapters.passwords import Argon2Passwords
from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App, build_app
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.outsourcing import Agency
from arrears.entrypoints.demo_staff import AGENCY, DEMO_PASSWORD, STAFF, TEAMS, seed_staff
from arrears.entrypoints.web.app import create_app
from tests.feed_files import import_synthetic
from tests.password_cost import TEST_COST

AS_OF = date(2025, 9, 30)
DAY_TIME = datetime(2025, 10, 1, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai: calls allowed
NIGHT_TIME = datetime(2025, 10, 1, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai: quiet hours
EARLY_TIME = datetime(2025, 9, 30, 23, 0, tzinfo=UTC)  # 07:00 in Shanghai: still quiet
ROLES = {user.user_id: user for user in STAFF}


def build_desk(url: str, work: Path) -> App:
    """Import a 120-loan synthetic book, run it to AS_OF, seed the staff (migrates first)."""
    app = build_app(url, None, work)
    app.migrate()
    book = synthetic_book(120, date(2025, 1, 6), 90, seed=5)
    import_synthetic(app, book, work)
    run_day(app.runs, app.run_context(AS_OF), DAY_TIME)
    with app.engine.connect() as conn:
        late = conn.execute(select(cases.c.loan_id).where(cases.c.stage == "late")).scalars()
        late_ids = list(late)
    placement_steps_done(app, late_ids)  # so that the staff's seeding places half of them
    seed_staff(app, AS_OF, DAY_TIME)
    return app


def placement_steps_done(app: App, loan_ids: Sequence[str], calls: int = 3) -> None:
    """Each loan's formal notice sent and `calls` unanswered calls to its borrower, two a day
    on the days before DAY_TIME: with three, what the China ladder's guard asks before an
    agency placement (six for a field visit)."""
    with app.engine.begin() as conn:
        found = conn.execute(
            select(loans.c.loan_id, loans.c.borrower_id).where(loans.c.loan_id.in_(loan_ids))
        )
        owners = {row.loan_id: row.borrower_id for row in found}
        for loan_id in loan_ids:
            conn.execute(insert(outbox).values(
                action_key=f"desk-book:{loan_id}:formal_notice", loan_id=loan_id,
                borrower_id=owners[loan_id], action="formal_notice", channel=None,
                template="formal_notice", planned_for=AS_OF - timedelta(days=9), stage="mid",
                arm="champion", status="done", outcome="sent",
            ))  # fmt: skip
        for borrower in sorted(set(owners.values())):
            for n in range(calls):
                at = DAY_TIME - timedelta(days=1 + n // 2, hours=n % 2)
                conn.execute(insert(contact_attempts).values(
                    borrower_id=borrower, channel="call", to_phone=None, at=at,
                    outcome="no_answer", recorded_at=at, allowed=True, reasons=[],
                ))  # fmt: skip


@cache
def _demo_hash() -> str:
    """The demo password's argon2id hash at the tests' cost (tests/conftest.py), made once."""
    return Argon2Passwords(TEST_COST).hash(DEMO_PASSWORD)


def seed_people(app: App, now: datetime) -> None:
    """The demo's teams, agency and users, and no cases (quick to set up on any store)."""

    def setup(action: str, subject: str) -> AuditEntry:
        return AuditEntry(now, "setup", action, subject, {})

    for team_id, name in TEAMS.items():
        app.identity.add_team(team_id, name, setup("team.create", f"team:{team_id}"))
    agency_id, name, rate = AGENCY
    agency = Agency(agency_id, name, rate, listed=True, evaluated_on=AS_OF)  # as seed_staff's
    app.identity.add_agency(agency, setup("agency.create", f"agency:{agency_id}"))
    for user in STAFF:
        hashed = replace(user, password_hash=_demo_hash())
        app.identity.add_user(hashed, now, setup("user.create", f"user:{user.user_id}"))


@dataclass
class Desk:
    """The app and a way to get clients signed in as anyone, at a settable instant."""

    app: App
    web: FastAPI
    now: datetime = DAY_TIME

    def client(self) -> TestClient:
        """A client with no session."""
        return TestClient(self.web)

    def signed_in(self, user_id: str) -> tuple[TestClient, str]:
        """A client signed in through the log-in form, and its CSRF token."""
        client = self.client()
        page = client.get("/login")
        token = re.search(r'name="prelogin" value="([^"]+)"', page.text)
        assert token is not None
        answer = client.post(
            "/login",
            data={"user_id": user_id, "password": DEMO_PASSWORD, "prelogin": token.group(1)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        queue = client.get("/queue")
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', queue.text)
        assert csrf is not None
        return client, csrf.group(1)

    def bearer(self, user_id: str) -> dict[str, str]:
        """Headers carrying a bearer token of the user."""
        answer = self.client().post(
            "/api/v1/tokens",
            json={"user_id": user_id, "password": DEMO_PASSWORD, "name": "tests"},
        )
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


def desk_on(app: App) -> Desk:
    """A desk over an app, its clock reading `desk.now`."""
    made = Desk(app, FastAPI())
    made.web = create_app(app, lambda: made.now)
    return made


def copy_database(template: Path, target: Path) -> str:
    """A private copy of a SQLite template database; its URL."""
    shutil.copy(template, target)
    return f"sqlite:///{target}"
