"""The end-of-day run on SQLite and PostgreSQL: idempotent, catching up, schedule independent."""

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, delete, func, insert, select, update

from arrears.adapters.db import tables
from arrears.adapters.db.casework_tables import loan_flags
from arrears.adapters.db.engine_store import SqlEngineStore
from arrears.adapters.db.ledger_store import SqlLedgerStore
from arrears.adapters.feeds.reader import FileFeedReader
from arrears.adapters.settings import load_settings
from arrears.adapters.synthetic_book import synthetic_book
from arrears.batch.pipeline import RunContext, run_pipeline
from arrears.batch.run import RunRefused, run_day, summarise
from arrears.bootstrap import App
from arrears.domain.caps import OwnCap
from arrears.domain.experiments import arm_for
from arrears.domain.ladder import assign_arms
from arrears.domain.late_fees import LateFeeLimit
from arrears.domain.money import format_amount
from arrears.domain.product import Product
from arrears.domain.promises import Promise, judge_promise
from arrears.services.import_feed import import_feed
from tests.feed_files import import_synthetic
from tests.store_copies import Templates, copied_app

AT = datetime(2026, 1, 1, tzinfo=UTC)
END = date(2025, 6, 30)
# What must not depend on the run schedule. Cases, the plan and blocked actions do: each run
# plans its own day, and a stage is entered on the day a run sees it.
LEDGER = (
    tables.charges, tables.cap_cuts, tables.allocations, tables.loan_states,
    tables.installment_states, tables.loan_balances,
)  # fmt: skip
DERIVED = (*LEDGER, tables.cases, tables.outbox, tables.blocked_actions)


def _forty_loans(url: str, folder: Path) -> None:
    """A 40-loan synthetic book with its payments, imported, never run."""
    application = App(url, load_settings(None))
    try:
        application.migrate()
        book = synthetic_book(40, date(2025, 1, 6), 60, seed=11)
        import_synthetic(application, book, folder)
    finally:
        application.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def app(
    request: pytest.FixtureRequest, tmp_path: Path, store_templates: Templates
) -> Iterator[App]:
    """An app on the test database holding a 40-loan synthetic book with its payments (each
    test's own copy of one made once a session)."""
    with copied_app(request.param, tmp_path, store_templates, "forty-loans",
                    _forty_loans) as application:  # fmt: skip
        yield application


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every derived row, in a stable order."""
    with engine.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t)).all()) for t in LEDGER}


def forget_runs(engine: Engine) -> None:
    """Drop what runs derived, keeping the ledger, to try another schedule."""
    with engine.begin() as conn:
        for table in (*DERIVED, tables.runs):
            conn.execute(delete(table))


def run(app: App, day: date) -> dict[str, Any]:
    summary = run_day(app.runs, app.run_context(day), AT)
    assert app.runs.run_summary(day) == summary
    return summary


def test_daily_runs_once_and_twice_leave_the_same_ledger(app: App) -> None:
    day = END - timedelta(days=20)
    while day <= END:
        run(app, day)
        day += timedelta(days=1)
    daily = dump(app.engine)
    forget_runs(app.engine)
    run(app, END)
    once = dump(app.engine)
    run(app, END)
    twice = dump(app.engine)
    assert daily == once == twice
    assert len(once["charges"]) > 40  # the book is delinquent enough to post charges


def test_skipped_days_are_caught_up(app: App) -> None:
    run(app, END)
    reference = dump(app.engine)
    forget_runs(app.engine)
    for day in (END - timedelta(days=45), END - timedelta(days=3), END):
        run(app, day)
    assert dump(app.engine) == reference


def test_the_stored_state_is_the_domains_evaluation(app: App) -> None:
    run(app, END)
    with app.engine.connect() as conn:
        stored = {r.loan_id: r for r in conn.execute(select(tables.loan_states))}
    assert len(stored) == 40
    for loan, payments in app.ledger.load_book():
        state = app.terms.evaluate(loan, payments, END)
        row = stored[loan.loan_id]
        assert (row.dpd, row.bucket) == (state.dpd, state.bucket)
        assert (row.overdue_principal, row.overdue_interest, row.overdue_penalty,
                row.overdue_fees) == (state.overdue.principal, state.overdue.interest,
                                      state.overdue.penalty, state.overdue.fees)  # fmt: skip
        assert row.outstanding_principal == state.outstanding_principal
        assert row.charged == state.charged


# A product's terms changed in the settings between runs.
CHANGES: dict[str, Callable[[Product], Product]] = {
    "penalty multiplier": lambda p: replace(p, penalty_multiplier=p.penalty_multiplier * 2 / 3),
    "late fee": lambda p: replace(p, late_fee=p.late_fee + 1_000),
    "holiday rule": lambda p: replace(
        p, holiday_rule="none" if p.holiday_rule != "none" else "next_business_day"
    ),
    "own cost cap": lambda p: replace(p, own_cap=OwnCap(Fraction("0.10"), "lender policy")),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_products_terms_changed_replay_its_loans_as_one_run_under_the_new_terms(
    app: App, change: str
) -> None:
    """Run under the shipped terms, then under every product changed: the loans worked under
    the old terms are replayed from their contract date, and the state is the domain's
    (`arrears loan`) and a run once under the new terms (found by the review: a penalty
    multiplier of 1.5 then 1.0 left 22.90 stored where both gave 18.48)."""
    run(app, END - timedelta(days=30))
    ctx = app.run_context(END)
    products = {code: CHANGES[change](p) for code, p in ctx.terms.products.items()}
    ctx = replace(ctx, terms=replace(ctx.terms, products=products))
    run_day(app.runs, ctx, AT)
    nightly = dump(app.engine)
    with app.engine.connect() as conn:
        stored = {r.loan_id: r for r in conn.execute(select(tables.loan_states))}
    changed = 0
    for loan, payments in app.ledger.load_book():
        state = ctx.terms.evaluate(loan, payments, END)
        row = stored[loan.loan_id]
        assert (row.dpd, row.overdue_penalty, row.overdue_fees, row.charged) == (
            state.dpd,
            state.overdue.penalty,
            state.overdue.fees,
            state.charged,
        ), loan.loan_id
        changed += app.terms.evaluate(loan, payments, END) != state
    assert changed  # the change moves some loan's state: the replay is seen
    forget_runs(app.engine)
    run_day(app.runs, ctx, AT)
    assert dump(app.engine) == nightly


def test_an_own_caps_source_reworded_is_cited_by_every_cut_as_one_run_would(app: App) -> None:
    """A lender rewords its own cap's source and nothing else: every cut under it cites the
    new words, the earlier days' too, as one run under the new settings leaves them."""

    def capped(source: str) -> RunContext:
        ctx = app.run_context(END)
        own = OwnCap(Fraction("0.10"), source)
        products = {c: replace(p, own_cap=own) for c, p in ctx.terms.products.items()}
        return replace(ctx, terms=replace(ctx.terms, products=products))

    run_day(app.runs, replace(capped("policy v1"), as_of=END - timedelta(days=30)), AT)
    run_day(app.runs, capped("policy v2"), AT)
    with app.engine.connect() as conn:
        cited = conn.execute(
            select(tables.cap_cuts.c.source)
            .where(tables.cap_cuts.c.rule_id == "product.cap")
            .distinct()
        ).scalars()
        assert list(cited) == ["policy v2"]
    nightly = dump(app.engine)
    forget_runs(app.engine)
    run_day(app.runs, capped("policy v2"), AT)
    assert dump(app.engine) == nightly


