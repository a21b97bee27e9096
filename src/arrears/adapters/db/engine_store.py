"""The columnar run's store on SQLite / PostgreSQL: bulk loads of frames, one-transaction saves."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

import polars as pl
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from arrears.adapters.book_tables import with_pack_zones
from arrears.adapters.db import tables
from arrears.adapters.db.casework_store import approved_revisions
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.frames_io import (
    delete_keys,
    insert_new,
    read_frame,
    write_changes,
    write_frame,
)
from arrears.adapters.people_index import LoanHistory, people_from_frames
from arrears.batch.book import (
    PAYMENT_SCHEMA,
    Book,
    fresh_instalments,
    fresh_loans,
    overlay_state,
    scheduled_principal,
)
from arrears.batch.contact_plan import BLOCKED_SCHEMA, PLAN_SCHEMA
from arrears.batch.ledger import RESTATED_SCHEMA
from arrears.batch.pauses import PAUSE_SCHEMA, changed_pauses, loan_pauses
from arrears.batch.pipeline import CURRENCY_SCHEMA, RunContext, RunFrames
from arrears.batch.promises import PROMISE_SCHEMA, judged_afresh
from arrears.batch.revisions import revised_ids, revision_frame
from arrears.batch.run import RunRefused
from arrears.batch.stages import CASE_SCHEMA, FLAG_SCHEMA
from arrears.batch.terms_frame import loan_terms, moved_due, priced_print
from arrears.domain.flow_rates import is_month_end
from arrears.domain.terms import Terms

# Contact history the planner and guards look back on (the widest window a rule counts is 7
# days; the guards look back 60).
HISTORY_DAYS = 90
_UTC = pl.Datetime("us", "UTC")
_LOANS = {"loan_id": pl.String, "borrower_id": pl.String, "product": pl.String,
          "contract_date": pl.Date, "principal": pl.Int64, "annual_rate": pl.String,
          "penalty_rate": pl.String, "segment": pl.String, "score": pl.Int64,
          "currency": pl.String}  # fmt: skip
_BALANCES = {"loan_id": pl.String, "state_date": pl.Date, "charged": pl.Int64,
             "principal_days": pl.Int64, "credit": pl.Int64,
             "late_fees_charged": pl.Int64}  # fmt: skip
# With each loan's state, the terms it was priced with (terms_frame.priced_print; null: a
# state written before they were kept, taken as priced under today's).
_PRICED = {"loan_id": pl.String, "priced": pl.String}
_BALANCES_READ = {**_BALANCES, **_PRICED}  # loan_balances' every column
_SCHEDULE = {"loan_id": pl.String, "seq": pl.Int64, "due_date": pl.Date,
             "principal_due": pl.Int64, "interest_due": pl.Int64, "fee_due": pl.Int64}  # fmt: skip
STATE_COLUMNS = [c.name for c in tables.installment_states.columns]


class _Stored(NamedTuple):
    """A book's state tables as a run loaded them (loan_balances, installment_states,
    loan_pauses: every column)."""

    balances: pl.DataFrame
    lines: pl.DataFrame
    pauses: pl.DataFrame


class SqlEngineStore:
    """Implements batch.ports.EngineStore over the SQL tables."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The latest run when the book was loaded (None: none yet), checked again by save.
        self._loaded_after: tuple[date, datetime] | _NotLoaded | None = NOT_LOADED
        # The state tables as loaded, to which save writes only what changed (None: all).
        self._stored: _Stored | None = None

    def last_run(self, before: date | None = None) -> date | None:
        """The latest completed run's date (strictly before `before` when given)."""
        query = select(func.max(tables.runs.c.as_of))
        if before is not None:
            query = query.where(tables.runs.c.as_of < before)
        with self.engine.connect() as conn:
            value = conn.execute(query).scalar_one_or_none()
        return value if isinstance(value, date) else None

    def run_summary(self, as_of: date) -> dict[str, Any] | None:
        """The stored summary of the run for `as_of`."""
        with self.engine.connect() as conn:
            value = conn.execute(
                select(tables.runs.c.summary).where(tables.runs.c.as_of == as_of)
            ).scalar()
        return dict(value) if value is not None else None

    def load(self, ctx: RunContext) -> RunFrames:
        """The book with its state (loans needing a replay start afresh), people and history."""
        as_of, terms = ctx.as_of, ctx.terms
        with _one_snapshot(self.engine.connect()) as conn:
            self._loaded_after = _latest_run(conn)
            holds = read_frame(
                conn, "SELECT borrower_id, kind, starts_on, ends_on FROM holds", _HOLDS
            )
            book, reset, currencies, self._stored = _load_book(conn, terms, holds)
            borrowers = read_frame(conn, _BORROWERS_SQL, _BORROWERS)
            # An ISO instant compares right both as SQLite text and as a PostgreSQL timestamp.
            since = f"{as_of - timedelta(days=HISTORY_DAYS)} 00:00:00"
            attempts = read_frame(conn, ATTEMPTS_SQL, ATTEMPTS, since=since).sort(
                "at", maintain_order=True
            )
            opt_outs = read_frame(
                conn, "SELECT borrower_id, channel, since FROM opt_outs", _OPT_OUTS
            )
            done = read_frame(
                conn, "SELECT loan_id, action, planned_for, status, outcome FROM outbox"
                f" WHERE {tables.OUTBOX_WORKED}", DONE,
            )  # fmt: skip
            # A lawyer's letter the legal track recorded is sent, as the track's own guard
            # (track_store.history) reads it: the legal stage asks for no other, and its
            # legal review finds it. So is a placement the desk made, done.
            letters = read_frame(conn, LETTERS_SQL, DONE)
            placed = read_frame(conn, PLACEMENTS_SQL, DONE)
            cases = _cases_before(conn, as_of, self._loaded_after)
            flags = read_frame(conn, "SELECT loan_id, flag FROM loan_flags", dict(FLAG_SCHEMA))
            promises, promised_paid = _promises(conn, reset, as_of)
            # A re-run of the latest day replays loans from a state already at the day: what
            # the first run posted for them on its days is restated, not added to.
            latest = self._loaded_after
            earlier = None
            if isinstance(latest, tuple) and latest[0] == as_of:
                earlier = _posted_on_days(conn, reset.get_column("loan_id"), ctx.since, as_of)
        zones = {code: pack.default_zone for code, pack in ctx.packs.items()}
        borrowers = with_pack_zones(borrowers, book.loans, terms, zones)
        people = people_from_frames(borrowers, attempts, holds, opt_outs)
        # The guards read the whole record (a requirement without `within_days` has no window)
        # of the few borrowers they ask about, when they ask.
        history = LoanHistory(partial(attempts_of, self.engine),
                              pl.concat([done, letters, placed]), book.loans,
                              people.reach)  # fmt: skip
        return RunFrames(
            book, people, history=history, cases=cases, promises=promises, replay=reset,
            flags=flags, currencies=currencies, restated=earlier, promised_paid=promised_paid,
        )  # fmt: skip

    def progress(self, step: str, frames: RunFrames) -> None:
        """Nothing is written before save: it writes everything in one transaction."""

    def abandon(self) -> None:
        """Nothing was begun: save writes everything in one transaction."""

    def save(self, frames: RunFrames, as_of: date, summary: dict[str, Any], at: datetime) -> None:
        """Write state, postings, snapshot, plan and the run record in one transaction, unless
        another run of the book finished since this one loaded it (RunRefused, nothing
        written): saved over it, an earlier day's state would replace a later one's."""
        with self.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                # Taken by every run's save, so two saves of a book go one after the other.
                conn.exec_driver_sql("LOCK TABLE runs IN SHARE ROW EXCLUSIVE MODE")
            latest = _latest_run(conn)
            if not isinstance(self._loaded_after, _NotLoaded) and latest != self._loaded_after:
                raise RunRefused(
                    f"another run of the book (for {latest[0] if latest else 'no day'}) "
                    f"finished while this one for {as_of} ran: nothing of this one was "
                    f"written; run it again"
                )
            _save_state(conn, frames, self._stored)
            self._stored = None  # the tables hold this run's state now
            _save_postings(conn, frames)
            if latest is None or latest[0] != as_of:  # a re-run of the day keeps the day before's
                _keep_prior_cases(conn)
            _save_snapshot(conn, frames)
            if is_month_end(as_of):
                _save_month_end(conn, frames, as_of)
            _replace_plan(conn, frames, as_of)
            values = {"finished_at": at, "loans": frames.book.loans.height, "summary": summary}
            done = conn.execute(
                update(tables.runs).where(tables.runs.c.as_of == as_of).values(**values)
            )
            if done.rowcount == 0:
                conn.execute(insert(tables.runs).values(as_of=as_of, **values))


