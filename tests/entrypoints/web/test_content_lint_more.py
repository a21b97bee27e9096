"""The other texts staff write on a case go through the content lint as the notes do: a
hold's note, a field visit's reason, an approver's note on a visit or a proposal, a flag's
reason, each kept as written with its findings, never refused for them; the findings stored
beside the text, in the API's answers, the case file, the audit log, on the case page in
the reader's language, and counted on the dashboard with what kind of text it was."""

from typing import Any

from httpx2 import Response
from sqlalchemy import select

from arrears.adapters.db.casework_tables import field_visits, loan_flags, proposals
from arrears.adapters.db.instants import utc
from arrears.adapters.db.tables import holds
from arrears.services.dashboard import dashboard
from tests.entrypoints.web.desk_book import ROLES, Desk
from tests.entrypoints.web.test_casework_flows import my_case
from tests.entrypoints.web.test_content_lint_web import THREAT, audit_details, one_case
from tests.entrypoints.web.test_visits_and_legal import gentler_steps_done

RULES = ["cn.content.false_consequences", "cn.content.disclosure"]  # THREAT's, as found


def flagged_on_the_dashboard(desk: Desk) -> list[tuple[str, str, tuple[str, ...]]]:
    """The flagged texts the compliance officer's dashboard lists: kind, case, rules."""
    board = dashboard(desk.app.dashboards, ROLES["compliance"].principal(), desk.now.date())
    return [(t.written_in, t.loan_id, t.rules) for t in board.figures.flagged]


def audited_and_counted(
    desk: Desk, loan_id: str, action: str, said: str, text: str, rules: list[str], kind: str
) -> None:
    """The text as kept is in the one audit entry of `action` (under `said`) with the rules
    found, and the compliance officer's dashboard lists it as the case's one flagged text, of
    that `kind`."""
    (detail,) = audit_details(desk.app, action)
    assert (detail[said], detail["findings"]) == (text, sorted(rules))
    assert flagged_on_the_dashboard(desk) == [(kind, loan_id, tuple(sorted(rules)))]


def kept_with(answer: Response, rule_name: str) -> None:
    """A page's answer to a text saved: kept as written, naming the rule the lint found."""
    assert answer.status_code == 200, answer.text
    assert "已按原文保存。内容质检发现：" in answer.text
    assert rule_name in answer.text


