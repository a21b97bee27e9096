"""Field visits and the legal track: refused until the ladder's gentler steps are on record,
approved by a supervisor, made by two collectors and recorded; legal steps in order, with
court, case number, costs and the enforcement deadline."""

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from httpx2 import Response
from sqlalchemy import delete, insert, select, update

from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.db.casework_tables import assignments, placements
from arrears.adapters.db.tables import cases, contact_attempts, loans, outbox, runs
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.domain.access import Principal, Role
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import ContactAttempt, ContactDecision
from arrears.domain.errors import DomainError
from arrears.domain.legal_deadlines import deadline_after
from arrears.domain.legal_track import LegalStep
from arrears.domain.revisions import Revision
from arrears.services.desk_contact import desk_attempt
from arrears.services.import_feed import import_feed
from arrears.services.ports import AttemptsChanged, ContactFile
from tests.entrypoints.web.desk_book import AS_OF, DAY_TIME, Desk, placement_steps_done
from tests.entrypoints.web.test_casework_flows import my_case


def missing(answer: Response) -> list[str]:
    """An escalation guard's 409: each prerequisite it found missing, as every 409's reasons
    give a rule (objects: they were texts, against the API's schema, helper-112)."""
    reasons = answer.json()["reasons"]
    for reason in reasons:
        assert set(reason) == {"rule", "source", "detail", "passed"}, reason
        assert reason["rule"].startswith("escalation.")
        assert not reason["passed"]
    return [reason["detail"] for reason in reasons]


def approved_visit(desk: Desk, loan_id: str) -> int:
    """A visit of col-east-1 and col-east-2 on 2025-10-03, its gentler steps done first,
    approved by their supervisor."""
    gentler_steps_done(desk, loan_id)
    body = {"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-03",
            "reason": "unreachable for a month"}  # fmt: skip
    made = desk.client().post(
        f"/api/v1/cases/{loan_id}/visits", headers=desk.bearer("col-east-1"), json=body
    )
    visit: int = made.json()["visit_id"]
    decided = desk.client().post(
        f"/api/v1/visits/{visit}/decision", headers=desk.bearer("sup-east"), json={"approve": True}
    )
    assert decided.json()["status"] == "approved"
    return visit


def status_of(desk: Desk, visit_id: int) -> str:
    """A stored visit's status."""
    visit = desk.app.track.visit(visit_id)
    assert visit is not None
    return str(visit["status"])


def borrower_of(desk: Desk, loan_id: str) -> str:
    with desk.app.engine.connect() as conn:
        return str(
            conn.execute(select(loans.c.borrower_id).where(loans.c.loan_id == loan_id)).scalar_one()
        )


def failed_calls(desk: Desk, borrower: str, count: int, *, allowed: bool = True) -> None:
    """`count` unanswered calls to the borrower, two a day on the days before the desk's
    (`allowed`: as the contact rules judged them when logged)."""
    with desk.app.engine.begin() as conn:
        for n in range(count):
            at = DAY_TIME - timedelta(days=1 + n // 2, hours=n % 2)
            conn.execute(
                insert(contact_attempts).values(
                    borrower_id=borrower,
                    channel="call",
                    to_phone=None,
                    at=at,
                    outcome="no_answer",
                    recorded_at=at,
                    allowed=allowed,
                    reasons=[],
                )
            )


def visit_decided(
    desk: Desk, loan_id: str, borrower: str
) -> tuple[ContactAttempt, ContactDecision, AuditEntry, ContactFile]:
    """A connected visit at 10:00 in Shanghai on 3 October, decided as col-east-1's report
    decides it (desk_attempt), not stored."""
    attempt, decision, entry, file, _ = desk_attempt(
        desk.app.contacts, desk.app.audit_log, desk.app.contact_terms,
        Principal("col-east-1", Role.COLLECTOR, "team-east"), (loan_id, borrower),
        ("visit", datetime(2025, 10, 3, 2, 0, tzinfo=UTC), None), "connected", desk.now,
    )  # fmt: skip
    return attempt, decision, entry, file


def gentler_steps_done(desk: Desk, loan_id: str) -> None:
    """Six failed calls on three days, the formal notice sent, the agency placed (forty days
    before, with it since): what the shipped ladder's guard asks before a field visit (and a
    lawyer's letter)."""
    borrower = borrower_of(desk, loan_id)
    failed_calls(desk, borrower, 6)
    with desk.app.engine.begin() as conn:
        for action in ("formal_notice", "agency_placement"):
            conn.execute(
                insert(outbox).values(
                    action_key=f"test:{loan_id}:{action}",
                    loan_id=loan_id,
                    borrower_id=borrower,
                    action=action,
                    channel=None,
                    template=action,
                    planned_for=AS_OF - timedelta(days=9 if action == "formal_notice" else 40),
                    stage="late",
                    arm="champion",
                    status="done",
                    outcome="sent" if action == "formal_notice" else "done",
                )
            )


def test_a_visit_is_refused_until_the_gentler_steps_are_done(desk: Desk) -> None:
    loan_id = my_case(desk)
    headers = desk.bearer("col-east-1")
    body = {
        "collectors": ["col-east-1", "col-east-2"],
        "planned_on": "2025-10-03",
        "reason": "unreachable for a month",
    }
    refused = desk.client().post(f"/api/v1/cases/{loan_id}/visits", headers=headers, json=body)
    assert refused.status_code == 409
    said = " ".join(missing(refused))
    for step in ("call", "formal_notice", "agency_placement"):
        assert step in said, said
    one = desk.client().post(
        f"/api/v1/cases/{loan_id}/visits",
        headers=headers,
        json={**body, "collectors": ["col-east-1", "col-east-1"]},
    )
    assert one.status_code == 422
    assert "2 different collectors" in one.json()["error"]


def test_a_guards_refusal_names_the_missing_steps_in_the_readers_language(desk: Desk) -> None:
    # A visit or a lawyer's letter refused by the ladder's guard read "field_visit_request 被
    # 拒絕：missing: call failed|no_answer|busy|refused ≥ 6 on ≥ 3 days in the last 60 days
    # (found none); missing: formal_notice sent|delivered (found none); …" on Chinese pages.
    loan_id = my_case(desk)
    client, csrf = desk.signed_in("col-east-1")
    hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    visit = {"second": "col-east-2", "planned_on": "2025-10-03", "reason": "unreachable"}
    client.post("/me/locale", data={"locale": "zh-TW", "csrf_token": csrf})
    refused = client.post(f"/cases/{loan_id}/visits", headers=hx, data=visit)
    assert refused.status_code == 409
    assert (
        "「申請外訪」被拒絕：缺少：電話（失敗、無人接聽、忙線或拒絕）至少 6 次，分布在至少 3 天，"
        "限最近 60 天內（未找到）；缺少：催款通知函（已發送或已送達）（未找到）；"
        "缺少：委外催收（已完成），且已持續至少 30 天（未找到）"
    ) in refused.text
    failed_calls(desk, borrower_of(desk, loan_id), 2)
    client.post("/me/locale", data={"locale": "zh-CN", "csrf_token": csrf})
    refused = client.post(f"/cases/{loan_id}/visits", headers=hx, data=visit)
    assert "缺少：电话（失败、无人接听、占线或拒绝）至少 6 次，分布在至少 3 天，限最近 60 天内" in (
        refused.text
    )
    assert "（找到 2 次，共 1 天）" in refused.text
    officer, token = desk.signed_in("admin")
    officer.post("/me/locale", data={"locale": "zh-TW", "csrf_token": token})
    letter = officer.post(
        f"/cases/{loan_id}/legal",
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
        data={"step": "lawyers_letter", "on": "2025-10-01"},
    )
    assert letter.status_code == 409
    assert "「律師函」被拒絕：缺少：催款通知函（已發送或已送達）（未找到）" in letter.text
    for page in (refused, letter):
        assert "missing" not in page.text
        assert "found" not in page.text
    # The API keeps the guard's English.
    body = {"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-03",
            "reason": "unreachable"}  # fmt: skip
    headers = desk.bearer("col-east-1")
    api = desk.client().post(f"/api/v1/cases/{loan_id}/visits", headers=headers, json=body)
    assert api.json()["error"].startswith(
        "field_visit_request refused: missing: call failed|no_answer|busy|refused ≥ 6 on ≥ 3 "
        "days in the last 60 days (found 2 on 1 day(s)); missing: formal_notice"
    )


def test_a_visit_is_planned_from_today_and_within_ninety_days(desk: Desk) -> None:
    # The desk's today is 2025-10-01 (Shanghai): a visit the day before or a year ahead is a
    # mistake, refused naming the field, on the API in English and on the page in Chinese.
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    headers = desk.bearer("col-east-1")
    body = {"collectors": ["col-east-1", "col-east-2"], "reason": "unreachable for a month"}
    url = f"/api/v1/cases/{loan_id}/visits"
    for planned_on, said in (("2025-09-30", "from today (2025-10-01)"),
                             ("2025-12-31", "at most 90 days ahead (until 2025-12-30)"),
                             ("2026-10-01", "at most 90 days ahead")):  # fmt: skip
        refused = desk.client().post(url, headers=headers, json={**body, "planned_on": planned_on})
        assert refused.status_code == 422, planned_on
        error = refused.json()["error"]
        assert error.startswith("planned_on: "), error
        assert said in error
        assert planned_on in error
    assert desk.app.track.visits(loan_id) == []  # nothing stored
    client, csrf = desk.signed_in("col-east-1")
    client.post("/me/locale", data={"locale": "zh-TW", "csrf_token": csrf})
    page = client.post(
        f"/cases/{loan_id}/visits",
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        data={"second": "col-east-2", "planned_on": "2025-09-30", "reason": "unreachable"},
    )
    assert page.status_code == 422
    assert "planned_on：外訪預定日期須從今天（2025-10-01）起，不能是 2025-09-30" in page.text
    for planned_on in ("2025-10-01", "2025-12-30"):  # today and the 90th day
        made = desk.client().post(url, headers=headers, json={**body, "planned_on": planned_on})
        assert made.status_code == 201, made.text
        decide(desk, made.json()["visit_id"], approve=False)  # one open visit at a time


def test_calls_the_rules_refused_do_not_open_the_way_to_a_visit(desk: Desk) -> None:
    # Six unanswered calls logged at 23:30 (flagged allowed = false) with the notice sent and
    # the agency tried: the guard still finds no call (found by helper-52).
    loan_id = my_case(desk)
    placement_steps_done(desk.app, [loan_id], calls=0)
    with desk.app.engine.begin() as conn:
        conn.execute(insert(outbox).values(
            action_key=f"test:{loan_id}:agency_placement", loan_id=loan_id,
            borrower_id=borrower_of(desk, loan_id), action="agency_placement", channel=None,
            template="agency_placement", planned_for=AS_OF - timedelta(days=40), stage="late",
            arm="champion", status="done", outcome="done",
        ))  # fmt: skip
    failed_calls(desk, borrower_of(desk, loan_id), 6, allowed=False)
    body = {"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-03",
            "reason": "unreachable for a month"}  # fmt: skip
    headers = desk.bearer("col-east-1")
    refused = desk.client().post(f"/api/v1/cases/{loan_id}/visits", headers=headers, json=body)
    assert refused.status_code == 409
    assert missing(refused) == [
        "missing: call failed|no_answer|busy|refused ≥ 6 on ≥ 3 days in the last 60 days "
        "(found none)"
    ]


def test_a_visit_requested_approved_made_and_recorded(desk: Desk) -> None:
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    collector = desk.bearer("col-east-1")
    body = {
        "collectors": ["col-east-1", "col-east-2"],
        "planned_on": "2025-10-03",
        "reason": "unreachable for a month",
    }
    made = desk.client().post(f"/api/v1/cases/{loan_id}/visits", headers=collector, json=body)
    assert made.status_code == 201, made.text
    visit = made.json()["visit_id"]
    # The request keeps what its guard found done, for the approver (helper-57: it kept
    # "met: the prerequisites", whatever was done).
    stored = desk.app.track.visit(visit)
    assert stored is not None
    assert len(stored["guard"]) >= 3, stored["guard"]
    assert all(r.startswith("met: ") and r != "met: the prerequisites" for r in stored["guard"])
    assert any("formal_notice" in r for r in stored["guard"]), stored["guard"]
    [asked] = [e.entry for e in desk.app.audit_log.entries(actor="col-east-1")
               if e.entry.action == "visit.request"]  # fmt: skip
    assert asked.detail["reason"] == "unreachable for a month"  # the why, audited (helper-61)
    report = {
        "visited_at": "2025-10-03T10:00:00+08:00",
        "outcome": "connected",
        "recording": "rec-2025-10-03-001.mp4",
        "identification_shown": True,
    }
    early = desk.client().post(f"/api/v1/visits/{visit}/report", headers=collector, json=report)
    assert early.status_code == 422  # not approved yet
    assert (
        desk.client()
        .post(f"/api/v1/visits/{visit}/decision", headers=collector, json={"approve": True})
        .status_code
        == 403
    )
    approved = desk.client().post(
        f"/api/v1/visits/{visit}/decision", headers=desk.bearer("sup-east"),
        json={"approve": True, "note": "  two collectors, daytime only  "},
    )  # fmt: skip
    assert approved.json()["status"] == "approved"
    # The approver's note is kept with the decision (helper-57: it was dropped).
    [decided] = [e.entry for e in desk.app.audit_log.entries(actor="sup-east")
                 if e.entry.action == "visit.approve"]  # fmt: skip
    assert decided.detail == {"visit": visit, "note": "two collectors, daytime only"}
    desk.now = datetime(2025, 10, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai on the day
    unrecorded = desk.client().post(
        f"/api/v1/visits/{visit}/report", headers=collector, json={**report, "recording": " "}
    )
    assert unrecorded.status_code == 422
    assert "recorded" in unrecorded.json()["error"]
    night = desk.client().post(
        f"/api/v1/visits/{visit}/report",
        headers=collector,
        json={**report, "visited_at": "2025-10-03T07:30:00+08:00"},
    )
    assert night.status_code == 409  # the contact rules: quiet hours
    ahead = desk.client().post(
        f"/api/v1/visits/{visit}/report",
        headers=collector,
        json={**report, "visited_at": "2025-10-04T10:00:00+08:00"},
    )
    assert ahead.status_code == 422  # not yet happened
    # The second collector reports it: the case is not theirs, the visit is.
    second = desk.bearer("col-east-2")
    assert desk.client().get(f"/api/v1/cases/{loan_id}", headers=second).status_code == 404
    done = desk.client().post(f"/api/v1/visits/{visit}/report", headers=second, json=report)
    assert done.status_code == 200, done.text
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=collector).json()
    assert case["visits"][0]["status"] == "done"
    assert case["visits"][0]["recording"] == "rec-2025-10-03-001.mp4"
    assert [a["channel"] for a in case["attempts"]].count("visit") == 1
    twice = desk.client().post(f"/api/v1/visits/{visit}/report", headers=collector, json=report)
    assert twice.status_code == 422
    # Two reports at once both pass the status check before either is written: the store
    # moves the visit on and records its contact in one transaction, so the second writes
    # nothing.
    borrower = borrower_of(desk, loan_id)
    attempt, decision, entry, file = visit_decided(desk, loan_id, borrower)
    late = desk.app.track.report_visit(
        visit, {"status": "done"}, entry, (borrower, attempt, desk.now, decision, entry, file)
    )
    assert late is False
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=collector).json()
    assert [a["channel"] for a in case["attempts"]].count("visit") == 1


