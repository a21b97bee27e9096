"""Inputs that used to crash or slip through (found in review): each is now a clear refusal."""

import re
from fractions import Fraction

import pytest
from sqlalchemy import select

from arrears.adapters.db.tables import loans
from arrears.entrypoints.web.api_admin import decimal_text
from tests.entrypoints.web.desk_book import EARLY_TIME, Desk
from tests.entrypoints.web.test_casework_flows import my_case


def test_a_csrf_or_sign_in_token_that_is_not_ascii_is_refused_not_a_crash(desk: Desk) -> None:
    client, _ = desk.signed_in("col-east-1")
    loan_id = my_case(desk)
    answer = client.post(f"/cases/{loan_id}/notes", data={"text": "hi", "csrf_token": "é"})
    assert answer.status_code == 403
    page = desk.client().post("/login", data={"user_id": "x", "password": "y", "prelogin": "é"})
    assert page.status_code == 403


@pytest.mark.parametrize(
    "path", ["/approvals/99999999999999999999", "/visits/99999999999999999999/decision"]
)
def test_a_row_number_out_of_range_is_a_bad_request(desk: Desk, path: str) -> None:
    client, csrf = desk.signed_in("sup-east")
    answer = client.post(path, headers={"X-CSRF-Token": csrf}, data={"decision": "approve"})
    assert answer.status_code == 422


def test_an_amount_beyond_any_loan_is_refused_on_the_page(desk: Desk) -> None:
    client, csrf = desk.signed_in("col-east-1")
    answer = client.post(
        f"/cases/{my_case(desk)}/promises",
        headers={"X-CSRF-Token": csrf},
        data={"amount": "99999999999999999999", "due_on": "2025-10-05"},
    )
    assert answer.status_code == 422


def test_an_unknown_team_is_named_not_a_crash(desk: Desk) -> None:
    answer = desk.client().put(
        f"/api/v1/cases/{my_case(desk)}/assignment",
        headers=desk.bearer("admin"),
        json={"team_id": "nosuchteam"},
    )
    assert answer.status_code == 422
    assert "nosuchteam" in answer.json()["error"]


def test_contacts_are_logged_when_they_happen_not_backdated_or_ahead(desk: Desk) -> None:
    headers = desk.bearer("col-east-1")
    loan_id = my_case(desk)
    for at in (
        "2025-09-20T10:00:00+08:00",
        "2025-10-05T10:00:00+08:00",
        "0001-01-01T00:00:00+08:00",
    ):
        answer = desk.client().post(
            f"/api/v1/cases/{loan_id}/contacts",
            headers=headers,
            json={"channel": "call", "outcome": "busy", "at": at},
        )
        assert answer.status_code == 422, at


def test_only_compliance_places_or_lifts_a_deceased_hold(desk: Desk) -> None:
    loan_id = my_case(desk)
    hold = {"kind": "deceased", "starts_on": "2025-10-01"}
    collector = desk.client().post(
        f"/api/v1/cases/{loan_id}/holds", headers=desk.bearer("col-east-1"), json=hold
    )
    assert collector.status_code == 403
    placed = desk.client().post(
        f"/api/v1/cases/{loan_id}/holds", headers=desk.bearer("compliance"), json=hold
    )
    assert placed.status_code == 201
    client, csrf = desk.signed_in("col-east-1")
    lift = client.post(
        f"/cases/{loan_id}/holds/lift",
        headers={"X-CSRF-Token": csrf},
        data={"kind": "deceased", "starts_on": "2025-10-01"},
    )
    assert lift.status_code == 403


def test_a_holds_window_is_counted_from_the_desks_day(desk: Desk) -> None:
    # 07:00 in Shanghai on 1 October, still 30 September in UTC: the 30 days a hold may start
    # within run from the desk's day.
    desk.now = EARLY_TIME
    loan_id, headers = my_case(desk), desk.bearer("compliance")
    url = f"/api/v1/cases/{loan_id}/holds"
    late = desk.client().post(url, headers=headers, json={"kind": "dispute",
                                                          "starts_on": "2025-10-31"})  # fmt: skip
    assert late.status_code == 201, late.text
    early = desk.client().post(url, headers=headers, json={"kind": "hardship",
                                                           "starts_on": "2025-08-31"})  # fmt: skip
    assert early.status_code == 422
    assert "within 30 days of today" in early.json()["error"]


def test_the_queue_ranks_every_case_by_priority(desk: Desk) -> None:
    cases = desk.client().get("/api/v1/queue", headers=desk.bearer("admin")).json()["cases"]
    points = [c["priority"] for c in cases]
    assert points == sorted(points, reverse=True)
    assert len(cases) > 10


def test_a_supervisor_does_not_see_the_performing_book(desk: Desk) -> None:
    admin = desk.bearer("admin")
    with desk.app.engine.connect() as conn:
        every = conn.execute(select(loans.c.loan_id).order_by(loans.c.loan_id)).scalars().all()
    performing = [
        loan
        for loan in every
        if desk.client().get(f"/api/v1/cases/{loan}", headers=admin).json()["case"]["stage"]
        in ("current", "settled")
    ][:3]
    assert performing
    supervisor = desk.bearer("sup-west")
    for loan in performing:  # never assigned (balancing gives cases in collection only)
        assert desk.client().get(f"/api/v1/cases/{loan}", headers=supervisor).status_code == 404


