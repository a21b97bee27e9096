"""A small desk to test the workbench on: a synthetic book run to a day, the demo's people,
cases balanced and some placed, and a test client whose clock is fixed."""

import re
import shutil
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from arrears.adapters.feeds.reader import FileFeedReader
from arrears.adapters.passwords import Argon2Passwords
from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.run import run_day
from arrears.bootstrap import App, build_app
from arrears.domain.audit_chain import AuditEntry
from arrears.entrypoints.demo_staff import AGENCY, DEMO_PASSWORD, STAFF, TEAMS, seed_staff
from arrears.entrypoints.web.app import create_app
from arrears.services.import_feed import import_feed

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
    products = set(app.settings.products)
    for kind in ("borrowers", "contacts", "loans", "installments", "payments"):
        path = book.write(kind, work / f"{kind}.csv")
        import_feed(app.ledger, FileFeedReader(), kind, path, products)
    run_day(app.runs, app.run_context(AS_OF), DAY_TIME)
    seed_staff(app, AS_OF, DAY_TIME)
    return app


@cache
def _demo_hash() -> str:
    """The demo password's argon2id hash, computed once (each takes a good part of a second)."""
    return Argon2Passwords().hash(DEMO_PASSWORD)


def seed_people(app: App, now: datetime) -> None:
    """The demo's teams, agency and users, and no cases (quick to set up on any store)."""

    def setup(action: str, subject: str) -> AuditEntry:
        return AuditEntry(now, "setup", action, subject, {})

    for team_id, name in TEAMS.items():
        app.identity.add_team(team_id, name, setup("team.create", f"team:{team_id}"))
    agency_id, name, rate = AGENCY
    app.identity.add_agency(agency_id, name, rate, setup("agency.create", f"agency:{agency_id}"))
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
