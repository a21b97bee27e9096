"""What collectors write is kept as written with the content lint's findings, never refused
for them: a contact's note and a case note (on SQLite and PostgreSQL), a visit report; the
findings are in the API's answers, the case file, the audit log, on the case page in the
reader's language, and counted on the dashboard; a draft is checked through the API."""

from datetime import UTC, date, datetime

from sqlalchemy import insert, select

from arrears.adapters.db.casework_tables import assignments, field_visits, notes
from arrears.adapters.db.tables import borrowers, contact_attempts, loans
from arrears.bootstrap import App
from arrears.services.dashboard import dashboard
from tests.entrypoints.web.desk_book import NIGHT_TIME, ROLES, Desk
from tests.entrypoints.web.test_casework_flows import my_case
from tests.entrypoints.web.test_visits_and_legal import gentler_steps_done

THREAT = "客户态度差。我说：你再不还钱就要坐 牢，我们会通知你单位"
CLEAN = "客户承诺周五前还款"


def one_case(app: App) -> str:
    """A cn loan of a borrower in Shanghai, given to col-east-1 (no schedule: nothing owed)."""
    # fmt: off
    with app.engine.begin() as conn:
        conn.execute(insert(borrowers).values(
            borrower_id="B1", name="张三", phone="+8613812345678", timezone="Asia/Shanghai"))
        conn.execute(insert(loans).values(
            loan_id="L1", borrower_id="B1", product="cn-cash", currency="CNY",
            principal=1_000_000, annual_rate="0.18", contract_date=date(2025, 1, 1)))
        conn.execute(insert(assignments).values(
            loan_id="L1", team_id="team-east", collector_id="col-east-1",
            assigned_on=date(2025, 9, 30), assigned_by="sup-east"))
    # fmt: on
    return "L1"


def audit_details(app: App, action: str) -> list[dict[str, object]]:
    return [e.entry.detail for e in app.audit_log.chain() if e.entry.action == action]