def test_a_visits_refusals_name_its_outcomes_and_sources_in_the_readers_language(
    desk: Desk,
) -> None:
    # A visit's report refused named the outcomes by their codes (外訪結果應為 connected,
    # no_answer, refused 之一) and its sources in English (CBA 2026 Art. 22; NIFA 2018 Art. 21).
    loan_id = my_case(desk)
    visit = approved_visit(desk, loan_id)
    desk.now = datetime(2025, 10, 3, 4, 0, tzinfo=UTC)
    client, csrf = desk.signed_in("col-east-1")
    hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    report = {"visited_at": "2025-10-03T10:00", "outcome": "connected",
              "recording": "rec-1.mp4", "identification_shown": "true"}  # fmt: skip
    tw = "中國銀行業協會 2026 第二十二條；中國互聯網金融協會 2018 第二十一條"
    cn = "中国银行业协会 2026 第二十二条；中国互联网金融协会 2018 第二十一条"
    named = "已指定：col-east-1, col-east-1"
    said = {
        "zh-TW": ("外訪結果應為接通、無人接聽或拒絕；不能是 &#39;left&#39;",
                  f"外訪須全程錄音或錄影（{tw}）：請填寫錄音錄影編號",
                  f"外訪時催收員須出示身分證明（{tw}）",
                  f"外訪須指定 2 名不同的催收員（{tw}）；{named}"),
        "zh-CN": ("外访结果应为接通、无人接听或拒绝；不能是 &#39;left&#39;",
                  f"外访须全程录音或录像（{cn}）：请填写录音录像编号",
                  f"外访时催收员须出示身份证明（{cn}）",
                  f"外访须指定 2 名不同的催收员（{cn}）；{named}"),
    }  # fmt: skip
    for locale, (outcome, recording, identification, collectors) in said.items():
        client.post("/me/locale", data={"locale": locale, "csrf_token": csrf})
        url = f"/visits/{visit}/report"
        left = client.post(url, headers=hx, data={**report, "outcome": "left"})
        assert left.status_code == 422
        assert outcome in left.text
        unrecorded = client.post(url, headers=hx, data={**report, "recording": " "})
        assert recording in unrecorded.text
        unshown = {k: v for k, v in report.items() if k != "identification_shown"}
        assert identification in client.post(url, headers=hx, data=unshown).text
        request = {"second": "col-east-1", "planned_on": "2025-10-04", "reason": "unreachable"}
        alone = client.post(f"/cases/{loan_id}/visits", headers=hx, data=request)
        assert collectors in alone.text
        for refused in (left, unrecorded, alone):
            assert "Art." not in refused.text
            assert "no_answer" not in refused.text
    # The page offers the domain's outcomes of a visit, named.
    page = client.get(f"/cases/{loan_id}").text
    form = page.split(f'hx-post="/visits/{visit}/report"', 1)[1].split("</form>", 1)[0]
    assert re.findall(r'<option value="(\w+)">([^<]*)</option>', form)[:3] == [
        ("connected", "接通"),
        ("no_answer", "无人接听"),
        ("refused", "拒绝"),
    ]