class _NotLoaded:
    """The store has not loaded a book (save then checks no run against it)."""


NOT_LOADED = _NotLoaded()


def _latest_run(conn: Connection) -> tuple[date, datetime] | None:
    """The latest run's day and when it finished (a re-run of the day finishes later)."""
    runs = tables.runs.c
    row = conn.execute(
        select(runs.as_of, runs.finished_at).order_by(runs.as_of.desc()).limit(1)
    ).first()
    return None if row is None else (row.as_of, row.finished_at)


def _replace_plan(conn: Connection, frames: RunFrames, as_of: date) -> None:
    """The day's plan and refusals are this run's: a re-run (new loans, contacts logged since)
    decides the day again from what was carried out, so what an earlier run of the day
    planned and nobody did yet is replaced, not kept beside (a cap would count it twice
    over). Rows carried out keep their status: a new row of their key is not written."""
    outbox, blocked = tables.outbox, tables.blocked_actions
    conn.execute(delete(outbox).where(outbox.c.planned_for == as_of, outbox.c.status == "planned"))
    conn.execute(delete(blocked).where(blocked.c.as_of == as_of))
    insert_new(conn, outbox, frames.plan.select(list(PLAN_SCHEMA)))
    insert_new(conn, blocked, frames.blocked.select(list(BLOCKED_SCHEMA)))
    _cancel_unplanned_retries(conn, frames.plan, as_of)