def test_a_contacts_note_is_kept_with_its_findings(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    answer = staffed.client().post(
        f"/api/v1/cases/{loan_id}/contacts", headers=staffed.bearer("col-east-1"),
        json={"channel": "call", "outcome": "connected", "note": THREAT},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    found = answer.json()["note_findings"]
    assert [(f["rule"], f["matched"], f["phrase"]) for f in found] == [
        ("cn.content.false_consequences", "坐 牢", "坐牢"),
        ("cn.content.disclosure", "通知你单位", "通知你单位"),
    ]
    assert THREAT[found[0]["start"] : found[0]["end"]] == "坐 牢"
    assert "GB/T" not in found[0]["source"]
    assert "中国银行业协会" in found[0]["source"]
    with staffed.app.engine.connect() as conn:
        row = conn.execute(select(contact_attempts)).one()
    assert row.note == THREAT
    assert row.note_findings == found
    assert audit_details(staffed.app, "contact.log")[-1]["findings"] == [
        "cn.content.disclosure", "cn.content.false_consequences",
    ]  # fmt: skip
    case = staffed.client().get(f"/api/v1/cases/{loan_id}", headers=staffed.bearer("admin"))
    (attempt,) = case.json()["attempts"]
    assert (attempt["note"], attempt["note_findings"]) == (THREAT, found)


def test_a_clean_note_and_no_note_are_kept_without_findings(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    for note in (CLEAN, ""):
        answer = staffed.client().post(
            f"/api/v1/cases/{loan_id}/contacts", headers=staffed.bearer("col-east-1"),
            json={"channel": "sms", "outcome": "sent", "note": note},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        assert answer.json()["note_findings"] == []
    with staffed.app.engine.connect() as conn:
        rows = conn.execute(select(contact_attempts).order_by(contact_attempts.c.attempt_id))
        kept = [(r.note, r.note_findings) for r in rows]
    assert kept == [(CLEAN, None), (None, None)]
    assert all("findings" not in d for d in audit_details(staffed.app, "contact.log"))


def test_a_case_note_is_kept_with_its_findings_and_counted(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    headers = staffed.bearer("col-east-1")
    answer = staffed.client().post(
        f"/api/v1/cases/{loan_id}/notes", headers=headers, json={"text": f"  {THREAT}  "}
    )
    assert answer.status_code == 201, answer.text
    assert {f["rule"] for f in answer.json()["findings"]} == {
        "cn.content.false_consequences", "cn.content.disclosure",
    }  # fmt: skip
    clean = staffed.client().post(
        f"/api/v1/cases/{loan_id}/notes", headers=headers, json={"text": CLEAN}
    )
    assert clean.json()["findings"] == []
    with staffed.app.engine.connect() as conn:
        rows = conn.execute(select(notes).order_by(notes.c.note_id)).all()
    assert rows[0].text == THREAT  # the ends' spaces trimmed: the findings' places are in it
    assert rows[0].findings == answer.json()["findings"]
    assert rows[1].findings is None
    details = audit_details(staffed.app, "note.add")
    assert details[0]["findings"] == ["cn.content.disclosure", "cn.content.false_consequences"]
    assert "findings" not in details[1]
    # The compliance officer's count: one text for each rule that found something in it.
    board = dashboard(staffed.app.dashboards, ROLES["compliance"].principal(), staffed.now.date())
    assert board.figures.flagged_by_rule == {
        "cn.content.disclosure": 1, "cn.content.false_consequences": 1,
    }  # fmt: skip
    (flagged,) = board.figures.flagged
    assert (flagged.written_in, flagged.loan_id, flagged.borrower_id) == ("note", "L1", "B1")
    figures = staffed.client().get("/api/v1/dashboard", headers=staffed.bearer("compliance"))
    assert figures.json()["flagged_by_rule"] == {
        "cn.content.disclosure": 1, "cn.content.false_consequences": 1,
    }  # fmt: skip
    assert figures.json()["flagged_texts"][0]["loan_id"] == "L1"
    # Outside a supervisor's scope (another team's case), it is not counted.
    west = dashboard(staffed.app.dashboards, ROLES["sup-west"].principal(), staffed.now.date())
    assert west.figures.flagged_by_rule == {}


def test_the_dashboard_counts_a_contacts_note_on_the_borrowers_case(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    staffed.client().post(
        f"/api/v1/cases/{loan_id}/contacts", headers=staffed.bearer("col-east-1"),
        json={"channel": "call", "outcome": "connected", "note": "你这个老赖"},
    )  # fmt: skip
    board = dashboard(staffed.app.dashboards, ROLES["compliance"].principal(), staffed.now.date())
    assert board.figures.flagged_by_rule == {"cn.content.insults": 1}
    assert [(t.written_in, t.loan_id) for t in board.figures.flagged] == [("contact", "L1")]
    later = dashboard(staffed.app.dashboards, ROLES["compliance"].principal(), date(2025, 12, 1))
    assert later.figures.flagged_by_rule == {}  # written before the window


def test_a_contact_made_against_the_rules_is_kept_flagged_with_its_note_and_findings(
    staffed: Desk,
) -> None:
    # A call made in the quiet hours happened all the same: it is recorded flagged (allowed =
    # false, the rule it broke) with the collector's note and the note's findings (the note
    # is evidence: never lost for the contact being flagged); its one audit entry names both,
    # and the dashboard counts it under both, apart.
    loan_id = one_case(staffed.app)
    staffed.now = NIGHT_TIME  # 22:30 in Shanghai: the quiet hours
    flagged = staffed.client().post(
        f"/api/v1/cases/{loan_id}/contacts", headers=staffed.bearer("col-east-1"),
        json={"channel": "call", "outcome": "connected", "note": THREAT},
    )  # fmt: skip
    assert flagged.status_code == 201, flagged.text
    answer = flagged.json()
    assert answer["allowed"] is False
    assert [r["rule"] for r in answer["reasons"] if not r["passed"]] == ["cn.quiet_hours"]
    found = answer["note_findings"]
    assert [f["rule"] for f in found] == [
        "cn.content.false_consequences", "cn.content.disclosure",
    ]  # fmt: skip
    with staffed.app.engine.connect() as conn:
        row = conn.execute(select(contact_attempts)).one()
    assert (row.allowed, row.note, row.note_findings) == (False, THREAT, found)
    (detail,) = audit_details(staffed.app, "contact.log")
    assert detail["allowed"] is False
    rules = detail["rules"]
    assert isinstance(rules, list)
    assert [r["rule"] for r in rules] == ["cn.quiet_hours"]
    assert detail["findings"] == ["cn.content.disclosure", "cn.content.false_consequences"]
    assert audit_details(staffed.app, "contact.refused") == []
    case = staffed.client().get(f"/api/v1/cases/{loan_id}", headers=staffed.bearer("admin"))
    (attempt,) = case.json()["attempts"]
    assert (attempt["note"], attempt["note_findings"]) == (THREAT, found)
    board = staffed.client().get("/api/v1/dashboard", headers=staffed.bearer("compliance"))
    assert board.json()["violations_by_rule"] == {"cn.quiet_hours": 1}
    assert board.json()["flagged_by_rule"] == {
        "cn.content.disclosure": 1, "cn.content.false_consequences": 1,
    }  # fmt: skip
    assert [t["written_in"] for t in board.json()["flagged_texts"]] == ["contact"]


def test_the_page_shows_a_flagged_contacts_broken_rules_and_its_notes_findings(
    staffed: Desk,
) -> None:
    loan_id = one_case(staffed.app)
    staffed.now = NIGHT_TIME
    client, csrf = staffed.signed_in("col-east-1")
    shown = client.post(
        f"/cases/{loan_id}/contacts",
        headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        data={"channel": "call", "outcome": "connected", "note": THREAT},
    )
    assert shown.status_code == 200, shown.text
    assert 'id="contact-violation"' in shown.text
    assert "cn.quiet_hours" in shown.text
    assert 'id="contact-lint"' in shown.text
    assert "cn.content.false_consequences" in shown.text


def test_a_note_too_long_is_refused_and_nothing_is_stored(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    answer = staffed.client().post(
        f"/api/v1/cases/{loan_id}/contacts", headers=staffed.bearer("col-east-1"),
        json={"channel": "call", "outcome": "connected", "note": "坐牢" * 1001},
    )  # fmt: skip
    assert answer.status_code == 422
    with staffed.app.engine.connect() as conn:
        assert conn.execute(select(contact_attempts)).all() == []


def test_a_draft_is_checked_against_a_pack_and_nothing_is_stored(staffed: Desk) -> None:
    headers = staffed.bearer("strategy")
    answer = staffed.client().post(
        "/api/v1/content/lint", headers=headers,
        json={"pack": "cn", "text": "尊敬的客户，逾期将影响子女上学，请立即借钱还款。"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert document["clean"] is False
    assert [f["rule"] for f in document["findings"]] == [
        "cn.content.false_consequences", "cn.content.false_consequences",
        "cn.content.borrow_to_repay",
    ]  # fmt: skip
    clean = staffed.client().post(
        "/api/v1/content/lint", headers=headers,
        json={"pack": "us", "text": "Please call us to discuss a payment plan."},
    )  # fmt: skip
    assert clean.json() == {"pack": "us", "clean": True, "findings": []}
    unknown = staffed.client().post(
        "/api/v1/content/lint", headers=headers, json={"pack": "fr", "text": "x"}
    )
    assert unknown.status_code == 422
    assert "cn, uk, us" in unknown.json()["error"]
    anonymous = staffed.client().post("/api/v1/content/lint", json={"pack": "cn", "text": "x"})
    assert anonymous.status_code == 401
    # A draft said to be for a channel makes the statements its pack requires of it.
    texted = staffed.client().post(
        "/api/v1/content/lint", headers=headers,
        json={"pack": "us", "text": "Please call us to discuss a payment plan.", "channel": "sms"},
    )  # fmt: skip
    assert texted.status_code == 200, texted.text
    assert texted.json()["clean"] is False
    assert [m["rule"] for m in texted.json()["missing"]] == ["us.content.electronic_opt_out"]
    made = staffed.client().post(
        "/api/v1/content/lint", headers=headers,
        json={"pack": "us", "text": "Call us. Text STOP to opt out.", "channel": "sms"},
    )  # fmt: skip
    assert made.json() == {"pack": "us", "clean": True, "findings": [], "channel": "sms",
                           "missing": []}  # fmt: skip
    fax = staffed.client().post(
        "/api/v1/content/lint", headers=headers, json={"pack": "us", "text": "x", "channel": "fax"}
    )
    assert fax.status_code == 422
    assert (
        "no channel 'fax'; the channels are sms, call, email, letter, visit"
        in (fax.json()["error"])
    )


def approved_visit(desk: Desk) -> int:
    """A field visit on one of col-east-1's cases, approved for 3 October; the desk's clock
    at noon that day."""
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    made = desk.client().post(
        f"/api/v1/cases/{loan_id}/visits", headers=desk.bearer("col-east-1"),
        json={"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-03",
              "reason": "unreachable"},
    )  # fmt: skip
    visit_id: int = made.json()["visit_id"]
    desk.client().post(
        f"/api/v1/visits/{visit_id}/decision", headers=desk.bearer("sup-east"),
        json={"approve": True},
    )  # fmt: skip
    desk.now = datetime(2025, 10, 3, 4, 0, tzinfo=UTC)
    return visit_id


def test_a_visit_reports_note_is_kept_with_its_findings(desk: Desk) -> None:
    visit_id = approved_visit(desk)
    answer = desk.client().post(
        f"/api/v1/visits/{visit_id}/report", headers=desk.bearer("col-east-1"),
        json={"visited_at": "2025-10-03T10:00:00+08:00", "outcome": "connected",
              "recording": "rec-77.mp4", "identification_shown": True,
              "note": "邻居在场，我们告诉你家人了"},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert [f["matched"] for f in answer.json()["note_findings"]] == ["告诉你家人"]
    with desk.app.engine.connect() as conn:
        row = conn.execute(select(field_visits).where(field_visits.c.visit_id == visit_id)).one()
    assert row.report["note"] == "邻居在场，我们告诉你家人了"
    assert row.note_findings == answer.json()["note_findings"]
    assert audit_details(desk.app, "visit.report")[-1]["findings"] == ["cn.content.disclosure"]


def test_the_case_page_shows_what_the_lint_found_in_the_readers_language(desk: Desk) -> None:
    loan_id = my_case(desk)
    client, csrf = desk.signed_in("col-east-1")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    logged = client.post(
        f"/cases/{loan_id}/contacts", headers=headers,
        data={"channel": "call", "outcome": "connected", "note": THREAT},
    )  # fmt: skip
    assert logged.status_code == 200, logged.text
    assert "已登记" in logged.text
    assert "已按原文保存。内容质检发现：" in logged.text
    assert "夸大法律后果" in logged.text
    assert "「坐 牢」" in logged.text
    noted = client.post(f"/cases/{loan_id}/notes", headers=headers, data={"text": "你这个老赖"})
    assert "侮辱、谩骂" in noted.text
    page = client.get(f"/cases/{loan_id}").text
    assert "质检提示 2 条" in page
    assert '<mark class="lint" title="夸大法律后果">坐 牢</mark>' in page
    assert '<mark class="lint" title="侮辱、谩骂">老赖</mark>' in page
    client.post("/me/locale", headers=headers, data={"locale": "zh-TW"})
    assert "誇大法律後果" in client.get(f"/cases/{loan_id}").text
    client.post("/me/locale", headers=headers, data={"locale": "en"})
    english = client.get(f"/cases/{loan_id}").text
    assert "Content lint: 2 flagged" in english
    assert "exaggerated legal consequences" in english
    board, _ = desk.signed_in("compliance")
    shown = board.get("/dashboard").text
    assert "内容质检标记的文本（按规则）" in shown
    assert f'<a href="/cases/{loan_id}">{loan_id}</a>' in shown
    assert "案件备注" in shown
    assert "联系记录备注" in shown
