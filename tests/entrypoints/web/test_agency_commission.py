"""An agency's commission changes for the cases placed from then on (a renegotiated contract);
a case placed already keeps the rate it was placed at, and the dashboard reckons each case's
collections at its placement's rate."""

import html
from datetime import date

import pytest
from sqlalchemy import Connection, insert, select, update

from arrears.adapters.db.casework_tables import agencies, placements
from arrears.adapters.db.tables import payments
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.errors import Refusal
from arrears.entrypoints.demo_staff import AGENCY
from tests.entrypoints.web.desk_book import AS_OF, DAY_TIME, Desk
from tests.entrypoints.web.test_agency_list import place

AGENCY_ID, _NAME, _RATE = AGENCY
URL = f"/api/v1/agencies/{AGENCY_ID}/commission"


def placement_rates(desk: Desk, loan_id: str) -> list[str]:
    """The commission rates of the loan's placements, oldest first."""
    with desk.app.engine.connect() as conn:
        found = conn.execute(
            select(placements.c.commission_rate)
            .where(placements.c.loan_id == loan_id)
            .order_by(placements.c.placement_id)
        )
        return list(found.scalars())


def paid(conn: Connection, rows: list[tuple[str, str, int, date]]) -> None:
    """Payments (id, loan, amount, day) on record."""
    conn.execute(insert(payments), [
        {"payment_id": p, "loan_id": loan_id, "amount": amount, "paid_on": on, "channel": "app"}
        for p, loan_id, amount, on in rows
    ])  # fmt: skip


def test_a_new_rate_holds_for_placements_made_after_it_not_for_those_before(desk: Desk) -> None:
    assert _RATE == "0.18"
    admin = desk.bearer("admin")
    changed = desk.client().put(URL, headers=admin, json={"commission": "0.2"})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"agency_id": AGENCY_ID, "name": _NAME, "commission": "0.2",
                              "listed": True, "evaluated_on": "2025-09-30",
                              "was": "0.18"}  # fmt: skip
    [entry] = [e.entry for e in desk.app.audit_log.entries(subject=f"agency:{AGENCY_ID}")
               if e.entry.action == "agency.commission"]  # fmt: skip
    assert (entry.actor, entry.detail) == ("admin", {"commission": "0.2", "was": "0.18"})
    # L0000024 was placed on the desk's first day at 0.18: it keeps it; placed again after
    # a recall, it is placed at the agency's rate now.
    assert placement_rates(desk, "L0000024") == ["0.18"]
    sup = desk.bearer("sup-east")
    assert desk.client().delete("/api/v1/cases/L0000024/placement", headers=sup).is_success
    placed = place(desk, "L0000024")
    assert placed.status_code == 201, placed.text
    assert placement_rates(desk, "L0000024") == ["0.18", "0.2"]
    assert placement_rates(desk, "L0000079") == ["0.18"]


def test_the_dashboard_reckons_each_cases_collections_at_its_placements_rate(desk: Desk) -> None:
    # L0000079 placed at 0.18 on 2025-09-05, L0000091 at 0.2 on 2025-09-10 (after a change),
    # each paid in the window while placed; the agency's rate is 0.25 now.
    with desk.app.engine.begin() as conn:
        for loan_id, on, rate in (("L0000079", date(2025, 9, 5), "0.18"),
                                  ("L0000091", date(2025, 9, 10), "0.2")):  # fmt: skip
            conn.execute(update(placements).where(placements.c.loan_id == loan_id)
                         .values(placed_on=on, commission_rate=rate))  # fmt: skip
        paid(conn, [("PX1", "L0000079", 12_525, date(2025, 9, 20)),
                    ("PX2", "L0000079", 100, date(2025, 9, 4)),
                    ("PX3", "L0000091", 33_333, date(2025, 9, 12)),
                    ("PX4", "L0000091", 2, AS_OF)])  # fmt: skip
        conn.execute(update(agencies).where(agencies.c.agency_id == AGENCY_ID)
                     .values(commission_rate="0.25"))  # fmt: skip
    shown = desk.client().get("/api/v1/dashboard", headers=desk.bearer("admin")).json()
    # 0.18 × 125.25 = 22.545 → 22.55 (half up); 0.2 × 333.35 = 66.67. PX2 was before placing.
    assert shown["collected_by_agency"] == {AGENCY_ID: {
        "collected": {"CNY": "458.60"}, "commission_rate": None, "commission": {"CNY": "89.22"},
        "by_rate": {"0.18": {"collected": {"CNY": "125.25"}, "commission": {"CNY": "22.55"}},
                    "0.2": {"collected": {"CNY": "333.35"}, "commission": {"CNY": "66.67"}}},
    }}  # fmt: skip
    client, _ = desk.signed_in("admin")
    page = client.get("/dashboard").text
    rows = page.split(">佣金</th></tr>", 1)[1].split("</table>", 1)[0]
    assert rows.count("<tr>") == 2
    assert ('<td>agency-hz</td><td class="num">¥125.25</td><td class="num">18%</td>'
            '<td class="num">¥22.55</td>') in rows  # fmt: skip
    assert ('<td>agency-hz</td><td class="num">¥333.35</td><td class="num">20%</td>'
            '<td class="num">¥66.67</td>') in rows  # fmt: skip
    assert "25%" not in rows  # the agency's rate now is no placement's
    assert "每个案件的回款按其委外时的佣金比例计算佣金" in page


