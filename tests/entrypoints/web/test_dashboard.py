"""The dashboard's figures agree with the tables, stay within the scope, and draw as SVG."""

from datetime import UTC, date, datetime, timedelta
from html import escape

from sqlalchemy import func, select, update

from arrears.adapters.db.casework_tables import assignments
from arrears.adapters.db.tables import loan_states, loans, payments
from arrears.domain.access import PERMISSIONS, Permission
from arrears.domain.contact import ContactRequest
from arrears.entrypoints.web import charts, i18n
from arrears.services.contact_log import log_contact
from arrears.services.dashboard import dashboard
from tests.entrypoints.web.desk_book import AS_OF, NIGHT_TIME, ROLES, Desk
from tests.entrypoints.web.test_casework_flows import my_case
from tests.entrypoints.web.test_scoping import scope_of_user


def test_bucket_figures_are_the_scopes_and_add_up(desk: Desk) -> None:
    s = loan_states.c
    owed = s.overdue_principal + s.overdue_interest + s.overdue_penalty + s.overdue_fees
    for user_id in ("sup-east", "admin", "col-east-1"):
        if Permission.DASHBOARD not in PERMISSIONS[ROLES[user_id].role]:
            continue
        scope = scope_of_user(desk, user_id)
        board = dashboard(desk.app.dashboards, ROLES[user_id].principal(), desk.now.date())
        with desk.app.engine.connect() as conn:
            total = conn.execute(
                select(func.coalesce(func.sum(owed), 0)).where(s.loan_id.in_(scope))
            ).scalar_one()
            count = len(scope & set(conn.execute(select(s.loan_id)).scalars()))
        assert sum(sum(t.values()) for _, t in board.figures.buckets.values()) == total
        assert sum(n for n, _ in board.figures.buckets.values()) == count


def test_a_collector_is_credited_only_with_payments_from_the_day_of_assignment(
    desk: Desk,
) -> None:
    # The desk's cases were all assigned on AS_OF; L0000107 is col-east-1's, paid 2790.25 on
    # 2025-09-23, and L0000069 col-east-2's, paid 2563.09 on 2025-09-12.
    with desk.app.engine.begin() as conn:
        conn.execute(
            update(assignments)
            .where(assignments.c.loan_id == "L0000107")
            .values(assigned_on=date(2025, 9, 23))  # assigned the day it was paid
        )
    board = dashboard(desk.app.dashboards, ROLES["admin"].principal(), AS_OF)
    collected = board.figures.collected_by_collector
    assert collected["col-east-1"] == {"CNY": 279025}
    assert "col-east-2" not in collected  # paid before the case was theirs
    with desk.app.engine.connect() as conn:
        paid = conn.execute(
            select(func.sum(payments.c.amount)).where(
                payments.c.paid_on >= board.since, payments.c.paid_on <= board.until
            )
        ).scalar_one()
    assert sum(v["CNY"] for v in collected.values()) == paid  # the rest to nobody ("")


def test_the_dashboard_is_for_roles_that_may_see_it_and_draws_svg(desk: Desk) -> None:
    anonymous = desk.client().get("/dashboard", follow_redirects=False)
    assert anonymous.headers["location"] == "/login?next=/dashboard"
    client, _ = desk.signed_in("sup-east")
    shown = client.get("/dashboard")
    assert shown.status_code == 200
    assert shown.text.count("<svg") >= 3
    collector, _ = desk.signed_in("col-east-1")
    assert collector.get("/dashboard").status_code == 403


def test_the_api_gives_the_same_figures(desk: Desk) -> None:
    board = dashboard(desk.app.dashboards, ROLES["sup-east"].principal(), desk.now.date())
    shown = desk.client().get("/api/v1/dashboard", headers=desk.bearer("sup-east")).json()
    assert shown["buckets"] == {
        b: {"cases": n, "past_due": {c: f"{v // 100}.{v % 100:02d}" for c, v in t.items()}}
        for b, (n, t) in board.figures.buckets.items()
    }
    assert shown["blocked_by_rule"] == dict(board.figures.blocked_by_rule)


def test_the_page_charts_each_buckets_past_due_as_the_api_gives_it(desk: Desk) -> None:
    # M0's (loans owing within their grace) was left off the page's chart (helper-118).
    board = dashboard(desk.app.dashboards, ROLES["admin"].principal(), desk.now.date())
    assert board.figures.buckets["M0"][1].get("CNY")
    client, csrf = desk.signed_in("admin")
    client.post("/me/locale", data={"locale": "en", "csrf_token": csrf})
    page = client.get("/dashboard").text
    for bucket, (_n, owed) in board.figures.buckets.items():
        for currency, minor in owed.items():
            if minor:
                shown = escape(f"{bucket}: {i18n.amount(minor, currency, 'en')}")
                assert f"<title>{shown}</title>" in page, bucket


def test_the_window_ends_on_the_books_last_run_not_on_the_wall_clock(desk: Desk) -> None:
    desk.now = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)  # long after the last run (AS_OF)
    shown = desk.client().get("/api/v1/dashboard", headers=desk.bearer("admin")).json()
    assert (shown["since"], shown["until"]) == (str(AS_OF - timedelta(days=29)), str(AS_OF))
    assert shown["collected_by_collector"]  # the run's last 30 days were paid into
    client, _ = desk.signed_in("admin")
    assert f"{AS_OF - timedelta(days=29)} … {AS_OF}" in client.get("/dashboard").text


