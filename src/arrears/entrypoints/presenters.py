"""Turn domain results into the contract's JSON documents and plain-language reasons."""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from arrears.bootstrap import App
from arrears.domain.ladder import StageDecision
from arrears.domain.money import div_half_up, format_amount
from arrears.domain.outsourcing import Agency
from arrears.domain.pauses import CLOCKS
from arrears.domain.pii import mask_phone
from arrears.domain.rates import format_rate
from arrears.domain.replies import StoredReply
from arrears.domain.revisions import PLAN, SETTLEMENT, Revision
from arrears.domain.statement import CapCut, Charge, LoanState, PlanState, SettlementState
from arrears.services.casework_ports import UserRecord
from arrears.services.replies import honour_dates


def loan_document(
    state: LoanState, currency: str, product: str, day_count: int,
    stage: StageDecision | None = None,
) -> dict[str, Any]:  # fmt: skip
    """`arrears loan --json` (CONTRACT.md shape, with the itemised detail behind every amount);
    `stage`: the one the product's ladder gives (App.stage_of; None: the product has none,
    the default ladder's)."""
    overdue = state.overdue
    rule = state.cap_rule
    return {
        "loan_id": state.loan_id,
        "as_of": state.as_of.isoformat(),
        "dpd": state.dpd,
        "bucket": state.bucket,
        "stage": state.stage if stage is None else stage.stage,
        "stage_reason": None if stage is None else stage.reason,
        "overdue": {
            "principal": format_amount(overdue.principal),
            "interest": format_amount(overdue.interest),
            "penalty": format_amount(overdue.penalty),
            "fees": format_amount(overdue.fees),
            "total": format_amount(overdue.total),
        },
        "outstanding_principal": format_amount(state.outstanding_principal),
        # The days the loan's clocks stood still (its borrower's holds of the kinds its
        # product names: docs/MONEY_RULES.md, "Pauses"); `until` null: until lifted.
        "pauses": {
            clock: [
                {"from": first.isoformat(), "until": last.isoformat() if last else None}
                for first, last in state.pauses.spans(clock)
            ]
            for clock in CLOCKS
        },
        # The approved schedule revisions applied by as_of (docs/MONEY_RULES.md, "Revisions").
        "revisions": [revision_document(r) for r in state.revisions],
        # The settlements effective by as_of: pending, settled (what was waived, by part)
        # or lapsed (docs/MONEY_RULES.md, "Settlements").
        "settlements": [settlement_document(s) for s in state.settlements],
        # The plans effective by as_of: what each re-split into its parts, and each part
        # (docs/MONEY_RULES.md, "Plans"); the parts are also among the installments (seq < 0).
        "plans": [plan_document(p) for p in state.plans],
        "currency": currency,
        "product": product,
        "credit": format_amount(state.credit),
        "pending_penalty": format_amount(sum(i.pending_penalty for i in state.installments)),
        "penalty_rate": format_rate(state.penalty_rate),
        "day_count": day_count,
        "cap": {
            "rule": rule.rule_id,
            "rate": format_rate(rule.rate) if rule.rate is not None else None,
            "detail": str(rule.detail),
            "source": rule.source,
            # A limit on total charges, as a share of the principal lent (extension; null: none).
            "total": format_rate(rule.total) if rule.total is not None else None,
            "allowance": format_amount(state.allowance) if state.allowance is not None else None,
            "charged": format_amount(state.charged),
        },
        # The late fees posted, and the product's limit on them in all with the law or policy
        # it follows (extension; null: none): each late fee asked is at most what it leaves.
        "late_fees": {
            "charged": format_amount(state.total_charged("late_fee")),
            "limit": format_amount(limit.total) if (limit := state.late_fee_limit) else None,
            "source": limit.source if limit else None,
        },
        "installments": [
            {
                "seq": i.seq,
                "due_date": i.due_date.isoformat(),
                "effective_due_date": i.effective_due_date.isoformat()
                if i.effective_due_date
                else None,
                "dpd": i.dpd,
                "principal": format_amount(i.principal),
                "interest": format_amount(i.interest),
                "fees": format_amount(i.fees),
                "penalty": format_amount(i.penalty),
                "pending_penalty": format_amount(i.pending_penalty),
                "interest_cut": format_amount(i.interest_cut),
            }
            for i in state.installments
        ],
        "charges": [
            {
                "seq": c.seq,
                "kind": c.kind,
                "posted_on": c.posted_on.isoformat(),
                "first_day": c.first_day.isoformat(),
                "last_day": c.last_day.isoformat(),
                "amount": format_amount(c.amount),
                "base": format_amount(c.base),
                "daily": format_amount(c.daily),
                # extension: a penalty's day by its rule, before the cost cap (`daily`: what
                # each day posted, within the cap); null for other charges
                "rule_daily": (
                    format_amount(rule_daily(c, state, day_count)) if c.kind == "penalty" else None
                ),
                "reason": charge_reason(c, state, day_count),
            }
            for c in state.charges
        ],
        "cap_cuts": cut_runs(state.cap_cuts),
        "allocations": [
            {
                "payment_id": a.payment_id,
                "paid_on": a.paid_on.isoformat(),
                "seq": a.seq,
                "component": a.component,
                "amount": format_amount(a.amount),
            }
            for a in state.allocations
        ],
    }