def _cancel_unplanned_retries(conn: Connection, plan: pl.DataFrame, as_of: date) -> None:
    """Cancel the day's texts waiting for another try (docs/CHANNELS.md) that this run no
    longer plans (a payment since, a hold): their figures and reasons are the earlier run's."""
    d, o = tables.deliveries.c, tables.outbox.c
    waiting = conn.execute(
        select(d.action_key).join(tables.outbox, o.action_key == d.action_key)
        .where(o.planned_for == as_of, d.state == "retry")
    ).scalars().all()  # fmt: skip
    if not waiting:
        return
    planned = set(plan.get_column("action_key").to_list())
    for key in (key for key in waiting if key not in planned):
        # Only a text still waiting: a sender may have claimed it again meanwhile.
        still = conn.execute(
            update(tables.deliveries).where(d.action_key == key, d.state == "retry")
            .values(state="cancelled", detail="no longer planned by the day's run, run again")
        ).rowcount  # fmt: skip
        if still == 1:
            cancel = update(tables.outbox).where(o.action_key == key).values(status="cancelled")
            conn.execute(cancel)


_BORROWERS_SQL = "SELECT borrower_id, phone, timezone FROM borrowers"
_BORROWERS = {"borrower_id": pl.String, "phone": pl.String, "timezone": pl.String}
_ATTEMPTS_FROM = (
    "SELECT borrower_id, contact_id, channel, to_phone, at, outcome FROM contact_attempts"
)
ATTEMPTS_SQL = _ATTEMPTS_FROM + " WHERE at >= :since"
ATTEMPTS = pl.Schema({"borrower_id": pl.String(), "contact_id": pl.String(),
                      "channel": pl.String(), "to_phone": pl.String(), "at": _UTC,
                      "outcome": pl.String()})  # fmt: skip
_IDS_AT_ONCE = 500  # bound parameters per query (SQLite allows 32,766; PostgreSQL 65,535)


# With each attempt's verdict: the guards count only those the rules allowed (LoanHistory).
_JUDGED = pl.Schema({**ATTEMPTS, "allowed": pl.Boolean()})
_JUDGED_FROM = f"SELECT {', '.join(_JUDGED)} FROM contact_attempts"


def attempts_of(engine: Engine, borrower_ids: Sequence[str]) -> pl.DataFrame:
    """Every contact attempt on record of some borrowers (ATTEMPTS, and `allowed`)."""
    ids = list(borrower_ids)
    parts = [pl.DataFrame(schema=_JUDGED)]
    with engine.connect() as conn:
        for start in range(0, len(ids), _IDS_AT_ONCE):
            chunk = ids[start : start + _IDS_AT_ONCE]
            names = {f"b{n}": value for n, value in enumerate(chunk)}
            sql = f"{_JUDGED_FROM} WHERE borrower_id IN ({', '.join(':' + n for n in names)})"
            parts.append(read_frame(conn, sql, _JUDGED, **names))
    return pl.concat(parts)


