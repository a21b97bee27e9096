"""The borrower portal: a one-time link opens a short session in which a borrower reads their
own loans, every amount as the domain works it out, in their language; nothing else opens."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlalchemy import insert, select, update

from arrears.adapters.db.casework_tables import audit_log
from arrears.adapters.db.tables import borrowers, loans
from arrears.domain.money import format_amount
from arrears.domain.staff import CONSOLE
from arrears.entrypoints.demo import print_portal_link
from arrears.entrypoints.web.page_render import PORTAL_COOKIE
from arrears.entrypoints.web.views import balance_day
from arrears.services.portal import BORROWER_ACTOR, BorrowerNotFound, issue_link, link_opens
from tests.entrypoints.web.desk_book import Desk


def past_due_borrower(desk: Desk) -> tuple[str, list[str]]:
    """A borrower with a loan past due on the desk's day, and all their loans."""
    with desk.app.engine.connect() as conn:
        owners = conn.execute(select(loans.c.borrower_id, loans.c.loan_id)
                              .order_by(loans.c.loan_id)).all()  # fmt: skip
    as_of = balance_day(desk.app, desk.now)
    for loan, payments in desk.app.ledger.load_book([loan for _, loan in owners]):
        if desk.app.evaluate(loan, payments, as_of).overdue.total > 0:
            mine = [lent for who, lent in owners if who == loan.borrower_id]
            return loan.borrower_id, mine
    raise AssertionError("the desk's book has a loan past due")


def link(desk: Desk, borrower: str, minutes: int = 60) -> str:
    token, _ = issue_link(desk.app.portal, borrower, minutes, desk.now, CONSOLE)
    return f"/p/{token}"


def opened(desk: Desk, borrower: str) -> tuple[TestClient, str]:
    """A client whose portal session is open, and its CSRF token."""
    client = desk.client()
    answer = client.post(link(desk, borrower), follow_redirects=False)
    assert (answer.status_code, answer.headers["location"]) == (303, "/my")
    page = client.get("/my")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return client, found.group(1)


def speaks(desk: Desk, borrower: str, locale: str | None) -> None:
    """The borrower's language on record."""
    with desk.app.engine.begin() as conn:
        conn.execute(update(borrowers).where(borrowers.c.borrower_id == borrower)
                     .values(locale=locale))  # fmt: skip


def audited(desk: Desk, action: str) -> list[tuple[str, str]]:
    with desk.app.engine.connect() as conn:
        rows = conn.execute(select(audit_log.c.actor, audit_log.c.subject)
                            .where(audit_log.c.action == action)).all()  # fmt: skip
    return [(str(actor), str(subject)) for actor, subject in rows]