def test_a_visits_contact_decided_before_another_attempt_is_decided_again(desk: Desk) -> None:
    # A visit's contact is decided on the borrower's attempts as they were; a call logged
    # for the borrower before the report is written makes the store refuse it (nothing
    # written), so that the service decides it again counting the call, as a desk's call
    # is (a pack whose caps count visits would otherwise let one through over the cap).
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    collector = desk.bearer("col-east-1")
    body = {"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-03",
            "reason": "unreachable for a month"}  # fmt: skip
    visit = desk.client().post(f"/api/v1/cases/{loan_id}/visits", headers=collector, json=body)
    visit_id = visit.json()["visit_id"]
    approved = desk.client().post(
        f"/api/v1/visits/{visit_id}/decision",
        headers=desk.bearer("sup-east"),
        json={"approve": True},
    )
    assert approved.json()["status"] == "approved"
    desk.now = datetime(2025, 10, 3, 4, 0, tzinfo=UTC)
    borrower = borrower_of(desk, loan_id)
    attempt, decision, entry, file = visit_decided(desk, loan_id, borrower)
    call = desk.client().post(f"/api/v1/cases/{loan_id}/contacts", headers=collector,
                              json={"channel": "call", "outcome": "no_answer"})  # fmt: skip
    assert call.status_code == 201, call.text
    with pytest.raises(AttemptsChanged):
        desk.app.track.report_visit(
            visit_id,
            {"status": "done"},
            entry,
            (borrower, attempt, desk.now, decision, entry, file),
        )
    stored = desk.app.track.visit(visit_id)
    assert stored is not None
    assert stored["status"] == "approved"
    # Through the service the contact is decided again, counting the call, and recorded.
    report = {"visited_at": "2025-10-03T10:00:00+08:00", "outcome": "connected",
              "recording": "rec-2025-10-03-002.mp4", "identification_shown": True}  # fmt: skip
    done = desk.client().post(f"/api/v1/visits/{visit_id}/report", headers=collector, json=report)
    assert done.status_code == 200, done.text
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=collector).json()
    assert [a["channel"] for a in case["attempts"]].count("visit") == 1


def test_the_legal_track_goes_in_order_with_its_deadline_and_costs(desk: Desk) -> None:
    loan_id = my_case(desk)
    desk.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # the desk's day: after every step below
    legal = desk.bearer("admin")  # the legal officer sees a case once it is on the track
    letter = {"step": "lawyers_letter", "on": "2025-10-02", "cost": "500.00"}
    refused = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=letter)
    assert refused.status_code == 409  # the notice and the agency first
    gentler_steps_done(desk, loan_id)
    wrong_first = desk.client().post(
        f"/api/v1/cases/{loan_id}/legal",
        headers=legal,
        json={"step": "judgment", "on": "2025-10-02", "performance_due": "2025-12-01"},
    )
    assert wrong_first.status_code == 422
    assert (
        desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=letter).status_code
        == 201
    )
    # Opening the track refers the loan to legal: the next run's legal stage takes it.
    referral = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["flags"]
    assert [(f["flag"], f["set_by"], f["set_on"]) for f in referral] == [
        ("legal", "admin", "2025-10-02")
    ]
    unnamed = desk.client().post(
        f"/api/v1/cases/{loan_id}/legal", headers=legal, json={"step": "filing", "on": "2025-10-20"}
    )
    assert unnamed.status_code == 422
    assert "case number" in unnamed.json()["error"]
    # Spaces name no court nor case number (they were kept: helper-121), nor does a
    # character nobody sees (helper-126).
    for court, number in (("   ", " "), ("\u200b", "\u3000\u200b")):
        filing = {"step": "filing", "on": "2025-10-20", "court": court, "case_number": number}
        blank = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=filing)
        assert blank.status_code == 422, blank.text
        assert "case number" in blank.json()["error"]
    steps = [
        {
            "step": "filing",
            "on": "2025-10-20",
            "cost": "1250.00",
            "court": " 杭州市西湖区人民法院 ",
            "case_number": "(2025)浙0106民初12345号",
        },
        {"step": "preservation", "on": "2025-10-25", "cost": "2000.00"},
        {"step": "judgment", "on": "2026-01-15", "performance_due": "2026-02-01"},
    ]
    for step in steps:
        answer = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=step)
        assert answer.status_code == 201, answer.text
    track = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["legal"]
    assert [s["step"] for s in track["steps"]] == [
        "lawyers_letter",
        "filing",
        "preservation",
        "judgment",
    ]
    assert track["costs"] == "3750.00"
    assert track["case_number"] == "(2025)浙0106民初12345号"
    assert track["court"] == "杭州市西湖区人民法院"  # trimmed
    assert track["deadline"] == "2028-02-01"  # enforcement within two years (Art. 250)
    legal_officer = desk.bearer("legal")
    assert desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal_officer).status_code == 200
    back = desk.client().post(
        f"/api/v1/cases/{loan_id}/legal",
        headers=legal_officer,
        json={"step": "enforcement", "on": "2026-01-01"},
    )
    assert back.status_code == 422  # before the judgment it follows
    collector = desk.client().post(
        f"/api/v1/cases/{loan_id}/legal",
        headers=desk.bearer("col-east-1"),
        json={"step": "closed", "on": "2026-03-01"},
    )
    assert collector.status_code == 403
    ahead = desk.client().post(
        f"/api/v1/cases/{loan_id}/legal", headers=legal, json={"step": "closed", "on": "2026-03-03"}
    )
    assert ahead.status_code == 422  # a step is recorded once taken
    assert "2026-03-03 is after 2026-03-02" in ahead.json()["error"]
    closed = desk.client().post(
        f"/api/v1/cases/{loan_id}/legal", headers=legal, json={"step": "closed", "on": "2026-03-01"}
    )
    assert closed.status_code == 201, closed.text
    # Closing the track withdraws the referral.
    assert desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["flags"] == []
    # Two steps sent at once both pass the service's check, made before either is written:
    # the store checks again once it holds the write lock, and writes nothing.
    entry = AuditEntry(desk.now, "admin", "legal.preservation", f"loan:{loan_id}", {})
    late = LegalStep("preservation", date(2026, 3, 2))
    with pytest.raises(DomainError, match="preservation cannot come after"):
        desk.app.track.add_step(loan_id, late, None, "admin", entry)
    steps = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["legal"]["steps"]
    assert [s["step"] for s in steps][-1] == "closed"


def oldest_unpaid_of_a_us_loan(desk: Desk, loan_id: str) -> date:
    """Make the loan a US one (in dollars); the effective due date of its oldest unpaid
    instalment (the domain's evaluation, which the desk's check uses too)."""
    with desk.app.engine.begin() as conn:
        conn.execute(
            update(loans)
            .where(loans.c.loan_id == loan_id)
            .values(product="us-installment", currency="USD")
        )
    loan, payments = next(iter(desk.app.ledger.load_book([loan_id])))
    dpd = desk.app.terms.evaluate(loan, payments, AS_OF).dpd
    assert dpd > 0
    return AS_OF - timedelta(days=dpd)


def test_no_lawyers_letter_or_filing_on_a_time_barred_us_debt(desk: Desk) -> None:
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)  # the US ladder's guards: notice sent, agency tried
    oldest = oldest_unpaid_of_a_us_loan(desk, loan_id)
    barred = oldest.replace(year=oldest.year + 3)  # 12 CFR 1006.26(b), the pack's 3 years
    desk.now = datetime.combine(barred + timedelta(days=2), DAY_TIME.timetz())
    legal = desk.bearer("admin")
    url = f"/api/v1/cases/{loan_id}/legal"

    def letter(on: date) -> dict[str, str]:
        return {"step": "lawyers_letter", "on": on.isoformat(), "cost": "300.00"}

    refused = desk.client().post(url, headers=legal, json=letter(barred))
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"].startswith(
        f"us.time_barred (unverified): time-barred since {barred} (oldest unpaid instalment "
        f"due {oldest}, limitation 3 years): no lawyers_letter — 12 CFR 1006.26(b)"
    )
    assert desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["legal"] is None
    # The day before, the letter goes out; a filing the next day is refused by the same rule.
    taken = desk.client().post(url, headers=legal, json=letter(barred - timedelta(days=1)))
    assert taken.status_code == 201, taken.text
    filing = {"step": "filing", "on": barred.isoformat(), "court": "Court", "case_number": "CV-1"}
    late = desk.client().post(url, headers=legal, json=filing)
    assert late.status_code == 409
    assert "no legal_review" in late.json()["error"]
    steps = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["legal"]["steps"]
    assert [s["step"] for s in steps] == ["lawyers_letter"]


def test_an_approved_extension_moves_the_time_bar_at_the_desk_as_at_night(desk: Desk) -> None:
    # The desk judges a step with the loan's state as the night works it (App.state_on: its
    # approved extensions, and its borrower's holds where its product pauses): extended 30
    # days from the desk's day, the instalments it owes are past due 30 days later, and so
    # its oldest unpaid due date, which the night's time bar reads (batch/time_barred.py),
    # is too (helper: the desk judged the loan without its extension, a month earlier).
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    oldest = oldest_unpaid_of_a_us_loan(desk, loan_id)
    made = desk.client().post(f"/api/v1/cases/{loan_id}/proposals",
                              headers=desk.bearer("col-east-1"),
                              json={"kind": "extension", "days": 30})  # fmt: skip
    assert made.json()["status"] == "approved", made.text
    # Its oldest unpaid instalment's due date as given, 30 days later, on a business day.
    loan, paid = next(iter(desk.app.ledger.load_book([loan_id])))
    extended = [Revision("extension", AS_OF + timedelta(days=1), 30)]
    later = oldest.replace(year=oldest.year + 4)
    moved = desk.app.terms.evaluate(loan, paid, later, (), extended).oldest_past_due
    assert moved is not None
    assert moved > oldest + timedelta(days=25)
    barred = moved.replace(year=moved.year + 3)
    desk.now = datetime.combine(barred + timedelta(days=2), DAY_TIME.timetz())
    legal, url = desk.bearer("admin"), f"/api/v1/cases/{loan_id}/legal"
    refused = desk.client().post(url, headers=legal, json={"step": "lawyers_letter",
                                                           "on": barred.isoformat()})  # fmt: skip
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"].startswith(
        f"us.time_barred (unverified): time-barred since {barred} (oldest unpaid instalment "
        f"due {moved}, limitation 3 years)"
    )
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()
    assert case["limitation"]["oldest_unpaid_due"] == moved.isoformat()
    # Three years after the date it had before the extension, the letter goes out.
    before = oldest.replace(year=oldest.year + 3)
    taken = desk.client().post(url, headers=legal, json={"step": "lawyers_letter",
                                                         "on": before.isoformat()})  # fmt: skip
    assert taken.status_code == 201, taken.text