_HOLDS = {"borrower_id": pl.String, "kind": pl.String, "starts_on": pl.Date, "ends_on": pl.Date}
_OPT_OUTS = {"borrower_id": pl.String, "channel": pl.String, "since": _UTC}
DONE = {"loan_id": pl.String, "action": pl.String, "planned_for": pl.Date, "status": pl.String,
         "outcome": pl.String}  # fmt: skip
# The legal track's lawyer's letters, as the plan's worked actions (DONE): sent.
LETTERS_SQL = (
    "SELECT c.loan_id, s.step, s.\"on\", 'done', 'sent' FROM legal_steps s"
    " JOIN legal_cases c ON c.legal_id = s.legal_id WHERE s.step = 'lawyers_letter'"
)
# The desk's agency placements and recalls, as the plan's worked actions: done. A placement
# is the agency tried, which the lawyer's letter's and a field visit's guards ask, and an
# account placed is one the legal stage recalls, unless the desk recalled it already.
PLACEMENTS_SQL = (
    "SELECT d.loan_id, d.action, d.day, 'done', 'done' FROM ("
    "SELECT loan_id, 'agency_placement' AS action, placed_on AS day FROM placements"
    " UNION ALL SELECT loan_id, 'agency_recall', recalled_on FROM placements"
    " WHERE recalled_on IS NOT NULL) d WHERE d.day IS NOT NULL"
)


def _one_snapshot(conn: Connection) -> Connection:
    """`conn` reading every table as of one moment. PostgreSQL's default (read committed)
    gives each statement its own: a loan and its schedule imported between the reads of the
    loans and of the schedule failed the run (helper-67). SQLite's read transaction in WAL
    mode is one snapshot already."""
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _load_book(
    conn: Connection, terms: Terms, holds: pl.DataFrame
) -> tuple[Book, pl.DataFrame, pl.DataFrame, _Stored]:
    """Loans and instalments with their stored state and pauses, the loans that must be
    replayed, each loan's currency, and the state tables as read."""
    raw = read_frame(conn, "SELECT loan_id, borrower_id, product, contract_date, principal,"
                     " annual_rate, penalty_rate, segment, score, currency FROM loans",
                     _LOANS)  # fmt: skip
    schedule = read_frame(conn, "SELECT * FROM installments", _SCHEDULE).with_columns(
        pl.lit(None, pl.Date).alias("eff_due")
    )
    loans = fresh_loans(loan_terms(raw, terms), scheduled_principal(schedule))
    balances_read = read_frame(
        conn, f"SELECT {', '.join(_BALANCES_READ)} FROM loan_balances", _BALANCES_READ
    )
    balances = balances_read.drop("priced")
    stored = read_frame(conn, "SELECT * FROM installment_states", _state_schema())
    pauses = loan_pauses(loans, holds, terms.products)
    # A pause placed, changed or lifted since the last run may reach back before it.
    before = read_frame(conn, "SELECT * FROM loan_pauses", dict(PAUSE_SCHEMA))
    paused = changed_pauses(pauses, before).join(balances.select("loan_id"), on="loan_id",
                                                  how="semi")  # fmt: skip
    # A loan with an approved extension or settlement is worked from its contract date
    # every run: the dates its extensions moved, and what was paid towards a settlement, are
    # not kept in its state (installment_states).
    revisions = revision_frame(approved_revisions(conn))
    revised = revised_ids(revisions).join(balances.select("loan_id"), on="loan_id", how="semi")
    reset = pl.concat([
        _replays(conn, schedule, stored, balances),
        _repriced(balances_read.select(list(_PRICED)), loans, schedule, stored, terms),
        paused,
        revised,
    ]).unique()  # fmt: skip
    loans = overlay_state(loans, balances.join(reset, on="loan_id", how="anti"), ["loan_id"])
    kept = stored.join(reset, on="loan_id", how="anti")
    instalments = overlay_state(fresh_instalments(schedule), kept, ["loan_id", "seq"])
    first = loans.get_column("state_date").min()
    payments = read_frame(
        conn, "SELECT payment_id, loan_id, amount, paid_on FROM payments WHERE paid_on > :first",
        {"payment_id": pl.String, "loan_id": pl.String, "amount": pl.Int64, "paid_on": pl.Date},
        first=first if first is not None else date.min,
    )  # fmt: skip
    book = Book(loans, instalments, payments, pauses=pauses, revisions=revisions)
    return book, reset, raw.select(list(CURRENCY_SCHEMA)), _Stored(balances_read, stored, before)


