"""The monthly credit-bureau export: each loan's record of a month from the domain's evaluation
of its last day, its 24-month grid from what earlier exports furnished, and the pack's rule a
record waits on (make_month); stored in place of an earlier export of the month, with an
audit entry (store_month; docs/BUREAU.md)."""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.bureau import (
    CONTACTED_FIRST,
    NEGATIVE,
    PRE_NOTICE,
    Evidence,
    MonthRecord,
    ReportingRule,
    grid,
    month_of,
    month_record,
    withheld,
)
from arrears.domain.errors import Refusal
from arrears.domain.loan import Loan, Payment
from arrears.domain.staff import CONSOLE
from arrears.domain.statement import LoanState
from arrears.services.bureau_ports import Attempt, BureauStore

# What reaches the borrower in writing (a letter, e-mail or text that went out and did not
# come back) and what is spoken (a call or visit; the rule names the outcomes).
_WRITTEN = frozenset({"letter", "email", "sms"})
_SENT = frozenset({"sent", "delivered"})
_SPOKEN = frozenset({"call", "visit"})


@dataclass(frozen=True)
class Furnishing:
    """A loan's record of the month as the export makes it: its currency, its grid, and the
    rule that withholds it with why (None: furnished)."""

    record: MonthRecord
    currency: str
    grid: str
    withheld_rule: str | None = None
    withheld_detail: str | None = None


@dataclass(frozen=True)
class BureauExport:
    """A month's export of a jurisdiction's loans."""

    jurisdiction: str
    month: date
    rule: ReportingRule | None
    rows: tuple[Furnishing, ...]

    @property
    def furnished(self) -> list[Furnishing]:
        """The records furnished (in the file), by loan id."""
        return [f for f in self.rows if f.withheld_rule is None]

    @property
    def withheld(self) -> list[Furnishing]:
        """The records withheld under the pack's rule, by loan id."""
        return [f for f in self.rows if f.withheld_rule is not None]

    def by_status(self) -> dict[str, int]:
        """How many records furnished have each status."""
        return dict(sorted(Counter(f.record.status for f in self.furnished).items()))


def make_month(
    book: Iterable[tuple[Loan, list[Payment]]],
    evaluate: Callable[[Loan, list[Payment], date], LoanState],
    store: BureauStore,
    rule: ReportingRule | None,
    jurisdiction: str,
    month: str,
    last_run: date | None,
    zone: str,
    today: date,
) -> BureauExport:
    """Make the month's records of the jurisdiction's loans (`book`), reading what earlier
    exports furnished and what the rule needs; `zone`: the pack's, whose calendar days the
    evidence is counted in; `today`: the day in that zone. Refused unless the month is over
    and the book was run through its last day. Nothing is stored (store_month)."""
    first, last = month_of(month)
    if last >= today:
        # A run may be made for a day ahead; the bureau hears only how a month ended
        # (helper-114: a month to come was furnished).
        raise Refusal(
            "{month} is not over: it is reported from {next}, after its last day",
            month=month,
            next=(last + timedelta(days=1)).isoformat(),
        )
    if last_run is None or last_run < last:
        raise Refusal(
            "the book was last run for {run}: {month} is reported once it is run through its "
            "last day, {last}",
            run=last_run.isoformat() if last_run else "no day",
            month=month,
            last=last.isoformat(),
        )
    made: list[tuple[MonthRecord, str, date]] = []
    for loan, payments in book:
        record = month_record(loan, payments, evaluate(loan, payments, last), first,
                              partial(evaluate, loan, payments))  # fmt: skip
        if record is not None:
            made.append((record, loan.currency, loan.contract_date))
    made.sort(key=lambda m: m[0].loan_id)
    ids = [m[0].loan_id for m in made]
    earlier = store.furnished(ids, first)
    told = store.done_on(ids, rule.action, last) if rule and rule.kind == PRE_NOTICE else {}
    until = datetime.combine(last + timedelta(days=1), time(0), ZoneInfo(zone))
    attempts = (
        store.attempts(sorted({m[0].borrower_id for m in made}), until)
        if rule and rule.kind == CONTACTED_FIRST
        else {}
    )
    rows = []
    for record, currency, lent_on in made:
        before = earlier.get(record.loan_id, {})
        evidence = _evidence(before, told.get(record.loan_id, ()),
                             attempts.get(record.borrower_id, ()), rule, zone, lent_on)  # fmt: skip
        why = withheld(rule, record, evidence)
        rows.append(Furnishing(
            record, currency, grid(first, record.status, before, lent_on),
            rule.rule_id if why is not None and rule is not None else None, why,
        ))  # fmt: skip
    return BureauExport(jurisdiction, first, rule, tuple(rows))


def store_month(
    store: BureauStore, export: BureauExport, now: datetime, publish: Callable[[], None]
) -> None:
    """Store the month's records in place of an earlier export's, with the audit entry;
    `publish` (the file put in place) is done before they are committed: if it fails,
    nothing is stored."""
    month = export.month.strftime("%Y-%m")
    entry = AuditEntry(now.astimezone(UTC), CONSOLE, "bureau.export",
                       f"bureau:{export.jurisdiction}:{month}",
                       {"furnished": len(export.furnished), "withheld": len(export.withheld),
                        "by_status": export.by_status()})  # fmt: skip
    rows = [_row(f, export.jurisdiction, now) for f in export.rows]
    store.replace_month(export.month, export.jurisdiction, rows, entry, publish)


def _evidence(
    before: dict[date, str], told: Iterable[date], attempts: Iterable[Attempt],
    rule: ReportingRule | None, zone: str, lent_on: date,
) -> Evidence:  # fmt: skip
    """What the rule reads of a loan: its earlier records, the days its pre-notice was done,
    and the days (in the pack's zone) its borrower was spoken to or written to since it was
    lent (the contact log names the borrower, not the loan: a conversation before the debt
    was one is not about it)."""
    local = ZoneInfo(zone)
    spoken, written = [], []
    for a in attempts:
        day = a.at.astimezone(local).date()
        if day < lent_on:
            continue
        if a.channel in _SPOKEN and rule is not None and a.outcome in rule.outcomes:
            spoken.append(day)
        elif a.channel in _WRITTEN and a.outcome in _SENT:
            written.append(day)
    return Evidence(
        furnished_before=bool(before),
        negative_before=any(s in NEGATIVE for s in before.values()),
        told_on=tuple(sorted(told)),
        spoken_on=tuple(sorted(spoken)),
        written_on=tuple(sorted(written)),
    )


def _row(f: Furnishing, jurisdiction: str, now: datetime) -> dict[str, object]:
    """A record as stored."""
    r = f.record
    return {
        "month": r.month, "loan_id": r.loan_id, "jurisdiction": jurisdiction,
        "borrower_id": r.borrower_id, "status": r.status, "grid": f.grid, "dpd": r.dpd,
        "balance": r.balance, "overdue": r.overdue, "overdue_principal": r.overdue_principal,
        "overdue_lines": r.overdue_lines, "due_in_month": r.due_in_month,
        "paid_in_month": r.paid_in_month, "last_paid_on": r.last_paid_on,
        "withheld_rule": f.withheld_rule, "withheld_detail": f.withheld_detail,
        "exported_at": now.astimezone(UTC),
    }  # fmt: skip