def test_a_time_barred_step_is_refused_in_the_readers_language(desk: Desk) -> None:
    # The limitation rule's refusal reached zh-CN and zh-TW pages in English ("us.time_barred
    # (unverified): time-barred since … no lawyers_letter — 12 CFR 1006.26(b): a debt …").
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    oldest = oldest_unpaid_of_a_us_loan(desk, loan_id)
    barred = oldest.replace(year=oldest.year + 3)
    desk.now = datetime.combine(barred + timedelta(days=2), DAY_TIME.timetz())
    client, csrf = desk.signed_in("admin")
    hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    letter = {"step": "lawyers_letter", "on": barred.isoformat()}
    for locale, said in (
        ("zh-TW", f"us.time_barred（未經核實）：自 {barred} 起已過訴訟時效（最早未還期次於 "
                  f"{oldest} 到期，時效 3 年）：不得採取「律師函」——美國聯邦法規 12 CFR "
                  f"1006.26(b)：債務催收人不得為催收已過訴訟時效的債務"),
        ("zh-CN", f"us.time_barred（未经核实）：自 {barred} 起已过诉讼时效（最早未还期次于 "
                  f"{oldest} 到期，时效 3 年）：不得采取「律师函」——美国联邦法规 12 CFR "
                  f"1006.26(b)：债务催收人不得为催收已过诉讼时效的债务"),
        ("en", f"us.time_barred (unverified): time-barred since {barred} (oldest unpaid "
               f"instalment due {oldest}, limitation 3 years): no lawyer&#39;s letter — 12 CFR "
               f"1006.26(b): a debt collector must not"),
    ):  # fmt: skip
        client.post("/me/locale", data={"locale": locale, "csrf_token": csrf})
        refused = client.post(f"/cases/{loan_id}/legal", headers=hx, data=letter)
        assert refused.status_code == 409, locale
        assert said in refused.text, locale
        if locale != "en":
            assert "time-barred" not in refused.text
            assert "debt collector" not in refused.text
    assert desk.app.track.legal_case(loan_id) is None


def test_the_case_view_tells_when_a_us_debt_is_time_barred(desk: Desk) -> None:
    cn_loan = my_case(desk, "col-east-2")
    loan_id = my_case(desk)
    oldest = oldest_unpaid_of_a_us_loan(desk, loan_id)
    barred = oldest.replace(year=oldest.year + 3)
    legal = desk.bearer("admin")
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()
    assert case["limitation"] == {
        "rule": "us.time_barred", "years": 3, "refuses": ["lawyers_letter", "legal_review"],
        "oldest_unpaid_due": oldest.isoformat(), "barred_since": barred.isoformat(),
        "barred": False, "source": case["limitation"]["source"],
    }  # fmt: skip
    assert "1006.26(b)" in case["limitation"]["source"]
    assert desk.client().get(f"/api/v1/cases/{cn_loan}", headers=legal).json()["limitation"] is None
    client, _ = desk.signed_in("admin")
    page = client.get(f"/cases/{loan_id}").text
    assert f"将于 {barred} 过诉讼时效" in page
    assert 'id="time-barred"' not in page
    assert "US$" in page  # a US loan's amounts, and the forms' amounts, in dollars
    assert "¥" not in page
    assert "金额（US$）" in page
    # A waiver waiting for approval reads in dollars too.
    plan = {"kind": "plan", "months": 12}
    collector = desk.bearer("col-east-1")
    sent = desk.client().post(f"/api/v1/cases/{loan_id}/proposals", headers=collector, json=plan)
    assert sent.json()["status"] == "pending"
    approvals = client.get("/approvals").text
    assert f'id="proposal-{sent.json()["proposal_id"]}"' in approvals
    assert "US$" in approvals
    # Judged for the desk's day, as the desk's refusal of a letter is, whatever the last
    # run's day (helper: with the run of the day before, the barred day read "not barred"
    # while the letter was refused).
    with desk.app.engine.begin() as conn:
        conn.execute(insert(runs).values(as_of=barred - timedelta(days=1), finished_at=desk.now,
                                         loans=0, summary={}))  # fmt: skip
    desk.now = datetime.combine(barred - timedelta(days=1), DAY_TIME.timetz())
    day_before = desk.client().get(f"/api/v1/cases/{loan_id}", headers=desk.bearer("admin"))
    assert day_before.json()["limitation"]["barred"] is False
    desk.now = datetime.combine(barred, DAY_TIME.timetz())
    legal = desk.bearer("admin")
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()
    assert (case["as_of"], case["limitation"]["barred_since"], case["limitation"]["barred"]) == (
        (barred - timedelta(days=1)).isoformat(), barred.isoformat(), True
    )  # fmt: skip
    client, _ = desk.signed_in("admin")
    page = client.get(f"/cases/{loan_id}").text
    assert f"自 {barred} 起已过诉讼时效" in page
    assert 'id="time-barred"' in page
    letter = {"step": "lawyers_letter", "on": barred.isoformat()}
    refused = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=letter)
    assert refused.status_code == 409  # the view and the desk agree


def test_a_supervisor_refers_a_case_to_legal_and_the_legal_officer_withdraws_it(
    desk: Desk,
) -> None:
    with desk.app.engine.connect() as conn:
        loan_id = (
            conn.execute(
                select(assignments.c.loan_id)
                .join(cases, cases.c.loan_id == assignments.c.loan_id)
                .where(assignments.c.collector_id == "col-east-1", cases.c.stage == "mid")
                .order_by(assignments.c.loan_id)
            )
            .scalars()
            .first()
        )
    assert loan_id is not None
    url = f"/api/v1/cases/{loan_id}/flags"
    officer, supervisor = desk.bearer("legal"), desk.bearer("sup-east")
    assert desk.client().get(f"/api/v1/cases/{loan_id}", headers=officer).status_code == 404
    body = {"flag": "legal", "reason": "借款人明确表示拒绝还款"}
    collector = desk.client().post(url, headers=desk.bearer("col-east-1"), json=body)
    assert collector.status_code == 403
    unknown = desk.client().post(url, headers=supervisor, json={**body, "flag": "vip"})
    assert unknown.status_code == 422
    assert "flag 'vip' is unknown (known: legal)" in unknown.json()["error"]
    blank = desk.client().post(url, headers=supervisor, json={**body, "reason": "   "})
    assert blank.status_code == 422
    assert "needs a reason" in blank.json()["error"]
    assert desk.client().post(url, headers=supervisor, json=body).status_code == 201
    again = desk.client().post(url, headers=supervisor, json=body)
    assert again.status_code == 422
    assert "flagged legal already" in again.json()["error"]
    # Referred, the case is the legal officer's to see.
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=officer)
    assert case.status_code == 200
    assert [(f["flag"], f["set_by"], f["reason"]) for f in case.json()["flags"]] == [
        ("legal", "sup-east", "借款人明确表示拒绝还款")
    ]
    assert desk.client().delete(f"{url}/legal", headers=officer).status_code == 200
    assert desk.client().delete(f"{url}/legal", headers=officer).status_code == 404  # unseen
    assert desk.client().delete(f"{url}/legal", headers=supervisor).status_code == 422
    audit = (
        desk.client()
        .get("/api/v1/audit", headers=desk.bearer("admin"), params={"subject": f"loan:{loan_id}"})
        .json()["entries"]
    )
    assert [(e["action"], e["actor"]) for e in audit if e["action"].startswith("flag.")] == [
        ("flag.set", "sup-east"),
        ("flag.clear", "legal"),
    ]


CN_ENFORCEMENT = contact_packs()["cn"].enforcement


def test_the_enforcement_deadline_of_a_leap_day() -> None:
    judged = LegalStep("judgment", date(2028, 1, 10), performance_due=date(2028, 2, 29))
    found = deadline_after(judged, CN_ENFORCEMENT)
    assert found is not None
    assert (found.what, found.day, found.rule_id) == (
        "enforcement_application", date(2030, 2, 28), "cn.enforcement_deadline"
    )  # fmt: skip
    assert "民事诉讼法》(2023) 第二百五十条" in found.source
    assert deadline_after(LegalStep("preservation", date(2028, 1, 10)), CN_ENFORCEMENT) is None
    assert deadline_after(judged, None) is None  # a pack that sets none (us, uk)


def test_a_judgment_near_the_calendars_end_has_its_deadline_at_the_end() -> None:
    # Ten years after the judgment, or two after its day of performance, lie past 9999: the
    # date type ends there (a ValueError, a 500 answer, before).
    far = LegalStep("judgment", date(9995, 1, 1), performance_due=date(9995, 2, 1))
    assert getattr(deadline_after(far, CN_ENFORCEMENT), "day", None) == date(9997, 2, 1)
    last = LegalStep("judgment", date(9998, 1, 1), performance_due=date(9998, 6, 1))
    assert getattr(deadline_after(last, CN_ENFORCEMENT), "day", None) == date.max