def _replays(
    conn: Connection, schedule: pl.DataFrame, stored: pl.DataFrame, balances: pl.DataFrame
) -> pl.DataFrame:
    """Loans to replay from their contract date: a payment dated on or before their state
    date that the run never applied (back-dated), or an instalment added after a run."""
    late = read_frame(
        conn,
        "SELECT DISTINCT p.loan_id FROM payments p JOIN loan_balances b ON b.loan_id = p.loan_id"
        " WHERE p.paid_on <= b.state_date AND NOT EXISTS (SELECT 1 FROM allocations a"
        " WHERE a.loan_id = p.loan_id AND a.payment_id = p.payment_id)",
        {"loan_id": pl.String},
    )
    added = schedule.join(balances.select("loan_id"), on="loan_id", how="semi").join(
        stored.select("loan_id", "seq"), on=["loan_id", "seq"], how="anti"
    ).select("loan_id")  # fmt: skip
    return pl.concat([late, added]).unique()


# The payments in the window of an open promise, up to the run's day.
_PROMISED_SQL = (
    "SELECT DISTINCT p.payment_id, p.loan_id, p.amount, p.paid_on FROM payments p"
    " JOIN promises r ON r.loan_id = p.loan_id WHERE r.status = 'open'"
    " AND p.paid_on >= r.made_on AND p.paid_on <= r.due_on AND p.paid_on <= :as_of"
)


