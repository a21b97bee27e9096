"""The figures of the supervisors' dashboard on SQL, always within a scope."""

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, and_, exists, func, or_, select

from arrears.adapters.db.casework_tables import (
    assignments,
    field_visits,
    loan_flags,
    notes,
    placements,
    proposals,
)
from arrears.adapters.db.instants import utc
from arrears.adapters.db.scoping import in_scope
from arrears.adapters.db.tables import (
    blocked_actions,
    cases,
    contact_attempts,
    holds,
    loan_states,
    loans,
    month_end_buckets,
    payments,
    promises,
)
from arrears.domain.access import Scope
from arrears.domain.flow_rates import Rolls, month_pairs
from arrears.services.dashboard import FLAGGED_SHOWN, FLOW_MONTHS, Figures, FlaggedText


class SqlDashboardStore:
    """Implements services.dashboard.DashboardStore over a SQLAlchemy engine."""

    def __init__(self, engine: Engine, defaults: Mapping[str, str] | None = None) -> None:
        self.engine = engine
        self.defaults = dict(defaults or {})  # each ladder's default stage (scoping.in_scope)

    def figures(self, scope: Scope, since: date, until: date) -> Figures:
        """Counts and sums of the scope's cases, and what was paid and refused in a window."""
        s, lid = loan_states.c, loans.c.loan_id
        owed = s.overdue_principal + s.overdue_interest + s.overdue_penalty + s.overdue_fees
        covers = partial(in_scope, scope, defaults=self.defaults)
        visible = covers(lid)
        with self.engine.begin() as conn:
            currency = loans.c.currency
            # A loan signed after its state's day is in no bucket, as in the run's summary
            # (CONTRACT.md; counted M0, it swelled the page's M0 beside the run's: helper-118).
            lent = loans.c.contract_date <= s.as_of
            buckets = conn.execute(
                select(s.bucket, currency, func.count(), func.coalesce(func.sum(owed), 0))
                .join(loans, lid == s.loan_id).where(visible, lent).group_by(s.bucket, currency)
            ).all()  # fmt: skip
            stages = conn.execute(
                select(cases.c.stage, func.count())
                .join(loans, lid == cases.c.loan_id).where(visible).group_by(cases.c.stage)
            ).all()  # fmt: skip
            kept = conn.execute(
                select(promises.c.status, func.count())
                .join(loans, lid == promises.c.loan_id).where(visible)
                .group_by(promises.c.status)
            ).all()  # fmt: skip
            window = and_(payments.c.paid_on >= since, payments.c.paid_on <= until)
            # Only the current assignment is kept (no history): a payment made before it is
            # nobody's doing that we know of, so it is credited to no collector ("").
            held_then = and_(
                assignments.c.loan_id == lid, assignments.c.assigned_on <= payments.c.paid_on
            )
            by_collector = conn.execute(
                select(assignments.c.collector_id, currency, func.sum(payments.c.amount))
                .join(loans, lid == payments.c.loan_id)
                .outerjoin(assignments, held_then)
                .where(visible, window).group_by(assignments.c.collector_id, currency)
            ).all()  # fmt: skip
            placed_then = and_(
                placements.c.loan_id == lid, placements.c.placed_on <= payments.c.paid_on,
                or_(placements.c.recalled_on.is_(None),
                    placements.c.recalled_on > payments.c.paid_on),
            )  # fmt: skip
            by_agency = conn.execute(
                # At the placement's own rate: the agency's may have changed since.
                select(placements.c.agency_id, placements.c.commission_rate, currency,
                       func.sum(payments.c.amount))
                .join(loans, lid == payments.c.loan_id)
                .join(placements, placed_then)
                .where(visible, window)
                .group_by(placements.c.agency_id, placements.c.commission_rate, currency)
            ).all()  # fmt: skip
            blocked = conn.execute(
                select(blocked_actions.c.rule, func.count())
                .join(loans, lid == blocked_actions.c.loan_id)
                .where(visible, blocked_actions.c.as_of >= since,
                       blocked_actions.c.as_of <= until)
                .group_by(blocked_actions.c.rule)
            ).all()  # fmt: skip
            rolls = _rolls(conn)
            flagged = _flagged(conn, covers, since)
            violations = _violations(conn, covers, since)
        cases_in: dict[str, int] = {}
        owed_in: dict[str, dict[str, int]] = {}
        for bucket, money, n, total in buckets:
            cases_in[bucket] = cases_in.get(bucket, 0) + int(n)
            owed_in.setdefault(bucket, {})[money] = int(total)
        collected: dict[str, dict[str, int]] = {}
        for who, money, total in by_collector:
            collected.setdefault(who or "", {})[money] = int(total)
        placed: dict[str, dict[str, dict[str, int]]] = {}
        for agency, rate, money, total in by_agency:
            # One rate written two ways ("0.2", "0.20") is one rate.
            share = format(Decimal(rate).normalize(), "f")
            at_rate = placed.setdefault(agency, {}).setdefault(share, {})
            at_rate[money] = at_rate.get(money, 0) + int(total)
        return Figures(
            buckets={b: (n, owed_in[b]) for b, n in cases_in.items()},
            stages={stage: int(n) for stage, n in stages},
            promises={status: int(n) for status, n in kept},
            collected_by_collector=collected,
            collected_by_agency=placed,
            blocked_by_rule={rule: int(n) for rule, n in blocked},
            rolls=rolls,
            flagged_by_rule=_by_rule(flagged),
            flagged=flagged[:FLAGGED_SHOWN],
            violations_by_rule=violations,
        )


