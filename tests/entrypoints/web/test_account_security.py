"""What a disabled account, a forged audit row and guesses past the sign-in limit leave."""

import gc
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from arrears.adapters.db.casework_tables import audit_head, audit_log
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


def test_a_log_cut_by_the_databases_holder_is_found_against_an_anchor_kept_outside(
    desk: Desk,
) -> None:
    # Whoever holds the database can drop the trigger, cut the last entries and move the
    # head back: the chain then verifies (helper-61: an unmasking erased without a trace).
    # A head an earlier verification gave, kept outside the database, finds the cut.
    compliance = desk.bearer("compliance")
    before = desk.client().get("/api/v1/audit/verify", headers=compliance).json()
    anchor = before["head"]
    assert before["intact"]
    assert anchor["seq"] == desk.app.audit_log.head()[0]
    with desk.app.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        conn.execute(delete(audit_log).where(audit_log.c.seq >= anchor["seq"] - 1))
        kept = conn.execute(select(audit_log.c.seq, audit_log.c.hash)
                            .order_by(audit_log.c.seq.desc()).limit(1)).one()  # fmt: skip
        conn.execute(update(audit_head).values(last_seq=kept.seq, last_hash=kept.hash))
    unanchored = desk.client().get("/api/v1/audit/verify", headers=compliance).json()
    assert unanchored["intact"]  # what the chain alone can tell
    anchored = desk.client().get("/api/v1/audit/verify", headers=compliance, params=anchor).json()
    assert (anchored["intact"], anchored["head"]) == (False, None)
    assert "an anchor kept outside is at" in anchored["problem"]


def test_a_rewritten_entry_is_found_against_an_anchor_and_an_anchor_is_both_or_neither(
    desk: Desk,
) -> None:
    compliance = desk.bearer("compliance")
    head = desk.client().get("/api/v1/audit/verify", headers=compliance).json()["head"]
    other = {"seq": head["seq"], "hash": "0" * 64}  # as if the log were rewritten since
    check = desk.client().get("/api/v1/audit/verify", headers=compliance, params=other).json()
    assert (check["intact"], check["broken_at"]) == (False, head["seq"])
    assert "not the one kept outside the database" in check["problem"]
    halves: list[dict[str, str | int]] = [
        {"seq": 1},
        {"hash": head["hash"]},
        {"seq": 1, "hash": "not-a-hash"},
    ]
    for params in halves:
        answer = desk.client().get("/api/v1/audit/verify", headers=compliance, params=params)
        assert answer.status_code == 422, params


def test_a_verification_that_stops_early_leaves_no_cursor_open(staffed: Desk) -> None:
    # On PostgreSQL the log streams through a server-side cursor: a check stopped at the
    # first broken entry left it open, to be dropped with a ResourceWarning (helper-119).
    compliance = staffed.bearer("compliance")
    for _ in range(3):
        check = staffed.client().get("/api/v1/audit/verify", headers=compliance,
                                     params={"seq": 1, "hash": "0" * 64}).json()  # fmt: skip
        assert (check["intact"], check["broken_at"]) == (False, 1)
    gc.collect()
