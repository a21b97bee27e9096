"""The columnar run's store over a folder of Parquet files (batch.ports.EngineStore).

A night reads the loan table (loan_table.py: every loan's terms, totals, last summary and
case) and the instalment lines of only the loans it must work (book_night.py); every other
loan rests, its state following from its summary. It writes the loan table's changed rows,
the worked loans' lines (line_segments.py) and its outputs. A night that finds the loans or
instalments input, a payments part already read, or the product terms changed, the first
night, a night after a Spark run, a night whose loans name currencies its loan table keeps
none of (written by a version that read none), and any night of a store made with `work_all`
read the whole book instead and write a new base (book_tables.assemble, as Spark does per
bucket).
"""

import hashlib
import json
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import polars as pl
from polars.exceptions import PanicException

from arrears.adapters import book_night
from arrears.adapters.book_folder import (
    BookFolder,
    BookFolderError,
    Fingerprint,
    RunRecord,
    listed,
)
from arrears.adapters.book_inputs import (
    check_borrowers,
    check_contact_inputs,
    check_flags,
    check_people_references,
    check_promises,
    check_revisions,
    distinct_payments,
    refuse_bad_payment_ids,
    refuse_before_contract,
    refuse_outside_years,
    refuse_too_large,
)
from arrears.adapters.book_tables import (
    DONE_SCHEMA,
    GIVEN,
    HISTORY_DAYS,
    INPUTS,
    REQUIRED_INPUTS,
    assemble,
    judged_promises,
    step_outputs,
    typed,
    with_pack_zones,
)
from arrears.adapters.book_views import (
    chain_of,
    full_state,
    read_table,
    run_tables,
)
from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.early_write import EarlyWrite, worked_summaries, write_tables
from arrears.adapters.loan_table import (
    OWNERS,
    STATIC,
    ChainTable,
    Positions,
    positions,
    read_chain,
    scatter_rows,
    write_loan_table,
)
from arrears.adapters.night_rows import (
    TAIL_NONE,
    carry_outcomes,
    delta_rows,
    watermark,
    whole_table,
)
from arrears.adapters.paid_ids import (
    PAID_FULL,
    PAID_NEW,
    NightIds,
    PaidIds,
    fingerprints,
    payment_prints,
    read_paid,
    write_paid,
)
from arrears.adapters.people_index import LoanHistory, PhoneReach, attempts_in_e164
from arrears.adapters.state_damage import StateDamaged, named_damage, plan_parts, refuse_missing
from arrears.adapters.zone_cache import add_zones, read_zones
from arrears.batch.book import PAYMENT_SCHEMA, TAIL_SCHEMA
from arrears.batch.pauses import changed_pauses, loan_pauses
from arrears.batch.pipeline import (
    AGEING,
    STAGES,
    UNREAD,
    UNREAD_HISTORY,
    RunContext,
    RunFrames,
    named_currencies,
)
from arrears.batch.plan_people import People
from arrears.batch.revisions import revised_ids
from arrears.batch.run import RunRefused
from arrears.domain.errors import DomainError
from arrears.domain.ladder import Ladder
from arrears.domain.terms import Terms

# What a night reads of its worked loans' rows: book_night's, then save's (payments applied
# and where their lines are), and a rebuilt loan's terms.
PICKED = (*book_night.WORKED, "payments_seen", "payments_sum", "payments_print", "lines_since",
          *STATIC)  # fmt: skip
CHAIN_LIMIT = 10  # delta runs after a base before the next night writes a base again
_PAYMENT_DAYS = pl.Schema({"payment_id": pl.String(), "paid_on": pl.Date()})
_IDS = pl.Schema({"payment_id": pl.String()})
# What tells two versions of a payment apart (book_inputs.distinct_payments).
_VERSION = pl.Schema({name: INPUTS["payments"][name]
                      for name in ("payment_id", "loan_id", "amount", "paid_on")})  # fmt: skip
_WHOLE_BOOK_INPUTS = ("loans", "installments")  # a change here sends a night down the long way


def pack_zones() -> dict[str, str]:
    """Each jurisdiction's default zone, from the shipped contact rule packs."""
    return {code: pack.default_zone for code, pack in contact_packs().items()}


def rules_fingerprint(terms: Terms, ladders: Mapping[str, Ladder]) -> str:
    """A digest of what the stored state is computed from besides the inputs: the loan terms
    columns (products, caps, LPR) and the ladders (a resting loan keeps the stage its ladder
    gave it, so a changed ladder sends the next night through the whole book)."""
    text = repr((sorted(terms.products.items()), sorted(terms.cap_policies.items()), terms.lpr))
    # The hold kinds that pause a product's clocks, only where some do (a product's repr
    # leaves them out: one that pauses nothing fingerprints as it did before they were added).
    paused = sorted((code, p.pause_ageing, p.pause_charges)
                    for code, p in terms.products.items() if p.pauses_anything)  # fmt: skip
    if paused:
        text += repr(paused)
    # Likewise the products' own cost caps, only where some have one.
    capped = sorted((code, repr(p.own_cap)) for code, p in terms.products.items() if p.own_cap)
    if capped:
        text += repr(capped)
    # And their limits on total charges, only where some have one.
    totals = sorted((code, repr(p.own_cap.total)) for code, p in terms.products.items()
                    if p.own_cap is not None and p.own_cap.total is not None)  # fmt: skip
    if totals:
        text += repr(totals)
    # And their limits on late fees (not the source, which no stored figure holds).
    late = sorted((code, p.late_fee_limit.total) for code, p in terms.products.items()
                  if p.late_fee_limit is not None)  # fmt: skip
    if late:
        text += repr(late)
    strategy = json.dumps({product: _ladder_facts(ladder) for product, ladder in ladders.items()},
                          sort_keys=True, default=_plain)  # fmt: skip
    return hashlib.sha256((text + strategy).encode()).hexdigest()[:16]


