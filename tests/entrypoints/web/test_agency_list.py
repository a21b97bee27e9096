"""Outsourcing (cn.outsourcing: CBA 2026, GB/T 45251-2025): a case of a cn loan is placed only
with an agency on the lender's white list, evaluated in the 12 months before the desk's day;
the administrator records evaluations and sees each agency's standing on /admin/users."""

import html
import re
from datetime import UTC, date, datetime

import pytest
from httpx2 import Response
from sqlalchemy import select, update

from arrears.adapters.db.casework_tables import placements
from arrears.adapters.db.tables import loans
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.domain.outsourcing import Agency
from arrears.entrypoints.demo_staff import AGENCY
from tests.entrypoints.web.desk_book import DAY_TIME, Desk, placement_steps_done
from tests.entrypoints.web.test_casework_flows import my_case

AGENCY_ID, AGENCY_NAME, _RATE = AGENCY


def placeable(desk: Desk) -> str:
    """A case of the first collector, its gentler steps done and not placed (the seeding may
    have placed it)."""
    loan_id = my_case(desk)
    placement_steps_done(desk.app, [loan_id])
    desk.client().delete(f"/api/v1/cases/{loan_id}/placement", headers=desk.bearer("sup-east"))
    return loan_id


def place(desk: Desk, loan_id: str, agency_id: str = AGENCY_ID) -> Response:
    """The supervisor places the case through the API."""
    return desk.client().post(f"/api/v1/cases/{loan_id}/placement",
                              headers=desk.bearer("sup-east"),
                              json={"agency_id": agency_id})  # fmt: skip


def evaluate(desk: Desk, on: str, listed: bool = True, agency_id: str = AGENCY_ID) -> None:
    """The administrator records an evaluation through the API."""
    done = desk.client().post(f"/api/v1/agencies/{agency_id}/evaluation",
                              headers=desk.bearer("admin"),
                              json={"on": on, "listed": listed})  # fmt: skip
    assert done.status_code == 200, done.text


def placed_with(desk: Desk, loan_id: str) -> list[str]:
    with desk.app.engine.connect() as conn:
        found = conn.execute(
            select(placements.c.agency_id).where(
                placements.c.loan_id == loan_id, placements.c.recalled_on.is_(None)
            )
        )
        return list(found.scalars())


def test_an_agency_evaluated_twelve_months_ago_to_the_day_is_placed_with_not_a_day_more(
    desk: Desk,
) -> None:
    loan_id = placeable(desk)  # the desk's day: 2025-10-01 in Shanghai
    evaluate(desk, "2024-09-30")
    refused = place(desk, loan_id)
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"].startswith(
        f"agency 'agency-hz' ({AGENCY_NAME}) was last evaluated on 2024-09-30, more than 12 "
        f"months before 2025-10-01: evaluate it again before a case is placed with it "
        f"(cn.outsourcing: 中国银行业协会《金融机构个人消费类贷款催收工作指引(试行)》"
    )
    assert refused.json()["error"].endswith("(unverified))")
    assert placed_with(desk, loan_id) == []
    evaluate(desk, "2024-10-01")
    placed = place(desk, loan_id)
    assert placed.status_code == 201, placed.text
    assert placed_with(desk, loan_id) == [AGENCY_ID]
    # The placement's audit entry names the evaluation it relied on.
    [entry] = [e.entry for e in desk.app.audit_log.entries(subject=f"loan:{loan_id}")
               if e.entry.action == "case.place"]  # fmt: skip
    assert (entry.detail["listed"], entry.detail["evaluated_on"]) == (True, "2024-10-01")


