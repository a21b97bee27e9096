"""The other texts staff write on a case go through the content lint as the notes do: a
hold's note, kept as written with its findings, never refused for them; the findings stored
beside the text, in the API's answers, the case file, the audit log, on the case page in
the reader's language, and counted on the dashboard with what kind of text it was."""

from sqlalchemy import select

from arrears.adapters.db.instants import utc
from arrears.adapters.db.tables import holds
from arrears.services.dashboard import dashboard
from tests.entrypoints.web.desk_book import ROLES, Desk
from tests.entrypoints.web.test_casework_flows import my_case
from tests.entrypoints.web.test_content_lint_web import THREAT, audit_details, one_case

RULES = ["cn.content.false_consequences", "cn.content.disclosure"]  # THREAT's, as found


def flagged_on_the_dashboard(desk: Desk) -> list[tuple[str, str, tuple[str, ...]]]:
    """The flagged texts the compliance officer's dashboard lists: kind, case, rules."""
    board = dashboard(desk.app.dashboards, ROLES["compliance"].principal(), desk.now.date())
    return [(t.written_in, t.loan_id, t.rules) for t in board.figures.flagged]


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
    (detail,) = audit_details(staffed.app, "hold.place")
    assert (detail["note"], detail["findings"]) == (THREAT, sorted(RULES))
    case = staffed.client().get(f"/api/v1/cases/{loan_id}", headers=staffed.bearer("admin"))
    (held,) = case.json()["holds"]
    assert (held["note"], held["note_findings"]) == (THREAT, found)
    assert flagged_on_the_dashboard(staffed) == [("hold", "L1", tuple(sorted(RULES)))]
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
    assert placed.status_code == 200, placed.text
    assert "已按原文保存。内容质检发现：" in placed.text
    assert "侮辱、谩骂" in placed.text
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