def test_a_placement_at_the_desk_waits_for_its_guard_and_counts_as_the_agency_tried(
    desk: Desk,
) -> None:
    # The lawyer's letter's guard asks for the formal notice and the agency: a supervisor's
    # placement of the case is the agency tried, as a planned placement worked is.
    loan_id = my_case(desk)
    borrower = borrower_of(desk, loan_id)
    with desk.app.engine.begin() as conn:
        conn.execute(insert(outbox).values(
            action_key=f"test:{loan_id}:formal_notice", loan_id=loan_id, borrower_id=borrower,
            action="formal_notice", channel=None, template="formal_notice",
            planned_for=AS_OF - timedelta(days=9), stage="mid", arm="champion",
            status="done", outcome="sent",
        ))  # fmt: skip
    legal = desk.bearer("admin")
    letter = {"step": "lawyers_letter", "on": "2025-10-01", "cost": "500.00"}
    refused = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=letter)
    assert refused.status_code == 409
    assert "agency_placement" in " ".join(missing(refused))
    supervisor, agency = desk.bearer("sup-east"), {"agency_id": "agency-hz"}
    placement = f"/api/v1/cases/{loan_id}/placement"
    # The placement's own guard (the China ladder's: the notice sent and calls on two days)
    # holds at the desk as in the night's plan: a placement by hand skipped it before.
    early = desk.client().post(placement, headers=supervisor, json=agency)
    assert early.status_code == 409
    assert missing(early) == [
        "missing: call failed|no_answer|busy|refused|connected ≥ 3 on ≥ 2 days (found none)"
    ]
    placement_steps_done(desk.app, [loan_id])
    placed = desk.client().post(placement, headers=supervisor, json=agency)
    assert placed.status_code in (200, 201), placed.text
    # Once the agency has held it a week (the ladder's min_days: placed is not yet tried).
    desk.now = DAY_TIME + timedelta(days=7)
    letter = {**letter, "on": "2025-10-08"}
    sent = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=letter)
    assert sent.status_code == 201, sent.text


def test_the_legal_steps_are_named_in_the_readers_language(desk: Desk) -> None:
    # A refused step named the steps by their codes (律師函不能在after lawyers_letter, filing,
    # judgment進行；下一步可為：enforcement, preservation, closed), the message once a step
    # was recorded its code, and the enforcement deadline read in English.
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    desk.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    client, csrf = desk.signed_in("admin")
    client.post("/me/locale", data={"locale": "zh-TW", "csrf_token": csrf})
    url, hx = f"/cases/{loan_id}/legal", {"X-CSRF-Token": csrf, "HX-Request": "true"}
    first = client.post(url, headers=hx, data={"step": "judgment", "on": "2025-10-02",
                                               "performance_due": "2025-12-01"})  # fmt: skip
    assert first.status_code == 422
    assert "判決不能作為法律程序的第一步；下一步可為：律師函" in first.text
    letter = client.post(url, headers=hx, data={"step": "lawyers_letter", "on": "2025-10-02"})
    assert letter.status_code == 200, letter.text
    assert "已記錄法律步驟 律師函" in letter.text
    filing = {"step": "filing", "on": "2025-10-20", "court": "杭州市西湖区人民法院",
              "case_number": "(2025)浙0106民初12345号"}  # fmt: skip
    judgment = {"step": "judgment", "on": "2026-01-15", "performance_due": "2026-02-01"}
    for step in (filing, judgment):
        assert client.post(url, headers=hx, data=step).status_code == 200
    again = {"step": "lawyers_letter", "on": "2026-03-01"}
    refused = client.post(url, headers=hx, data=again)
    assert refused.status_code == 422
    said = "律師函不能在律師函、立案和判決之後進行；下一步可為：強制執行、財產保全或結案"
    assert said in refused.text
    before = client.post(url, headers=hx, data={"step": "preservation", "on": "2026-01-01"})
    assert "2026-01-01 的 財產保全 早於上一步驟（2026-01-15）" in before.text
    page = client.get(f"/cases/{loan_id}").text
    assert "期限: 2028-02-01" in page
    assert "申請強制執行（《中華人民共和國民事訴訟法》（2023）第二百五十條：申請執行" in page
    assert "enforcement application" not in page
    client.post("/me/locale", data={"locale": "zh-CN", "csrf_token": csrf})
    said = "律师函不能在律师函、立案和判决之后进行；下一步可为：强制执行、财产保全或结案"
    assert said in client.post(url, headers=hx, data=again).text
    said = "申请强制执行（《中华人民共和国民事诉讼法》（2023）第二百五十条：申请执行的期间为二年"
    assert said in client.get(f"/cases/{loan_id}").text
    client.post("/me/locale", data={"locale": "en", "csrf_token": csrf})
    said = (
        "lawyers letter cannot come after lawyers letter, filing, and judgment; next: "
        "enforcement, preservation, or closed"
    )
    assert said in client.post(url, headers=hx, data=again).text
    # The API keeps its English, the steps by their codes.
    api = desk.client().post(f"/api/v1{url}", headers=desk.bearer("admin"), json=again)
    assert api.json()["error"] == (
        "lawyers_letter cannot come after lawyers_letter, filing, judgment; next: enforcement, "
        "preservation, closed"
    )


def test_a_placement_recalled_at_once_is_no_agency_tried(desk: Desk) -> None:
    # Placed and recalled the same minute, the agency never had the account: the lawyer's
    # letter and a visit (whose guards ask for the agency tried) stay refused; a placement
    # that stood a week opens the letter (the ladder's min_days, lender policy).
    loan_id = my_case(desk)
    placement_steps_done(desk.app, [loan_id], calls=6)
    supervisor, legal = desk.bearer("sup-east"), desk.bearer("admin")
    url = f"/api/v1/cases/{loan_id}/placement"
    desk.client().delete(url, headers=supervisor)  # the seeding may have placed it
    assert desk.client().post(url, headers=supervisor, json={"agency_id": "agency-hz"}).is_success
    assert desk.client().delete(url, headers=supervisor).status_code == 200
    letter = {"step": "lawyers_letter", "on": "2025-10-01"}
    refused = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=letter)
    assert refused.status_code == 409, refused.text
    assert "missing: agency_placement done standing ≥ 7 days (found none)" in missing(refused)
    visit = {"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-01",
             "reason": "unreachable"}  # fmt: skip
    asked = desk.client().post(f"/api/v1/cases/{loan_id}/visits",
                               headers=desk.bearer("col-east-1"), json=visit)  # fmt: skip
    assert asked.status_code == 409, asked.text
    assert "agency_placement done standing ≥ 30 days" in " ".join(missing(asked))
    # A page names the standing asked for in the reader's language.
    client, csrf = desk.signed_in("admin")
    client.post("/me/locale", data={"locale": "zh-TW", "csrf_token": csrf})
    page = client.post(f"/cases/{loan_id}/legal", data=letter,
                       headers={"X-CSRF-Token": csrf, "HX-Request": "true"})  # fmt: skip
    assert page.status_code == 409
    assert "缺少：委外催收（已完成），且已持續至少 7 天（未找到）" in page.text
    assert "standing" not in page.text
    # Placed again and left with the agency: a week later the letter goes out.
    assert desk.client().post(url, headers=supervisor, json={"agency_id": "agency-hz"}).is_success
    desk.now = DAY_TIME + timedelta(days=6)
    early = {"step": "lawyers_letter", "on": "2025-10-07"}
    assert desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal,
                              json=early).status_code == 409  # fmt: skip
    desk.now = DAY_TIME + timedelta(days=7)
    week = {"step": "lawyers_letter", "on": "2025-10-08"}
    sent = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=week)
    assert sent.status_code == 201, sent.text


def pay_off(desk: Desk, loan_id: str, on: date, work: Path) -> None:
    """A payment on `on` of more than the loan can owe (the rest is the borrower's credit)."""
    path = work / f"pay-{loan_id}-{on}.csv"
    path.write_text(
        f"payment_id,loan_id,amount,paid_on\nPAYOFF-{loan_id}-{on},{loan_id},99999999.00,{on}\n"
    )
    import_feed(
        desk.app.ledger, FileFeedReader(), "payments", path, set(desk.app.settings.products)
    )


def test_nothing_legal_and_no_visit_on_a_loan_that_owes_nothing(desk: Desk, tmp_path: Path) -> None:
    # Paid off on 2 October: on that day and after, no lawyer's letter, filing, preservation
    # or enforcement, and no field visit; a step dated before the payment, when it still owed,
    # is recorded (helper: all were accepted, and the letter referred the settled loan to
    # legal).
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    desk.now = datetime(2025, 10, 3, 2, 0, tzinfo=UTC)  # 3 October in Shanghai
    pay_off(desk, loan_id, date(2025, 10, 2), tmp_path)
    legal, url = desk.bearer("admin"), f"/api/v1/cases/{loan_id}/legal"
    letter = {"step": "lawyers_letter", "on": "2025-10-02"}
    refused = desk.client().post(url, headers=legal, json=letter)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"] == (
        f"loan '{loan_id}' owes nothing on 2025-10-02: no lawyers_letter on a settled loan"
    )
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()
    assert (case["legal"], case["flags"]) == (None, [])  # not opened, not referred
    client, csrf = desk.signed_in("admin")
    page = client.post(f"/cases/{loan_id}/legal", headers={"X-CSRF-Token": csrf,
                       "HX-Request": "true"}, data={**letter, "cost": "0"})  # fmt: skip
    assert page.status_code == 422
    assert f"贷款 &#39;{loan_id}&#39; 在 2025-10-02 已无欠款（已结清）：不得办理律师函" in page.text
    # The day before, it still owed: the letter goes out; the steps after it do not.
    before = desk.client().post(url, headers=legal, json={**letter, "on": "2025-10-01"})
    assert before.status_code == 201, before.text
    filing = {"step": "filing", "on": "2025-10-03", "court": "C", "case_number": "N1"}
    refused = desk.client().post(url, headers=legal, json=filing)
    assert refused.status_code == 422
    assert "no filing on a settled loan" in refused.json()["error"]
    closed = desk.client().post(url, headers=legal, json={"step": "closed", "on": "2025-10-03"})
    assert closed.status_code == 201, closed.text  # closing is always possible
    visit = {"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-04",
             "reason": "unreachable"}  # fmt: skip
    asked = desk.client().post(f"/api/v1/cases/{loan_id}/visits",
                               headers=desk.bearer("col-east-1"), json=visit)  # fmt: skip
    assert asked.status_code == 422, asked.text
    assert asked.json()["error"] == (
        f"loan '{loan_id}' owes nothing past due on 2025-10-03: no field visit"
    )
    assert desk.app.track.visits(loan_id) == []
    # Nor is it placed with an agency: the last run's figures (before the payment) had it
    # placed at what it no longer owed (helper-121).
    placed = desk.client().post(f"/api/v1/cases/{loan_id}/placement", headers=legal,
                                json={"agency_id": "agency-hz"})  # fmt: skip
    assert placed.status_code == 422, placed.text
    assert placed.json()["error"] == (
        f"case '{loan_id}' owes nothing past due on 2025-10-03: there is nothing to place"
    )