def test_an_agency_never_evaluated_is_refused_on_the_page_in_the_readers_language(
    desk: Desk,
) -> None:
    loan_id = placeable(desk)
    admin = desk.bearer("admin")
    made = desk.client().post("/api/v1/agencies", headers=admin, json={
        "agency_id": "agency-sz", "name": "深圳新设催收", "commission": "0.2", "listed": True,
    })  # fmt: skip
    assert made.status_code == 201, made.text
    assert made.json() == {"agency_id": "agency-sz", "name": "深圳新设催收", "commission": "0.2",
                           "listed": True, "evaluated_on": None}  # fmt: skip
    refused = place(desk, loan_id, "agency-sz")
    assert refused.status_code == 409
    assert refused.json()["error"].startswith(
        "agency 'agency-sz' (深圳新设催收) has never been evaluated: a case is placed only "
        "with an agency evaluated in the last 12 months; record its evaluation first "
        "(cn.outsourcing: "
    )
    client, csrf = desk.signed_in("sup-east")
    hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    page = client.post(f"/cases/{loan_id}/placement", headers=hx, data={"agency_id": "agency-sz"})
    assert page.status_code == 409
    shown = html.unescape(page.text)
    assert (
        "委外机构 'agency-sz'（深圳新设催收）从未评估：案件只能委托给最近 12 个月内评估过的"
        "委外机构；请先记录对其的评估（cn.outsourcing：中国银行业协会《金融机构个人消费类贷款"
        "催收工作指引（试行）》（2026-01-30）：外部催收机构实行白名单制管理"
    ) in shown
    assert "至少每年评估一次" in shown
    assert "evaluated" not in shown
    client.post("/me/locale", data={"locale": "zh-TW", "csrf_token": csrf})
    page = client.post(f"/cases/{loan_id}/placement", headers=hx, data={"agency_id": "agency-sz"})
    # the agency's name is shown as it was given
    assert "委外機構 'agency-sz'（深圳新设催收）從未評估" in html.unescape(page.text)
    assert placed_with(desk, loan_id) == []
    evaluate(desk, "2025-09-15", agency_id="agency-sz")
    assert place(desk, loan_id, "agency-sz").status_code == 201


def test_an_agency_taken_off_the_white_list_is_refused_whatever_its_evaluation(
    desk: Desk,
) -> None:
    loan_id = placeable(desk)
    evaluate(desk, "2025-10-01", listed=False)  # evaluated this morning, and delisted
    refused = place(desk, loan_id)
    assert refused.status_code == 409
    assert refused.json()["error"].startswith(
        f"agency 'agency-hz' ({AGENCY_NAME}) is not on the lender's white list of collection "
        f"agencies: no case is placed with it (cn.outsourcing: "
    )
    assert placed_with(desk, loan_id) == []
    entries = desk.app.audit_log.entries(subject=f"agency:{AGENCY_ID}")
    assert [(e.entry.actor, e.entry.action, e.entry.detail) for e in entries][-1] == (
        "admin", "agency.evaluate", {"on": "2025-10-01", "listed": False}
    )  # fmt: skip
    evaluate(desk, "2025-10-01")  # listed again
    assert place(desk, loan_id).status_code == 201


def test_a_us_case_is_placed_with_an_agency_never_evaluated(desk: Desk) -> None:
    # The us pack has no outsourcing rule (REGULATIONS.md lists none for Regulation F): the
    # agency's standing is lender policy there, as a cn case of the same agency is refused.
    loan_id = placeable(desk)
    made = desk.client().post("/api/v1/agencies", headers=desk.bearer("admin"), json={
        "agency_id": "agency-ny", "name": "NY Recovery", "commission": "0.25",
    })  # fmt: skip
    assert made.status_code == 201, made.text
    assert place(desk, loan_id, "agency-ny").status_code == 409  # still a cn case
    with desk.app.engine.begin() as conn:
        conn.execute(update(loans).where(loans.c.loan_id == loan_id)
                     .values(product="us-installment", currency="USD"))  # fmt: skip
    client, _ = desk.signed_in("sup-east")
    offered = client.get(f"/cases/{loan_id}").text  # as a reader reads a share: 25%
    assert '<option value="agency-ny">NY Recovery (佣金 25%)</option>' in offered
    placed = place(desk, loan_id, "agency-ny")
    assert placed.status_code == 201, placed.text
    assert placed_with(desk, loan_id) == ["agency-ny"]
    assert "佣金 25%)" in client.get(f"/cases/{loan_id}").text  # its placement too


def test_an_evaluation_recorded_meanwhile_stops_a_placement_judged_before_it(desk: Desk) -> None:
    # The service judged the agency cleared; it was delisted before the placement was
    # written: the store, holding the write lock, finds the agency changed and places nothing.
    loan_id = placeable(desk)
    judged = desk.app.desk.agency(AGENCY_ID)
    assert judged is not None
    evaluate(desk, "2025-10-01", listed=False)
    entry = AuditEntry(DAY_TIME, "sup-east", "case.place", f"loan:{loan_id}", {})
    meanwhile = "agency 'agency-hz' was evaluated or changed meanwhile: place the case again"
    with pytest.raises(Refusal, match=re.escape(meanwhile)):
        desk.app.desk.place(loan_id, judged, DAY_TIME.date(), 100, "sup-east", entry)
    assert placed_with(desk, loan_id) == []