def _promises(
    conn: Connection, reset: pl.DataFrame, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The promises, each open one and every one of a loan replayed from its contract date
    judged afresh (the desk adds a promise while runs go on: one made on a day already run
    counts that day's money too, which the run of the day applied before it was made); and
    the payments in the open ones' windows (a replayed loan's are all in the book)."""
    promises = read_frame(conn, "SELECT * FROM promises", dict(PROMISE_SCHEMA))
    replayed = pl.col("loan_id").is_in(reset.get_column("loan_id").implode())
    promises = judged_afresh(promises, (pl.col("status") == "open") | replayed)
    paid = read_frame(conn, _PROMISED_SQL, dict(PAYMENT_SCHEMA), as_of=as_of)
    return promises, paid


def _repriced(
    kept: pl.DataFrame, loans: pl.DataFrame, schedule: pl.DataFrame, stored: pl.DataFrame,
    terms: Terms,
) -> pl.DataFrame:  # fmt: skip
    """Loans to replay from their contract date because they are priced otherwise than their
    state was worked (the settings changed a product's terms, or a cap's): their PRICED terms,
    or an effective due date of a line fallen due (its holiday rule or calendar)."""
    now = loans.select("loan_id", priced_print().alias("now"))
    changed = kept.join(now, on="loan_id").filter(
        pl.col("priced").is_not_null() & (pl.col("priced") != pl.col("now"))
    )
    lines = stored.join(schedule.select("loan_id", "seq", "due_date"), on=["loan_id", "seq"])
    return pl.concat([changed.select("loan_id"), moved_due(lines, loans, terms)])


_CHARGES = {"loan_id": pl.String, "kind": pl.String, "posted_on": pl.Date, "first_day": pl.Date,
            "last_day": pl.Date, "daily": pl.Int64, "amount": pl.Int64}  # fmt: skip
_CUTS = {"loan_id": pl.String, "day": pl.Date, "amount": pl.Int64}


def _posted_on_days(
    conn: Connection, loan_ids: pl.Series, since: date | None, as_of: date
) -> pl.DataFrame:
    """What some loans' stored charges and cuts posted on the days after `since` up to
    `as_of` (ledger.RESTATED_SCHEMA), as the kernel counts them: a penalty run each of its
    days on that day, any other record on the day it was posted."""
    ids = loan_ids.to_list()
    charges, cuts = [pl.DataFrame(schema=_CHARGES)], [pl.DataFrame(schema=_CUTS)]
    for start in range(0, len(ids), _IDS_AT_ONCE):
        names = {f"l{n}": value for n, value in enumerate(ids[start : start + _IDS_AT_ONCE])}
        among = f"loan_id IN ({', '.join(':' + n for n in names)})"
        charges.append(
            read_frame(
                conn,
                "SELECT loan_id, kind, posted_on, first_day, last_day,"
                f" daily, amount FROM charges WHERE {among}",
                _CHARGES,
                **names,
            )
        )
        cuts.append(read_frame(conn, f"SELECT loan_id, day, amount FROM cap_cuts WHERE {among}",
                               _CUTS, **names))  # fmt: skip
    first = since + timedelta(days=1) if since is not None else date.min
    # A run (posted on its first day) posts its daily amount on each of its days; a record
    # posted later than its days (a waiting penalty posted at once) all on its posting day.
    days = (pl.min_horizontal("last_day", pl.lit(as_of)) - pl.max_horizontal(
        "first_day", pl.lit(first))).dt.total_days() + 1  # fmt: skip
    posted = (
        pl.when(pl.col("posted_on") == pl.col("first_day"))
        .then(pl.col("daily") * days.clip(lower_bound=0))
        .when(pl.col("posted_on").is_between(first, as_of))
        .then(pl.col("amount"))
        .otherwise(0)
    )
    kinds = {"interest": ["interest"], "penalty": ["penalty"], "fees": ["fee", "late_fee"]}
    sums = pl.concat(charges).group_by("loan_id").agg(
        posted.filter(pl.col("kind").is_in(listed)).sum().alias(total)
        for total, listed in kinds.items()
    )  # fmt: skip
    cut = pl.concat(cuts).filter(pl.col("day").is_between(first, as_of))
    cut = cut.group_by("loan_id").agg(pl.col("amount").sum().alias("cut"))
    every = loan_ids.to_frame("loan_id")
    frame = every.join(sums, on="loan_id", how="left").join(cut, on="loan_id", how="left")
    return frame.fill_null(0).select(list(RESTATED_SCHEMA)).cast(RESTATED_SCHEMA)


def _state_schema() -> dict[str, Any]:
    schema: dict[str, Any] = {"loan_id": pl.String, "seq": pl.Int64}
    for column in tables.installment_states.columns:
        if column.name in schema:
            continue
        kind = type(column.type).__name__
        schema[column.name] = {"Date": pl.Date, "Boolean": pl.Boolean}.get(kind, pl.Int64)
    return schema


def _save_state(conn: Connection, frames: RunFrames, stored: _Stored | None) -> None:
    """Every loan's state as the run leaves it (and the derived rows of replayed ones
    cleared): of the tables as `stored` (loaded), only the rows that changed."""
    for table in (tables.charges, tables.cap_cuts, tables.allocations):
        delete_keys(conn, table, ["loan_id"], frames.replay)
    book = frames.book
    now = _Stored(
        book.loans.select(*_BALANCES, priced_print().alias("priced")),
        book.instalments.select(STATE_COLUMNS),
        book.pauses.select(list(PAUSE_SCHEMA)) if book.pauses is not None
        else pl.DataFrame(schema=PAUSE_SCHEMA),
    )  # fmt: skip
    keys = (["loan_id"], ["loan_id", "seq"], ["loan_id", "clock", "starts_on"])
    targets = (tables.loan_balances, tables.installment_states, tables.loan_pauses)
    for table, key, was, frame in zip(targets, keys, stored or (None,) * 3, now, strict=True):
        if was is None:
            conn.execute(delete(table))
            write_frame(conn, table, frame)
        else:
            write_changes(conn, table, key, was, frame)


def _save_postings(conn: Connection, frames: RunFrames) -> None:
    """Charge records (an extended run replaces its stored row), cuts and allocations."""
    charges = frames.postings.frame("charges").unique(
        ["loan_id", "seq", "kind", "first_day", "posted_on"], keep="last", maintain_order=True
    )
    delete_keys(conn, tables.charges, ["loan_id", "seq", "kind", "first_day", "posted_on"], charges)
    write_frame(conn, tables.charges, charges)
    cuts = (
        frames.postings.frame("cuts")
        .group_by("loan_id", "seq", "kind", "day")
        .agg(pl.col("amount").sum())
    )
    cuts = cuts.join(_rules(frames), on="loan_id", how="left")
    write_frame(conn, tables.cap_cuts, cuts)
    allocations = frames.postings.frame("allocations").group_by(
        "loan_id", "payment_id", "seq", "component", "paid_on"
    ).agg(pl.col("amount").sum())  # fmt: skip
    write_frame(conn, tables.allocations, allocations)


def _rules(frames: RunFrames) -> pl.DataFrame:
    """The cap rule id and source of each loan with cuts (from the run's terms)."""
    return frames.book.loans.select(
        "loan_id", pl.col("cap_rule").alias("rule_id"), pl.col("cap_source").alias("source")
    )


def _cases_before(
    conn: Connection, as_of: date, latest: tuple[date, datetime] | None
) -> pl.DataFrame:
    """The cases a run for `as_of` starts from: the latest run's, or on a re-run of its day,
    those before it (a database from before they were kept: the day's own, as before)."""
    if latest is not None and latest[0] == as_of:
        prior = read_frame(conn, "SELECT * FROM cases_prior", dict(CASE_SCHEMA))
        earlier = conn.execute(
            select(tables.runs.c.as_of).where(tables.runs.c.as_of < as_of).limit(1)
        ).first()
        if prior.height or earlier is None:
            return prior
    return read_frame(conn, "SELECT * FROM cases", dict(CASE_SCHEMA))


def _keep_prior_cases(conn: Connection) -> None:
    """Keep the cases as they are before this run replaces them (_cases_before)."""
    conn.execute(delete(tables.cases_prior))
    columns = [c.name for c in tables.cases.columns]
    conn.execute(insert(tables.cases_prior).from_select(columns, select(*tables.cases.c)))


def _save_snapshot(conn: Connection, frames: RunFrames) -> None:
    """Loan states and cases as of the run (replaced), and its verdicts on the promises."""
    assert frames.states is not None
    states = frames.states.select([c.name for c in tables.loan_states.columns])
    for table, frame in ((tables.loan_states, states), (tables.cases, frames.cases)):
        conn.execute(delete(table))
        write_frame(conn, table, frame.select([c.name for c in table.columns]))
    _save_verdicts(conn, frames.promises)


# What a run decides of a promise; the rest of its row is the desk's.
VERDICT = ("promise_id", "status", "settled_on", "paid")


def _save_verdicts(conn: Connection, judged: pl.DataFrame) -> None:
    """Each promise the run judged otherwise than its row says, updated in place. The table
    is not replaced: a promise the desk recorded while the run ran is not among those the
    run loaded, and replacing the table deleted it (helper-67)."""
    schema = {name: PROMISE_SCHEMA[name] for name in VERDICT}
    stored = read_frame(conn, f"SELECT {', '.join(VERDICT)} FROM promises", schema)
    changed = judged.select(VERDICT).join(stored, on=list(VERDICT), how="anti", nulls_equal=True)
    if changed.height == 0:
        return
    p = tables.promises
    conn.execute(
        update(p).where(p.c.promise_id == bindparam("key")).values(
            status=bindparam("status"), settled_on=bindparam("settled_on"),
            paid=bindparam("paid"),
        ),
        [dict(zip(("key", *VERDICT[1:]), row, strict=True)) for row in changed.iter_rows()],
    )  # fmt: skip


def _save_month_end(conn: Connection, frames: RunFrames, as_of: date) -> None:
    """Every loan's bucket at the month's end (replaced by a re-run of the day), of the loans
    lent by then: a loan of the book not yet lent is in no bucket (counted M0, it swelled
    the M0 roll rates' denominators: helper-64)."""
    assert frames.states is not None
    ends = tables.month_end_buckets
    conn.execute(delete(ends).where(ends.c.month_end == as_of))
    lent = frames.book.loans.filter(pl.col("contract_date") <= as_of).select("loan_id")
    write_frame(
        conn,
        ends,
        frames.states.join(lent, on="loan_id", how="semi").select(
            pl.lit(as_of).alias("month_end"), "loan_id", "bucket"
        ),
    )