VISIT = {"collectors": ["col-east-1", "col-east-2"], "reason": "unreachable for a month"}


def ask_visit(desk: Desk, loan_id: str, planned_on: str) -> Response:
    return desk.client().post(f"/api/v1/cases/{loan_id}/visits", headers=desk.bearer("col-east-1"),
                              json={**VISIT, "planned_on": planned_on})  # fmt: skip


def decide(desk: Desk, visit_id: int, approve: bool = True) -> Response:
    url = f"/api/v1/visits/{visit_id}/decision"
    return desk.client().post(url, headers=desk.bearer("sup-east"), json={"approve": approve})


def report(desk: Desk, visit_id: int, at: str, who: str = "col-east-1") -> Response:
    body = {"visited_at": at, "outcome": "no_answer", "recording": f"rec-{visit_id}.mp4",
            "identification_shown": True}  # fmt: skip
    return desk.client().post(f"/api/v1/visits/{visit_id}/report", headers=desk.bearer(who),
                              json=body)  # fmt: skip


def test_a_collector_moved_to_another_team_no_longer_reports_its_visits(desk: Desk) -> None:
    # col-east-2, the visit's second collector, moved to team-west after its approval: the
    # case is no longer their team's, nor is its visit (found by helper-112: it was reported).
    loan_id = my_case(desk)
    visit = approved_visit(desk, loan_id)
    moved = desk.client().put(
        "/api/v1/users/col-east-2", headers=desk.bearer("admin"),
        json={"display_name": "张伟", "role": "collector", "team_id": "team-west"},
    )  # fmt: skip
    assert moved.status_code == 200, moved.text
    desk.now = datetime(2025, 10, 3, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai on the day
    assert report(desk, visit, "2025-10-03T10:00:00+08:00", who="col-east-2").status_code == 404
    reports = [e for e in desk.app.audit_log.entries(actor="col-east-2")
               if e.entry.action == "visit.report"]  # fmt: skip
    assert reports == []
    # Nor does their colleague make it alone: a visit is two of the team's collectors (CBA
    # 2026 Art. 22), and it had been recorded as made by both (helper-121).
    alone = report(desk, visit, "2025-10-03T10:00:00+08:00")
    assert alone.status_code == 422, alone.text
    assert alone.json()["error"] == ("col-east-2: not an active collector of the case's team "
                                     "team-east; the visitors are its collectors")  # fmt: skip
    assert status_of(desk, visit) == "approved"
    # Their supervisor withdraws the approval: the case may be asked a visit again at once.
    client, csrf = desk.signed_in("sup-east")
    page = client.get(f"/cases/{loan_id}").text
    assert "撤回批准" in page
    withdrawn = client.post(f"/visits/{visit}/decision", data={"decision": "reject"},
                            headers={"X-CSRF-Token": csrf, "HX-Request": "true"})  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.text
    assert status_of(desk, visit) == "rejected"
    back = desk.client().put(
        "/api/v1/users/col-east-2", headers=desk.bearer("admin"),
        json={"display_name": "张伟", "role": "collector", "team_id": "team-east"},
    )  # fmt: skip
    assert back.status_code == 200, back.text
    again = ask_visit(desk, loan_id, "2025-10-04")
    assert again.status_code == 201, again.text


def test_a_visit_on_a_case_in_the_pool_is_judged_by_its_requesters_team(desk: Desk) -> None:
    # A case given to no team: asked for by team-east's supervisor with two of their
    # collectors; the approval had judged the visitors by the approver's team (an
    # administrator's: none), refusing every such visit (helper-126).
    loan_id = my_case(desk)
    with desk.app.engine.begin() as conn:
        conn.execute(delete(assignments).where(assignments.c.loan_id == loan_id))
    gentler_steps_done(desk, loan_id)
    asked = desk.client().post(f"/api/v1/cases/{loan_id}/visits", headers=desk.bearer("sup-east"),
                               json={**VISIT, "planned_on": "2025-10-03"})  # fmt: skip
    assert asked.status_code == 201, asked.text
    approved = desk.client().post(f"/api/v1/visits/{asked.json()['visit_id']}/decision",
                                  headers=desk.bearer("admin"), json={"approve": True})  # fmt: skip
    assert approved.status_code == 200, approved.text
    assert status_of(desk, asked.json()["visit_id"]) == "approved"


def test_a_visit_is_not_approved_once_one_of_its_collectors_is_disabled(desk: Desk) -> None:
    # Asked for by two active collectors, approved after one was disabled (helper-121).
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    asked = ask_visit(desk, loan_id, "2025-10-03")
    assert asked.status_code == 201, asked.text
    disabled = desk.client().put("/api/v1/users/col-east-2/active",
                                 headers=desk.bearer("admin"), json={"active": False})  # fmt: skip
    assert disabled.status_code == 200, disabled.text
    refused = decide(desk, asked.json()["visit_id"])
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"].startswith("col-east-2: not an active collector")
    assert status_of(desk, asked.json()["visit_id"]) == "requested"


def test_an_instant_off_the_products_calendar_is_refused_not_a_crash(desk: Desk) -> None:
    # Put in the desk's zone, year 1 or 9999 fell off Python's calendar: a 500 for anyone
    # signed in, before any check of who they are (found by helper-112).
    for far in ("0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-10:00"):
        answered = report(desk, 424242, far, who="agency-hz-1")
        assert answered.status_code == 422, answered.text
        assert "visited_at" in answered.text
        assert "falls between 1900-01-01 and 2199-12-31" in answered.text
    client, csrf = desk.signed_in("col-east-1")
    form = {"visited_at": "0001-01-01T00:00:00+09:00", "outcome": "connected",
            "recording": "r.mp4", "identification_shown": "true"}  # fmt: skip
    page = client.post("/visits/1/report", headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
                       data=form)  # fmt: skip
    assert page.status_code == 422


def test_an_approval_asks_the_guard_again_on_its_day(desk: Desk) -> None:
    # Asked for on 1 October for 15 December; by then the failed calls are more than 60 days
    # old: the approval is refused as a fresh request would be (helper: approved anyway).
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    asked = ask_visit(desk, loan_id, "2025-12-15")
    assert asked.status_code == 201, asked.text
    desk.now = datetime(2025, 12, 14, 2, 0, tzinfo=UTC)
    refused = decide(desk, asked.json()["visit_id"])
    assert refused.status_code == 409, refused.text
    assert missing(refused) == [
        "missing: call failed|no_answer|busy|refused ≥ 6 on ≥ 3 days in the last 60 days "
        "(found none)"
    ]
    stored = desk.app.track.visit(asked.json()["visit_id"])
    assert stored is not None
    assert stored["status"] == "requested"
    assert not [e for e in desk.app.audit_log.entries(actor="sup-east")
                if e.entry.action == "visit.approve"]  # fmt: skip
    # Rejecting needs no guard.
    assert decide(desk, asked.json()["visit_id"], approve=False).json()["status"] == "rejected"


def test_no_approval_and_no_report_once_the_loan_is_paid(desk: Desk, tmp_path: Path) -> None:
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    first = ask_visit(desk, loan_id, "2025-10-03").json()["visit_id"]
    pay_off(desk, loan_id, date(2025, 10, 1), tmp_path)
    refused = decide(desk, first)
    assert refused.status_code == 422
    assert refused.json()["error"] == (
        f"loan '{loan_id}' owes nothing past due on 2025-10-01: no field visit"
    )
    # Approved while it owed, paid before the visit: the report is refused.
    loan_id = my_case(desk, "col-east-2")
    gentler_steps_done(desk, loan_id)
    asked = desk.client().post(
        f"/api/v1/cases/{loan_id}/visits", headers=desk.bearer("col-east-2"),
        json={**VISIT, "collectors": ["col-east-2", "col-east-1"], "planned_on": "2025-10-03"},
    )  # fmt: skip
    visit = asked.json()["visit_id"]
    assert decide(desk, visit).json()["status"] == "approved"
    pay_off(desk, loan_id, date(2025, 10, 2), tmp_path)
    desk.now = datetime(2025, 10, 3, 4, 0, tzinfo=UTC)
    made = report(desk, visit, "2025-10-03T10:00:00+08:00")
    assert made.status_code == 422, made.text
    assert "owes nothing past due on 2025-10-03: no field visit" in made.json()["error"]
    stored = desk.app.track.visit(visit)
    assert stored is not None
    assert stored["status"] == "approved"
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=desk.bearer("col-east-2"))
    assert [a for a in case.json()["attempts"] if a["channel"] == "visit"] == []