def test_a_cap_on_total_charges_set_replays_the_loans_under_it(app: App) -> None:
    """The products made UK high-cost short-term credit, then given a limit on total charges
    (3 % of the principal lent) and nothing else: the loans are replayed, so none is charged
    past it on any earlier day, and the state is the domain's and one run's."""

    def hcstc(total: Fraction | None) -> RunContext:
        ctx = app.run_context(END)
        own = OwnCap(Fraction("2.92"), "FCA CONC 5A", total)
        products = {c: replace(p, jurisdiction="uk", cap="none", day_count=365, own_cap=own)
                    for c, p in ctx.terms.products.items()}  # fmt: skip
        return replace(ctx, terms=replace(ctx.terms, products=products))

    run_day(app.runs, replace(hcstc(None), as_of=END - timedelta(days=30)), AT)
    ctx = hcstc(Fraction("0.03"))
    run_day(app.runs, ctx, AT)
    with app.engine.connect() as conn:
        stored = {r.loan_id: r.charged for r in conn.execute(select(tables.loan_states))}
    at_total = 0
    for loan, payments in app.ledger.load_book():
        state = ctx.terms.evaluate(loan, payments, END)
        assert stored[loan.loan_id] == state.charged, loan.loan_id
        at_total += state.charged == loan.principal * 3 // 100
    assert at_total > 5
    nightly = dump(app.engine)
    forget_runs(app.engine)
    run_day(app.runs, ctx, AT)
    assert dump(app.engine) == nightly


