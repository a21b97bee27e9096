"""Writers of the identity store at the same moment, on SQLite and PostgreSQL: each waits its
turn on the audit log's lock, none deadlocks, and the audit log says what each replaced."""

import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

from arrears.bootstrap import build_app
from arrears.domain.access import Principal, Role
from arrears.domain.audit_chain import AuditEntry
from arrears.services.staff_setup import create_agency, evaluate_agency

ADMIN = Principal("admin", Role.ADMIN, None, None)
AT = datetime(2025, 10, 1, 2, 30, tzinfo=UTC)


def test_a_commission_change_and_an_evaluation_at_once_both_land_in_turn(
    store_url: str, tmp_path: Path
) -> None:
    # The change holds its transaction open while its audit entry is made; an evaluation
    # asked meanwhile appends its entry first and then updates the agency's row. With the
    # change locking the row before the audit log, the two deadlocked on PostgreSQL.
    app = build_app(store_url, None, tmp_path)
    app.migrate()
    create_agency(app.identity, ADMIN, "agency-hz", "杭州", "0.18", date(2025, 10, 1), AT)
    inside, errors = threading.Event(), []

    def slow_entry(was: str) -> AuditEntry:
        inside.set()
        time.sleep(0.5)  # the evaluation arrives now
        return AuditEntry(AT, "admin", "agency.commission", "agency:agency-hz",
                          {"commission": "0.2", "was": was})  # fmt: skip

    def change() -> None:
        try:
            app.identity.set_agency_commission("agency-hz", "0.2", slow_entry)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    def evaluate() -> None:
        inside.wait(5)
        try:
            evaluate_agency(app.identity, ADMIN, "agency-hz", date(2025, 9, 30), True,
                            date(2025, 10, 1), AT)  # fmt: skip
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=change), threading.Thread(target=evaluate)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    try:
        assert errors == []
        agency = app.desk.agency("agency-hz")
        assert agency is not None
        assert (agency.commission_rate, agency.listed) == ("0.2", True)
        actions = [e.entry.action for e in app.audit_log.entries(subject="agency:agency-hz")]
        assert actions == ["agency.create", "agency.commission", "agency.evaluate"]
    finally:
        app.close()