def test_a_visit_is_made_in_its_days_and_a_case_has_one_open_at_a_time(desk: Desk) -> None:
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    first = ask_visit(desk, loan_id, "2025-10-03")
    assert first.status_code == 201, first.text
    visit = first.json()["visit_id"]
    # Another while it is open (helper: four of one case approved, two reported one day).
    again = ask_visit(desk, loan_id, "2025-10-04")
    assert again.status_code == 422
    assert again.json()["error"] == (
        f"case '{loan_id}' has visit {visit} open (requested, planned for 2025-10-03): one "
        "visit at a time"
    )
    assert decide(desk, visit).json()["status"] == "approved"
    assert ask_visit(desk, loan_id, "2025-10-05").status_code == 422  # approved: still open
    client, csrf = desk.signed_in("col-east-1")
    page = client.post(
        f"/cases/{loan_id}/visits", headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        data={"second": "col-east-2", "planned_on": "2025-10-05", "reason": "again"},
    )  # fmt: skip
    assert page.status_code == 422
    assert f"已有未完成的外访 {visit}（已批准，计划于 2025-10-03）" in page.text
    # Made before its day, or more than a week after it: refused (lender policy).
    desk.now = datetime(2025, 10, 12, 4, 0, tzinfo=UTC)
    late = report(desk, visit, "2025-10-11T10:00:00+08:00")
    assert late.status_code == 422
    assert late.json()["error"] == (
        "a visit planned for 2025-10-03 is made from that day until 2025-10-10 (lender policy: "
        "7 days), not on 2025-10-11; ask for a visit again"
    )
    early = report(desk, visit, "2025-10-02T10:00:00+08:00")
    assert early.status_code == 422
    assert "not on 2025-10-02" in early.json()["error"]
    # Past its days it lapsed: the case page says so and offers no report; a new visit may
    # be asked for.
    client, csrf = desk.signed_in("col-east-1")
    shown_page = client.get(f"/cases/{loan_id}").text
    assert f'<tr id="visit-{visit}">' in shown_page
    assert "已失效" in shown_page
    assert f'hx-post="/visits/{visit}/report"' not in shown_page
    document = desk.client().get(f"/api/v1/cases/{loan_id}", headers=desk.bearer("col-east-1"))
    [shown] = document.json()["visits"]
    assert (shown["status"], shown["lapsed"], shown["last_day"]) == ("approved", True,
                                                                     "2025-10-10")  # fmt: skip
    assert ask_visit(desk, loan_id, "2025-10-13").status_code == 201


def test_a_lapsed_request_is_not_approved(desk: Desk) -> None:
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    visit = ask_visit(desk, loan_id, "2025-10-03").json()["visit_id"]
    desk.now = datetime(2025, 10, 11, 2, 0, tzinfo=UTC)
    refused = decide(desk, visit)
    assert refused.status_code == 422
    assert refused.json()["error"] == (
        f"visit {visit} was planned for 2025-10-03 and could be made until 2025-10-10: it "
        "lapsed; ask for a visit again"
    )


def test_two_visit_requests_at_once_store_one(desk: Desk) -> None:
    # Both pass the service's checks before either is written: the store looks for an open
    # visit once it holds the write lock, and writes nothing for the second (its audit
    # entry neither); a check that fails under the lock writes nothing either.
    loan_id = my_case(desk)
    row = {"loan_id": loan_id, "requested_by": "col-east-1", "requested_at": desk.now,
           "collectors": ["col-east-1", "col-east-2"], "planned_on": date(2025, 10, 3),
           "reason": "r", "status": "requested", "guard": []}  # fmt: skip
    entry = AuditEntry(desk.now, "col-east-1", "visit.request", f"loan:{loan_id}", {})
    first = desk.app.track.add_visit(row, entry, date(2025, 9, 24), lambda: None)
    head = len(desk.app.audit_log.entries(actor="col-east-1"))
    with pytest.raises(DomainError, match=f"has visit {first} open"):
        desk.app.track.add_visit(row, entry, date(2025, 9, 24), lambda: None)

    def paid_meanwhile() -> None:
        raise DomainError("owes nothing")

    with pytest.raises(DomainError, match="owes nothing"):
        desk.app.track.set_visit(first, "requested", {"status": "approved"}, entry, paid_meanwhile)
    assert len(desk.app.audit_log.entries(actor="col-east-1")) == head
    [stored] = desk.app.track.visits(loan_id)
    assert stored["status"] == "requested"


def test_a_hold_stops_the_desks_placement_and_visit_as_it_stops_the_nights(desk: Desk) -> None:
    # The night plans no placement and no visit request under a hold (cn.hold: GB/T
    # 45251-2025, disputes handled before collection goes on); the desk placed the case and
    # asked for the visit all the same (helper-81).
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    placement_steps_done(desk.app, [loan_id])
    client, csrf = desk.signed_in("col-east-1")
    held = client.post(f"/cases/{loan_id}/holds", headers={"X-CSRF-Token": csrf},
                       data={"kind": "dispute"})  # fmt: skip
    assert held.status_code == 200, held.text
    today = desk.now.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    placed = desk.client().post(f"/api/v1/cases/{loan_id}/placement",
                                headers=desk.bearer("sup-east"),
                                json={"agency_id": "agency-hz"})  # fmt: skip
    assert placed.status_code == 409, placed.text
    assert placed.json()["error"].startswith(
        f"the rules forbid an agency_placement on {today}: cn.hold: collection paused: dispute"
    )
    assert [r["rule"] for r in placed.json()["reasons"] if not r["passed"]] == ["cn.hold"]
    asked = ask_visit(desk, loan_id, "2025-10-03")
    assert asked.status_code == 409, asked.text
    assert asked.json()["error"].startswith(
        f"the rules forbid a field_visit_request on {today}: cn.hold: collection paused: "
    )
    sup, sup_csrf = desk.signed_in("sup-east")
    page = sup.post(f"/cases/{loan_id}/placement", data={"agency_id": "agency-hz"},
                    headers={"X-CSRF-Token": sup_csrf, "HX-Request": "true"})  # fmt: skip
    assert page.status_code == 409, page.text
    assert f"已拒绝：合规规则禁止在 {today} 进行此步骤" in page.text
    with desk.app.engine.connect() as conn:
        found = conn.execute(select(placements.c.agency_id).where(placements.c.loan_id == loan_id))
        assert found.scalars().all() == []
    assert desk.app.track.visits(loan_id) == []
    # Lifted, the same day's steps go ahead the next day.
    lifted = client.post(f"/cases/{loan_id}/holds/lift", headers={"X-CSRF-Token": csrf},
                         data={"kind": "dispute", "starts_on": today})  # fmt: skip
    assert lifted.status_code == 200, lifted.text
    desk.now += timedelta(days=1)
    placed = desk.client().post(f"/api/v1/cases/{loan_id}/placement",
                                headers=desk.bearer("sup-east"),
                                json={"agency_id": "agency-hz"})  # fmt: skip
    assert placed.status_code == 201, placed.text


def test_a_hold_stops_the_desks_lawyers_letter_and_filing_as_it_stops_the_nights(
    desk: Desk,
) -> None:
    # The night sends a lawyer's letter through the contact rules as a letter, and blocks it
    # under cn.hold; the desk recorded both steps under a death and a dispute (helper).
    from arrears.adapters.db.tables import blocked_actions
    from arrears.batch.run import run_day

    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    for kind in ("deceased", "dispute"):
        placed = desk.client().post(
            f"/api/v1/cases/{loan_id}/holds", headers=desk.bearer("compliance"),
            json={"kind": kind, "starts_on": "2025-09-25", "note": "x"},
        )  # fmt: skip
        assert placed.status_code == 201, placed.text
    # The night of 7 October plans the legal stage's weekly letter and blocks it by cn.hold;
    # so does the desk, that day and any day of the holds.
    run_day(desk.app.runs, desk.app.run_context(date(2025, 10, 7)), desk.now)
    with desk.app.engine.connect() as conn:
        blocked = conn.execute(
            select(blocked_actions.c.rule).where(
                blocked_actions.c.loan_id == loan_id, blocked_actions.c.as_of == date(2025, 10, 7),
                blocked_actions.c.action == "lawyers_letter",
            )
        ).scalars().all()  # fmt: skip
    assert blocked == ["cn.hold"]
    desk.now = datetime(2025, 10, 7, 2, 0, tzinfo=UTC)
    legal, url = desk.bearer("admin"), f"/api/v1/cases/{loan_id}/legal"
    for day in ("2025-10-07", "2025-10-02"):
        refused = desk.client().post(url, headers=legal, json={"step": "lawyers_letter",
                                                               "on": day})  # fmt: skip
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"].startswith(
            f"the rules forbid a lawyers_letter on {day}: cn.hold: collection paused: "
        )
        assert [r["rule"] for r in refused.json()["reasons"] if not r["passed"]] == ["cn.hold"]
    client, csrf = desk.signed_in("admin")
    form = {"step": "lawyers_letter", "on": "2025-10-02", "cost": "0"}
    page = client.post(f"/cases/{loan_id}/legal", headers={"X-CSRF-Token": csrf,
                       "HX-Request": "true"}, data=form)  # fmt: skip
    assert page.status_code == 409, page.text
    assert "已拒绝：合规规则禁止在 2025-10-02 进行此步骤" in page.text
    assert "<code>cn.hold</code>" in page.text
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()
    assert (case["legal"], case["flags"]) == (None, [])
    # The day before the holds it went out; the decision is kept with the step: every rule
    # that governs a letter, passed.
    opened = desk.client().post(url, headers=legal, json={"step": "lawyers_letter",
                                                          "on": "2025-09-24"})  # fmt: skip
    assert opened.status_code == 201, opened.text
    [sent] = [e.entry for e in desk.app.audit_log.entries(actor="admin")
              if e.entry.action == "legal.lawyers_letter"]  # fmt: skip
    assert {r["rule"] for r in sent.detail["rules"]} >= {"cn.hold", "cn.opt_out",
                                                          "cn.quiet_hours"}  # fmt: skip
    assert all(r["passed"] for r in sent.detail["rules"])
    # A filing presses for payment too: the holds stop it (helper: it was recorded).
    filing = {"step": "filing", "on": "2025-10-02", "court": "C", "case_number": "N1"}
    refused = desk.client().post(url, headers=legal, json=filing)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"].startswith(
        "the rules forbid a filing on 2025-10-02: cn.hold: collection paused: "
    )
    refusals = [e.entry for e in desk.app.audit_log.entries(actor="admin")
                if e.entry.action == "legal.refused"]  # fmt: skip
    assert sorted((e.detail["step"], e.detail["on"], [r["rule"] for r in e.detail["rules"]])
                  for e in refusals) == [
        ("filing", "2025-10-02", ["cn.hold"]),
        *[("lawyers_letter", day, ["cn.hold"]) for day in ("2025-10-02", "2025-10-02",
                                                            "2025-10-07")],
    ]  # fmt: skip
    steps = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["legal"]["steps"]
    assert [s["step"] for s in steps] == ["lawyers_letter"]