def test_a_limit_on_late_fees_set_replays_the_loans_under_it(app: App) -> None:
    """The products made UK loans with a late fee of 12.00, then limited to 15.00 of late
    fees in all (the HCSTC default cap) and nothing else: the loans are replayed, each charged
    as the domain charges it, the state counting their late fees, and it is one run's."""

    def uk(limit: LateFeeLimit | None) -> RunContext:
        ctx = app.run_context(END)
        products = {c: replace(p, jurisdiction="uk", cap="none", day_count=365, late_fee=1_200,
                               late_fee_limit=limit)
                    for c, p in ctx.terms.products.items()}  # fmt: skip
        return replace(ctx, terms=replace(ctx.terms, products=products))

    run_day(app.runs, replace(uk(None), as_of=END - timedelta(days=30)), AT)
    ctx = uk(LateFeeLimit(1_500, "FCA CONC 5A.3.18R"))
    run_day(app.runs, ctx, AT)
    with app.engine.connect() as conn:
        stored = {r.loan_id: r.charged for r in conn.execute(select(tables.loan_states))}
        balances = tables.loan_balances.c
        late = dict(conn.execute(select(balances.loan_id, balances.late_fees_charged)).all())
    limited = 0
    for loan, payments in app.ledger.load_book():
        state = ctx.terms.evaluate(loan, payments, END)
        assert (stored[loan.loan_id], late[loan.loan_id]) == (
            state.charged, state.total_charged("late_fee")), loan.loan_id  # fmt: skip
        limited += state.total_charged("late_fee") == 1_500
    assert limited >= 2  # loans charged 12.00, then 3.00, then nothing
    nightly = dump(app.engine)
    forget_runs(app.engine)
    run_day(app.runs, ctx, AT)
    assert dump(app.engine) == nightly


def test_a_rerun_reports_the_same_amounts_as_the_first_run_of_the_day(app: App) -> None:
    run(app, END - timedelta(days=7))
    first = run(app, END)
    again = run(app, END)
    assert first == again
    assert first["since"] == (END - timedelta(days=7)).isoformat()
    assert first["penalty_posted"] != "0.00"


def test_a_rerun_of_a_day_first_run_before_by_currency_reports_none(app: App) -> None:
    # The first run's summary, as one written before runs gave `by_currency`: the re-run
    # posts nothing again, so it gives the first run's amounts and no currency's (found by
    # helper-42: tonight's zeros stood beside the first run's amounts).
    run(app, END - timedelta(days=7))
    first = run(app, END)
    older = {key: value for key, value in first.items() if key != "by_currency"}
    with app.engine.begin() as conn:
        conn.execute(update(tables.runs).where(tables.runs.c.as_of == END).values(summary=older))
    again = run_day(app.runs, app.run_context(END), AT)
    assert again == older
    assert first["by_currency"]["CNY"]["penalty_posted"] == first["penalty_posted"] != "0.00"


def test_a_rerun_of_the_day_counts_what_was_done_since_and_drops_what_it_no_longer_plans(
    app: App,
) -> None:
    first = run(app, END)
    outbox = tables.outbox.c
    with app.engine.connect() as conn:
        call = conn.execute(
            select(outbox.borrower_id, outbox.loan_id).where(
                outbox.planned_for == END, outbox.channel == "call", outbox.status == "planned"
            )
        ).first()
    assert call is not None
    # Three conversations with the borrower that day, logged after the first run: the cn cap
    # (GB/T 45251-2025) leaves no call for the re-run to plan, and the one planned goes.
    talks = [datetime.combine(END, time(10, m), ZoneInfo("Asia/Shanghai")) for m in (0, 5, 10)]
    with app.engine.begin() as conn:
        conn.execute(insert(tables.contact_attempts), [
            {"borrower_id": call.borrower_id, "channel": "call", "at": at, "outcome": "connected",
             "recorded_at": at, "allowed": True, "reasons": []} for at in talks
        ])  # fmt: skip
    again = run(app, END)
    with app.engine.connect() as conn:
        planned = conn.execute(
            select(outbox.action_key).where(
                outbox.borrower_id == call.borrower_id, outbox.planned_for == END,
                outbox.channel == "call", outbox.status == "planned",
            )
        ).all()  # fmt: skip
        blocked = conn.execute(
            select(tables.blocked_actions.c.rule).where(
                tables.blocked_actions.c.loan_id == call.loan_id,
                tables.blocked_actions.c.as_of == END,
            )
        ).scalars().all()  # fmt: skip
    assert planned == []
    assert "cn.connected_calls_per_day" in blocked
    # The summary says what the re-run planned and blocked; what the day posted is the first
    # run's (the state was already at the day: nothing is posted again).
    assert again["planned_contacts"]["call"] == first["planned_contacts"]["call"] - 1
    rule = "cn.connected_calls_per_day"
    assert again["blocked_contacts"][rule] == first["blocked_contacts"].get(rule, 0) + 1
    posted = ("interest_posted", "penalty_posted", "fees_posted", "cap_cut", "days_run")
    assert {k: again[k] for k in posted} == {k: first[k] for k in posted}
    assert first["penalty_posted"] != "0.00"