def revision_document(revision: Revision) -> dict[str, Any]:
    """An applied revision: its kind, day and terms (an extension's days; a settlement's
    amount and deadline)."""
    document: dict[str, Any] = {"kind": revision.kind,
                                "effective_on": revision.effective_on.isoformat(),
                                "days": revision.days}  # fmt: skip
    if revision.kind == SETTLEMENT:
        document["amount"] = format_amount(revision.amount)
        document["deadline"] = revision.deadline.isoformat() if revision.deadline else None
    if revision.kind == PLAN:
        document["months"] = revision.months
    return document


def plan_document(plan: PlanState) -> dict[str, Any]:
    """A plan on the day: its day and months, the principal and interest it re-split, and
    each part: due date, principal, interest, paid, status (pending, past_due, paid)."""
    return {
        "effective_on": plan.revision.effective_on.isoformat(),
        "months": plan.revision.months,
        "principal": format_amount(plan.principal),
        "interest": format_amount(plan.interest),
        "parts": [
            {
                "part": part.number,
                "seq": part.seq,
                "due_date": part.due_date.isoformat(),
                "principal": format_amount(part.principal),
                "interest": format_amount(part.interest),
                "paid": format_amount(part.paid),
                "status": part.status,
            }
            for part in plan.parts
        ],
    }


def settlement_document(settlement: SettlementState) -> dict[str, Any]:
    """A settlement on the day: its terms, status, what was paid towards it, what it waived."""
    revision = settlement.revision
    waived = {part: format_amount(settlement.waived.get(part, 0))
              for part in ("principal", "interest", "penalty", "fees")}  # fmt: skip
    waived["total"] = format_amount(settlement.waived_total)
    return {
        "effective_on": revision.effective_on.isoformat(),
        "amount": format_amount(revision.amount),
        "deadline": revision.deadline.isoformat() if revision.deadline else None,
        "status": settlement.status,
        "paid": format_amount(settlement.paid),
        "settled_on": settlement.settled_on.isoformat() if settlement.settled_on else None,
        "waived": waived,
    }


def cut_runs(cuts: Sequence[CapCut]) -> list[dict[str, Any]]:
    """Cap cuts joined over consecutive days of the same instalment, kind and rule."""
    runs: list[dict[str, Any]] = []
    totals: list[int] = []
    for cut in sorted(cuts, key=lambda c: (c.seq, c.kind, c.day)):
        last = runs[-1] if runs else None
        if (
            last is not None
            and (last["seq"], last["kind"], last["rule"]) == (cut.seq, cut.kind, cut.rule_id)
            and date.fromisoformat(last["last_day"]) + timedelta(days=1) >= cut.day
        ):
            last["last_day"] = cut.day.isoformat()
            totals[-1] += cut.amount
        else:
            runs.append({"seq": cut.seq, "kind": cut.kind, "first_day": cut.day.isoformat(),
                         "last_day": cut.day.isoformat(), "rule": cut.rule_id,
                         "source": cut.source})  # fmt: skip
            totals.append(cut.amount)
    for run, total in zip(runs, totals, strict=True):
        run["amount"] = format_amount(total)
    return runs