def test_a_link_opens_the_borrowers_own_loans_once(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    path = link(desk, borrower)
    client = desk.client()
    first = client.get(path)  # a messaging app's preview: uses nothing up
    assert first.status_code == 200
    assert "查看我的借款" in first.text
    assert client.get(path).status_code == 200
    used = client.post(path, follow_redirects=False)
    assert used.status_code == 303
    cookie = used.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    page = client.get("/my")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "您好" in page.text  # zh-CN first
    for loan_id in mine:
        assert f"借款 {loan_id}" in page.text
    assert page.text.count('class="card loan"') == len(mine)
    assert "每笔费用及其依据" in page.text  # the balance's reasons, as the case view's
    again = desk.client().post(path, follow_redirects=False)
    assert again.status_code == 410
    assert "此链接已失效" in again.text
    assert desk.client().get(path).status_code == 410
    assert audited(desk, "portal.link") == [(CONSOLE, f"borrower:{borrower}")]
    assert audited(desk, "portal.sign_in") == [(BORROWER_ACTOR, f"borrower:{borrower}")]


def test_the_amount_past_due_is_the_domains(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    client, _ = opened(desk, borrower)
    page = client.get("/my").text
    as_of = balance_day(desk.app, desk.now)
    for n, (loan, payments) in enumerate(desk.app.ledger.load_book(mine), start=1):
        state = desk.app.evaluate(loan, payments, as_of)
        shown = re.search(rf'id="loan-{n}-due-now">[^0-9]*([0-9.,]+)<', page)
        assert shown is not None
        assert shown.group(1) == format_amount(state.overdue.total)
        assert f'id="loan-{n}-overdue-total">¥{format_amount(state.overdue.total)}<' in page
        ahead = any((line.effective_due_date or line.due_date) >= as_of
                    and line.principal + line.interest + line.fees > 0
                    for line in state.installments)  # fmt: skip
        assert (f'id="loan-{n}-next"' in page) is ahead


def test_no_other_borrowers_loan_is_shown(desk: Desk) -> None:
    borrower, mine = past_due_borrower(desk)
    with desk.app.engine.connect() as conn:
        theirs = conn.execute(select(loans.c.loan_id).where(loans.c.borrower_id != borrower)
                              .limit(50)).scalars().all()  # fmt: skip
    page = opened(desk, borrower)[0].get("/my").text
    assert theirs
    assert not any(f"借款 {loan_id}<" in page for loan_id in theirs)
    assert all(f"借款 {loan_id}<" in page for loan_id in mine)


def test_a_link_past_its_minutes_opens_nothing(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    path = link(desk, borrower, minutes=5)
    desk.now += timedelta(minutes=5)
    assert desk.client().get(path).status_code == 410
    assert desk.client().post(path, follow_redirects=False).status_code == 410
    assert audited(desk, "portal.sign_in") == []


def test_a_session_ends_after_half_an_hour(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    client, _ = opened(desk, borrower)
    desk.now += timedelta(minutes=29)
    assert client.get("/my").status_code == 200
    desk.now += timedelta(minutes=1)
    ended = client.get("/my", follow_redirects=False)
    assert ended.status_code == 401
    assert "请重新打开贷款机构发给您的链接" in ended.text  # not the workbench's sign-in


def test_sign_out_needs_the_session_csrf_token_and_ends_it(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    assert client.post("/my/sign-out").status_code == 403
    assert client.post("/my/sign-out", data={"csrf_token": "x" * len(csrf)}).status_code == 403
    assert client.get("/my").status_code == 200  # refused: still open
    out = client.post("/my/sign-out", data={"csrf_token": csrf})
    assert out.status_code == 200
    assert "您已退出" in out.text
    dropped = out.headers["set-cookie"].lower()
    assert dropped.startswith(f"{PORTAL_COOKIE}=")
    assert "max-age=0" in dropped  # the browser forgets it
    assert audited(desk, "portal.sign_out") == [(BORROWER_ACTOR, f"borrower:{borrower}")]


def test_a_stolen_cookie_opens_nothing_after_sign_out(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    client, csrf = opened(desk, borrower)
    cookie = client.cookies[PORTAL_COOKIE]
    client.post("/my/sign-out", data={"csrf_token": csrf})
    thief = desk.client()
    thief.cookies.set(PORTAL_COOKIE, cookie)
    assert thief.get("/my", follow_redirects=False).status_code == 401


def test_the_language_is_the_borrowers_then_their_choice(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    speaks(desk, borrower, "zh-TW")
    client, csrf = opened(desk, borrower)
    assert "您好" in client.get("/my", headers={"Accept-Language": "en"}).text  # theirs wins
    assert "每筆費用及其依據" in client.get("/my").text
    switched = client.post("/my/locale", data={"csrf_token": csrf, "locale": "en"})
    assert switched.status_code == 200  # followed to /my
    assert "Every charge and why" in switched.text
    assert client.post("/my/locale", data={"csrf_token": csrf, "locale": "fr"}).status_code == 422


def test_without_a_language_on_record_the_browsers_is_used(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    speaks(desk, borrower, None)
    client = desk.client()
    client.post(link(desk, borrower), headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Every charge and why" in client.get("/my").text


def test_portal_and_workbench_sessions_open_only_their_own_pages(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    staff, _ = desk.signed_in("admin")
    assert staff.get("/my", follow_redirects=False).status_code == 401
    client, _ = opened(desk, borrower)
    assert client.get("/queue", follow_redirects=False).status_code == 303  # to the sign-in
    assert client.get("/api/v1/queue").status_code == 401


def test_a_link_is_refused_for_no_one_or_too_long(desk: Desk) -> None:
    with pytest.raises(BorrowerNotFound, match="no borrower 'B-none'"):
        issue_link(desk.app.portal, "B-none", 60, desk.now, CONSOLE)
    borrower, _ = past_due_borrower(desk)
    for minutes in (0, 7 * 24 * 60 + 1):
        with pytest.raises(Exception, match="a portal link lasts 1 to 10080 minutes"):
            issue_link(desk.app.portal, borrower, minutes, desk.now, CONSOLE)
    assert audited(desk, "portal.link") == []


def test_another_sites_form_cannot_sign_a_visitor_in(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    path = link(desk, borrower)
    client = desk.client()
    for header in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                   {"Sec-Fetch-Site": "same-site", "Origin": "http://testserver"}):  # fmt: skip
        refused = client.post(path, headers=header, follow_redirects=False)
        assert refused.status_code == 403, header
        assert "该表单并非从本页面提交" in refused.text, header
        assert PORTAL_COOKIE not in refused.headers.get("set-cookie", ""), header
    assert audited(desk, "portal.sign_in") == []
    own_page = {"Sec-Fetch-Site": "same-origin", "Origin": "http://testserver"}
    assert client.post(path, headers=own_page, follow_redirects=False).status_code == 303


def test_a_new_link_ends_the_session_the_browser_had_open(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    client, _ = opened(desk, borrower)
    old = client.cookies[PORTAL_COOKIE]
    assert client.post(link(desk, borrower), follow_redirects=False).status_code == 303
    assert client.cookies[PORTAL_COOKIE] != old
    stale = desk.client()
    stale.cookies.set(PORTAL_COOKIE, old)
    assert stale.get("/my", follow_redirects=False).status_code == 401
    assert audited(desk, "portal.sign_out") == [(BORROWER_ACTOR, f"borrower:{borrower}")]


def test_errors_in_the_portal_are_its_own_pages_in_the_sessions_language(desk: Desk) -> None:
    borrower, _ = past_due_borrower(desk)
    speaks(desk, borrower, "zh-TW")
    client, csrf = opened(desk, borrower)
    desk.signed_in("admin")  # a workbench session in the same browser changes nothing
    english = {"Accept-Language": "en"}
    answers = [
        client.post("/my/locale", data={"csrf_token": csrf, "locale": "fr"}, headers=english),
        client.post("/my/locale", data={"csrf_token": csrf}, headers=english),
        client.get("/my/sign-out", headers=english),
        client.post("/my/sign-out", headers=english),
        client.get("/my/nothing-here", headers=english),
    ]
    assert [a.status_code for a in answers] == [422, 422, 405, 403, 404]
    for answer in answers:
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert '<body class="portal">' in answer.text
        assert "X-CSRF-Token" not in answer.text  # nothing of a workbench session
        assert "返回我的借款" in answer.text  # zh-TW, the session's, not the browser's
    assert "語言 &#39;fr&#39; 不在可選範圍內" in answers[0].text  # zh-TW, not zh-CN's 语言
    assert "該表單並非從本頁面送出" in answers[3].text
    gone = desk.client().get("/p/", headers=english)
    assert (gone.status_code, '<body class="portal">' in gone.text) == (404, True)


def test_the_demo_prints_a_link_of_a_borrower_owing_penalty(desk: Desk) -> None:
    console = Console(record=True, width=300)
    print_portal_link(desk.app.database_url, "http://127.0.0.1:8000", console)
    said = console.export_text()
    found = re.search(r"as borrower (\S+),.*: http://127\.0\.0\.1:8000/p/(\S+)", said)
    assert found is not None, said
    borrower, token = found.groups()
    assert link_opens(desk.app.portal, token, datetime.now(UTC))
    as_of = balance_day(desk.app, desk.now)
    theirs = list(desk.app.ledger.load_book(desk.app.portal.loan_ids(borrower)))
    assert any(desk.app.evaluate(loan, paid, as_of).overdue.penalty > 0 for loan, paid in theirs)


def test_a_borrower_with_no_loan_is_told_so(desk: Desk) -> None:
    with desk.app.engine.begin() as conn:
        conn.execute(insert(borrowers).values(borrower_id="B-none", name="王五",
                                              phone="+8613900000009"))  # fmt: skip
    client, _ = opened(desk, "B-none")
    page = client.get("/my")
    assert page.status_code == 200
    assert "您在本机构没有借款" in page.text
    assert 'id="dispute"' not in page.text


def test_the_loans_are_listed_by_contract_date(desk: Desk) -> None:
    # The book loads loans by id: the page had listed them so (helper-116). A second loan,
    # its id after the first's, was lent a year before it.
    borrower, [first] = past_due_borrower(desk)
    with desk.app.engine.begin() as conn:
        row = conn.execute(select(loans).where(loans.c.loan_id == first)).mappings().one()
        earlier = row["contract_date"] - timedelta(days=365)
        conn.execute(insert(loans).values({**row, "loan_id": "L9999999",
                                           "contract_date": earlier}))  # fmt: skip
    client, _ = opened(desk, borrower)
    page = client.get("/my").text
    assert page.index("借款 L9999999") < page.index(f"借款 {first}")


def test_what_paid_a_line_in_place_of_a_payment_is_named_in_the_borrowers_words(
    desk: Desk,
) -> None:
    # L0000001's allocations include money held as credit and a refund over the cost cap:
    # its statement showed them as `credit` and `cap_refund` (helper-127).
    with desk.app.engine.connect() as conn:
        borrower = conn.execute(
            select(loans.c.borrower_id).where(loans.c.loan_id == "L0000001")
        ).scalar_one()
    client, _ = opened(desk, borrower)
    page = client.get("/my").text
    assert "<td>余额抵扣</td>" in page
    assert "<td>超出费用上限退还</td>" in page
    assert "<td>cap_refund</td>" not in page
    assert "<td>credit</td>" not in page