def test_a_rerun_does_not_refuse_what_was_carried_out_before_the_hold(app: App) -> None:
    # A contact made after the first run of the day, then a dispute hold placed: the re-run
    # counted the contact made as refused by the hold, in blocked_actions and the summary,
    # though it went before the hold (helper-64). What was carried out is decided no more.
    run(app, END)
    outbox = tables.outbox.c
    with app.engine.connect() as conn:
        made = conn.execute(
            select(outbox.action_key, outbox.borrower_id, outbox.loan_id, outbox.action).where(
                outbox.planned_for == END, outbox.channel == "call", outbox.status == "planned",
            ).order_by(outbox.action_key)
        ).first()  # fmt: skip
    assert made is not None
    hold = {"borrower_id": made.borrower_id, "kind": "dispute", "starts_on": END,
            "ends_on": None, "note": "disputed"}  # fmt: skip
    # Every contact planned for the loan that day made (a call among them, which a hold
    # refuses and no record of it done rules out: calls repeat).
    theirs = (outbox.loan_id == made.loan_id) & (outbox.planned_for == END)
    theirs &= outbox.channel.is_not(None)
    with app.engine.begin() as conn:
        sent = conn.execute(select(outbox.action).where(theirs)).scalars().all()
        conn.execute(update(tables.outbox).where(theirs).values(status="done", outcome="sent"))
        conn.execute(insert(tables.holds).values(**hold))
    again = run(app, END)
    blocked = tables.blocked_actions.c
    with app.engine.connect() as conn:
        refused = conn.execute(
            select(blocked.action, blocked.rule).where(
                blocked.loan_id == made.loan_id, blocked.as_of == END
            )
        ).all()
        kept = conn.execute(select(outbox.status).where(theirs)).scalars().all()
        held = conn.execute(
            select(func.count()).where(blocked.as_of == END, blocked.rule == "cn.hold")
        ).scalar_one()
    assert "call" in sent
    assert set(kept) == {"done"}
    assert [a for a, _ in refused if a in sent] == [], refused
    assert again["blocked_contacts"].get("cn.hold", 0) == held


@pytest.mark.parametrize("first", ["later day", "same day"])
def test_a_run_whose_book_another_run_saved_meanwhile_writes_nothing(app: App, first: str) -> None:
    # Two runs at once: each loads the book as the last run left it. Whichever saves second
    # must not write its state over the other's (an earlier day's over a later one's, or a
    # day's cap cuts twice): it is refused, and the book is the first one's.
    run(app, END - timedelta(days=5))
    slow, quick = SqlEngineStore(app.engine), SqlEngineStore(app.engine)
    day = END - timedelta(days=2)
    other = END if first == "later day" else day
    ctx, other_ctx = app.run_context(day), app.run_context(other)
    frames = run_pipeline(slow.load(ctx), ctx)
    run_day(quick, other_ctx, AT)
    saved = dump(app.engine)
    with pytest.raises(RunRefused, match=f"another run of the book \\(for {other}\\) finished"):
        slow.save(frames, day, summarise(frames, day, slow.last_run(before=day)), AT)
    assert dump(app.engine) == saved
    assert app.runs.last_run() == other
    run(app, END)  # run again, the run goes ahead


def test_the_run_refuses_to_move_the_book_back_in_time(app: App) -> None:
    run(app, END)
    with pytest.raises(RunRefused, match="already run up to 2025-06-30"):
        run(app, END - timedelta(days=1))


def test_a_backdated_payment_is_reflected_by_the_next_run(app: App, tmp_path: Path) -> None:
    run(app, END)
    loan = next(loan for loan, payments in list(app.ledger.load_book()) if not payments)
    path = tmp_path / "late.csv"
    path.write_text(f"payment_id,loan_id,amount,paid_on\nPX,{loan.loan_id},100.00,2025-03-01\n")
    import_feed(app.ledger, FileFeedReader(), "payments", path, set(app.settings.products))
    run(app, END)
    with app.engine.connect() as conn:
        paid = conn.execute(
            select(tables.allocations.c.amount).where(tables.allocations.c.payment_id == "PX")
        ).scalars()
        assert sum(paid) == 10_000
    [(_, payments)] = list(app.ledger.load_book([loan.loan_id]))
    state = app.terms.evaluate(loan, payments, END)
    with app.engine.connect() as conn:
        row = conn.execute(
            select(tables.loan_states).where(tables.loan_states.c.loan_id == loan.loan_id)
        ).one()
    assert row.charged == state.charged


def test_a_run_reports_what_it_posted_for_its_days_not_a_rebuilt_loans_past(
    app: App, tmp_path: Path
) -> None:
    # The same back-dated payment, arriving after the first run or known before it: the
    # second run posts the same for its day either way (the rebuilt loan's earlier days were
    # the earlier runs'), and reports the same.
    before = END - timedelta(days=1)
    run(app, before)
    loan = next(loan for loan, payments in list(app.ledger.load_book()) if not payments)
    path = tmp_path / "late.csv"
    path.write_text(f"payment_id,loan_id,amount,paid_on\nPX,{loan.loan_id},100.00,2025-03-01\n")
    import_feed(app.ledger, FileFeedReader(), "payments", path, set(app.settings.products))
    late = run(app, END)
    forget_runs(app.engine)
    run(app, before)
    known = run(app, END)
    money = ("interest_posted", "penalty_posted", "fees_posted", "cap_cut")
    assert {key: late[key] for key in money} == {key: known[key] for key in money}
    assert late["penalty_posted"] != "0.00"  # a day past due on some loan: something to count