def rule_daily(charge: Charge, state: LoanState, day_count: int) -> int:
    """A penalty charge's day as its rule works it out (base × rate ÷ day count, half-up),
    before the cost cap cut it to `charge.daily`."""
    rate = state.penalty_rate
    return div_half_up(charge.base * rate.numerator, rate.denominator * day_count)


def charge_reason(charge: Charge, state: LoanState, day_count: int) -> str:
    """Why a charge is what it is, in one sentence (which days, which rate, which base)."""
    if charge.kind == "penalty":
        days = (charge.last_day - charge.first_day).days + 1
        span = f"{charge.first_day}..{charge.last_day}"
        when = "" if charge.posted_on == charge.first_day else f", owed from {charge.posted_on}"
        # The rule's day, then what the cost cap left of it where it cut (the cut is in
        # cap_cuts): the day's working stated as 7.33 where 8.50 is its result was false
        # arithmetic (helper-113).
        full = rule_daily(charge, state, day_count)
        cut = f", {format_amount(charge.daily)}/day within the cost cap (the rest cut: cap_cuts)"
        return (
            f"penalty on {format_amount(charge.base)} overdue principal × "
            f"{format_rate(state.penalty_rate)} ÷ {day_count} = {format_amount(full)}/day "
            f"(half-up to the fen){'' if full == charge.daily else cut} × {days} day(s) "
            f"{span}{when}"
        )
    if charge.kind == "late_fee":
        limit = state.late_fee_limit
        within = f"; late fees at most {format_amount(limit.total)} in all" if limit else ""
        return f"late fee, once, on the first day beyond grace ({charge.posted_on}){within}"
    if charge.kind == "interest":
        return f"contract interest of instalment {charge.seq}, due {charge.posted_on}"
    return f"scheduled fee of instalment {charge.seq}, due {charge.posted_on}"


def user_document(user: UserRecord) -> dict[str, Any]:
    """A user as the API and `arrears staff --json` show it (never the password hash)."""
    return {
        "user_id": user.user_id,
        "display_name": user.display_name,
        "role": user.role.value,
        "team_id": user.team_id,
        "agency_id": user.agency_id,
        "locale": user.locale,
        "active": user.active,
    }


def agency_document(agency: Agency) -> dict[str, Any]:
    """An agency as the API and `arrears staff agencies --json` show it: its commission, its
    white-list standing and the day of its last evaluation (null: never)."""
    return {
        "agency_id": agency.agency_id,
        "name": agency.name,
        "commission": agency.commission_rate,
        "listed": agency.listed,
        "evaluated_on": None if agency.evaluated_on is None else agency.evaluated_on.isoformat(),
    }


def reply_document(reply: StoredReply, honour_by: date | None = None) -> dict[str, Any]:
    """A borrower's reply as `arrears replies --json` and the API show it: its number
    masked; `honour_by`, waiting to be read, the last day to honour it by should it ask to
    stop (its borrowers' packs set one), else null."""
    return {"reply_id": reply.reply_id, "received_at": reply.received_at.isoformat(),
            "number": mask_phone(reply.number), "borrower_ids": list(reply.borrower_ids),
            "state": reply.state, "rule_id": reply.rule_id, "word": reply.word,
            "text": reply.text, "read_by": reply.read_by,
            "honour_by": honour_by.isoformat() if honour_by else None}  # fmt: skip


def reply_documents(app: App, replies: Sequence[StoredReply]) -> list[dict[str, Any]]:
    """Replies as documents, each waiting one with the day to honour it by (honour_dates)."""
    due = honour_dates(app.replies, app.reply_taking.rules, app.terms.calendar_for, replies)
    return [reply_document(reply, due.get(reply.reply_id)) for reply in replies]