def _ladder_facts(ladder: Ladder) -> dict[str, Any]:
    """A ladder as its fingerprint reads it: a stage's traditional-Chinese label and a
    guard's `min_days`, added later and optional, only when given, so that a ladder without
    them fingerprints as it did before (the key added, every stored state read as of other
    rules: a whole-book night of 23 s instead of 1 s after the upgrade)."""
    facts = asdict(ladder)
    for stage in facts["stages"]:
        if stage.get("label_zh_tw") is None:
            stage.pop("label_zh_tw", None)
    for guard in facts["guards"]:
        for requirement in guard["requires"]:
            if requirement.get("min_days") is None:
                requirement.pop("min_days", None)
    return facts


def _plain(value: object) -> object:
    """JSON for what asdict leaves: sets in a fixed order (their iteration order changes from
    one process to the next), dates as ISO text."""
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


@dataclass
class _Night:
    """What load learned that save needs."""

    previous: RunRecord | None
    prints: dict[str, Fingerprint]
    terms: str
    reach: Callable[[], PhoneReach]  # the people's reach, once read (the zones it learned)
    chain: list[str]  # the previous run's loan-table chain (incremental nights)
    table: ChainTable | None  # the previous run's loan table (incremental nights)
    payments: pl.DataFrame | None  # every payment (whole-book nights: the watermark)
    fresh: pl.Series  # loans whose lines were built afresh tonight
    at: np.ndarray  # the worked loans' positions in the loan table (the book's order)
    whole: np.ndarray  # per worked loan: all its lines were loaded (else its tail stays)
    tail_row: np.ndarray | None  # per worked loan: where the tail it left in place starts
    tail_rows: np.ndarray | None  # and how many lines it has (None: every loan is whole)
    as_of: date
    # The payment ids read before tonight and in its new parts (None: a whole-book night,
    # whose payments, any day, are fingerprinted as save writes them).
    ids: NightIds | None
    early: "EarlyWrite | None" = None  # the lines and ledger outputs, once begun

    @property
    def writes_base(self) -> bool:
        """Whether tonight writes a base (a whole loan table), not a delta."""
        return self.table is None or len(self.chain) >= CHAIN_LIMIT


