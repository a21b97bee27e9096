"""A borrower asks in the portal for a repayment plan or more time on their own loan: granted
at once within the lender's self-service limits, else sent to the desk's approvals; never on
another's loan, never a settlement, one waiting at a time; refused in their language."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from arrears.adapters.db.casework_tables import audit_log, proposals
from arrears.adapters.db.tables import borrowers, loans
from arrears.adapters.db.tables import payments as payments_table
from arrears.domain.approvals import BORROWER_LIMITS
from arrears.domain.contact import ContactRequest, Hold
from arrears.domain.errors import Refusal
from arrears.entrypoints.desk_calendar import desk_day
from arrears.entrypoints.web.views import balance_day
from arrears.services.contact_check import check_contact
from arrears.services.portal import BORROWER_ACTOR, POLICY
from arrears.services.portal_requests import dispute_debt
from tests.entrypoints.web.desk_book import Desk
from tests.entrypoints.web.test_portal import opened, past_due_borrower


def asked(desk: Desk, loan_id: str) -> list[dict[str, Any]]:
    with desk.app.engine.connect() as conn:
        rows = conn.execute(select(proposals).where(proposals.c.loan_id == loan_id)
                            .order_by(proposals.c.proposal_id)).mappings().all()  # fmt: skip
    return [dict(row) for row in rows]


def test_a_plan_within_the_limits_is_granted_at_once(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    loan = mine[0]
    done = client.post(f"/my/loans/{loan}/requests",
                       data={"csrf_token": csrf, "kind": "plan", "months": "6"})  # fmt: skip
    assert done.status_code == 200  # followed to /my
    [row] = asked(desk, loan)
    assert (row["kind"], row["status"], row["terms"]["months"]) == ("plan", "approved", 6)
    assert (row["proposed_by"], row["decided_by"]) == (BORROWER_ACTOR, POLICY)
    assert row["effective_on"] == desk_day(desk.now)
    assert row["terms"]["overdue"] > 0
    assert f"已批准，自 {desk_day(desk.now).isoformat()} 起生效" in done.text
    assert "分 6 期还款" in done.text
    with desk.app.engine.connect() as conn:
        entry = conn.execute(select(audit_log.c.actor, audit_log.c.subject)
                             .where(audit_log.c.action == "proposal.add")).one()  # fmt: skip
    assert tuple(entry) == (BORROWER_ACTOR, f"loan:{loan}")


def test_beyond_the_limits_it_waits_for_the_desk_and_is_decided_there(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    loan = mine[0]
    months = BORROWER_LIMITS.plan_months + 1
    client.post(f"/my/loans/{loan}/requests",
                data={"csrf_token": csrf, "kind": "plan", "months": str(months)})  # fmt: skip
    [row] = asked(desk, loan)
    assert (row["status"], row["decided_by"], row["effective_on"]) == ("pending", None, None)
    assert "等待贷款机构答复" in client.get("/my").text
    again = client.post(f"/my/loans/{loan}/requests",
                        data={"csrf_token": csrf, "kind": "extension", "days": "3"})  # fmt: skip
    assert again.status_code == 422
    assert "已有一项申请在等待贷款机构答复" in again.text
    assert "返回我的借款" in again.text  # a portal page, not the workbench's
    assert len(asked(desk, loan)) == 1
    admin, staff_csrf = desk.signed_in("admin")
    listed = admin.get("/approvals").text
    pending = listed.split(f'<tr id="proposal-{row["proposal_id"]}">', 1)[1].split("</tr>")[0]
    assert "借款人（门户）" in pending  # who proposed, in the reader's language
    decided = admin.post(f"/approvals/{row['proposal_id']}",
                         headers={"X-CSRF-Token": staff_csrf, "HX-Request": "true"},
                         data={"decision": "approve"})  # fmt: skip
    assert decided.status_code == 200
    assert asked(desk, loan)[0]["status"] == "approved"
    assert "已批准，自" in client.get("/my").text
    case = admin.get(f"/cases/{loan}").text
    assert "借款人（门户）" in case
    assert "portal:borrower" not in case
    audit = admin.get("/audit").text
    assert "借款人（门户）" in audit


def test_a_request_granted_at_once_shows_no_note_as_if_a_person_wrote_it(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    client.post(f"/my/loans/{mine[0]}/requests",
                data={"csrf_token": csrf, "kind": "extension", "days": "5"})  # fmt: skip
    [row] = asked(desk, mine[0])
    assert row["decision_note"].startswith("within ")  # kept for the API and the audit
    admin, _ = desk.signed_in("admin")
    case = admin.get(f"/cases/{mine[0]}").text
    assert row["decision_note"] not in case
    assert f'id="proposal-note-{row["proposal_id"]}"' not in case


def test_extensions_count_in_all_against_the_limit(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    loan = mine[0]
    first = BORROWER_LIMITS.extension_days - 5
    client.post(f"/my/loans/{loan}/requests",
                data={"csrf_token": csrf, "kind": "extension", "days": str(first)})  # fmt: skip
    again = client.post(f"/my/loans/{loan}/requests",
                        data={"csrf_token": csrf, "kind": "extension", "days": "1"})  # fmt: skip
    assert again.status_code == 422
    assert "今天已申请过" in again.text  # one request a day on a loan
    desk.now += timedelta(days=1)
    client, csrf = opened(desk, borrower)
    client.post(f"/my/loans/{loan}/requests",
                data={"csrf_token": csrf, "kind": "extension", "days": "6"})  # fmt: skip
    assert [(r["terms"]["days"], r["status"]) for r in asked(desk, loan)] == [
        (first, "approved"), (6, "pending")]  # fmt: skip


def test_another_borrowers_loan_is_not_found_and_nothing_is_asked(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    with desk.app.engine.connect() as conn:
        theirs = conn.execute(select(loans.c.loan_id).where(loans.c.borrower_id != borrower)
                              .limit(1)).scalar_one()  # fmt: skip
    client, csrf = opened(desk, borrower)
    refused = client.post(f"/my/loans/{theirs}/requests",
                          data={"csrf_token": csrf, "kind": "plan", "months": "3"})  # fmt: skip
    assert refused.status_code == 404
    assert f"未找到借款 &#39;{theirs}&#39;" in refused.text
    assert asked(desk, theirs) == []


def test_what_cannot_be_asked_is_refused_in_the_borrowers_language(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    loan = mine[0]
    cases = [
        ({"kind": "settlement"}, 422, "需与贷款机构协商，不能在此申请"),
        ({"kind": "holiday"}, 422, "holiday"),
        ({"kind": "plan", "months": "1"}, 422, "分期"),
        ({"kind": "plan", "months": "99"}, 422, "months"),
        ({"kind": "extension", "days": "0"}, 422, "展期为 1 至 180 天"),
    ]
    for form, code, said in cases:
        answer = client.post(f"/my/loans/{loan}/requests", data={"csrf_token": csrf, **form})
        assert answer.status_code == code, form
        assert said in answer.text, form
        assert answer.headers["cache-control"] == "no-store", form
        assert "返回我的借款" in answer.text, form
    assert client.post(f"/my/loans/{loan}/requests",
                       data={"kind": "plan", "months": "3"}).status_code == 403  # fmt: skip
    assert asked(desk, loan) == []


def test_a_loan_with_nothing_past_due_offers_no_change(desk: Desk) -> None:
    as_of = balance_day(desk.app, desk.now)
    owing: dict[str, bool] = {}
    for lent, payments in desk.app.ledger.load_book():
        past_due = desk.app.evaluate(lent, payments, as_of).overdue.total > 0
        owing[lent.borrower_id] = owing.get(lent.borrower_id, False) or past_due
    current = next(b for b, due in owing.items() if not due)
    client, csrf = opened(desk, current)
    page = client.get("/my").text
    assert 'class="card loan"' in page
    assert "申请分期还款" not in page
    assert "申请延期还款" not in page
    [loan] = desk.app.portal.loan_ids(current)[:1]
    refused = client.post(f"/my/loans/{loan}/requests",
                          data={"csrf_token": csrf, "kind": "extension", "days": "5"})  # fmt: skip
    assert refused.status_code == 422
    assert "此案件没有逾期欠款" in refused.text
    assert asked(desk, loan) == []
    owed, _ = opened(desk, past_due_borrower(desk)[0])
    assert "申请分期还款" in owed.get("/my").text


def blocked_by_hold(desk: Desk, loan: str) -> bool:
    """Whether the desk's check refuses a call on the loan by its pack's hold rule now."""
    answer = desk.client().get(f"/api/v1/cases/{loan}/may-contact", headers=desk.bearer("admin"))
    assert answer.status_code == 200, answer.text
    [call] = [c for c in answer.json()["channels"] if c["channel"] == "call"]
    return any(r["rule"] == "cn.hold" and not r["passed"] for r in call["reasons"])


def past_due_unheld(desk: Desk) -> tuple[str, str]:
    """A borrower with no hold, and a loan of theirs past due."""
    as_of = balance_day(desk.app, desk.now)
    for lent, payments in desk.app.ledger.load_book():
        if desk.app.contacts.holds_of(lent.borrower_id):
            continue
        if desk.app.evaluate(lent, payments, as_of).overdue.total > 0:
            return lent.borrower_id, lent.loan_id
    raise AssertionError("the desk's book has a borrower past due with no hold")


def test_a_dispute_pauses_collection_until_the_desk_lifts_it(desk: Desk) -> None:
    borrower, loan = past_due_unheld(desk)
    assert not blocked_by_hold(desk, loan)
    client, csrf = opened(desk, borrower)
    page = client.post("/my/dispute", data={"csrf_token": csrf,
                                            "reason": "  这笔罚息\n我已经还过了 "})  # fmt: skip
    assert page.status_code == 200
    today = desk_day(desk.now)
    assert f"您已于 {today.isoformat()} 提出异议" in page.text
    assert "这笔罚息 我已经还过了" in page.text
    holds = desk.app.contacts.holds_of(borrower)
    assert [(h.kind, h.starts_on, h.ends_on, h.note) for h in holds] == [
        ("dispute", today, None, "这笔罚息 我已经还过了")]  # fmt: skip
    with desk.app.engine.connect() as conn:
        entry = conn.execute(select(audit_log.c.actor, audit_log.c.subject)
                             .where(audit_log.c.action == "hold.place")).one()  # fmt: skip
    assert tuple(entry) == (BORROWER_ACTOR, f"borrower:{borrower}")
    assert blocked_by_hold(desk, loan)  # the pack's hold rule: GB/T 45251-2025
    again = client.post("/my/dispute", data={"csrf_token": csrf, "reason": "还是不对"})
    assert again.status_code == 422
    assert "您的异议正在处理中" in again.text
    assert len(desk.app.contacts.holds_of(borrower)) == 1
    staff, staff_csrf = desk.signed_in("admin")
    assert "这笔罚息 我已经还过了" in staff.get(f"/cases/{loan}").text
    lifted = staff.post(f"/cases/{loan}/holds/lift",
                        headers={"X-CSRF-Token": staff_csrf, "HX-Request": "true"},
                        data={"kind": "dispute", "starts_on": today.isoformat()})  # fmt: skip
    assert lifted.status_code == 200, lifted.text
    assert blocked_by_hold(desk, loan)  # placed today, it covers today (a hold is a day at least)
    desk.now += timedelta(days=1)
    assert not blocked_by_hold(desk, loan)
    client, _ = opened(desk, borrower)
    assert 'action="/my/dispute"' in client.get("/my").text  # may dispute again


def test_a_dispute_needs_a_reason(desk: Desk) -> None:
    borrower, _ = past_due_unheld(desk)
    client, csrf = opened(desk, borrower)
    for reason, said in (("", "body.reason: 为必填项"), ("   \n ", "请说明异议内容：理由为空")):
        refused = client.post("/my/dispute", data={"csrf_token": csrf, "reason": reason})
        assert refused.status_code == 422
        assert said in refused.text
    assert client.post("/my/dispute", data={"reason": "错了"}).status_code == 403
    assert desk.app.contacts.holds_of(borrower) == ()


def test_a_plan_while_another_runs_goes_to_a_person(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    loan = mine[0]
    client.post(f"/my/loans/{loan}/requests",
                data={"csrf_token": csrf, "kind": "plan", "months": "3"})  # fmt: skip
    desk.now += timedelta(days=1)  # not yet on the statement: the run of the day is to come
    client, csrf = opened(desk, borrower)
    client.post(f"/my/loans/{loan}/requests",
                data={"csrf_token": csrf, "kind": "plan", "months": "3"})  # fmt: skip
    assert [r["status"] for r in asked(desk, loan)] == ["approved", "pending"]


def test_what_the_statement_shows_decides_not_the_last_runs_figures(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    loan = mine[0]
    as_of = balance_day(desk.app, desk.now)
    [(lent, payments)] = list(desk.app.ledger.load_book([loan]))
    owed = desk.app.evaluate(lent, payments, as_of)
    everything = owed.overdue.total + owed.outstanding_principal
    with desk.app.engine.begin() as conn:  # paid on the run's day, after the run
        conn.execute(insert(payments_table).values(payment_id="P-after-run", loan_id=loan,
                                                   amount=everything, paid_on=as_of))  # fmt: skip
    client, csrf = opened(desk, borrower)
    card = client.get("/my").text.split(f"借款 {loan}<", 1)[1].split('<section class="card', 1)[0]
    assert "申请延期还款" not in card
    refused = client.post(f"/my/loans/{loan}/requests",
                          data={"csrf_token": csrf, "kind": "extension", "days": "5"})  # fmt: skip
    assert refused.status_code == 422
    assert "此案件没有逾期欠款" in refused.text
    assert asked(desk, loan) == []


def us_borrower(desk: Desk) -> str:
    """A borrower in New York with a US loan, added to the desk's book."""
    with desk.app.engine.begin() as conn:
        conn.execute(insert(borrowers).values(borrower_id="B-NY", name="Ann Lee",
                                              phone="+12125551234", locale="en"))  # fmt: skip
        conn.execute(insert(loans).values(
            loan_id="L-NY", borrower_id="B-NY", product="us-installment", currency="USD",
            principal=100_000, annual_rate="0.2", contract_date=date(2025, 6, 1)))  # fmt: skip
    return "B-NY"