def test_a_holds_note_is_kept_with_its_findings_and_counted(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    answer = staffed.client().post(
        f"/api/v1/cases/{loan_id}/holds", headers=staffed.bearer("col-east-1"),
        json={"kind": "dispute", "starts_on": "2025-10-01", "note": f"  {THREAT}  "},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    found = answer.json()["note_findings"]
    assert [f["rule"] for f in found] == RULES
    assert THREAT[found[0]["start"] : found[0]["end"]] == "坐 牢"
    with staffed.app.engine.connect() as conn:
        row = conn.execute(select(holds)).one()
    assert (row.note, row.note_findings, utc(row.noted_at)) == (THREAT, found, staffed.now)
    audited_and_counted(staffed, loan_id, "hold.place", "note", THREAT, RULES, "hold")
    case = staffed.client().get(f"/api/v1/cases/{loan_id}", headers=staffed.bearer("admin"))
    (held,) = case.json()["holds"]
    assert (held["note"], held["note_findings"]) == (THREAT, found)
    board = staffed.client().get("/api/v1/dashboard", headers=staffed.bearer("compliance"))
    assert [t["written_in"] for t in board.json()["flagged_texts"]] == ["hold"]


def test_a_clean_holds_note_and_none_are_kept_without_findings(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    for kind, note in (("dispute", "客户对罚息有异议"), ("hardship", "")):
        answer = staffed.client().post(
            f"/api/v1/cases/{loan_id}/holds", headers=staffed.bearer("col-east-1"),
            json={"kind": kind, "starts_on": "2025-10-01", "note": note},
        )  # fmt: skip
        assert answer.json()["note_findings"] == []
    with staffed.app.engine.connect() as conn:
        rows = conn.execute(select(holds.c.note, holds.c.note_findings).order_by(holds.c.kind))
        assert [tuple(r) for r in rows] == [("客户对罚息有异议", None), (None, None)]
    assert all("findings" not in d for d in audit_details(staffed.app, "hold.place"))
    assert flagged_on_the_dashboard(staffed) == []


def test_the_case_page_shows_a_holds_note_and_lifting_keeps_its_findings(desk: Desk) -> None:
    loan_id = my_case(desk)
    client, csrf = desk.signed_in("col-east-1")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    placed = client.post(f"/cases/{loan_id}/holds", headers=headers,
                         data={"kind": "dispute", "note": "你这个老赖"})  # fmt: skip
    kept_with(placed, "侮辱、谩骂")
    page = client.get(f"/cases/{loan_id}").text
    assert "质检提示 1 条" in page
    assert '<mark class="lint" title="侮辱、谩骂">老赖</mark>' in page
    client.post("/me/locale", headers=headers, data={"locale": "zh-TW"})
    assert "侮辱、謾罵" in client.get(f"/cases/{loan_id}").text
    client.post("/me/locale", headers=headers, data={"locale": "en"})
    english = client.get(f"/cases/{loan_id}").text
    assert "Content lint: 1 flagged" in english
    assert "insults or abuse" in english
    lifted = client.post(
        f"/cases/{loan_id}/holds/lift",
        headers=headers,
        data={"kind": "dispute", "starts_on": desk.now.date().isoformat()},
    )
    assert lifted.status_code == 200, lifted.text
    with desk.app.engine.connect() as conn:
        row = conn.execute(select(holds)).one()
    assert row.ends_on is not None  # lifted: its end only written, its note's findings kept
    assert row.note == "你这个老赖"
    assert [f["rule"] for f in row.note_findings] == ["cn.content.insults"]
    board, _ = desk.signed_in("compliance")
    assert "暂停催收备注" in board.get("/dashboard").text


def ask_for_a_visit(desk: Desk, loan_id: str, reason: str) -> dict[str, Any]:
    """col-east-1 asks for a visit with col-east-2 on 3 October, the gentler steps done; the
    API's answer."""
    gentler_steps_done(desk, loan_id)
    asked = desk.client().post(
        f"/api/v1/cases/{loan_id}/visits", headers=desk.bearer("col-east-1"),
        json={"collectors": ["col-east-1", "col-east-2"], "planned_on": "2025-10-03",
              "reason": reason},
    )  # fmt: skip
    assert asked.status_code == 201, asked.text
    answer: dict[str, Any] = asked.json()
    return answer


def visit_row(desk: Desk, visit_id: int) -> Any:
    with desk.app.engine.connect() as conn:
        return conn.execute(select(field_visits).where(field_visits.c.visit_id == visit_id)).one()


def test_a_visits_reason_is_kept_with_its_findings_and_counted(desk: Desk) -> None:
    loan_id = my_case(desk)
    asked = ask_for_a_visit(desk, loan_id, f"  {THREAT}  ")
    found = asked["reason_findings"]
    assert [f["rule"] for f in found] == RULES
    row = visit_row(desk, asked["visit_id"])
    assert (row.reason, row.reason_findings) == (THREAT, found)
    audited_and_counted(desk, loan_id, "visit.request", "reason", THREAT, RULES, "visit_request")
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=desk.bearer("admin")).json()
    (visit,) = case["visits"]
    assert (visit["reason"], visit["reason_findings"]) == (THREAT, found)


def test_a_clean_visit_reason_is_kept_without_findings(desk: Desk) -> None:
    asked = ask_for_a_visit(desk, my_case(desk), "电话长期无人接听")
    assert asked["reason_findings"] == []
    assert visit_row(desk, asked["visit_id"]).reason_findings is None
    assert "findings" not in audit_details(desk.app, "visit.request")[0]
    assert flagged_on_the_dashboard(desk) == []


def test_a_visit_approvers_note_is_kept_on_the_visit_with_its_findings(desk: Desk) -> None:
    loan_id = my_case(desk)
    visit_id = ask_for_a_visit(desk, loan_id, "电话长期无人接听")["visit_id"]
    decided = desk.client().post(
        f"/api/v1/visits/{visit_id}/decision", headers=desk.bearer("sup-east"),
        json={"approve": True, "note": " 这种老赖就该上门 "},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    found = decided.json()["note_findings"]
    assert [(f["rule"], f["matched"]) for f in found] == [("cn.content.insults", "老赖")]
    row = visit_row(desk, visit_id)
    assert (row.status, row.decision_note, row.decision_note_findings) == (
        "approved", "这种老赖就该上门", found,
    )  # fmt: skip
    audited_and_counted(desk, loan_id, "visit.approve", "note", "这种老赖就该上门",
                        ["cn.content.insults"], "visit_decision")  # fmt: skip
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=desk.bearer("admin")).json()
    (visit,) = case["visits"]
    assert (visit["decision_note"], visit["decision_note_findings"]) == ("这种老赖就该上门", found)


def test_a_visit_decided_without_a_note_keeps_none(desk: Desk) -> None:
    visit_id = ask_for_a_visit(desk, my_case(desk), "电话长期无人接听")["visit_id"]
    decided = desk.client().post(
        f"/api/v1/visits/{visit_id}/decision",
        headers=desk.bearer("sup-east"),
        json={"approve": False},
    )
    assert decided.json() == {"visit_id": visit_id, "status": "rejected", "note_findings": []}
    row = visit_row(desk, visit_id)
    assert (row.decision_note, row.decision_note_findings) == (None, None)


def test_the_case_page_decides_a_visit_with_a_note_shown_with_its_findings(desk: Desk) -> None:
    loan_id = my_case(desk)
    visit_id = ask_for_a_visit(desk, loan_id, "电话长期无人接听")["visit_id"]
    supervisor, csrf = desk.signed_in("sup-east")
    form = supervisor.get(f"/cases/{loan_id}").text.split(f'id="visit-action-{visit_id}"')[1]
    assert '<input name="note"' in form.split("</form>")[0]
    decided = supervisor.post(
        f"/visits/{visit_id}/decision", headers={"X-CSRF-Token": csrf, "HX-Request": "true"},
        data={"decision": "approve", "note": " 这种老赖就该上门 "},
    )  # fmt: skip
    kept_with(decided, "侮辱、谩骂")
    row = visit_row(desk, visit_id)
    assert (row.status, row.decision_note) == ("approved", "这种老赖就该上门")
    assert [f["rule"] for f in row.decision_note_findings] == ["cn.content.insults"]
    page = supervisor.get(f"/cases/{loan_id}").text
    assert '<mark class="lint" title="侮辱、谩骂">老赖</mark>' in page


def pending_plan(desk: Desk, loan_id: str) -> int:
    """A 12-month plan col-east-1 proposes (beyond a collector's 6): waiting for approval."""
    big = desk.client().post(
        f"/api/v1/cases/{loan_id}/proposals",
        headers=desk.bearer("col-east-1"),
        json={"kind": "plan", "months": 12},
    )
    assert big.json()["status"] == "pending", big.text
    proposal: int = big.json()["proposal_id"]
    return proposal


def test_a_proposal_approvers_note_is_kept_with_its_findings_and_counted(desk: Desk) -> None:
    loan_id = my_case(desk)
    proposal = pending_plan(desk, loan_id)
    decided = desk.client().post(
        f"/api/v1/approvals/{proposal}", headers=desk.bearer("sup-east"),
        json={"approve": False, "note": f"  {THREAT}  "},
    )  # fmt: skip
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "rejected"
    found = decided.json()["note_findings"]
    assert [f["rule"] for f in found] == RULES
    with desk.app.engine.connect() as conn:
        row = conn.execute(select(proposals).where(proposals.c.proposal_id == proposal)).one()
    assert (row.decision_note, row.decision_note_findings) == (THREAT, found)
    audited_and_counted(desk, loan_id, "proposal.reject", "note", THREAT, RULES,
                        "proposal_decision")  # fmt: skip
    case = desk.client().get(f"/api/v1/cases/{loan_id}", headers=desk.bearer("admin")).json()
    shown = [p for p in case["proposals"] if p["proposal_id"] == proposal]
    assert [(p["decision_note"], p["decision_note_findings"]) for p in shown] == [(THREAT, found)]


def test_a_proposal_approved_within_limits_is_not_linted_as_a_note(desk: Desk) -> None:
    # Approved at once within the collector's limits: its "note" is the limit's words, which
    # no approver wrote; nothing is flagged, and the case page shows no approver's note.
    loan_id = my_case(desk)
    small = desk.client().post(
        f"/api/v1/cases/{loan_id}/proposals",
        headers=desk.bearer("col-east-1"),
        json={"kind": "plan", "months": 3},
    )
    assert small.json()["status"] == "approved"
    with desk.app.engine.connect() as conn:
        row = conn.execute(select(proposals)).one()
    assert row.decision_note.startswith("within ")
    assert row.decision_note_findings is None
    client, _ = desk.signed_in("col-east-1")
    assert f'id="proposal-note-{row.proposal_id}"' not in client.get(f"/cases/{loan_id}").text


def test_the_pages_show_a_visits_reason_and_approvers_notes_in_the_readers_language(
    desk: Desk,
) -> None:
    loan_id = my_case(desk)
    gentler_steps_done(desk, loan_id)
    client, csrf = desk.signed_in("col-east-1")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    asked = client.post(f"/cases/{loan_id}/visits", headers=headers,
                        data={"second": "col-east-2", "planned_on": "2025-10-03",
                              "reason": "他说要找人收拾你"})  # fmt: skip
    kept_with(asked, "威胁、恐吓")
    supervisor, sup_csrf = desk.signed_in("sup-east")
    proposal = pending_plan(desk, loan_id)
    decided = supervisor.post(f"/approvals/{proposal}",
                              headers={"X-CSRF-Token": sup_csrf, "HX-Request": "true"},
                              data={"decision": "reject", "note": "不要脸"})  # fmt: skip
    kept_with(decided, "侮辱、谩骂")
    page = client.get(f"/cases/{loan_id}").text
    assert "质检提示 2 条" in page
    assert '<mark class="lint" title="威胁、恐吓">找人收拾你</mark>' in page
    assert '<mark class="lint" title="侮辱、谩骂">不要脸</mark>' in page
    client.post("/me/locale", headers=headers, data={"locale": "zh-TW"})
    assert "威脅、恐嚇" in client.get(f"/cases/{loan_id}").text
    client.post("/me/locale", headers=headers, data={"locale": "en"})
    english = client.get(f"/cases/{loan_id}").text
    assert "Content lint: 2 flagged" in english
    shown = supervisor.get("/dashboard").text
    assert "外访申请理由" in shown
    assert "方案审批意见" in shown


def test_a_flags_reason_is_kept_with_its_findings_and_counted(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    answer = staffed.client().post(
        f"/api/v1/cases/{loan_id}/flags", headers=staffed.bearer("sup-east"),
        json={"flag": "legal", "reason": f"  {THREAT}  "},
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    found = answer.json()["reason_findings"]
    assert [f["rule"] for f in found] == RULES
    with staffed.app.engine.connect() as conn:
        row = conn.execute(select(loan_flags)).one()
    assert (row.reason, row.reason_findings, utc(row.set_at)) == (THREAT, found, staffed.now)
    audited_and_counted(staffed, loan_id, "flag.set", "reason", THREAT, RULES, "flag")
    case = staffed.client().get(f"/api/v1/cases/{loan_id}", headers=staffed.bearer("admin"))
    (flag,) = case.json()["flags"]
    assert (flag["reason"], flag["reason_findings"]) == (THREAT, found)


def test_a_clean_flags_reason_is_kept_without_findings(staffed: Desk) -> None:
    loan_id = one_case(staffed.app)
    answer = staffed.client().post(
        f"/api/v1/cases/{loan_id}/flags", headers=staffed.bearer("sup-east"),
        json={"flag": "legal", "reason": "借款人明确表示拒绝还款"},
    )  # fmt: skip
    assert answer.json()["reason_findings"] == []
    with staffed.app.engine.connect() as conn:
        assert conn.execute(select(loan_flags.c.reason_findings)).scalar_one() is None
    assert "findings" not in audit_details(staffed.app, "flag.set")[0]
    assert flagged_on_the_dashboard(staffed) == []


def test_the_case_page_shows_a_flags_reason_with_what_the_lint_found(desk: Desk) -> None:
    loan_id = my_case(desk)
    client, csrf = desk.signed_in("sup-east")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    referred = client.post(f"/cases/{loan_id}/flags", headers=headers,
                           data={"flag": "legal", "reason": "老赖，移交起诉"})  # fmt: skip
    kept_with(referred, "侮辱、谩骂")
    page = client.get(f"/cases/{loan_id}").text
    assert "质检提示 1 条" in page
    assert '<mark class="lint" title="侮辱、谩骂">老赖</mark>，移交起诉' in page
    client.post("/me/locale", headers=headers, data={"locale": "en"})
    assert "Content lint: 1 flagged" in client.get(f"/cases/{loan_id}").text
    assert "flag&#39;s reason" in client.get("/dashboard").text