def test_the_administrator_records_evaluations_and_sees_each_agencys_standing(
    desk: Desk,
) -> None:
    client, csrf = desk.signed_in("admin")
    headers = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    page = client.get("/admin/users").text
    row = page.split('id="agency-agency-hz"')[1].split("</tr>")[0]
    assert "在白名单上" in row
    assert "2025-09-30" in row  # evaluated the day the desk opened (the demo's seeding)
    assert "可委外至 2026-09-30（cn.outsourcing）" in row
    assert "最近 12 个月内评估过的委外机构" in page
    made = client.post("/admin/agencies", headers=headers, data={
        "agency_id": "agency-wh", "name": "武汉催收", "commission": "0.15",
    })  # fmt: skip
    assert made.status_code == 200, made.text
    row = client.get("/admin/users").text.split('id="agency-agency-wh"')[1].split("</tr>")[0]
    assert "不在白名单上" in row
    assert "从未评估" in row
    assert "今天不得委外（cn.outsourcing）" in row
    done = client.post("/admin/agencies/agency-wh/evaluation", headers=headers,
                       data={"on": "2025-09-20", "listed": "true"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert "已记录委外机构评估" in done.text
    row = client.get("/admin/users").text.split('id="agency-agency-wh"')[1].split("</tr>")[0]
    assert "在白名单上" in row
    assert "2025-09-20" in row
    assert "可委外至 2026-09-20（cn.outsourcing）" in row
    # Unticked, the evaluation delists it; a day after the desk's today is refused.
    client.post("/admin/agencies/agency-wh/evaluation", headers=headers, data={"on": "2025-09-21"})
    row = client.get("/admin/users").text.split('id="agency-agency-wh"')[1].split("</tr>")[0]
    assert "不在白名单上" in row
    ahead = client.post("/admin/agencies/agency-wh/evaluation", headers=headers,
                        data={"on": "2025-10-02", "listed": "true"})  # fmt: skip
    assert ahead.status_code == 422
    assert "评估日期 2025-10-02 晚于今天（2025-10-01）" in ahead.text
    gone = client.post("/admin/agencies/nobody/evaluation", headers=headers,
                       data={"on": "2025-09-21"})  # fmt: skip
    assert gone.status_code == 404
    # Only an administrator records an evaluation, on the page or through the API.
    supervisor, sup_csrf = desk.signed_in("sup-east")
    refused = supervisor.post("/admin/agencies/agency-hz/evaluation", data={"on": "2025-09-21"},
                              headers={"X-CSRF-Token": sup_csrf})  # fmt: skip
    assert refused.status_code == 403
    for user in ("sup-east", "compliance", "agency-hz-1"):
        api = desk.client().post("/api/v1/agencies/agency-hz/evaluation",
                                 headers=desk.bearer(user), json={"on": "2025-09-21"})  # fmt: skip
        assert api.status_code == 403, user
    assert desk.app.desk.agency(AGENCY_ID) == Agency(
        AGENCY_ID, AGENCY_NAME, "0.18", listed=True, evaluated_on=date(2025, 9, 30)
    )
    api = desk.client().get("/api/v1/teams", headers=desk.bearer("admin")).json()["agencies"]
    assert {a["agency_id"]: (a["listed"], a["evaluated_on"]) for a in api} == {
        "agency-hz": (True, "2025-09-30"), "agency-wh": (False, "2025-09-21")
    }  # fmt: skip


def test_a_days_evaluation_is_not_yet_on_record_the_day_before(desk: Desk) -> None:
    # The desk's day decides, never the clock: a placement dated before the evaluation on
    # record finds no evaluation by its day.
    loan_id = placeable(desk)
    desk.now = datetime(2025, 9, 29, 2, 30, tzinfo=UTC)  # 2025-09-29 in Shanghai
    refused = place(desk, loan_id)
    assert refused.status_code == 409, refused.text
    assert "was evaluated on 2025-09-30, after 2025-09-29" in refused.json()["error"]
