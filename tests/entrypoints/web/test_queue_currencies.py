"""A queue holding cases in two currencies weighs their amounts in one ([queue] in the
settings): at the lender's rate when given, else one to one, and says which."""

from decimal import Decimal
from pathlib import Path

from sqlalchemy import update

from arrears.adapters.db.tables import loans
from arrears.bootstrap import build_app
from arrears.domain.queue_priority import QueueFacts, QueueScale, priority
from tests.entrypoints.web.desk_book import Desk, desk_on
from tests.entrypoints.web.test_casework_flows import my_case


def in_dollars(desk: Desk) -> str:
    """One case of the desk made a US loan (its amounts in dollars); its id."""
    loan_id = my_case(desk)
    with desk.app.engine.begin() as conn:
        conn.execute(update(loans).where(loans.c.loan_id == loan_id)
                     .values(product="us-installment", currency="USD"))  # fmt: skip
    return loan_id


def test_dollars_count_one_to_one_and_the_queue_says_so(desk: Desk) -> None:
    loan_id = in_dollars(desk)
    queue = desk.client().get("/api/v1/queue", headers=desk.bearer("admin")).json()
    [row] = [c for c in queue["cases"] if c["loan_id"] == loan_id]
    minor = int(Decimal(row["overdue"]) * 100)
    assert row["priority_parts"]["amount"] == priority(QueueFacts(minor, 0, 0)).amount
    assert (queue["priority_currency"], queue["unweighed_currencies"]) == ("CNY", ["USD"])
    page, _ = desk.signed_in("admin")
    assert "以 USD 计的金额按 1:1 视同 CNY" in page.get("/queue").text


def test_dollars_are_weighed_at_the_rate_the_settings_give(desk: Desk, tmp_path: Path) -> None:
    loan_id = in_dollars(desk)
    (tmp_path / "arrears.toml").write_text('[queue.rates]\nUSD = "7.10"\n', encoding="utf-8")
    app = build_app(desk.app.database_url, str(tmp_path / "arrears.toml"), tmp_path)
    try:
        weighed = desk_on(app)
        queue = weighed.client().get("/api/v1/queue", headers=weighed.bearer("admin")).json()
        [row] = [c for c in queue["cases"] if c["loan_id"] == loan_id]
        minor = int(Decimal(row["overdue"]) * 100)
        counted = QueueScale("CNY", {"USD": Decimal("7.10")}).minor(minor, "USD")
        assert row["priority_parts"]["amount"] == priority(QueueFacts(counted, 0, 0)).amount
        assert row["priority_parts"]["amount"] > priority(QueueFacts(minor, 0, 0)).amount
        assert queue["unweighed_currencies"] == []
        page, _ = weighed.signed_in("admin")
        assert 'id="unweighed"' not in page.get("/queue").text
    finally:
        app.close()


def test_the_lenders_score_counts_in_the_range_the_settings_give(
    desk: Desk, tmp_path: Path
) -> None:
    # The feed's score is a whole number of the lender's own scale: the queue gave it no
    # points at all (helper-64). With the range given, 400 × where it lies in it.
    loan_id = my_case(desk)
    with desk.app.engine.begin() as conn:
        conn.execute(update(loans).where(loans.c.loan_id == loan_id).values(score=710))
    plain = desk.client().get("/api/v1/queue", headers=desk.bearer("admin")).json()
    [row] = [c for c in plain["cases"] if c["loan_id"] == loan_id]
    assert row["priority_parts"]["score"] == 0  # no range: a bare number says nothing
    settings = "[queue]\nscore_low = 300\nscore_high = 850\n"
    (tmp_path / "arrears.toml").write_text(settings, encoding="utf-8")
    app = build_app(desk.app.database_url, str(tmp_path / "arrears.toml"), tmp_path)
    try:
        scored = desk_on(app)
        queue = scored.client().get("/api/v1/queue", headers=scored.bearer("admin")).json()
        [row] = [c for c in queue["cases"] if c["loan_id"] == loan_id]
        assert row["priority_parts"]["score"] == round(400 * (710 - 300) / (850 - 300))
        others = [c for c in queue["cases"] if c["loan_id"] != loan_id]
        assert all(c["priority_parts"]["score"] == 0 for c in others)  # no score fed
        # The page's points by part name the score's too (helper-125: they did not add up).
        parts = row["priority_parts"]
        client, _ = scored.signed_in("admin")
        page = client.get("/queue").text
        said = (f'金额 {parts["amount"]} + 逾期天数 {parts["dpd"]} + 违约承诺 '
                f'{parts["promises"]} + 评分 {parts["score"]}')  # fmt: skip
        assert f'title="{said}">{row["priority"]}<' in page
    finally:
        app.close()
