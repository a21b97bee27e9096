"""The workbench in a real browser (Debian's chromium, driven by playwright, headless):
sign in, open a queue and a case, read the itemised balance, log a call the rules block and
see why, log an allowed call and a promise, propose a plan that needs approval, approve it as
the supervisor. Screenshots of the main pages (zh-CN) go to $ARREARS_SCREENSHOTS when set."""

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from arrears.domain.money import format_amount
from arrears.entrypoints.demo_staff import DEMO_PASSWORD
from tests.entrypoints.web.desk_book import AS_OF, DAY_TIME, EARLY_TIME, Desk

CHROMIUM = "/usr/bin/chromium"  # Debian's (Makefile: DEB_PACKAGES); playwright cannot download


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make sysdeps` installs Debian's chromium")
    with sync_playwright() as driver:
        launched = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def served(desk: Desk) -> Iterator[str]:
    """The desk's app served on a free local port; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(desk.web, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def shot(page: Page, name: str) -> None:
    """Keep a screenshot of the page when asked to (for a person to look at)."""
    folder = os.environ.get("ARREARS_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=name != "case")


def sign_in(page: Page, base: str, user_id: str) -> None:
    page.goto(f"{base}/queue")
    expect(page.locator("h1")).to_have_text("登录")
    page.fill("input[name=user_id]", user_id)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("#queue")).to_be_visible()


def test_a_collectors_day_and_a_supervisors_approval(
    desk: Desk, served: str, browser: Browser
) -> None:
    desk.now = EARLY_TIME  # 07:00 in Shanghai: the desk opens before calls may start
    page = browser.new_page(locale="zh-CN", viewport={"width": 1360, "height": 900})
    page.goto(f"{served}/login")
    shot(page, "login")
    sign_in(page, served, "col-east-1")
    rows = page.locator("#queue tbody tr")
    assert rows.count() > 0
    expect(page.locator("h1")).to_contain_text("工作队列")
    shot(page, "queue")

    rows.first.locator("a").click()
    expect(page.locator("#balance")).to_contain_text("逾期合计")
    loan_id = page.url.rsplit("/", 1)[1]
    ((loan, payments),) = desk.app.ledger.load_book([loan_id])
    owed = desk.app.terms.evaluate(loan, payments, AS_OF).overdue.total
    assert owed > 0
    expect(page.locator("#overdue-total")).to_have_text(f"¥{format_amount(owed)}")
    expect(page.locator("#may-contact")).to_contain_text("电话")
    shot(page, "case")

    page.select_option("#log-contact select[name=channel]", "call")
    page.click("#log-contact button[type=submit]")
    blocked = page.locator("#contact-violation")  # made at night: recorded, flagged
    expect(blocked).to_contain_text("违反规则")
    expect(blocked).to_contain_text("cn.quiet_hours")
    expect(blocked).to_contain_text("夜间禁止催收时段")
    shot(page, "call-blocked")

    desk.now = DAY_TIME  # 10:30, the same session: allowed
    page.click("#log-contact button[type=submit]")
    expect(page.locator("#contact-logged")).to_contain_text("已登记")
    page.fill("#promise input[name=amount]", "500.00")
    page.fill("#promise input[name=due_on]", "2025-10-08")
    page.click("#promise button[type=submit]")
    expect(page.locator("#promise-result")).to_contain_text("已记录还款承诺")

    # A refusal is shown where the form was (htmx swaps 4xx answers too), in the page's
    # language (helper-58: case work's refusals reached Chinese pages in English).
    page.fill("#notes textarea[name=text]", "   ")
    page.click("#notes button[type=submit]")
    expect(page.locator("#note-result")).to_contain_text("备注不能为空")

    page.select_option("#propose select[name=kind]", "plan")
    page.fill("#propose input[name=months]", "12")
    page.click("#propose button[type=submit]")
    expect(page.locator("#proposal-status")).to_contain_text("已提交审批")
    loan_url = page.url
    page.click("header form[action='/logout'] button")
    expect(page.locator("h1")).to_have_text("登录")

    sign_in(page, served, "sup-east")
    page.goto(f"{served}/approvals")
    row = page.locator("#approvals tbody tr").first
    expect(row).to_contain_text("分期还款")
    expect(row).to_contain_text("12 期")
    shot(page, "approvals")
    page.goto(f"{served}/dashboard")
    expect(page.locator("#buckets svg")).to_be_visible()
    shot(page, "dashboard")
    page.goto(f"{served}/approvals")
    row = page.locator("#approvals tbody tr").first
    row.locator("button[value=approve]").click()
    expect(row).to_contain_text("已批准")
    page.goto(loan_url)
    expect(page.locator("#promises")).to_contain_text("已批准")

    # The supervisor refers the case to legal, with the reason; the page shows the referral.
    page.fill("#legal input[name=reason]", "借款人明确拒绝还款")
    page.click("#legal button:has-text('移交法务')")
    expect(page.locator("#flag-result")).to_contain_text("已设置标记")
    page.goto(loan_url)
    expect(page.locator("h1")).to_contain_text("已移交法务")
    expect(page.locator("#referral")).to_contain_text("sup-east")
    expect(page.locator("#referral")).to_contain_text("借款人明确拒绝还款")
    page.locator("#legal").scroll_into_view_if_needed()
    shot(page, "case-referred")
    page.click("#referral button")
    expect(page.locator("#flag-result")).to_contain_text("已撤回标记")
    page.close()


def test_the_language_switches_to_traditional_chinese_and_english(
    desk: Desk, served: str, browser: Browser
) -> None:
    page = browser.new_page(locale="zh-CN")
    sign_in(page, served, "compliance")
    page.select_option("header select[name=locale]", "zh-TW")
    expect(page.locator("h1")).to_contain_text("工作佇列")
    page.goto(f"{served}/audit")
    expect(page.locator("#chain-status")).to_contain_text("雜湊鏈驗證通過")
    page.select_option("header select[name=locale]", "en")
    expect(page.locator("#chain-status")).to_contain_text("The hash chain verifies")
    shot(page, "audit-en")
    page.close()


def test_a_us_case_shows_its_time_bar_and_its_dollars(
    desk: Desk, served: str, browser: Browser
) -> None:
    from sqlalchemy import insert

    from arrears.adapters.db.tables import runs
    from tests.entrypoints.web.test_casework_flows import my_case
    from tests.entrypoints.web.test_visits_and_legal import oldest_unpaid_of_a_us_loan

    loan_id = my_case(desk)
    oldest = oldest_unpaid_of_a_us_loan(desk, loan_id)
    barred = oldest.replace(year=oldest.year + 3)
    with desk.app.engine.begin() as conn:  # a run on the day: balances as of then
        conn.execute(insert(runs).values(as_of=barred, finished_at=desk.now, loans=0, summary={}))
    desk.now = datetime.combine(barred, desk.now.timetz())  # the desk's day: barred that day
    page = browser.new_page(locale="zh-CN", viewport={"width": 1360, "height": 900})
    sign_in(page, served, "admin")
    page.goto(f"{served}/cases/{loan_id}")
    expect(page.locator("h1 #time-barred")).to_have_text("已过诉讼时效")
    expect(page.locator("#time-bar")).to_contain_text(f"自 {barred} 起已过诉讼时效")
    expect(page.locator("#balance")).to_contain_text("US$")
    shot(page, "case-us-time-barred")
    page.select_option("header select[name=locale]", "en")
    expect(page.locator("#time-bar")).to_contain_text(f"Time-barred since {barred}")
    page.select_option("header select[name=locale]", "zh-CN")
    expect(page.locator("#time-bar")).to_contain_text(f"自 {barred} 起已过诉讼时效")
    page.goto(f"{served}/queue")  # dollars beside yuan, no rate given: the queue says so
    expect(page.locator("#unweighed")).to_contain_text("以 USD 计的金额按 1:1 视同 CNY")
    shot(page, "queue-unweighed")
    page.close()


def test_an_administrator_moves_a_collector_and_resets_a_password(
    desk: Desk, served: str, browser: Browser
) -> None:
    page = browser.new_page(locale="zh-CN", viewport={"width": 1360, "height": 900})
    sign_in(page, served, "admin")
    page.goto(f"{served}/admin/users")
    change = page.locator("#change-col-east-1")
    change.locator("summary").click()
    expect(change.locator("select[name=team_id]")).to_have_value("team-east")
    change.locator("select[name=team_id]").select_option("team-west")
    change.get_by_role("button", name="保存").click()
    expect(change.locator(".result").first).to_contain_text("已修改用户")
    change.locator("input[name=password]").fill("a-new-secret-42")
    change.get_by_role("button", name="重置密码").click()
    expect(change.locator(".result").last).to_contain_text("已重置密码")
    teams = page.locator("#teams")
    teams.locator("input[name=team_id]").fill("team-north")
    teams.locator("input[name=name]").fill("华北三组")
    teams.get_by_role("button", name="创建").click()
    expect(teams.locator(".result")).to_contain_text("已创建小组")
    shot(page, "users-change")
    page.reload()
    expect(page.locator("#teams")).to_contain_text("华北三组")
    page.locator("#change-col-east-1 summary").click()
    expect(page.locator("#change-col-east-1 select[name=team_id]")).to_have_value("team-west")
    # The agency's evaluation, recorded in its row (cn.outsourcing: evaluated in 12 months).
    agency = page.locator("#agency-agency-hz")
    expect(agency).to_contain_text("可委外至 2026-09-30（cn.outsourcing）")
    evaluation = agency.locator("details.evaluate-agency")
    evaluation.locator("summary").click()
    evaluation.locator("input[name=on]").fill("2025-09-28")
    evaluation.get_by_role("button", name="保存").click()
    expect(evaluation.locator(".result")).to_contain_text("已记录委外机构评估")
    shot(page, "users-agency-evaluated")
    # Its commission renegotiated: 18% for the cases placed so far, 20% from now on.
    commission = agency.locator("details.agency-commission")
    commission.locator("summary").click()
    commission.locator("input[name=commission]").fill("0.2")
    commission.get_by_role("button", name="保存").click()
    expect(commission.locator(".result")).to_contain_text("已修改委外机构佣金比例")
    page.reload()
    expect(page.locator("#agency-agency-hz")).to_contain_text(
        "可委外至 2026-09-28（cn.outsourcing）"
    )
    expect(page.locator("#agency-agency-hz td.num")).to_have_text("20%")
    page.close()
    stored = desk.app.identity.user("col-east-1")
    assert stored is not None
    assert stored.team_id == "team-west"


def test_a_note_with_a_threat_is_kept_and_flagged_in_chinese(
    desk: Desk, served: str, browser: Browser
) -> None:
    page = browser.new_page(locale="zh-CN", viewport={"width": 1360, "height": 900})
    sign_in(page, served, "col-east-1")
    page.locator("#queue tbody tr").first.locator("a").click()
    expect(page.locator("#balance")).to_contain_text("逾期合计")
    loan_url = page.url
    page.select_option("#log-contact select[name=channel]", "call")
    note = "客户不接受方案，我说再不还就要坐 牢，还要通知你单位"
    page.fill("#log-contact input[name=note]", note)
    page.click("#log-contact button[type=submit]")
    expect(page.locator("#contact-logged")).to_contain_text("已登记")
    lint = page.locator("#contact-lint")
    expect(lint).to_contain_text("已按原文保存。内容质检发现：")
    expect(lint).to_contain_text("夸大法律后果")
    expect(lint).to_contain_text("「坐 牢」")
    expect(lint).to_contain_text("向第三方或公众透露债务、使用通讯录")
    lint.scroll_into_view_if_needed()
    shot(page, "contact-lint-logged")
    page.goto(loan_url)
    expect(page.locator("h1 #lint-flagged")).to_have_text("质检提示 1 条")
    marked = page.locator("#history mark.lint")
    expect(marked.first).to_have_text("坐 牢")
    expect(marked.first).to_have_attribute("title", "夸大法律后果")
    page.locator("#history").scroll_into_view_if_needed()
    shot(page, "case-content-lint")
    page.click("header form[action='/logout'] button")
    sign_in(page, served, "compliance")
    page.goto(f"{served}/dashboard")
    section = page.locator("#content-lint")
    expect(section).to_contain_text("内容质检标记的文本（按规则）")
    expect(section.locator("svg")).to_contain_text("夸大法律后果")
    expect(section.locator("#flagged-texts")).to_contain_text("联系记录备注")
    section.scroll_into_view_if_needed()
    shot(page, "dashboard-content-lint")
    page.close()