KINDS = {"interest_posted": ("interest",), "penalty_posted": ("penalty",),
         "fees_posted": ("fee", "late_fee")}  # fmt: skip


def posted_by_domain(app: App, day: date, before: date) -> dict[str, dict[str, int]]:
    """Per currency, what the domain's evaluation of the book posts and cuts after `before`
    up to `day`."""
    expected: dict[str, dict[str, int]] = {}
    for loan, payments in app.ledger.load_book():
        now, then = (app.terms.evaluate(loan, payments, d) for d in (day, before))
        sums = expected.setdefault(loan.currency, dict.fromkeys([*KINDS, "cap_cut"], 0))
        for key, names in KINDS.items():
            sums[key] += sum(now.total_charged(n) - then.total_charged(n) for n in names)
        sums["cap_cut"] += sum(cut.amount for cut in now.cap_cuts if before < cut.day <= day)
    return expected


def assert_posted(summary: dict[str, Any], expected: dict[str, dict[str, int]]) -> None:
    """The summary's amounts are the domain's, per currency and (added up) at the top."""
    assert summary["by_currency"] == {
        currency: {key: format_amount(amount) for key, amount in sums.items()}
        for currency, sums in expected.items()
    }
    # The amounts of the contract's keys add the currencies' minor units together.
    for key in (*KINDS, "cap_cut"):
        assert summary[key] == format_amount(sum(sums[key] for sums in expected.values()))


def in_dollars(app: App) -> None:
    """Every third loan of the book lent in dollars."""
    with app.engine.begin() as conn:
        ids = sorted(conn.execute(select(tables.loans.c.loan_id)).scalars())
        usd = tables.loans.c.loan_id.in_(ids[::3])
        conn.execute(update(tables.loans).where(usd).values(currency="USD"))


def test_what_a_run_posted_is_given_by_currency_too_each_the_domains(app: App) -> None:
    # A book in two currencies: each currency's amounts are its own loans' (the domain's
    # evaluation of the day), never minor units of both added together.
    in_dollars(app)
    before = END - timedelta(days=1)
    run(app, before)
    summary = run(app, END)
    expected = posted_by_domain(app, END, before)
    assert set(expected) == {"CNY", "USD"}
    assert min(sums["penalty_posted"] for sums in expected.values()) > 0  # both posted some
    assert_posted(summary, expected)


@pytest.mark.parametrize("gap", [1, 9])
def test_a_rerun_after_a_backdated_payment_restates_what_the_day_posted(
    app: App, tmp_path: Path, gap: int
) -> None:
    # The day run, then a payment arrives dated months back that settles a loan charged a
    # penalty on the day: the re-run restates that loan's day, and reports what the day posts
    # for the book as it now is, per currency too (found by helper-42: it reported the
    # replayed loan's day alone). The run before it `gap` days before.
    in_dollars(app)
    before = END - timedelta(days=gap)
    run(app, before)
    first = run(app, END)
    penalised = [
        loan for loan, payments in app.ledger.load_book()
        if app.terms.evaluate(loan, payments, END).total_charged("penalty")
        > app.terms.evaluate(loan, payments, before).total_charged("penalty")
    ]  # fmt: skip
    settled = max(penalised, key=lambda loan: loan.currency)  # a dollar loan, if one is
    path = tmp_path / "late.csv"
    amount = format_amount(settled.principal * 2)
    path.write_text(
        f"payment_id,loan_id,amount,paid_on\nPX,{settled.loan_id},{amount},2025-03-01\n"
    )
    import_feed(app.ledger, FileFeedReader(), "payments", path, set(app.settings.products))
    again = run(app, END)
    expected = posted_by_domain(app, END, before)
    assert_posted(again, expected)
    assert again["penalty_posted"] != first["penalty_posted"]  # the payment changed the day
    assert expected[settled.currency]["penalty_posted"] > 0  # other loans still posted some


def test_store_classes_share_one_engine(app: App) -> None:
    assert isinstance(app.runs, SqlEngineStore)
    assert isinstance(app.ledger, SqlLedgerStore)
    assert app.runs.engine is app.ledger.engine