class ParquetEngineStore:
    """Implements batch.ports.EngineStore over a book folder (see book_folder for the layout).

    `load` for a day starts from the state of the latest run before that day, so re-running
    the latest day recomputes it from the same state and replaces it (same result, unless the
    inputs changed since).
    """

    def __init__(
        self,
        directory: Path,
        default_zones: Mapping[str, str] | None = None,
        *,
        work_all: bool = False,
    ) -> None:
        self.folder = BookFolder(directory, INPUTS)
        self.default_zones = dict(default_zones) if default_zones is not None else pack_zones()
        self.work_all = work_all
        self._night: _Night | None = None
        self._held: BinaryIO | None = None  # the book, from load to save or abandon

    def last_run(self, before: date | None = None) -> date | None:
        """The latest completed run's date (strictly before `before` when given)."""
        days = [r.as_of for r in self.folder.runs() if before is None or r.as_of < before]
        return days[-1] if days else None

    def run_summary(self, as_of: date) -> dict[str, Any] | None:
        """The stored summary of the run for `as_of`."""
        found = [r.summary for r in self.folder.runs() if r.as_of == as_of]
        return found[0] if found else None

    # ── load ───────────────────────────────────────────────────────────────────────────

    def load(self, ctx: RunContext) -> RunFrames:
        """The run's frames: the loans to work tonight with their lines, the resting ones with
        their summaries, and the people, history, cases and promises."""
        self.abandon()  # a run that failed after its early write was begun
        for name in REQUIRED_INPUTS:
            if not self.folder.has_input(name):
                raise BookFolderError(f"the book {self.folder.root} has no {name} input")
        self.folder.refuse_strays()
        self._held = self.folder.hold()  # until save or abandon
        try:
            # Asked again, the book held: a later run may have finished since run_day asked
            # (its state would be dropped by this run's commit, out of this run's chain).
            last = self.last_run()
            if last is not None and last > ctx.as_of:
                raise RunRefused(
                    f"the book was run up to {last} while this run for {ctx.as_of} waited: a "
                    f"run for {ctx.as_of} would move it back in time"
                )
            return self._load(ctx)
        except BaseException as error:
            try:
                self._name_damage(error, ctx.as_of)  # the book still held meanwhile
            finally:
                self.abandon()
            raise

    def _name_damage(self, error: BaseException, as_of: date) -> None:
        """Raise damage_behind's error, when there is one."""
        found = self.damage_behind(error, as_of)
        if found is not None:
            raise found from error

    def damage_behind(self, error: BaseException, as_of: date) -> StateDamaged | None:
        """The error naming what of the state is damaged, when `error` (a run's for `as_of`)
        may have come of reading it and something a run reads is (a refusal or an
        interruption is its own: None)."""
        if isinstance(error, DomainError) or not isinstance(error, (Exception, PanicException)):
            return None
        return named_damage(self.folder, self.folder.run_before(as_of), self._state_read, error)

    def refuse_missing_state(self, run: RunRecord) -> None:
        """StateDamaged when a table the state after `run` cannot be read without is gone
        (read as empty, it would give a night of wrong figures without a word)."""
        needed = self._needed(run)
        if needed is not None:
            refuse_missing(self.folder, run, needed)

    def _needed(self, run: RunRecord) -> dict[str, set[str]] | None:
        """The state tables of `run` known without reading any: a full run's, or the loan
        tables of its chain (where its lines are, they tell); and its promises (judged again
        tonight: read as none, the promises kept would be lost). None: no chain (no base)."""
        if run.kind == "full":
            needed = self.state_tables(run)
        else:
            try:
                chain = chain_of(self.folder, run)
            except KeyError:
                return None
            needed = _tables_read(chain, pl.Series(dtype=pl.String))
        needed.setdefault(run.folder, set()).add("promises")
        return needed

    def _state_read(self, run: RunRecord) -> dict[str, set[str]]:
        """The state tables the state after `run` is read from (state_tables), or _needed's
        when its loan tables cannot be read to tell where its lines are."""
        try:
            return self.state_tables(run)
        except Exception:  # noqa: BLE001 — named by state_damage's own reads
            return self._needed(run) or {}

    def _load(self, ctx: RunContext) -> RunFrames:
        """load, the book held."""
        as_of, terms = ctx.as_of, ctx.terms
        previous = self.folder.run_before(as_of)
        if previous is not None:
            self.refuse_missing_state(previous)
        prints = {name: self.folder.fingerprint(name) for name in INPUTS}
        prints["payments"] = self._payment_days(prints["payments"], previous)
        key = rules_fingerprint(terms, ctx.ladders)
        if self._whole_book(previous, prints, key):
            return self._load_whole(previous, prints, key, as_of, terms)
        assert previous is not None
        return self._load_night(previous, prints, key, ctx)

    def _whole_book(
        self, previous: RunRecord | None, prints: dict[str, Fingerprint], key: str
    ) -> bool:
        """Whether tonight must read the whole book (see the module's docstring)."""
        if self.work_all or previous is None or previous.kind == "full" or previous.terms != key:
            return True
        if any(prints[name] != previous.inputs.get(name) for name in _WHOLE_BOOK_INPUTS):
            return True
        seen, now = previous.inputs.get("payments", {}), prints["payments"]
        # A payments part read before and changed or gone: which payments moved is unknown.
        return any(part not in now or now[part][:2] != was[:2] for part, was in seen.items())

    def _payment_days(self, parts: Fingerprint, previous: RunRecord | None) -> Fingerprint:
        """Each payments part's fingerprint with the last day it holds a payment for (kept
        from the previous run for a part unchanged since, else read off the part)."""
        seen = previous.inputs.get("payments", {}) if previous is not None else {}
        out: Fingerprint = {}
        for part, size in parts.items():
            was = seen.get(part)
            if was is not None and was[:2] == size and len(was) == 3:
                out[part] = was
                continue
            # With the ids: a part refused for an empty day names the payment.
            days = self.folder.read_input("payments", _PAYMENT_DAYS, [part])
            last = days.get_column("paid_on").max() if days is not None else None
            out[part] = [*size, last.toordinal() if isinstance(last, date) else 0]
        return out

    def _load_whole(
        self,
        previous: RunRecord | None,
        prints: dict[str, Fingerprint],
        key: str,
        as_of: date,
        terms: Terms,
    ) -> RunFrames:
        inputs = {
            name: frame
            for name, schema in INPUTS.items()
            if (frame := self.folder.read_input(name, schema)) is not None
        }
        paid = inputs["payments"].get_column("loan_id")
        ids = inputs["loans"].get_column("loan_id")
        # Bisected: sorted first when the loans come in another order (any order is valid).
        _refuse_bad_payments(inputs["payments"], positions(ids if ids.is_sorted() else ids.sort(),
                                                           paid))  # fmt: skip
        people = [typed(inputs.get(name), INPUTS[name])
                  for name in ("holds", "opt_outs", "contact_attempts")]  # fmt: skip
        check_people_references(inputs["borrowers"].get_column("borrower_id"), *people)
        state = {}
        if previous is not None:  # with what it was given: a loan given otherwise runs again
            state = full_state(self.folder, previous, given=True)
        state["done"] = self.done_actions(as_of)
        frames = assemble(inputs, state, as_of, terms, self.default_zones,
                          read_zones(self.folder.state),
                          rules_changed=previous is None or previous.terms != key)  # fmt: skip
        reach = frames.people.reach
        assert isinstance(reach, PhoneReach)
        fresh = frames.book.loans.get_column("loan_id")
        every = np.arange(fresh.len())
        # The book's payments, each once (a payment sent again is the same payment).
        self._night = _Night(previous, prints, key, lambda: reach, [], None, frames.book.payments,
                             fresh, every, every >= 0, None, None, as_of, None)  # fmt: skip
        return frames

    def _load_night(
        self,
        previous: RunRecord,
        prints: dict[str, Fingerprint],
        key: str,
        ctx: RunContext,
    ) -> RunFrames:
        as_of, terms = ctx.as_of, ctx.terms
        chain = chain_of(self.folder, previous)
        chained = read_chain(self.folder.state, chain)
        table = chained.frame  # every loan's columns a night reads for every loan
        if self._currencies_unkept(table):
            return self._load_whole(previous, prints, key, as_of, terms)
        with ThreadPoolExecutor(max_workers=1) as pool:
            # The promises are read beside the worked loans' lines (Polars works without the
            # GIL: the two reads overlap on a second core).
            # An input a run checked as it is now is not checked again (nor the loans and
            # borrowers it refers to, unless they changed): a night's inputs are mostly so.
            changed = {name for name in INPUTS if prints[name] != previous.inputs.get(name)}
            loan_ids = table.get_column("loan_id") if "promises" in changed else None
            promised = pool.submit(self._promises, previous, loan_ids)
            payments, given = self._new_payments(previous, prints, as_of)
            # On the other thread too: the new parts' ids against those given before.
            checked = pool.submit(self._given_before, previous, chain, given)
            payments = _without_resent(payments, previous.as_of, checked)
            paid_at = positions(table.get_column("loan_id"), payments.get_column("loan_id"))
            _refuse_bad_payments(payments, paid_at)
            _refuse_ahead(chained, given, as_of)
            flags, flagged = self._flags(table, previous, prints)
            pauses, replayed = self._pauses(table, previous, prints, terms)
            revisions, revised = self._revisions(table, previous)
            tonight = book_night.split(table, payments, paid_at, previous.as_of, as_of, flagged,
                                       np.union1d(replayed, revised))  # fmt: skip
            chained = chained.picking(np.concatenate([tonight.worked, tonight.rebuilt]), PICKED)
            # Their loans are worked or rebuilt tonight: their rows were just read.
            _refuse_before_contract(chained, payments, paid_at)
            worked = book_night.worked_book(self.folder, chained, tonight, payments, as_of)
            ids = checked.result()
        fresh = table.get_column("loan_id").gather(tonight.rebuilt)
        promises = judged_promises(*promised.result(), fresh.to_frame())
        promised_paid = self._promised_paid(promises, fresh, previous.as_of)
        stored = book_night.stored(chained, tonight, worked.carried, as_of)
        cases = book_night.stored_cases(table, previous.as_of)
        # The people only the plan needs: read beside the ledger and the ageing, which keep
        # one core busy (beside the lines, read on both, they slowed them as much).
        reading = ThreadPoolExecutor(max_workers=1)
        # The borrowers are checked as a whole-book read checks them if they changed since.
        seen = previous.inputs.get("contact_attempts", {})
        logged = [p for p, size in prints["contact_attempts"].items() if seen.get(p) != size]
        asked = reading.submit(self._people, table, as_of, terms, changed, logged)
        reading.shutdown(wait=False)  # its thread ends with the read
        at = np.sort(np.concatenate([tonight.worked, tonight.rebuilt]))
        self._night = _Night(previous, prints, key, lambda: asked.result()[2], chain, chained,
                             None, fresh, at, worked.whole, worked.tail_row, worked.tail_rows,
                             as_of, ids)  # fmt: skip
        return RunFrames(
            replace(worked.book, pauses=pauses, revisions=revisions), UNREAD, stored=stored,
            replay=fresh.to_frame(),
            history=UNREAD_HISTORY,
            people_read=_people_of(asked, lambda error: self._name_damage(error, as_of)),
            cases=cases, promises=promises, flags=flags,
            currencies=named_currencies(table), promised_paid=promised_paid,
        )  # fmt: skip

    def _currencies_unkept(self, table: pl.DataFrame) -> bool:
        """Whether the loans name currencies that the loan table keeps none of: a table an
        earlier version wrote, which read none (its nights would keep none, nor write any
        into their next base); the whole book is then read once, which keeps them."""
        currency = table.get_column("currency")
        if currency.null_count() < currency.len() or "currency" not in self.folder.input_columns(
            "loans"
        ):
            return False
        given = self.folder.read_input("loans", pl.Schema({"currency": pl.String()}))
        return given is not None and given.get_column("currency").null_count() < given.height

    def _flags(
        self, table: pl.DataFrame, previous: RunRecord, prints: dict[str, Fingerprint]
    ) -> tuple[pl.DataFrame, Positions]:
        """The flags input (checked against the book), and the positions of the loans whose
        flags changed since the previous run read them (tonight works those: a resting loan
        keeps its stage)."""
        schema = INPUTS["flags"]
        flags = check_flags(typed(self.folder.read_input("flags", schema), schema),
                            table.get_column("loan_id"))  # fmt: skip
        if prints["flags"] == previous.inputs.get("flags"):
            return flags, np.empty(0, dtype=np.int64)
        before = read_table(self.folder, previous, "flags")
        keys = list(schema)
        changed = pl.concat([flags.join(before, on=keys, how="anti"),
                             before.join(flags, on=keys, how="anti")])  # fmt: skip
        at = positions(table.get_column("loan_id"), changed.get_column("loan_id"))
        return flags, at[at >= 0]  # (every flag's loan is in the book: check_flags)

    def _pauses(
        self, table: pl.DataFrame, previous: RunRecord, prints: dict[str, Fingerprint],
        terms: Terms,
    ) -> tuple[pl.DataFrame | None, Positions]:  # fmt: skip
        """The loans' pauses (None: no product pauses any clock, and no hold is read), and
        the positions of the loans whose pauses changed since the previous run (when the
        holds did: tonight rebuilds them from their contract date, as a pause may reach back
        before that run). A night's rules and loans are the previous run's (else it reads the
        whole book), so only the holds can change a loan's pauses. A loan with pauses wakes
        every night by its summary (ageing.summarise_loans): it never rests."""
        none = np.empty(0, dtype=np.int64)
        if not any(product.pauses_anything for product in terms.products.values()):
            return None, none
        schema = INPUTS["holds"]
        holds = typed(self.folder.read_input("holds", schema), schema)
        pauses = loan_pauses(table.select(OWNERS), holds, terms.products)
        if prints["holds"] == previous.inputs.get("holds"):
            return pauses, none
        changed = changed_pauses(pauses, read_table(self.folder, previous, "pauses"))
        at = positions(table.get_column("loan_id"), changed.get_column("loan_id"))
        return pauses, at[at >= 0]

    def _revisions(
        self, table: pl.DataFrame, previous: RunRecord
    ) -> tuple[pl.DataFrame | None, Positions]:  # fmt: skip
        """The revisions input (checked against the book; None: the book has none), and the
        positions of the loans with one, or with one the previous run applied (withdrawn
        since, its state keeps the dates it moved): tonight rebuilds each from its contract
        date, as every run does (the dates its revisions moved are not all kept in its
        state)."""
        ids = table.get_column("loan_id")
        given = None
        if self.folder.has_input("revisions"):
            schema = INPUTS["revisions"]
            given = check_revisions(typed(self.folder.read_input("revisions", schema), schema),
                                    ids)  # fmt: skip
        applied = read_table(self.folder, previous, "revisions")
        revised = pl.concat([revised_ids(given), revised_ids(applied)]).unique()
        at = positions(ids, revised.get_column("loan_id").sort())
        return given, at[at >= 0]

    def abandon(self) -> None:
        """Forget the night begun: wait for what it began writing and drop its folder (a run
        that failed after its early write was begun)."""
        if self._night is not None and self._night.early is not None:
            self._night.early.abandon()
        self._night = None
        self._release()

    def _release(self) -> None:
        """Let the book go for the next run."""
        if self._held is not None:
            self._held.close()
            self._held = None

    def _new_payments(
        self, previous: RunRecord, prints: dict[str, Fingerprint], as_of: date
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Payments not yet applied: every row of the parts that are new, and the rows dated
        after the last run of the parts read before (a part written ahead of time); and the
        new parts' rows (any day). Each id once among them all, whatever its day, as a
        whole-book read checks it."""
        seen = previous.inputs.get("payments", {})
        schema = INPUTS["payments"]
        last = previous.as_of.toordinal()
        new = [part for part in prints["payments"] if part not in seen]
        old = [part for part, size in prints["payments"].items()
               if part in seen and size[2] > last]  # fmt: skip
        given = typed(self.folder.read_input("payments", schema, new) if new else None, schema)
        frames = [given]
        if old:
            recent = self.folder.read_input("payments", schema, old)
            frames.append(typed(recent, schema).filter(pl.col("paid_on") > previous.as_of))
        due = distinct_payments(pl.concat(frames)).filter(pl.col("paid_on") <= as_of)
        return due, given

    def _given_before(self, previous: RunRecord, chain: list[str], given: pl.DataFrame) -> NightIds:
        """The ids of the parts read before tonight and of tonight's new parts (`given`: any
        day). A new part's payment whose id was given before must be that payment sent again
        as it was (distinct_payments), else the night is refused naming both, as a whole-book
        read would refuse them."""
        tonight = fingerprints(given.get_column("payment_id"))
        paid = read_paid(self.folder.state, chain)
        kept = paid is not None
        seen_parts = list(previous.inputs.get("payments", {}))
        if paid is None:
            earlier = typed(self.folder.read_input("payments", _IDS, seen_parts), _IDS)
            paid = PaidIds.of(fingerprints(earlier.get_column("payment_id")))
        again = paid.seen(tonight)
        if again.any():
            ids = given.get_column("payment_id").filter(pl.Series(again)).implode()
            earlier = typed(self.folder.read_input("payments", _VERSION, seen_parts), _VERSION)
            mine = given.filter(pl.Series(again)).select(list(_VERSION))
            known = earlier.filter(pl.col("payment_id").is_in(ids))
            distinct_payments(pl.concat([known, mine]))
            return NightIds(paid, tonight, kept, frozenset(known.get_column("payment_id")))
        return NightIds(paid, tonight, kept)

    def _people(
        self, table: pl.DataFrame, as_of: date, terms: Terms, changed: set[str], logged: list[str]
    ) -> tuple[People, LoanHistory, PhoneReach]:
        """People the planner asks about, and the loans' action history for the guards; the
        inputs `changed` since the last run checked again (the attempts of the parts
        `logged` since, unless the borrowers changed)."""
        got = {
            name: typed(self.folder.read_input(name, INPUTS[name]), INPUTS[name])
            for name in ("borrowers", "holds", "opt_outs")
        }
        owners = table.select("loan_id", "borrower_id", "product")
        if "borrowers" in changed:
            check_borrowers(got["borrowers"], owners)
        borrowers = with_pack_zones(got["borrowers"], owners, terms, self.default_zones)
        reach = PhoneReach(borrowers, read_zones(self.folder.state))
        every = book_night.contact_attempts(self.folder)
        self._check_people(got, every, changed, logged)
        attempts = attempts_in_e164(book_night.since(every, as_of, HISTORY_DAYS), borrowers)
        people = People.of_frames(reach, attempts, got["holds"], got["opt_outs"])
        # The guards read the whole record (a requirement without `within_days` has no window).
        return people, LoanHistory(every, self.done_actions(as_of), owners, reach), reach

    def _check_people(
        self,
        got: dict[str, pl.DataFrame],
        every: pl.DataFrame,
        changed: set[str],
        logged: list[str],
    ) -> None:
        """Refuse holds, opt-outs and attempts of a borrower not in borrowers, or of a kind,
        channel or outcome the packs do not know: each input changed since the last run (only
        the attempts' parts `logged` since), all of them when the borrowers changed (all
        attempts: 0.1 s of a bench night's CPU; their outcomes alone, 16 ms)."""
        whole = "borrowers" in changed
        holds, opt_outs = (got[n] if whole or n in changed else got[n].clear()
                           for n in ("holds", "opt_outs"))  # fmt: skip
        schema = INPUTS["contact_attempts"]
        if whole:
            attempts = every
        elif logged:
            attempts = typed(self.folder.read_input("contact_attempts", schema, logged), schema)
        else:
            attempts = every.clear()
        check_contact_inputs(holds, opt_outs, attempts, got["borrowers"])
        check_people_references(got["borrowers"].get_column("borrower_id"), holds, opt_outs,
                                attempts)  # fmt: skip

    def _promises(
        self, previous: RunRecord, loan_ids: pl.Series | None
    ) -> tuple[pl.DataFrame, pl.DataFrame]:
        """The promises fed in (checked against the book's `loan_ids` unless None: as the
        last run checked them), and what the last run judged of them (judged_promises)."""
        given = typed(self.folder.read_input("promises", INPUTS["promises"]), INPUTS["promises"])
        if loan_ids is not None:
            check_promises(given, loan_ids)
        return given, read_table(self.folder, previous, "promises")

    def _promised_paid(
        self, promises: pl.DataFrame, rebuilt: pl.Series, last: date
    ) -> pl.DataFrame:
        """The payments a promise judged afresh tonight counts that the night's book leaves
        out: those of its loan dated from the day it was made up to the last run (`last`),
        read only when such a promise was made by then (one made since finds its money among
        tonight's; a rebuilt loan's book holds every payment of it)."""
        back = promises.filter(
            pl.col("paid").is_null() & (pl.col("made_on") <= last)
            & ~pl.col("loan_id").is_in(rebuilt.implode())
        )  # fmt: skip
        if back.height == 0:
            return pl.DataFrame(schema=PAYMENT_SCHEMA)
        every = typed(self.folder.read_input("payments", INPUTS["payments"]), INPUTS["payments"])
        mine = every.join(back.select("loan_id").unique(), on="loan_id", how="semi")
        return mine.filter(pl.col("paid_on") <= last).select(list(PAYMENT_SCHEMA))

    # ── save ───────────────────────────────────────────────────────────────────────────

    def progress(self, step: str, frames: RunFrames) -> None:
        """Begin writing the worked loans' lines and the ledger's outputs once the pipeline
        has aged them (both are final then), and the loan table's rows once it has staged
        them: on a thread of their own, beside the steps after, which keep one core busy and
        leave the other idle. save finishes."""
        night = self._night
        if night is None:
            return
        if step == AGEING and night.early is None:
            night.early = EarlyWrite.begin(self.folder.begin(night.as_of), frames, night.as_of)
        elif step == STAGES and night.early is not None and night.early.table is None:
            night.early.begin_table(frames, self._write_table)

    def save(self, frames: RunFrames, as_of: date, summary: dict[str, Any], at: datetime) -> None:
        """_save, what of the state is damaged named should it fail reading it (a new base
        reads every loan's lines)."""
        try:
            self._save(frames, as_of, summary, at)
        except BaseException as error:
            self._name_damage(error, as_of)
            raise

    def _save(self, frames: RunFrames, as_of: date, summary: dict[str, Any], at: datetime) -> None:
        """Write the run's loan table rows, lines and outputs into a new folder and commit it.

        The files are written by two threads (Parquet encoding releases the GIL): the lines,
        the ledger's outputs and then the loan table (which says where the lines are), begun
        by `progress` when the pipeline ran with it, beside the other outputs."""
        night = self._night
        assert night is not None, "load comes first"
        assert frames.summaries is not None, "the pipeline ran"
        assert frames.states is not None, "the pipeline ran"
        early = night.early
        if early is None or not early.holds(frames):
            if early is not None:
                early.abandon()
            early = night.early = EarlyWrite.begin(self.folder.begin(as_of), frames, as_of)
        folder, name = early.folder, early.name
        with ThreadPoolExecutor(max_workers=1) as pool:
            outputs_written = pool.submit(self._write_outputs, folder, frames, as_of)
            table = early.table_of(frames)
            if table is None:
                early.drop_table()  # begun for other frames: written again once it stopped
                base, keep = self._write_table(frames)
            else:
                base, keep = table.result()
            add_zones(self.folder.state, night.reach().learned)
            outputs_written.result()
            early.finish()
        record = RunRecord(as_of, name, at.isoformat(), int(summary["loans"]), summary,
                           "base" if base else "delta", night.prints, night.terms)  # fmt: skip
        self.folder.commit(folder, record, keep)
        self._night = None
        self._release()

    def _write_table(self, frames: RunFrames) -> tuple[bool, dict[str, set[str]]]:
        """Write the loan table's rows of tonight (a base or a delta: which, returned) once
        the lines are written (they say where the lines are), and which state tables the
        runs kept read."""
        night = self._night
        assert night is not None, "load comes first"
        assert night.early is not None, "the lines were begun"
        assert frames.summaries is not None, "the pipeline ran"
        folder, name = night.early.folder, night.early.name
        mine = worked_summaries(frames.summaries, frames.book.loans)
        spans, tails = night.early.lines_written()
        rows = self._worked_rows(frames, mine, night, spans, tails, name, night.as_of)
        base = night.writes_base
        if night.table is None:
            table = whole_table(rows, frames)
            segments = pl.concat([table.get_column("segment"),
                                  table.get_column("tail_segment")])  # fmt: skip
            write_loan_table(folder, table)
        else:
            delta = delta_rows(night.at, rows, frames.cases)
            segments = (
                night.table.frame.get_column("segment")
                .clone()
                .scatter(night.at, rows.get_column("segment").cast(pl.Categorical()))
            )
            tail_segments = (
                night.table.frame.get_column("tail_segment")
                .clone()
                .scatter(night.at, rows.get_column("tail_segment").cast(pl.Categorical()))
            )
            segments = pl.concat([segments, tail_segments])
            at_rows = delta.get_column("at").to_numpy()
            write_loan_table(
                folder, scatter_rows(night.table.whole(), at_rows, delta) if base else delta
            )
        return base, self._keep(night, segments, [name] if base else [*night.chain, name])

    def _write_outputs(self, folder: Path, frames: RunFrames, as_of: date) -> None:
        """Write the output tables of the steps after the ledger (promises, plan, blocked):
        the ledger's are written early (EarlyWrite); plan outcomes already recorded on a
        re-run are kept."""
        written = step_outputs(frames)
        replaced = [r for r in self.folder.runs() if r.as_of == as_of]
        if replaced:
            written["plan"] = carry_outcomes(
                written["plan"], read_table(self.folder, replaced[0], "plan")
            )
        write_tables(folder, written)
        self._write_paid(folder)

    def _write_paid(self, folder: Path) -> None:
        """Keep the payment ids read (NightIds.to_keep; a whole-book night: all of them)."""
        night = self._night
        assert night is not None, "load comes first"
        if night.ids is None:
            assert night.payments is not None, "a whole-book night has every payment"
            # Any day: as a night keeps them (a whole-book read checked them all).
            every = fingerprints(night.payments.get_column("payment_id"))
            write_paid(folder, PAID_FULL, np.sort(every))
        else:
            write_paid(folder, *night.ids.to_keep(night.writes_base))

    def _worked_rows(
        self,
        frames: RunFrames,
        summaries: pl.DataFrame,
        night: _Night,
        spans: dict[str, np.ndarray],
        tails: dict[str, pl.Series],
        name: str,
        as_of: date,
    ) -> pl.DataFrame:
        """The worked loans' new rows (without their case): totals, summaries (`summaries`:
        theirs), lines (`spans`, `tails`: per worked loan, where its active lines are and what
        its new tail adds up to), and the payments they have applied."""
        worked = frames.book.loans
        if "tail_principal" not in worked.columns:
            worked = worked.with_columns(value.alias(n) for n, value in TAIL_NONE.items())
        rows = pl.concat([worked.drop("credit", "charged"), summaries.drop(
            "loan_id", "borrower_id", "product", "grace_days")], how="horizontal")  # fmt: skip
        ids = rows.get_column("loan_id")
        fresh = pl.Series(positions(night.fresh.sort(), ids) >= 0 if night.fresh.len()
                          else np.zeros(rows.height, dtype=np.bool_))  # fmt: skip
        rows = self._lines_of(rows, spans, tails, night, fresh, name, as_of)
        if night.table is None:
            assert night.payments is not None
            return rows.join(watermark(night.payments, worked), on="loan_id", how="left",
                             maintain_order="left")  # fmt: skip
        seen = night.table.rows(night.at, ["payments_seen", "payments_sum", "payments_print"])
        # Each payment applied tonight is a worked loan's (its row known from the load, else
        # found by bisection), summed by loan.
        at = frames.applied_loans
        if at is None:
            at = positions(ids, frames.applied.get_column("loan_id"))
        count = np.bincount(at, minlength=rows.height).astype(np.int64)
        total = np.zeros(rows.height, dtype=np.int64)
        np.add.at(total, at, frames.applied.get_column("amount").to_numpy())
        printed = np.zeros(rows.height, dtype=np.int64)
        np.add.at(printed, at, payment_prints(frames.applied).to_numpy())
        return rows.with_columns(
            pl.when(fresh).then(0).otherwise(seen.get_column("payments_seen"))
            .add(pl.Series(count)).alias("payments_seen"),
            pl.when(fresh).then(0).otherwise(seen.get_column("payments_sum"))
            .add(pl.Series(total)).alias("payments_sum"),
            # A state kept before prints were has none: it stays unknown (null) till replayed.
            pl.when(fresh).then(0).otherwise(seen.get_column("payments_print"))
            .add(pl.Series(printed)).alias("payments_print"),
        )  # fmt: skip

    def _lines_of(
        self,
        rows: pl.DataFrame,
        spans: dict[str, np.ndarray],
        tails: dict[str, pl.Series],
        night: _Night,
        fresh: pl.Series,
        name: str,
        as_of: date,
    ) -> pl.DataFrame:
        """Worked loans' rows with where their active lines now are (tonight's segment: those
        fallen due, then the tail of those all of whose lines were loaded; the others' tails
        stay where they were, their lines worked tonight all counted with those fallen due),
        and since when their settled lines count (tonight, for loans built afresh: `fresh`)."""
        whole = pl.Series(night.whole)
        kept = (
            night.table.rows(night.at, ["lines_since", "tail_segment"])
            if night.table is not None
            else None
        )
        left = {"tail_row": night.tail_row, "tail_rows": night.tail_rows}

        def was(column: str) -> pl.Series | pl.Expr:
            """The column as stored, or where the tail left in place now is (a whole-book
            night loaded every loan whole)."""
            if kept is None:
                return pl.lit(None)
            if column in left:
                return pl.Series(column, left[column])
            return kept.get_column(column)

        def placed(column: str) -> pl.Series:
            return pl.Series(column, spans[column])

        new_tail = placed("tail_rows")
        # A loan whose tail stays where it was keeps the lines not yet due it worked tonight
        # (those the day's money reached) with those fallen due: placed right after them.
        head = pl.lit(placed("seg_rows")) + pl.when(whole).then(0).otherwise(new_tail)
        return rows.with_columns(
            pl.when(head > 0).then(pl.lit(name)).otherwise(None).alias("segment"),
            placed("seg_row"), head.alias("seg_rows"),
            pl.when(whole).then(pl.when(new_tail > 0).then(pl.lit(name)))
            .otherwise(was("tail_segment").cast(pl.String)).alias("tail_segment"),
            pl.when(whole).then(placed("tail_row")).otherwise(was("tail_row")).alias("tail_row"),
            pl.when(whole).then(new_tail).otherwise(was("tail_rows")).alias("tail_rows"),
            *(pl.when(whole).then(tails[n]).otherwise(pl.col(n)).alias(n) for n in TAIL_SCHEMA),
            pl.when(fresh).then(pl.lit(as_of)).otherwise(was("lines_since")).alias("lines_since"),
        )  # fmt: skip

    def _keep(self, night: _Night, segments: pl.Series, chain: list[str]) -> dict[str, set[str]]:
        """The state tables the kept runs read: this run's (to go on from) and the previous
        one's (to re-run this day from); `segments`: where this run's loans' lines are."""
        keep = _tables_read(chain, segments)
        if night.previous is not None:
            table = night.table.frame if night.table is not None else None
            for folder, tables in self.state_tables(night.previous, table).items():
                keep.setdefault(folder, set()).update(tables)
        return keep

    def state_tables(
        self, run: RunRecord, table: pl.DataFrame | None = None
    ) -> dict[str, set[str]]:
        """The state tables the whole state after `run` is read from, per run folder (its
        loan table `table`, when already read, saves reading it again)."""
        if run.kind == "full":
            return {run.folder: {"loan_balances", "instalment_states", "cases", *GIVEN}}
        chain = chain_of(self.folder, run)
        if table is None:
            table = read_chain(self.folder.state, chain).frame
        # A loan's lines may lie in two segments: those fallen due, and its tail's.
        return _tables_read(chain, pl.concat([table.get_column("segment"),
                                              table.get_column("tail_segment")]))  # fmt: skip

    # ── reading a run's tables ─────────────────────────────────────────────────────────

    def table(self, as_of: date, name: str) -> pl.DataFrame:
        """One table of the run of `as_of` (state tables as full views of the book)."""
        return self.tables(as_of, [name])[name]

    def tables(self, as_of: date, names: list[str]) -> dict[str, pl.DataFrame]:
        """Tables of the run of `as_of`, as a run working every loan writes them (the state
        tables as full views of the book, put together once for all those asked for)."""
        found = [r for r in self.folder.runs() if r.as_of == as_of]
        if not found:
            raise KeyError(f"no run for {as_of}")
        return run_tables(self.folder, found[0], names)

    def full_state(self, run: RunRecord) -> dict[str, pl.DataFrame]:
        """The whole book's state after a run (book_views.full_state)."""
        return full_state(self.folder, run)

    def done_actions(self, through: date) -> pl.DataFrame:
        """Planned actions of the runs up to `through` whose outcome was recorded (the
        guards' history). Plans are written with statistics, so a plan whose actions are all
        still "planned" is skipped by its footer alone."""
        parts = plan_parts(self.folder, through)
        if not parts:
            return typed(None, DONE_SCHEMA)
        plans = pl.scan_parquet(parts).filter(pl.col("status") != "planned")
        return typed(plans.select(list(DONE_SCHEMA)).collect(), DONE_SCHEMA)


def _refuse_bad_payments(payments: pl.DataFrame, paid_at: Positions) -> None:
    """Money for a loan the book does not have is refused, not dropped (CONTRACT.md: a
    payment names a known loan), and so is a payment of no amount, none or less (the domain
    refuses it too: evaluation.evaluate_loan; the night's trim of a loan's tail counts on
    money paying lines down, never up). `paid_at`: each payment's loan position, looked up by
    bisection among the sorted loan ids (not hashed: a night's payments are few, the book's
    loans many); -1 when the book has no such loan."""
    if (paid_at < 0).any():
        unknown = payments.filter(pl.Series(paid_at < 0))
        shown = listed(unknown.select(pl.format("{} (loan {})", "payment_id", "loan_id")))
        raise BookFolderError(f"input payments: payments for loans not in the book: {shown}")
    amount = payments.get_column("amount")
    if amount.null_count() or (amount <= 0).any():
        empty = payments.filter(pl.col("amount").is_null() | (pl.col("amount") <= 0))
        given = pl.col("amount").cast(pl.String).fill_null("None")
        shown = listed(empty.select(pl.format("{} ({})", "payment_id", given)))
        raise BookFolderError(f"input payments: payments of no amount above zero (in fen): {shown}")
    refuse_too_large("payments", payments, "amount")  # a whole-book read's checks too
    refuse_bad_payment_ids(payments)
    refuse_outside_years("payments", payments, "paid_on")


def _refuse_ahead(table: ChainTable, given: pl.DataFrame, as_of: date) -> None:
    """Refuse tonight's new payments dated after tonight as the night they fall due would, or
    a whole-book read tonight (a loan not in the book, no amount, before the loan was made):
    not taken now to be refused then (most nights have none)."""
    ahead = given.filter(pl.col("paid_on") > as_of)
    if ahead.height:
        at = positions(table.frame.get_column("loan_id"), ahead.get_column("loan_id"))
        _refuse_bad_payments(ahead, at)
        _refuse_before_contract(table, ahead, at)


def _refuse_before_contract(table: ChainTable, payments: pl.DataFrame, at: Positions) -> None:
    """Refuse payments (of loans at positions `at` of the table) dated before their loan was
    made: the ledger would apply none of such money (book_inputs.check_book refuses them on a
    whole-book read)."""
    if payments.height:
        made = table.rows(at, ["contract_date"]).get_column("contract_date")
        refuse_before_contract(payments.with_columns(made))


def _without_resent(
    payments: pl.DataFrame, last: date, checked: "Future[NightIds]"
) -> pl.DataFrame:
    """The payments not yet applied without those dated up to the last run (`last`) that an
    earlier part gave as they are (a payment sent again is the same payment: it was applied
    then, and must not rebuild its loan as a back-dated one would). Only a night with such
    late payments waits for the ids' check (most have none)."""
    late = payments.get_column("paid_on") <= last
    if not late.any():
        return payments
    resent = checked.result().resent
    if not resent:
        return payments
    again = payments.get_column("payment_id").is_in(sorted(resent))
    return payments.filter(~(late & again))


def _people_of(
    asked: "Future[tuple[People, LoanHistory, PhoneReach]]",
    failed: Callable[[BaseException], None],
) -> Callable[[], tuple[People, LoanHistory]]:
    """The people and history of a read begun, once it is done (RunFrames.people_read; a
    read that failed raises here, told to `failed` first, and run_day drops what its night
    began)."""

    def read() -> tuple[People, LoanHistory]:
        try:
            people, history, _ = asked.result()
        except BaseException as error:
            failed(error)
            raise
        return people, history

    return read


def _tables_read(chain: list[str], segments: pl.Series) -> dict[str, set[str]]:
    """The loan tables of a chain and the segments its loans' lines are in."""
    keep: dict[str, set[str]] = {folder: {"loans", PAID_FULL, PAID_NEW} for folder in chain}
    for segment in segments.drop_nulls().unique().to_list():
        keep.setdefault(str(segment), set()).add("instalment_states")
    return keep