def test_a_dispute_covers_the_borrowers_own_today_in_their_zone(desk: Desk) -> None:
    borrower = us_borrower(desk)
    desk.now = datetime(2025, 10, 1, 22, 30, tzinfo=UTC)  # 18:30 in New York, 06:30 in Shanghai
    client, csrf = opened(desk, borrower)
    assert client.post("/my/dispute", data={"csrf_token": csrf, "reason": "Not my loan"}
                       ).status_code == 200  # fmt: skip
    [hold] = desk.app.contacts.holds_of(borrower)
    assert (hold.kind, hold.starts_on) == ("dispute", date(2025, 10, 1))  # New York's day
    call = ContactRequest(borrower, "call", datetime(2025, 10, 1, 22, 35, tzinfo=UTC))
    decided = check_contact(desk.app.contacts, desk.app.contact_terms, call)
    assert not decided.allowed
    assert [r.rule for r in decided.reasons if not r.passed] == ["us.hold"]


def test_a_dispute_the_desk_placed_is_not_the_borrowers_to_read(desk: Desk) -> None:
    borrower, _ = past_due_unheld(desk)
    today = desk_day(desk.now)
    later = Hold("dispute", today + timedelta(days=20), None, "internal: escalate to legal")
    desk.app.contacts.record_hold(borrower, later, desk.now, new=True)
    client, csrf = opened(desk, borrower)
    page = client.get("/my").text
    assert "internal" not in page
    assert 'action="/my/dispute"' in page  # their own dispute is still theirs to make
    mine = client.post("/my/dispute", data={"csrf_token": csrf, "reason": "金额不对"})
    assert mine.status_code == 200
    assert "internal" not in mine.text
    assert [(h.starts_on, h.note) for h in desk.app.contacts.holds_of(borrower)] == [
        (today, "金额不对"), (later.starts_on, later.note)]  # fmt: skip