def test_each_case_records_its_stage_reason_and_a_stable_experiment_arm(app: App) -> None:
    run(app, END - timedelta(days=10))
    with app.engine.connect() as conn:
        first = {r.loan_id: r for r in conn.execute(select(tables.cases))}
    run(app, END)
    with app.engine.connect() as conn:
        second = {r.loan_id: r for r in conn.execute(select(tables.cases))}
    assert set(first) == set(second)
    assert len(first) == 40
    ladder = app.ladders["cn-cash"]
    [experiment] = ladder.experiments  # it runs in "early": a case draws its arm there
    for loan_id, case in second.items():
        drawn = ";".join(f"{k}={v}" for k, v in sorted(assign_arms(ladder, loan_id).items()))
        was = first[loan_id]
        assert was.arm == (drawn if experiment.runs_in(was.stage) else "-")
        assert case.arm == (drawn if experiment.runs_in(was.stage) or experiment.runs_in(
            case.stage) else "-")  # fmt: skip
        assert case.ladder == ladder.label
        assert case.reason
    # Some cases drew an arm (in "early"), some not yet; every one drawn is the experiment's.
    arms = {case.arm for case in second.values()}
    assert "-" in arms, arms
    assert len(arms) > 1, arms
    assert arms <= {"-", *(f"{experiment.name}={arm}" for arm in experiment.arm_names)}, arms
    moved = [c for c in second.values() if c.stage != first[c.loan_id].stage]
    assert moved, "ten days later some loans changed stage"
    assert all(c.entered_on == END for c in moved)


def test_a_rerun_of_the_day_starts_from_the_cases_before_it(app: App) -> None:
    # L0000018 enters "early" on 2025-06-16. Its experiment's salt changes, then the day is
    # run again: the case enters "early" again and draws by the new salt, as a Parquet book's
    # re-run (from the day before's state) does; it kept the first run's arm (helper-51).
    day, loan = date(2025, 6, 16), "L0000018"
    v4 = app.ladders["cn-cash"]
    [experiment] = v4.experiments
    salted = next(
        replace(experiment, salt=f"resalted-{n}") for n in range(100)
        if arm_for(loan, replace(experiment, salt=f"resalted-{n}")) != arm_for(loan, experiment)
    )  # fmt: skip
    v4s = dict(app.ladders)
    resalted = replace(v4, version=5, experiments=(salted,))
    v5 = {product: resalted if ladder == v4 else ladder for product, ladder in v4s.items()}

    def cases(engine: Engine) -> dict[str, tuple[Any, ...]]:
        with engine.connect() as conn:
            return {r.loan_id: tuple(r) for r in conn.execute(select(tables.cases))}

    run(app, day - timedelta(days=1))
    first = run_day(app.runs, app.run_context(day), AT)
    assert cases(app.engine)[loan][2:4] == ("early", day)
    app.__dict__["ladders"] = v5
    run_day(app.runs, app.run_context(day), AT)
    rerun = cases(app.engine)
    assert rerun[loan][6] == f"{salted.name}={arm_for(loan, salted)}"
    # The same as the day run once under the new ladder, from the day before's cases.
    forget_runs(app.engine)
    app.__dict__["ladders"] = v4s
    run(app, day - timedelta(days=1))
    app.__dict__["ladders"] = v5
    run_day(app.runs, app.run_context(day), AT)
    assert rerun == cases(app.engine)
    assert first["loans"] == 40
    # A database migrated after its latest run kept no cases before it: a re-run of that day
    # starts from the day's own, as it did (the next day's run keeps them): the stage, the day
    # it was entered and the arm the day's case held are kept, none drawn again.
    with app.engine.begin() as conn:
        conn.execute(delete(tables.cases_prior))
    app.__dict__["ladders"] = v4s
    run_day(app.runs, app.run_context(day), AT)
    kept = cases(app.engine)[loan]
    assert (kept[2], kept[3], kept[6]) == (rerun[loan][2], rerun[loan][3], rerun[loan][6])


def promised(engine: Engine) -> list[tuple[Any, ...]]:
    """Every promise as the runs left it, in a stable order."""
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(tables.promises)).all())


PAYDAY = date(2025, 6, 16)  # five of the book's payments are dated that day


def promise_around_payments(engine: Engine) -> None:
    """Open promises (none judged yet) around the book's payments of the three weeks to
    PAYDAY: met on the day, missed by a fen, met in part, and still to come with a part paid
    on PAYDAY or before."""
    paid_on = tables.payments.c.paid_on
    with engine.begin() as conn:
        conn.execute(delete(tables.promises))
        paid = conn.execute(
            select(tables.payments.c.loan_id, paid_on, tables.payments.c.amount)
            .where(paid_on.between(PAYDAY - timedelta(days=20), PAYDAY))
            .order_by(tables.payments.c.payment_id)
        ).all()
        rows = [
            {"promise_id": f"P{n}-{k}", "loan_id": loan, "amount": amount, "made_on": made,
             "due_on": due, "status": "open", "settled_on": None, "paid": 0}
            for n, (loan, on, money) in enumerate(paid)
            for k, (made, due, amount) in enumerate([
                (on - timedelta(days=3), on, money),
                (on - timedelta(days=3), on, money + 1),
                (on, PAYDAY + timedelta(days=5), money * 3),
            ])
        ]  # fmt: skip
        conn.execute(insert(tables.promises), rows)


