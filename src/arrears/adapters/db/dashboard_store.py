"""The figures of the supervisors' dashboard on SQL, always within a scope."""

from datetime import date

from sqlalchemy import Engine, and_, func, or_, select

from arrears.adapters.db.casework_tables import agencies, assignments, placements
from arrears.adapters.db.scoping import in_scope
from arrears.adapters.db.tables import (
    blocked_actions,
    cases,
    loan_states,
    loans,
    payments,
    promises,
    runs,
)
from arrears.domain.access import Scope
from arrears.services.dashboard import Figures


class SqlDashboardStore:
    """Implements services.dashboard.DashboardStore over a SQLAlchemy engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def figures(self, scope: Scope, since: date, until: date) -> Figures:
        """Counts and sums of the scope's cases, and what was paid and refused in a window."""
        s, lid = loan_states.c, loans.c.loan_id
        owed = s.overdue_principal + s.overdue_interest + s.overdue_penalty + s.overdue_fees
        visible = in_scope(scope, lid)
        with self.engine.begin() as conn:
            currency = loans.c.currency
            buckets = conn.execute(
                select(s.bucket, currency, func.count(), func.coalesce(func.sum(owed), 0))
                .join(loans, lid == s.loan_id).where(visible).group_by(s.bucket, currency)
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
                select(placements.c.agency_id, agencies.c.commission_rate, currency,
                       func.sum(payments.c.amount))
                .join(loans, lid == payments.c.loan_id)
                .join(placements, placed_then)
                .join(agencies, agencies.c.agency_id == placements.c.agency_id)
                .where(visible, window)
                .group_by(placements.c.agency_id, agencies.c.commission_rate, currency)
            ).all()  # fmt: skip
            blocked = conn.execute(
                select(blocked_actions.c.rule, func.count())
                .join(loans, lid == blocked_actions.c.loan_id)
                .where(visible, blocked_actions.c.as_of >= since,
                       blocked_actions.c.as_of <= until)
                .group_by(blocked_actions.c.rule)
            ).all()  # fmt: skip
            history = conn.execute(select(runs.c.as_of, runs.c.summary).order_by(runs.c.as_of))
            month_runs = [(row.as_of, dict(row.summary.get("buckets", {}))) for row in history]
        cases_in: dict[str, int] = {}
        owed_in: dict[str, dict[str, int]] = {}
        for bucket, money, n, total in buckets:
            cases_in[bucket] = cases_in.get(bucket, 0) + int(n)
            owed_in.setdefault(bucket, {})[money] = int(total)
        collected: dict[str, dict[str, int]] = {}
        for who, money, total in by_collector:
            collected.setdefault(who or "", {})[money] = int(total)
        rates: dict[str, str] = {}
        placed: dict[str, dict[str, int]] = {}
        for agency, rate, money, total in by_agency:
            rates[agency] = rate
            placed.setdefault(agency, {})[money] = int(total)
        return Figures(
            buckets={b: (n, owed_in[b]) for b, n in cases_in.items()},
            stages={stage: int(n) for stage, n in stages},
            promises={status: int(n) for status, n in kept},
            collected_by_collector=collected,
            collected_by_agency={a: (rates[a], amounts) for a, amounts in placed.items()},
            blocked_by_rule={rule: int(n) for rule, n in blocked},
            runs=month_runs,
        )
