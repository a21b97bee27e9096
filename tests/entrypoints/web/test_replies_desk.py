"""Borrowers' replies on the workbench: the compliance officer reads those waiting, records
an opt-out (audited as them) or none; other roles may not; the API says the same."""

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.db.tables import borrowers, loans, opt_outs
from arrears.domain.replies import Reply
from arrears.services.replies import ReplyTaking, reply_rules
from tests.entrypoints.web.desk_book import DAY_TIME, Desk

RULES = reply_rules(contact_packs().values())


def a_borrower(desk: Desk) -> tuple[str, str]:
    with desk.app.engine.connect() as conn:
        row = conn.execute(select(borrowers.c.borrower_id, borrowers.c.phone)
                           .order_by(borrowers.c.borrower_id).limit(1)).one()  # fmt: skip
    return str(row.borrower_id), str(row.phone)


def replied(desk: Desk, number: str, text: str) -> int:
    kept = ReplyTaking(desk.app.replies, RULES).take(Reply(number, text),
                                                     DAY_TIME - timedelta(hours=1))  # fmt: skip
    assert kept is not None
    return kept.reply_id


def sms_opt_out(desk: Desk, borrower: str) -> object:
    with desk.app.engine.connect() as conn:
        return conn.execute(select(opt_outs.c.since).where(
            opt_outs.c.borrower_id == borrower, opt_outs.c.channel == "sms")).scalar()  # fmt: skip


def test_the_compliance_officer_reads_replies_and_records_an_opt_out(desk: Desk) -> None:
    borrower, phone = a_borrower(desk)
    asks = replied(desk, phone, "别再给我发短信了，我会还的")
    other = replied(desk, "+447700900123", "Please stop")  # no one on it: a person reads it
    replied(desk, phone, "退订")  # an opt-out word alone: done at once, not listed
    client, csrf = desk.signed_in("compliance")
    page = client.get("/replies")
    assert page.status_code == 200
    assert "待阅读的短信回复" in page.text  # zh-CN first
    assert "别再给我发短信了，我会还的" in page.text
    assert "含“STOP”" in page.text  # the word it mentions, named
    assert "该号码无借款人" in page.text
    assert phone not in page.text  # numbers are masked
    assert page.text.count('<tr id="reply-') == 2
    assert sms_opt_out(desk, borrower) is not None  # by the 退订 alone
    hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    done = client.post(f"/replies/{asks}", headers=hx, data={"stop": "yes"})
    assert done.status_code == 200
    assert f"已登记退订短信：{borrower}" in done.text
    refused = client.post(f"/replies/{other}", headers=hx, data={"stop": "yes"})
    assert refused.status_code == 409
    assert "无法登记退订" in refused.text  # the refusal in the reader's language
    read = client.post(f"/replies/{other}", headers=hx, data={"stop": "no"})
    assert (read.status_code, "已读，未退订" in read.text) == (200, True)
    again = client.post(f"/replies/{other}", headers=hx, data={"stop": "no"})
    assert again.status_code == 409
    assert "没有这条待读的回复" in again.text
    bad = client.post(f"/replies/{asks}", headers=hx, data={"stop": "maybe"})
    assert bad.status_code == 422
    assert client.get("/replies").text.count('<tr id="reply-') == 0
    readings = [e.entry for e in desk.app.audit_log.entries(subject=f"reply:{asks}")]
    assert [(e.action, e.actor, e.detail["stop"]) for e in readings] == [
        ("reply.read", "compliance", True)]  # fmt: skip


def test_only_who_may_read_replies_sees_them(desk: Desk) -> None:
    borrower, phone = a_borrower(desk)
    waiting = replied(desk, phone, "I paid already")
    for user in ("col-east-1", "sup-east", "agency-hz-1", "strategy", "legal"):
        client, csrf = desk.signed_in(user)
        assert client.get("/replies").status_code == 403, user
        assert 'href="/replies"' not in client.get("/queue").text
        hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
        assert client.post(f"/replies/{waiting}", headers=hx,
                           data={"stop": "yes"}).status_code == 403  # fmt: skip
    assert sms_opt_out(desk, borrower) is None
    admin, _ = desk.signed_in("admin")
    assert 'href="/replies"' in admin.get("/queue").text


def test_the_api_lists_and_reads_replies(desk: Desk) -> None:
    borrower, phone = a_borrower(desk)
    waiting = replied(desk, phone, "I'll pay by the end of the month")
    headers = desk.bearer("compliance")
    listed = desk.client().get("/api/v1/replies", headers=headers)
    assert listed.status_code == 200
    (shown,) = listed.json()["replies"]
    assert (shown["reply_id"], shown["borrower_ids"], shown["word"], shown["state"]) == (
        waiting, [borrower], "END", "to_read")  # fmt: skip
    assert shown["number"] != phone
    assert shown["number"].endswith(phone[-4:])
    done = desk.client().post(f"/api/v1/replies/{waiting}", headers=headers, json={"stop": True})
    assert (done.status_code, done.json()["state"], done.json()["read_by"]) == (
        200, "opted_out", "compliance")  # fmt: skip
    assert sms_opt_out(desk, borrower) is not None
    again = desk.client().post(f"/api/v1/replies/{waiting}", headers=headers, json={"stop": False})
    assert again.status_code == 409
    assert again.json()["error"] == f"reply {waiting}: no such reply waiting to be read"
    every = desk.client().get("/api/v1/replies?state=all", headers=headers).json()["replies"]
    assert [r["state"] for r in every] == ["opted_out"]
    assert desk.client().get("/api/v1/replies?state=new", headers=headers).status_code == 422
    forbidden = desk.client().get("/api/v1/replies", headers=desk.bearer("col-east-1"))
    assert forbidden.status_code == 403


def test_a_us_borrowers_reply_shows_the_day_to_honour_it_by(desk: Desk) -> None:
    _, cn_phone = a_borrower(desk)
    with desk.app.engine.begin() as conn:
        conn.execute(insert(borrowers).values(borrower_id="B-US", name="Sue Smith",
                                              phone="+13125550188"))  # fmt: skip
        conn.execute(insert(loans).values(
            loan_id="L-US", borrower_id="B-US", product="us-installment", currency="USD",
            principal=100_000, annual_rate="0.2", contract_date=date(2025, 1, 1)))  # fmt: skip
    waiting = replied(desk, "+13125550188", "I'll pay at the end of the week")
    replied(desk, cn_phone, "我下周还")
    # Came Tuesday 30 September, 21:30 in New York: ten business days of the us calendar,
    # Columbus Day (13 October) not one of them (47 CFR 64.1200(a)(11)).
    listed = desk.client().get("/api/v1/replies", headers=desk.bearer("compliance")).json()
    assert [(r["reply_id"] == waiting, r["honour_by"]) for r in listed["replies"]] == [
        (True, "2025-10-15"), (False, None)]  # fmt: skip
    client, _ = desk.signed_in("compliance")
    page = client.get("/replies").text
    assert "处理期限" in page
    assert '<span class="muted" title="47 CFR 64.1200(a)(11)' in page  # not past yet
    assert ">2025-10-15</span>" in page
    desk.now = datetime(2025, 10, 16, 2, 0, tzinfo=UTC)  # the day after: past, in red
    client, _ = desk.signed_in("compliance")  # the session of 1 October is over
    page = client.get("/replies").text
    assert '<span class="blocked" title="47 CFR 64.1200(a)(11)' in page