def test_the_desks_dispute_from_the_same_day_is_named_not_overwritten(desk: Desk) -> None:
    borrower, _ = past_due_unheld(desk)
    today = desk_day(desk.now)
    desk.app.contacts.record_hold(borrower, Hold("dispute", today, None, "desk's note"),
                                  desk.now, new=True)  # fmt: skip
    client, csrf = opened(desk, borrower)
    refused = client.post("/my/dispute", data={"csrf_token": csrf, "reason": "不对"})
    assert refused.status_code == 422
    assert f"{today.isoformat()} 起的异议已有记录" in refused.text
    assert "desk&#39;s note" not in refused.text
    assert [h.note for h in desk.app.contacts.holds_of(borrower)] == ["desk's note"]


def test_a_dispute_lifted_today_is_opened_again(desk: Desk) -> None:
    borrower, loan = past_due_unheld(desk)
    client, csrf = opened(desk, borrower)
    client.post("/my/dispute", data={"csrf_token": csrf, "reason": "第一次"})
    staff, staff_csrf = desk.signed_in("admin")
    today = desk_day(desk.now)
    staff.post(f"/cases/{loan}/holds/lift",
               headers={"X-CSRF-Token": staff_csrf, "HX-Request": "true"},
               data={"kind": "dispute", "starts_on": today.isoformat()})  # fmt: skip
    assert [h.ends_on for h in desk.app.contacts.holds_of(borrower)] == [today]
    # The page offers the form again, and no longer says collection waits (helper-116).
    page = client.get("/my").text
    assert 'action="/my/dispute"' in page
    assert "提出异议。在贷款机构答复之前" not in page
    again = client.post("/my/dispute", data={"csrf_token": csrf, "reason": "还是不对"})
    assert again.status_code == 200
    assert [(h.ends_on, h.note) for h in desk.app.contacts.holds_of(borrower)] == [
        (None, "还是不对")]  # fmt: skip