def test_the_dashboard_gives_rates_as_decimals() -> None:
    assert decimal_text(Fraction(2, 3)) == "0.6667"
    assert decimal_text(Fraction(1, 8)) == "0.1250"


def test_the_csv_export_makes_formulas_inert(desk: Desk) -> None:
    client = desk.client()
    token = re.search(r'name="prelogin" value="([^"]+)"', client.get("/login").text)
    assert token is not None
    client.post(
        "/login", data={"user_id": '=HYPERLINK("x")', "password": "p", "prelogin": token.group(1)}
    )  # a failed sign-in is audited
    table = (
        desk.client().get("/api/v1/audit/export?format=csv", headers=desk.bearer("compliance")).text
    )
    assert "'=HYPERLINK" in table
    assert ',"=HYPERLINK' not in table


def test_a_nul_in_a_note_is_refused_naming_the_field(desk: Desk) -> None:
    # The check is the application's, not the admin pages': a case's forms and API get it too.
    client, csrf = desk.signed_in("col-east-1")
    loan_id = my_case(desk)
    before = len(desk.app.audit_log.entries(subject=f"loan:{loan_id}"))
    page = client.post(
        f"/cases/{loan_id}/notes", headers={"X-CSRF-Token": csrf}, data={"text": "a\x00b"}
    )
    assert (page.status_code, "body.text" in page.text) == (422, True)
    api = desk.client().post(
        f"/api/v1/cases/{loan_id}/notes", headers=desk.bearer("col-east-1"), json={"text": "a\x00b"}
    )
    assert api.status_code == 422
    assert api.json()["problems"] == [
        {"where": "body.text", "problem": "holds a NUL character (U+0000) at character 2: "
         "text may hold none"}
    ]  # fmt: skip
    assert len(desk.app.audit_log.entries(subject=f"loan:{loan_id}")) == before


@pytest.mark.parametrize(
    ("path", "body", "where", "problem"),
    [
        # A text or a number is no boolean, nor a text a number (helper-89: "yes" approved).
        ("/approvals/1", {"approve": "yes"}, "body.approve", "a valid boolean"),
        ("/approvals/1", {"approve": 1}, "body.approve", "a valid boolean"),
        ("/cases/{loan}/proposals", {"kind": "extension", "days": True}, "body.days",
         "a valid integer"),
        ("/cases/{loan}/proposals", {"kind": "plan", "months": "2"}, "body.months",
         "a valid integer"),
        # A number of seconds is no instant, a day with a time no day.
        ("/cases/{loan}/contacts", {"channel": "call", "outcome": "no_answer",
                                    "at": 1765000000}, "body.at", "ISO 8601 text"),
        ("/cases/{loan}/contacts", {"channel": "call", "outcome": "no_answer",
                                    "at": "1759285800"}, "body.at", "ISO 8601 text"),
        ("/cases/{loan}/promises", {"amount": "100.00", "due_on": "2027-01-01T00:00:00"},
         "body.due_on", "YYYY-MM-DD"),
        ("/cases/{loan}/holds", {"kind": "hardship", "starts_on": 20270101}, "body.starts_on",
         "YYYY-MM-DD"),
        # The legal track's days too (helper-112: taken as 2025-10-01, then to the guard).
        ("/cases/{loan}/legal", {"step": "lawyers_letter", "on": 1759276800}, "body.on",
         "YYYY-MM-DD"),
        ("/cases/{loan}/legal", {"step": "judgment", "on": "2025-10-01",
                                 "performance_due": "2025-10-01T00:00:00"},
         "body.performance_due", "YYYY-MM-DD"),
        # Digits of another script are no amount (helper-89: ١٠٠ stored as 100.00).
        ("/cases/{loan}/promises", {"amount": "\u0661\u0660\u0660", "due_on": "2025-10-05"},
         "body.amount", "match pattern"),
    ],
)  # fmt: skip
def test_a_value_of_the_wrong_type_is_refused_not_converted(
    desk: Desk, path: str, body: dict[str, object], where: str, problem: str
) -> None:
    loan_id, headers = my_case(desk), desk.bearer("sup-east")  # (a token issued is audited)
    before = len(desk.app.audit_log.entries())
    answer = desk.client().post("/api/v1" + path.format(loan=loan_id), headers=headers, json=body)
    assert answer.status_code == 422, answer.text
    [found] = [p for p in answer.json()["problems"] if p["where"] == where]
    assert problem in found["problem"]
    assert len(desk.app.audit_log.entries()) == before


def test_a_body_that_is_not_json_is_a_400_as_the_schema_says(desk: Desk) -> None:
    # The schema documents 400 for a body that cannot be read; it was a 422 (helper-112).
    loan_id, headers = my_case(desk), desk.bearer("col-east-1")
    before = len(desk.app.audit_log.entries())
    answer = desk.client().post(
        f"/api/v1/cases/{loan_id}/promises",
        headers={**headers, "Content-Type": "application/json"},
        content=b'{"amount": "1.00", ',
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"].startswith("the body is not JSON: body.")
    assert len(desk.app.audit_log.entries()) == before
    # A body that is JSON but wrong stays a 422.
    wrong = desk.client().post(
        f"/api/v1/cases/{loan_id}/promises", headers=headers, json={"amount": "x"}
    )
    assert wrong.status_code == 422