def test_promises_are_judged_alike_night_by_night_at_once_and_on_a_rerun(app: App) -> None:
    promise_around_payments(app.engine)
    day = PAYDAY - timedelta(days=20)
    while day <= PAYDAY:
        run(app, day)
        day += timedelta(days=1)
    daily = promised(app.engine)
    run(app, PAYDAY)
    assert promised(app.engine) == daily  # the day's payments are not counted twice
    forget_runs(app.engine)
    promise_around_payments(app.engine)
    run(app, PAYDAY)
    assert promised(app.engine) == daily
    status = {row[0]: (row[5], row[7]) for row in daily}
    with app.engine.connect() as conn:
        paid = conn.execute(select(tables.payments).where(tables.payments.c.paid_on == PAYDAY))
        assert len(paid.all()) == 5
    # A promise of the exact amount paid on its due day is kept that day; a fen more, broken
    # the day after (unless more came in its window); one still to come, open, holding what
    # was paid towards it so far.
    assert sum(s == "kept" for s, _ in status.values()) >= len(status) // 3
    assert any(s == "broken" for s, _ in status.values())
    open_ones = [p for s, p in status.values() if s == "open"]
    assert open_ones
    assert all(p > 0 for p in open_ones)


def test_a_promise_recorded_while_a_run_runs_is_kept_and_the_runs_verdicts_saved(
    app: App,
) -> None:
    # A collector records a promise between the run's load and its save (a night of a large
    # book takes minutes): the run judged the promises it loaded and must not delete the new
    # one (it replaced the whole table: helper-67).
    promise_around_payments(app.engine)
    store = SqlEngineStore(app.engine)
    ctx = app.run_context(PAYDAY)
    frames = run_pipeline(store.load(ctx), ctx)
    late = {"promise_id": "P-late", "loan_id": frames.promises.item(0, "loan_id"),
            "amount": 100, "made_on": PAYDAY, "due_on": PAYDAY + timedelta(days=3)}  # fmt: skip
    app.cases.record_promise(late)
    store.save(frames, PAYDAY, summarise(frames, PAYDAY, None), AT)
    stored = {row[0]: (row[5], row[6], row[7]) for row in promised(app.engine)}
    assert stored.pop("P-late") == ("open", None, 0)
    judged = frames.promises.select("promise_id", "status", "settled_on", "paid").rows()
    assert stored == {key: tuple(rest) for key, *rest in judged}
    assert {status for status, _, _ in stored.values()} >= {"kept", "broken", "open"}


def test_a_run_loads_the_book_as_of_one_moment(app: App, monkeypatch: pytest.MonkeyPatch) -> None:
    # A loan and its schedule imported between the run's reads of the loans and of the
    # schedule: on PostgreSQL each read saw its own moment, and the run failed on
    # instalments of a loan it had not read (helper-67). The run reads one snapshot: the
    # new loan waits for the next run.
    import arrears.adapters.db.engine_store as engine_store
    from arrears.adapters.db.frames_io import read_frame as read

    imported: list[str] = []

    def importing_after_the_loans(conn: Any, sql: str, *args: Any, **params: Any) -> Any:
        frame = read(conn, sql, *args, **params)
        if "FROM loans" in sql and not imported:
            imported.append(_copy_of_a_loan(app.engine, "L-NEW"))
        return frame

    monkeypatch.setattr(engine_store, "read_frame", importing_after_the_loans)
    frames = SqlEngineStore(app.engine).load(app.run_context(END))
    assert imported == ["L-NEW"]
    assert "L-NEW" not in frames.book.loans.get_column("loan_id").to_list()
    assert "L-NEW" not in frames.book.instalments.get_column("loan_id").to_list()
    monkeypatch.undo()
    run(app, END)
    with app.engine.connect() as conn:
        states = tables.loan_states.c
        assert conn.execute(select(states.dpd).where(states.loan_id == "L-NEW")).all()


def _copy_of_a_loan(engine: Engine, loan_id: str) -> str:
    """A new loan, its schedule a copy of the first loan's, committed on its own connection."""
    loans, lines = tables.loans, tables.installments
    with engine.begin() as conn:
        first = conn.execute(select(loans).order_by(loans.c.loan_id).limit(1)).mappings().one()
        conn.execute(insert(loans).values({**first, "loan_id": loan_id}))
        schedule = conn.execute(select(lines).where(lines.c.loan_id == first["loan_id"]))
        conn.execute(insert(lines), [{**row, "loan_id": loan_id} for row in schedule.mappings()])
    return loan_id


