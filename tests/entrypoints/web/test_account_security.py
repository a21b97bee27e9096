"""What a disabled account, a forged audit row and guesses past the sign-in limit leave."""

from datetime import UTC, datetime

from sqlalchemy import insert

from arrears.adapters.db.casework_tables import audit_log
from arrears.domain.audit_chain import AuditEntry, entry_hash
from tests.entrypoints.web.desk_book import Desk


def test_a_disabled_user_enabled_again_signs_in_anew(desk: Desk) -> None:
    # A session and a token taken before the account was disabled (stolen, say) must not come
    # back when it is enabled again: disabling ends the sessions and revokes the tokens.
    admin = desk.bearer("admin")
    session, _ = desk.signed_in("col-east-1")
    token = desk.bearer("col-east-1")
    assert session.get("/queue", follow_redirects=False).status_code == 200
    for active in (False, True):
        switched = desk.client().put(
            "/api/v1/users/col-east-1/active", headers=admin, json={"active": active}
        )
        assert switched.status_code == 200, switched.text
    assert session.get("/queue", follow_redirects=False).status_code == 303
    assert desk.client().get("/api/v1/me", headers=token).status_code == 401
    again, _ = desk.signed_in("col-east-1")  # a new sign-in works
    assert again.get("/queue", follow_redirects=False).status_code == 200


def _write_around_the_log(desk: Desk, prev_hash: str, digest: str) -> int:
    """Insert an audit row past the head without moving it (as a database user could)."""
    seq, _ = desk.app.audit_log.head()
    with desk.app.engine.begin() as conn:
        conn.execute(insert(audit_log).values(
            seq=seq + 1, at=datetime(2025, 10, 1, tzinfo=UTC), actor="sup-east",
            action="proposal.approve", subject="loan:L1", detail={}, prev_hash=prev_hash,
            hash=digest,
        ))  # fmt: skip
    return seq + 1


def test_a_row_written_around_the_audit_log_breaks_its_verification(desk: Desk) -> None:
    compliance = desk.bearer("compliance")
    page, _ = desk.signed_in("compliance")
    assert desk.client().get("/api/v1/audit/verify", headers=compliance).json()["intact"]
    assert "校验通过" in page.get("/audit").text
    seq = _write_around_the_log(desk, "x", "y")
    check = desk.client().get("/api/v1/audit/verify", headers=compliance).json()
    assert (check["intact"], check["broken_at"]) == (False, seq)
    assert "校验通过" not in page.get("/audit").text


def test_a_row_chained_past_the_head_is_not_taken_for_an_append(desk: Desk) -> None:
    # Hashed as the log would hash it, but the head never moved: not appended through the log.
    compliance = desk.bearer("compliance")
    last = desk.app.audit_log.head()
    entry = AuditEntry(datetime(2025, 10, 1, tzinfo=UTC), "sup-east", "proposal.approve",
                       "loan:L1", {})  # fmt: skip
    seq = _write_around_the_log(desk, last[1], entry_hash(last[0] + 1, entry, last[1]))
    check = desk.client().get("/api/v1/audit/verify", headers=compliance).json()
    assert (check["intact"], check["broken_at"]) == (False, seq)
    assert "past the log's head" in check["problem"]