def test_a_borrower_with_no_loan_is_told_in_their_language_there_is_none_to_dispute(
    desk: Desk,
) -> None:
    # The staff's words ("import their loans first") had answered them in English.
    with desk.app.engine.begin() as conn:
        conn.execute(insert(borrowers).values(borrower_id="B-none", name="无贷款",
                                              phone="+8613800000999"))  # fmt: skip
    client, csrf = opened(desk, "B-none")
    refused = client.post("/my/dispute", data={"csrf_token": csrf, "reason": "不对"})
    assert refused.status_code == 422
    assert "您在本机构没有可提出异议的贷款" in refused.text
    assert desk.app.contacts.holds_of("B-none") == ()


def test_a_request_shows_the_desks_day_it_was_asked_on(desk: Desk) -> None:
    # 23:00 UTC is 07:00 the next day in Shanghai: the request showed the UTC day, the day
    # before its "granted, from" day (helper-116).
    desk.now = desk.now.replace(hour=23, minute=0)
    borrower, mine = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    page = client.post(f"/my/loans/{mine[0]}/requests",
                       data={"csrf_token": csrf, "kind": "plan", "months": "6"}).text  # fmt: skip
    today = desk_day(desk.now)
    assert today != desk.now.date()
    assert f'<li id="request-1">{today.isoformat()} · ' in page
    assert f"已批准，自 {today.isoformat()} 起生效" in page


def test_a_reason_keeps_only_what_shows(desk: Desk) -> None:
    borrower, _ = past_due_unheld(desk)
    client, csrf = opened(desk, borrower)
    for hidden in ("\u200b\u200b", "\u202e\u2066 \u200d"):
        refused = client.post("/my/dispute", data={"csrf_token": csrf, "reason": hidden})
        assert refused.status_code == 422
        assert "请说明异议内容" in refused.text
    hidden_too = "金额\u202e不对\x1b[2J\x07"  # a reversal, an escape, a bell
    kept = client.post("/my/dispute", data={"csrf_token": csrf, "reason": hidden_too})
    assert kept.status_code == 200
    assert [h.note for h in desk.app.contacts.holds_of(borrower)] == ["金额不对[2J"]
    too_long = "错" * 2_001
    with pytest.raises(Refusal, match="at most 2000 characters"):
        dispute_debt(desk.app.contacts, borrower, too_long, [desk_day(desk.now)], desk.now)