# A kind of text the content lint reads, as the dashboard finds it: what it is (FlaggedText's
# `written_in`), whose it is (a loan's id, or a borrower's), when it was written, its findings.
_Texts = tuple[str, ColumnElement[Any], ColumnElement[Any], ColumnElement[Any]]
# A loan id column → whether the loan is in the scope the figures are of (scoping.in_scope).
Covers = Callable[[ColumnElement[str]], ColumnElement[bool]]


def _flagged(conn: Connection, covers: Covers, since: date) -> list[FlaggedText]:
    """The texts written on the scope's cases from the window's first day (UTC) on that the
    content lint flagged, newest first: contacts' notes, case notes, visit reports, holds'
    notes, visits' reasons, approvers' notes on visits and proposals, flags' reasons (while
    the flag is set: clearing it deletes its row). Those written after the window's last day
    count too: the desk writes every day, the window ends on the last run's."""
    first = datetime.combine(since, time(), UTC)
    n, v, p, f = notes.c, field_visits.c, proposals.c, loan_flags.c
    t, h = contact_attempts.c, holds.c
    on_loans: tuple[_Texts, ...] = (
        ("note", n.loan_id, n.at, n.findings),
        ("visit", v.loan_id, v.visited_at, v.note_findings),
        ("visit_request", v.loan_id, v.requested_at, v.reason_findings),
        ("visit_decision", v.loan_id, v.decided_at, v.decision_note_findings),
        ("proposal_decision", p.loan_id, p.decided_at, p.decision_note_findings),
        ("flag", f.loan_id, f.set_at, f.reason_findings),
    )
    of_borrowers: tuple[_Texts, ...] = (
        ("contact", t.borrower_id, t.at, t.note_findings),
        ("hold", h.borrower_id, h.noted_at, h.note_findings),
    )
    found = [
        *(text for kind in on_loans for text in _on_loans(conn, covers, first, kind)),
        *(text for kind in of_borrowers for text in _of_borrowers(conn, covers, first, kind)),
    ]
    found.sort(key=lambda f: (f.at, f.written_in, f.loan_id), reverse=True)
    return found


def _on_loans(
    conn: Connection, covers: Covers, first: datetime, texts: _Texts
) -> list[FlaggedText]:
    """The flagged texts of one kind written on a loan of the scope from `first` on."""
    kind, loan_id, at, findings = texts
    rows = conn.execute(
        select(loan_id, loans.c.borrower_id, at, findings)
        .join(loans, loans.c.loan_id == loan_id)
        .where(covers(loans.c.loan_id), findings.is_not(None), at >= first)
    ).all()  # fmt: skip
    return [FlaggedText(kind, utc(w), loan, who, _rules(f)) for loan, who, w, f in rows]


def _of_borrowers(
    conn: Connection, covers: Covers, first: datetime, texts: _Texts
) -> list[FlaggedText]:
    """The flagged texts of one kind written of a borrower from `first` on: on the scope's
    cases when one of the borrower's loans is (the case named is the first of those)."""
    kind, borrower_id, at, findings = texts
    theirs = loans.alias("theirs")
    case = (
        select(func.min(theirs.c.loan_id))
        .where(theirs.c.borrower_id == borrower_id, covers(theirs.c.loan_id))
        .scalar_subquery()
    )
    rows = conn.execute(
        select(case, borrower_id, at, findings)
        .where(findings.is_not(None), at >= first, case.is_not(None))
    ).all()  # fmt: skip
    return [FlaggedText(kind, utc(w), loan, who, _rules(f)) for loan, who, w, f in rows]


def _rules(findings: Iterable[dict[str, Any]]) -> tuple[str, ...]:
    """The rules of a text's stored findings, each once, sorted."""
    return tuple(sorted({f["rule"] for f in findings}))


def _by_rule(flagged: Iterable[FlaggedText]) -> dict[str, int]:
    """How many texts each rule found something in."""
    counts: dict[str, int] = {}
    for text in flagged:
        for rule in text.rules:
            counts[rule] = counts.get(rule, 0) + 1
    return counts


def _violations(conn: Connection, covers: Covers, since: date) -> dict[str, int]:
    """Each rule broken by the contacts of the scope's borrowers recorded against the rules
    (allowed = false: made all the same, logged at the desk or by `contact log`) from the
    start of `since` (UTC) up to now, by the rules their reasons say they broke. Up to now,
    not to the last run's day: a breach logged at the desk today is seen today."""
    a = contact_attempts.c
    theirs = exists(
        select(loans.c.loan_id).where(loans.c.borrower_id == a.borrower_id, covers(loans.c.loan_id))
    )
    start = datetime.combine(since, time(), UTC)
    found: dict[str, int] = {}
    query = select(a.reasons).where(a.allowed.is_(False), a.at >= start, theirs)
    for reasons in conn.execute(query).scalars():
        for rule in {r["rule"] for r in reasons if not r["passed"]}:
            found[rule] = found.get(rule, 0) + 1
    return found


def _rolls(conn: Connection) -> list[tuple[date, Rolls]]:
    """How the whole book's loans moved between buckets from each month's end to the next's
    (the last FLOW_MONTHS months both of whose ends a run was made on)."""
    ends = conn.execute(select(month_end_buckets.c.month_end).distinct()).scalars().all()
    before, after = month_end_buckets.alias("before"), month_end_buckets.alias("after")
    found: list[tuple[date, Rolls]] = []
    for start, end in month_pairs(ends)[-FLOW_MONTHS:]:
        moved = conn.execute(
            select(before.c.bucket, after.c.bucket, func.count())
            .outerjoin(after, and_(after.c.loan_id == before.c.loan_id, after.c.month_end == end))
            .where(before.c.month_end == start)
            .group_by(before.c.bucket, after.c.bucket)
        ).all()  # fmt: skip
        found.append((end, {(was, now): int(n) for was, now, n in moved}))
    return found
