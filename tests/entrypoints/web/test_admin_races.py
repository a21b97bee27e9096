"""Changes to people that meet at once, on SQLite and PostgreSQL: a case assigned to a
collector while the collector is moved or disabled (no deadlock, no case left with them);
two administrators taking the role from each other (one is left)."""

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from arrears.adapters.db.casework_tables import assignments, users
from arrears.adapters.db.identity_store import IdentityConflict
from arrears.domain.access import Role
from arrears.domain.audit_chain import AuditEntry
from tests.entrypoints.web.desk_book import AS_OF, DAY_TIME, Desk, build_desk

ENTRY = AuditEntry(DAY_TIME, "admin", "test", "test", {})
PAUSE = 1.0  # seconds the first transaction holds its locks, the second one started meanwhile


def at_once(
    engine: Engine, first: Callable[[], object], pause_after: str, second: Callable[[], object]
) -> dict[str, BaseException]:
    """Run `first` in a thread that pauses, its transaction open, right after its statement
    starting with `pause_after`; run `second` meanwhile; what each raised."""
    paused = threading.Event()

    def hold(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        if threading.current_thread().name == "first" and statement.startswith(pause_after):
            paused.set()
            time.sleep(PAUSE)

    event.listen(engine, "after_cursor_execute", hold)
    raised: dict[str, BaseException] = {}

    def run(name: str, work: Callable[[], object]) -> None:
        try:
            work()
        except Exception as error:  # noqa: BLE001 - what each raised is the finding
            raised[name] = error

    try:
        one = threading.Thread(name="first", target=run, args=("first", first))
        two = threading.Thread(name="second", target=run, args=("second", second))
        one.start()
        assert paused.wait(30), f"the first transaction never ran {pause_after!r}"
        two.start()
        one.join(60)
        two.join(60)
    finally:
        event.remove(engine, "after_cursor_execute", hold)
    return raised


@pytest.mark.parametrize("change", ["disabled", "moved"])
def test_a_case_assigned_as_its_collector_leaves_goes_back_to_the_pool(
    store_url: str, tmp_path: Path, change: str
) -> None:
    app = build_desk(store_url, tmp_path)
    try:
        a = assignments.c
        with app.engine.connect() as conn:
            loan_id = conn.execute(select(a.loan_id).where(a.collector_id == "col-east-1")).scalar()
        assert loan_id is not None

        def assign() -> None:
            app.desk.assign(str(loan_id), "team-east", "col-east-1", AS_OF, "admin", ENTRY)

        def leave() -> None:
            if change == "disabled":
                app.identity.set_active("col-east-1", False, ENTRY)
            else:
                user = app.identity.user("col-east-1")
                assert user is not None
                app.identity.update_user(replace(user, team_id="team-west"), ENTRY)

        raised = at_once(app.engine, assign, "DELETE FROM assignments", leave)
        assert raised == {}  # before, PostgreSQL found a deadlock here
        with app.engine.connect() as conn:
            held = conn.execute(select(a.collector_id).where(a.loan_id == loan_id)).scalar()
        assert held is None  # the change, after the assignment, gave the case back
    finally:
        app.close()


def test_two_administrators_taking_the_role_at_once_leave_one(staffed: Desk) -> None:
    store, engine = staffed.app.identity, staffed.app.engine
    admin = store.user("admin")
    assert admin is not None
    store.add_user(replace(admin, user_id="admin-2"), DAY_TIME, ENTRY)

    def demote_self() -> None:
        store.update_user(replace(admin, role=Role.LEGAL), ENTRY)

    def disable_other() -> None:
        store.set_active("admin-2", False, ENTRY)

    raised = at_once(engine, demote_self, "UPDATE assignments", disable_other)
    assert list(raised) == ["second"]
    assert isinstance(raised["second"], IdentityConflict)
    admins = (users.c.role == Role.ADMIN.value) & users.c.active
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).where(admins)).scalar_one() == 1