def legal_steps_through_judgment(desk: Desk, loan_id: str) -> None:
    """A letter, a filing and a judgment (last day of performance 1 February 2026)."""
    for step in (
        {"step": "lawyers_letter", "on": "2025-10-02"},
        {"step": "filing", "on": "2025-10-20", "court": "C", "case_number": "N-1"},
        {"step": "judgment", "on": "2026-01-15", "performance_due": "2026-02-01"},
    ):
        answer = desk.client().post(f"/api/v1/cases/{loan_id}/legal",
                                    headers=desk.bearer("admin"), json=step)  # fmt: skip
        assert answer.status_code == 201, answer.text


def test_the_deadline_a_judgment_starts_is_the_packs_and_ends_with_enforcement(
    desk: Desk,
) -> None:
    # China's pack: enforcement within two years of the last day of performance, named in
    # the reader's language; met once enforcement is applied for. A US loan's pack sets none
    # (helper: every judgment got 民事诉讼法 Art. 250, in English on zh pages, for ever).
    desk.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    legal_steps_through_judgment(desk, loan_id)
    legal = desk.bearer("admin")
    track = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["legal"]
    assert (track["deadline"], track["deadline_what"]) == ("2028-02-01", "enforcement_application")
    assert track["deadline_source"].startswith(
        "cn.enforcement_deadline: 《中华人民共和国民事诉讼法》"
    )
    client, csrf = desk.signed_in("admin")
    for locale, said in (
        ("zh-CN", "申请强制执行（《中华人民共和国民事诉讼法》（2023）第二百五十条："),
        ("zh-TW", "申請強制執行（《中華人民共和國民事訴訟法》（2023）第二百五十條："),
        ("en", "apply for enforcement (Civil Procedure Law of the PRC (2023), Art. 250: "),
    ):
        client.post("/me/locale", data={"locale": locale, "csrf_token": csrf})
        page = client.get(f"/cases/{loan_id}").text
        assert f'<span class="reason" id="legal-deadline">{said}' in page
    enforced = {"step": "enforcement", "on": "2026-03-01"}
    answer = desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal, json=enforced)
    assert answer.status_code == 201, answer.text
    track = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["legal"]
    assert (track["deadline"], track["deadline_what"], track["deadline_source"]) == (
        None, None, None
    )  # fmt: skip
    assert 'id="legal-deadline"' not in client.get(f"/cases/{loan_id}").text
    us_loan = my_case(desk, "col-east-2")
    gentler_steps_done(desk, us_loan)
    oldest_unpaid_of_a_us_loan(desk, us_loan)
    legal_steps_through_judgment(desk, us_loan)
    track = desk.client().get(f"/api/v1/cases/{us_loan}", headers=legal).json()["legal"]
    assert (track["step"], track["deadline"], track["deadline_what"]) == ("judgment", None, None)


def test_closing_the_track_ends_its_deadline(desk: Desk) -> None:
    desk.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    legal_steps_through_judgment(desk, loan_id)
    closed = {"step": "closed", "on": "2026-02-10"}
    legal = desk.bearer("admin")
    assert desk.client().post(f"/api/v1/cases/{loan_id}/legal", headers=legal,
                              json=closed).status_code == 201  # fmt: skip
    track = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["legal"]
    assert (track["step"], track["deadline"], track["deadline_what"]) == ("closed", None, None)


def test_a_closed_track_opens_again_with_a_new_lawyers_letter(desk: Desk) -> None:
    # Closed on a settlement the borrower then defaulted on: a new letter opens the track
    # again (helper: refused for good, one legal case per loan), the earlier round's steps
    # kept on record, the loan referred to legal again.
    desk.now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    legal_steps_through_judgment(desk, loan_id)
    legal, url = desk.bearer("admin"), f"/api/v1/cases/{loan_id}/legal"
    closed = desk.client().post(url, headers=legal, json={"step": "closed", "on": "2026-02-10"})
    assert closed.status_code == 201, closed.text
    early = desk.client().post(url, headers=legal, json={"step": "preservation",
                                                         "on": "2026-03-01"})  # fmt: skip
    assert early.status_code == 422
    assert early.json()["error"].endswith("next: lawyers_letter")
    letter = {"step": "lawyers_letter", "on": "2026-03-01", "cost": "300.00"}
    again = desk.client().post(url, headers=legal, json=letter)
    assert again.status_code == 201, again.text
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()
    track = case["legal"]
    assert [s["step"] for s in track["steps"]] == [
        "lawyers_letter", "filing", "judgment", "closed", "lawyers_letter"
    ]  # fmt: skip
    assert (track["step"], track["court"], track["case_number"], track["deadline"]) == (
        "lawyers_letter", None, None, None
    )  # fmt: skip
    assert track["costs"] == "300.00"
    assert [(f["flag"], f["set_on"]) for f in case["flags"]] == [("legal", "2026-03-01")]
    letters = [e.entry for e in desk.app.audit_log.entries(actor="admin")
               if e.entry.action == "legal.lawyers_letter"]  # fmt: skip
    [reopened] = [e for e in letters if e.detail.get("reopened")]
    assert reopened.detail["on"] == "2026-03-01"
    filing = {"step": "filing", "on": "2026-03-02", "court": "C2", "case_number": "N-2"}
    assert desk.client().post(url, headers=legal, json=filing).status_code == 201
    client, _ = desk.signed_in("admin")
    page = client.get(f"/cases/{loan_id}").text
    assert page.count("<td>2026-01-15</td>") == 1  # the earlier round's judgment, still shown


def test_a_cn_case_shows_when_its_limitation_period_runs_out_and_refuses_nothing(
    desk: Desk,
) -> None:
    # China's period (3 years, 民法典 Art. 188) is the borrower's defence, interrupted by a
    # demand that reached them, a payment or a promise (Art. 195): shown as information only
    # (helper: nothing at all on a cn loan silent for four years).
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)  # the formal notice sent on 21 September 2025
    loan, payments = next(iter(desk.app.ledger.load_book([loan_id])))
    state = desk.app.terms.evaluate(loan, payments, AS_OF)
    last_due = max(s.effective_due_date or s.due_date for s in state.installments)
    events = [last_due, date(2025, 9, 21), *(p.paid_on for p in payments if p.paid_on <= AS_OF)]
    runs_from = max(events)
    runs_out = runs_from.replace(year=runs_from.year + 3)
    desk.now = datetime(2029, 10, 2, 2, 0, tzinfo=UTC)
    legal = desk.bearer("admin")
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()
    assert case["limitation"] is None  # nothing is refused for it
    period = case["limitation_period"]
    assert (period["rule"], period["years"], period["runs_from"], period["runs_out"]) == (
        "cn.limitation_period", 3, runs_from.isoformat(), runs_out.isoformat()
    )  # fmt: skip
    assert (period["expired"], period["refuses"]) == (True, [])
    assert "第一百九十五条" in period["source"]
    client, _ = desk.signed_in("admin")
    page = client.get(f"/cases/{loan_id}").text
    assert f"仅供参考：3 年诉讼时效期间已于 {runs_out} 届满" in page
    assert "人民法院不主动适用" in page
    # Not refused: a letter and a filing still go out (the borrower may plead it in court).
    url = f"/api/v1/cases/{loan_id}/legal"
    letter = desk.client().post(url, headers=legal, json={"step": "lawyers_letter",
                                                          "on": "2029-10-01"})  # fmt: skip
    assert letter.status_code == 201, letter.text
    # The letter reached the borrower: the period runs again from it.
    period = (
        desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["limitation_period"]
    )
    assert (period["runs_from"], period["because"], period["runs_out"], period["expired"]) == (
        "2029-10-01", "lawyers_letter", "2032-10-01", False
    )  # fmt: skip
    # A promise to pay the next day: the borrower's agreement, from its day.
    desk.now = datetime(2029, 10, 3, 2, 0, tzinfo=UTC)
    promised = desk.client().post(f"/api/v1/cases/{loan_id}/promises",
                                  headers=desk.bearer("col-east-1"),
                                  json={"amount": "100.00", "due_on": "2029-10-10"})  # fmt: skip
    assert promised.status_code == 201, promised.text
    period = (
        desk.client().get(f"/api/v1/cases/{loan_id}", headers=legal).json()["limitation_period"]
    )
    assert (period["runs_from"], period["because"]) == ("2029-10-03", "promise")
    client, _ = desk.signed_in("admin")
    page = client.get(f"/cases/{loan_id}").text
    assert (
        "仅供参考：3 年诉讼时效期间将于 2032-10-03 届满（自 2029-10-03 借款人承诺还款起算）" in page
    )
    # A US loan keeps its own rule, which refuses, and no period of information.
    us_loan = my_case(desk, "col-east-2")
    oldest_unpaid_of_a_us_loan(desk, us_loan)
    us_case = desk.client().get(f"/api/v1/cases/{us_loan}", headers=legal).json()
    assert (us_case["limitation"]["rule"], us_case["limitation_period"]) == ("us.time_barred", None)