def test_amounts_are_shown_per_currency_never_added_together(desk: Desk) -> None:
    # L0000107 (M1, past due 15.31, col-east-1's since the day it paid 2790.25) lent in USD;
    # the other M1 loans, L0000073 (781.78) and L0000120 (565.00), in CNY.
    with desk.app.engine.begin() as conn:
        conn.execute(update(loans).where(loans.c.loan_id == "L0000107").values(currency="USD"))
        conn.execute(
            update(assignments)
            .where(assignments.c.loan_id == "L0000107")
            .values(assigned_on=date(2025, 9, 23))
        )
    board = dashboard(desk.app.dashboards, ROLES["admin"].principal(), AS_OF)
    assert board.figures.buckets["M1"] == (3, {"CNY": 78178 + 56500, "USD": 1531})
    assert board.figures.collected_by_collector["col-east-1"] == {"USD": 279025}
    shown = desk.client().get("/api/v1/dashboard", headers=desk.bearer("admin")).json()
    assert shown["buckets"]["M1"]["past_due"] == {"CNY": "1346.78", "USD": "15.31"}
    assert shown["collected_by_collector"]["col-east-1"] == {"USD": "2790.25"}
    client, csrf = desk.signed_in("admin")
    page = client.get("/dashboard").text
    assert "US$15.31" in page
    assert "¥1,346.78" in page
    assert "1,362.09" not in page  # the two currencies' sum
    # Each chart is headed by its currency's name in the reader's language (it was its code).
    assert '<h3 class="muted" title="USD">美元</h3>' in page
    assert '<h3 class="muted" title="CNY">人民币</h3>' in page
    client.post("/me/locale", data={"locale": "zh-TW", "csrf_token": csrf})
    page = client.get("/dashboard").text
    assert '<h3 class="muted" title="CNY">人民幣</h3>' in page
    assert ">CNY<" not in page


def test_the_rules_that_refused_contacts_are_named_in_the_readers_language(desk: Desk) -> None:
    # The chart of contacts the night's rules refused showed the packs' ids (cn.quiet_hours).
    board = desk.client().get("/api/v1/dashboard", headers=desk.bearer("admin")).json()
    rules = board["blocked_by_rule"]
    assert rules
    client, csrf = desk.signed_in("admin")
    for locale in ("zh-TW", "zh-CN", "en"):
        client.post("/me/locale", data={"locale": locale, "csrf_token": csrf})
        page = client.get("/dashboard").text
        names = i18n.catalogue(locale)
        for rule, n in rules.items():
            assert f"<title>{escape(names[f'rule:{rule}'])}: {n:,}</title>" in page, (locale, rule)
            assert f">{rule}<" not in page


def test_a_label_longer_than_its_column_is_cut_and_whole_in_the_title() -> None:
    name = "暂停催收期间（争议、困难、身故、要求停止联系）不得联系"
    drawn = str(charts.bars([(name, 3), ("cn.cap", 1)]))
    assert f"<title>{name}: 3</title>" in drawn
    assert f">{name}<" not in drawn
    assert ">暂停催收期间（争议、困难、身故、要求…<" in drawn  # 248 px at 12 px a character
    assert ">cn.cap<" in drawn


def test_contacts_made_against_the_rules_are_counted_by_rule_for_compliance(desk: Desk) -> None:
    # A call made at 22:30 and logged at the desk, an SMS recorded by `contact log` (its
    # service) at 23:00: both happened though a rule forbade them, flagged; compliance sees
    # them by rule, from the window's first day to now (after the last run's day: at once),
    # and a team's supervisor only those of the team's cases.
    loan_id = my_case(desk)
    desk.now = NIGHT_TIME
    logged = desk.client().post(f"/api/v1/cases/{loan_id}/contacts",
                                headers=desk.bearer("col-east-1"),
                                json={"channel": "call", "outcome": "connected"})  # fmt: skip
    assert logged.json()["allowed"] is False
    with desk.app.engine.connect() as conn:
        mine = conn.execute(select(loans.c.borrower_id).where(loans.c.loan_id == loan_id))
        borrower = mine.scalar_one()
    request = ContactRequest(borrower, "sms", NIGHT_TIME + timedelta(minutes=30))
    stored = log_contact(desk.app.contacts, desk.app.contact_terms, request, "sent", desk.now)
    assert [r.rule for r in stored.decision.broken] == ["cn.quiet_hours"]
    for user_id in ("compliance", "sup-east"):
        board = desk.client().get("/api/v1/dashboard", headers=desk.bearer(user_id)).json()
        assert board["violations_by_rule"] == {"cn.quiet_hours": 2}, user_id
    west = desk.client().get("/api/v1/dashboard", headers=desk.bearer("sup-west")).json()
    assert west["violations_by_rule"] == {}
    client, csrf = desk.signed_in("compliance")
    client.post("/me/locale", data={"locale": "en", "csrf_token": csrf})
    page = client.get("/dashboard").text
    assert "Contacts made against the rules, by rule" in page
    name = i18n.catalogue("en")["rule:cn.quiet_hours"]
    assert f"<title>{escape(name)}: 2</title>" in page


def test_a_rate_of_one_month_is_drawn_as_a_dot() -> None:
    # A series with one month's rate drew a line of one point, nothing: its legend named no
    # line on the chart (helper-127). Each rate is a dot with its value.
    drawn = str(charts.lines(["2025-09", "2025-10"], [("M3→M4", [0.5, None]),
                                                      ("M0→M1", [0.1, 0.2])]))  # fmt: skip
    assert drawn.count("<circle") == 3
    assert "<title>M3→M4 2025-09: 50.0%</title>" in drawn
