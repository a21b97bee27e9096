"""The case file as one document, shared by the API (JSON) and the pages (templates)."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from arrears.bootstrap import App
from arrears.domain.access import Principal
from arrears.domain.citation import cited
from arrears.domain.delinquency import BUCKETS
from arrears.domain.errors import Refusal
from arrears.domain.field_visits import OPEN, lapsed, last_visit_day
from arrears.domain.limitation import TimeBar, period_run
from arrears.domain.loan import Loan, Payment
from arrears.domain.money import format_amount
from arrears.domain.pii import mask_phone
from arrears.domain.statement import LoanState
from arrears.entrypoints.desk_calendar import desk_day  # the lender's local day
from arrears.entrypoints.presenters import loan_document
from arrears.services.casework import masked_borrower, view_case
from arrears.services.casework_ports import CaseRecord


def check_filters(app: App, stage: str | None, bucket: str | None, product: str | None) -> None:
    """A stage, bucket or product no ladder or setting knows is an error naming the known
    ones (the queue's API and page alike: an unknown filter would show an empty queue)."""
    stages = {s.name for ladder in app.ladders.values() for s in ladder.stages}
    stages |= {ladder.default_stage for ladder in app.ladders.values()}
    if stage is not None and stage not in stages:
        raise Refusal(
            "unknown stage {stage}; the ladders have {stages}",
            stage=repr(stage),
            stages=", ".join(sorted(stages)),
        )
    if bucket is not None and bucket not in BUCKETS:
        raise Refusal(
            "unknown bucket {bucket}; the buckets are {buckets}",
            bucket=repr(bucket),
            buckets=", ".join(BUCKETS),
        )
    if product is not None and product not in app.settings.products:
        raise Refusal(
            "unknown product {product}; the products are {known}",
            product=repr(product),
            known=", ".join(sorted(app.settings.products)),
        )


def balance_day(app: App, now: datetime) -> date:
    """The day balances are shown as of: the last end-of-day run's (the state the queues
    and stages come from), else today."""
    return app.desk.last_run() or desk_day(now)


def case_document(app: App, who: Principal, loan_id: str, now: datetime) -> dict[str, Any]:
    """Everything the case view shows, identifiers masked for the viewer, every amount of
    the balance with its reason (the domain's evaluation, as `arrears loan --json`)."""
    return case_file(app, who, loan_id, now)[0]


def case_file(
    app: App, who: Principal, loan_id: str, now: datetime
) -> tuple[dict[str, Any], LoanState]:
    """The case document (case_document), and the loan's state it was drawn from: what a page
    words in its reader's language (the cost cap's detail), which the document has in English."""
    record = view_case(app.desk, app.audit_log, who, loan_id, now)
    as_of, today = balance_day(app, now), desk_day(now)
    found = list(app.ledger.load_book([loan_id]))
    loan, payments = found[0]
    state = app.evaluate(loan, payments, as_of)
    product = app.settings.product(loan.product)
    document = {
        "loan_id": loan_id,
        "as_of": as_of.isoformat(),
        "borrower": _plain(masked_borrower(who, record)),
        "loan": {
            "product": loan.product,
            "currency": loan.currency,
            "principal": format_amount(loan.principal),
            "contract_date": loan.contract_date.isoformat(),
            "annual_rate": str(record.loan["annual_rate"]),
        },
        "case": _plain(record.case) if record.case else None,
        "assignment": _plain(record.assignment) if record.assignment else None,
        "placement": _placement(record),
        "balance": loan_document(
            state, loan.currency, loan.product, product.day_count, app.stage_of(loan, state)
        ),
        "contacts": [
            {
                "contact_id": c["contact_id"],
                "name": c["name"],
                "relation": c["relation"],
                "phone": mask_phone(c["phone"]),
            }
            for c in record.contacts
        ],
        "attempts": [_attempt(a) for a in record.attempts],
        "promises": [_promise(p) for p in record.promises],
        "notes": [_plain(n) for n in record.notes],
        "proposals": [proposal_document(p) for p in record.proposals],
        "holds": [_plain(h) for h in record.holds],
        "visits": [_visit(v, today) for v in app.track.visits(loan_id)],
        "legal": _legal(app, loan_id),
        # Judged for the desk's day, as a lawyer's letter asked that day is (not the last
        # run's: on the day the debt becomes time-barred the view said it was not).
        "limitation": _limitation(app.time_bar_of(loan_id, today), today),
        "limitation_period": _limitation_period(app, record, (loan, payments), state, today),
        "flags": [_plain(f) for f in app.track.flags(loan_id)],
    }
    return document, state


def _legal(app: App, loan_id: str) -> dict[str, Any] | None:
    found = app.track.legal_case(loan_id)
    if found is None:
        return None
    document = _plain({k: v for k, v in found.items() if k != "steps"})
    document["costs"] = format_amount(found["costs"])
    document["steps"] = [{**_plain(s), "cost": format_amount(s["cost"])} for s in found["steps"]]
    return document


def _limitation(bar: TimeBar | None, today: date) -> dict[str, Any] | None:
    """The pack's limitation rule as it stands for the loan on the desk's `today` (None: its
    pack has none): from which day a lawyer's letter or suit is refused, and whether it is
    now (the oldest unpaid instalment found by the domain's evaluation of the loan that day,
    as the desk's refusal finds it)."""
    if bar is None:
        return None
    since = bar.since()
    return {
        "rule": bar.limitation.rule_id,
        "years": bar.years,
        "refuses": sorted(bar.limitation.actions),
        "oldest_unpaid_due": bar.oldest.isoformat() if bar.oldest else None,
        "barred_since": since.isoformat() if since else None,
        "barred": since is not None and since <= today,
        "source": bar.limitation.source,
    }


def _visit(row: dict[str, Any], today: date) -> dict[str, Any]:
    """A visit with its last day (field_visits.VISIT_DAYS) and whether, asked for or
    approved and not made by then, it lapsed on the desk's `today`."""
    document = _plain(row)
    document["last_day"] = last_visit_day(row["planned_on"]).isoformat()
    document["lapsed"] = row["status"] in OPEN and lapsed(row["planned_on"], today)
    return document


def _limitation_period(
    app: App, record: CaseRecord, book: tuple[Loan, Sequence[Payment]], state: LoanState,
    today: date,
) -> dict[str, Any] | None:  # fmt: skip
    """Where the pack's limitation period of information stands on the desk's `today` (None:
    the pack has none): from the last instalment's due date or the latest interruption on
    record (a demand that reached the borrower, a payment, a promise to pay, a filing), the
    day it runs out, and whether it has; it refuses nothing (domain.limitation.period_run)."""
    loan, payments = book
    jurisdiction = app.settings.product(loan.product).jurisdiction
    period = app.contact_terms.packs[jurisdiction].limitation_period
    if period is None or not state.installments:
        return None
    last_due = max(s.effective_due_date or s.due_date for s in state.installments)
    track = app.track.legal_case(loan.loan_id)
    others = [
        *((p.paid_on, "payment") for p in payments),
        *((p["made_on"], "promise") for p in record.promises),
        *((s["on"], "filing") for s in (track["steps"] if track else []) if s["step"] == "filing"),
    ]
    run = period_run(period, last_due, app.track.history(loan.loan_id), others, today)
    return {
        "rule": period.rule_id,
        "years": period.years,
        "runs_from": run.runs_from.isoformat(),
        "because": run.because,
        "runs_out": run.runs_out.isoformat(),
        "expired": today > run.runs_out,
        "refuses": [],  # information: the debtor's defence, never applied by the desk
        "source": cited(period.source, period.verified),
    }


def _placement(record: CaseRecord) -> dict[str, Any] | None:
    if record.placement is None:
        return None
    placed = _plain(record.placement)
    placed["placed_balance"] = format_amount(record.placement["placed_balance"])
    return placed


def _attempt(row: Any) -> dict[str, Any]:
    document = _plain(row)
    if document.get("to_phone"):
        document["to_phone"] = mask_phone(document["to_phone"])
    return document


def _promise(row: Any) -> dict[str, Any]:
    document = _plain(row)
    for key in ("amount", "paid"):
        document[key] = format_amount(row[key])
    return document


# A proposal's terms that are amounts (minor units as stored): the API gives them in yuan
# text as every other amount.
_TERM_AMOUNTS = ("pay", "overdue", "owed")


def proposal_document(row: Any) -> dict[str, Any]:
    """A proposal, JSON-ready, its amounts (waived, the terms' pay and overdue) as text."""
    document = _plain(row)
    document["waived"] = format_amount(int(row["waived"]))
    document["terms"] = {
        k: format_amount(int(v)) if k in _TERM_AMOUNTS else v for k, v in row["terms"].items()
    }
    return document


def _plain(row: Any) -> dict[str, Any]:
    """JSON-ready: dates and instants as ISO text."""
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in row.items()}


def owed_in_all_on(app: App, day: date, loan_id: str) -> int:
    """All the loan owes as `day` begins (LoanState.owed_in_all at the end of the day before),
    the payments before it counted: what a settlement effective that day waives the rest of
    when its lump sum is paid that day (its payments count from then, and the day's penalty
    never accrues on what the waiver releases: MONEY_RULES.md, "Settlements")."""
    return app.owed_in_all(loan_id, day - timedelta(days=1), day)