def judged_as_the_domain_judges(app: App, day: date) -> list[tuple[Any, ...]]:
    """Every promise as the runs left it, each checked against domain/promises.py's verdict
    from the payments of its loan on record (dated up to `day`)."""
    money = {loan.loan_id: payments for loan, payments in app.ledger.load_book()}
    rows = promised(app.engine)
    for row in rows:
        promise = Promise(row[0], row[2], row[3], row[4])
        verdict = judge_promise(promise, money[row[1]], day)
        assert (row[5], row[6], row[7]) == (verdict.status, verdict.settled_on, verdict.paid), row
    return rows


def test_promises_follow_their_loans_money_whenever_it_or_they_reach_the_store(app: App) -> None:
    """Each payment of the three weeks to PAYDAY has a promise of its amount made on its day,
    due two days after. Every third payment reaches the store after PAYDAY's run, dated back
    (its promise known all along, broken meanwhile); every third promise is made after the
    run of its day (the money of that day applied already). The last run judges each as the
    domain does, as one run over the same records does."""
    start = PAYDAY - timedelta(days=20)
    with app.engine.begin() as conn:
        conn.execute(delete(tables.promises))
        paid = conn.execute(
            select(tables.payments).where(tables.payments.c.paid_on.between(start, PAYDAY))
            .order_by(tables.payments.c.payment_id)
        ).all()  # fmt: skip
    late = [dict(row._mapping) for row in paid[::3]]
    with app.engine.begin() as conn:
        conn.execute(delete(tables.payments).where(
            tables.payments.c.payment_id.in_([row["payment_id"] for row in late])
        ))  # fmt: skip
    promises = [
        {"promise_id": f"PR{n}", "loan_id": row.loan_id, "amount": row.amount,
         "made_on": row.paid_on, "due_on": row.paid_on + timedelta(days=2), "status": "open",
         "settled_on": None}
        for n, row in enumerate(paid)
    ]  # fmt: skip
    made_after = {row["promise_id"] for row in promises[1::3]}
    with app.engine.begin() as conn:
        conn.execute(
            insert(tables.promises), [r for r in promises if r["promise_id"] not in made_after]
        )
    day = start
    while day <= PAYDAY + timedelta(days=3):
        run(app, day)
        with app.engine.begin() as conn:  # the desk's promises made that day, after the run
            made = [r for r in promises if r["promise_id"] in made_after and r["made_on"] == day]
            if made:
                conn.execute(insert(tables.promises), made)
        if day == PAYDAY:
            with app.engine.begin() as conn:
                conn.execute(insert(tables.payments), late)
        day += timedelta(days=1)
    nightly = judged_as_the_domain_judges(app, day - timedelta(days=1))
    assert {row[5] for row in nightly} == {"kept"}, nightly
    forget_runs(app.engine)
    with app.engine.begin() as conn:
        conn.execute(update(tables.promises).values(status="open", settled_on=None, paid=0))
    run(app, day - timedelta(days=1))
    assert promised(app.engine) == nightly


def test_each_loan_is_in_the_stage_the_domain_gives_it_on_its_ladder(app: App) -> None:
    # What `arrears loan` and the case view say (App.stage_of) is the run's case, a loan
    # flagged "legal" too; the stages differ from the default ladder's for some loans.
    with app.engine.begin() as conn:
        flag = {"loan_id": "L0000003", "flag": "legal", "set_on": END, "set_by": "test"}
        conn.execute(insert(loan_flags).values(**flag, reason="fraud"))
    run(app, END)
    with app.engine.connect() as conn:
        cases = {r.loan_id: r.stage for r in conn.execute(select(tables.cases))}
    stages = {}
    for loan, payments in app.ledger.load_book():
        state = app.terms.evaluate(loan, payments, END)
        decision = app.stage_of(loan, state)
        assert decision is not None
        stages[loan.loan_id] = decision.stage
    assert stages == cases
    assert stages["L0000003"] == "legal"
    assert len(set(stages.values())) > 2, stages


def test_a_loan_signed_after_the_day_is_in_no_bucket_and_sent_nothing(app: App) -> None:
    day = date(2025, 2, 5)  # the book's loans are signed from 2025-01-06 over 60 days
    summary = run(app, day)
    book = list(app.ledger.load_book())
    unlent = {loan.loan_id for loan, _ in book if loan.contract_date > day}
    assert 0 < len(unlent) < len(book)
    with app.engine.connect() as conn:
        cases = {r.loan_id: r.stage for r in conn.execute(select(tables.cases))}
        planned = {r.loan_id for r in conn.execute(select(tables.outbox.c.loan_id))}
    assert {loan_id for loan_id, stage in cases.items() if stage == "not_lent"} == unlent
    assert planned
    assert not planned & unlent
    assert summary["stages"]["not_lent"] == len(unlent)
    assert sum(summary["buckets"].values()) == summary["loans"] - len(unlent)
    for loan, payments in book:  # as the domain decides
        decision = app.stage_of(loan, app.terms.evaluate(loan, payments, day))
        assert decision is not None
        assert decision.stage == cases[loan.loan_id]