def test_one_rate_written_two_ways_is_one_rate_on_the_dashboard(desk: Desk) -> None:
    with desk.app.engine.begin() as conn:
        for loan_id, rate in (("L0000079", "0.2"), ("L0000091", "0.20")):
            conn.execute(update(placements).where(placements.c.loan_id == loan_id)
                         .values(placed_on=date(2025, 9, 5), commission_rate=rate))  # fmt: skip
        paid(conn, [("PX1", "L0000079", 1_000, AS_OF), ("PX2", "L0000091", 1_000, AS_OF)])
    shown = desk.client().get("/api/v1/dashboard", headers=desk.bearer("admin")).json()
    assert shown["collected_by_agency"][AGENCY_ID] == {
        "collected": {"CNY": "20.00"}, "commission_rate": "0.2", "commission": {"CNY": "4.00"},
        "by_rate": {"0.2": {"collected": {"CNY": "20.00"}, "commission": {"CNY": "4.00"}}},
    }  # fmt: skip


def test_the_administrator_changes_the_commission_on_the_page(desk: Desk) -> None:
    client, csrf = desk.signed_in("admin")
    hx = {"X-CSRF-Token": csrf, "HX-Request": "true"}
    row = client.get("/admin/users").text.split(f'id="agency-{AGENCY_ID}"')[1].split("</tr>")[0]
    assert "修改佣金比例" in row
    assert "适用于此后委外的案件；已委外的案件仍按原比例" in row
    done = client.post(f"/admin/agencies/{AGENCY_ID}/commission", headers=hx,
                       data={"commission": "0.15"})  # fmt: skip
    assert done.status_code == 200, done.text
    assert "已修改委外机构佣金比例" in done.text
    row = client.get("/admin/users").text.split(f'id="agency-{AGENCY_ID}"')[1].split("</tr>")[0]
    assert '<td class="num">15%</td>' in row
    same = client.post(f"/admin/agencies/{AGENCY_ID}/commission", headers=hx,
                       data={"commission": "0.1500"})  # fmt: skip
    assert same.status_code == 422
    assert "委外机构 'agency-hz' 的佣金比例已是 0.15，无需修改" in html.unescape(same.text)
    client.post("/me/locale", data={"locale": "en", "csrf_token": csrf})
    audit = client.get("/audit").text
    assert "agency commission" in audit
    supervisor, token = desk.signed_in("sup-east")
    refused = supervisor.post(f"/admin/agencies/{AGENCY_ID}/commission",
                              headers={"X-CSRF-Token": token, "HX-Request": "true"},
                              data={"commission": "0.3"})  # fmt: skip
    assert refused.status_code == 403
    assert desk.app.desk.agency(AGENCY_ID).commission_rate == "0.15"  # type: ignore[union-attr]


REFUSED = [
    ("admin", AGENCY_ID, {"commission": "20%"}, 422, "commission '20%' is not allowed"),
    ("admin", AGENCY_ID, {"commission": "1.5"}, 422, "commission '1.5' is not allowed"),
    ("admin", AGENCY_ID, {"commission": "０.2"}, 422, "commission '０.2' is not allowed"),
    ("admin", AGENCY_ID, {"commission": 0.2}, 422, "commission"),
    ("admin", AGENCY_ID, {"commission": "0.180"}, 422,
     "agency 'agency-hz''s commission is already 0.18: nothing to change"),
    ("admin", "agency-xx", {"commission": "0.2"}, 404, "agency 'agency-xx' is not known"),
    ("sup-east", AGENCY_ID, {"commission": "0.2"}, 403, ""),
]  # fmt: skip


@pytest.mark.parametrize(("who", "agency_id", "body", "status", "problem"), REFUSED)
def test_a_change_outside_the_rules_is_refused_with_nothing_written(
    desk: Desk, who: str, agency_id: str, body: dict[str, object], status: int, problem: str
) -> None:
    token = desk.bearer(who)  # its issue is audited
    before = desk.app.audit_log.head()
    refused = desk.client().put(f"/api/v1/agencies/{agency_id}/commission", headers=token,
                                json=body)  # fmt: skip
    assert refused.status_code == status, refused.text
    assert problem in refused.text
    assert desk.app.audit_log.head() == before
    assert desk.app.desk.agency(AGENCY_ID).commission_rate == "0.18"  # type: ignore[union-attr]


def test_a_placement_judged_at_the_old_rate_is_not_written_at_it(desk: Desk) -> None:
    # The service judged the agency at 0.18; its rate changed before the placement was
    # written: the store finds the agency changed and places nothing.
    sup = desk.bearer("sup-east")
    assert desk.client().delete("/api/v1/cases/L0000024/placement", headers=sup).is_success
    judged = desk.app.desk.agency(AGENCY_ID)
    assert judged is not None
    changed = desk.client().put(URL, headers=desk.bearer("admin"), json={"commission": "0.2"})
    assert changed.status_code == 200, changed.text
    entry = AuditEntry(DAY_TIME, "sup-east", "case.place", "loan:L0000024", {})
    with pytest.raises(Refusal, match="was evaluated or changed meanwhile"):
        desk.app.desk.place("L0000024", judged, DAY_TIME.date(), 100, "sup-east", entry)
    assert placement_rates(desk, "L0000024") == ["0.18"]  # the recalled one alone
