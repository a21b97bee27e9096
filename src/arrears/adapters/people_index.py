"""What the contact planner knows of people, built from frames: zones from phone numbers (only
for the borrowers it asks about) and each loan's action history for the escalation guards.

The planner asks about the borrowers it plans for (a few in ten of a book): a million phone
number look-ups would cost more than the run, so zones are worked out when asked, once per
distinct (number, recorded zone, default zone).
"""

from collections.abc import Callable, Sequence
from datetime import date
from functools import cache

import numpy as np
import polars as pl

from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.loan_table import positions
from arrears.adapters.phone_zones import PhonenumbersZones, dialled_in_e164
from arrears.batch.contact_checks import ZONE_SEPARATOR
from arrears.batch.plan_people import CARRIED_SCHEMA, REACH_SCHEMA, People, Reach
from arrears.domain.contact_rules import day_zone
from arrears.domain.escalation import ActionRecord
from arrears.services.contact_check import PHONE_CHANNELS

# Contact outcomes that the escalation guards read as a call's outcome.
CALL_OUTCOMES = ("connected", "no_answer", "busy", "refused", "failed", "sent", "delivered")
FALLBACK_ZONE = "Asia/Shanghai"


ZONE_KEYS = ("phone", "timezone", "default_zone")
# Asked about fewer borrowers than one in this many rows, PhoneReach finds their rows by
# bisection, else by a filter of every row; and with fewer rows to answer than one in this
# many answers kept, it joins only the answers for their numbers.
_FEW = 64
# `non_geographic`: the number carries no location (phone_zones.NON_GEOGRAPHIC: toll-free,
# personal, ...), so its zones are not added to a recorded one.
ZONES_SCHEMA = pl.Schema({
    "phone": pl.String(), "timezone": pl.String(), "default_zone": pl.String(),
    "zones": pl.String(), "day_zone": pl.String(), "non_geographic": pl.Boolean(),
})  # fmt: skip
ZoneAnswer = tuple[str | None, str | None, str, str, str, bool]  # a row of ZONES_SCHEMA


@cache
def number_zones_packs() -> frozenset[str]:
    """The jurisdictions whose shipped packs want the time of day to suit every zone of the
    number dialled, a recorded zone or not (RulePack.number_zones_too)."""
    return frozenset(code for code, pack in contact_packs().items() if pack.number_zones_too)


class PhoneReach:
    """contact_plan.Reach over a borrowers frame (borrower_id, jurisdiction, phone, timezone,
    default_zone: a row per pack of the borrower's loans, with_pack_zones): the recorded zone
    wins (under a pack that wants the number's zones too, the recorded zone and then those,
    unless the number carries no location), else the number's zones, else the pack's
    default; the day zone is the recorded zone, else one of the number's
    (contact_rules.day_zone). `known` zones (ZONES_SCHEMA, e.g. a book's cache) are reused;
    the ones worked out here are kept in `learned` (a recorded zone is its own answer: none
    is kept for it)."""

    def __init__(self, borrowers: pl.DataFrame, known: pl.DataFrame | None = None) -> None:
        self._borrowers = borrowers.select("borrower_id", "jurisdiction", *ZONE_KEYS)
        known = known if known is not None else pl.DataFrame(schema=ZONES_SCHEMA)
        # Only the answers for numbers without a recorded zone are ever looked up (a cache
        # written before kept some for recorded zones too: the same answer, unused).
        self._known = known.filter(pl.col("timezone").is_null()).drop("timezone")
        self._phones = PhonenumbersZones()
        self.learned: list[ZoneAnswer] = []
        # Whether the borrowers come in borrower_id order (as a book's are kept): then a few
        # asked about are found by bisection (_rows_of). Tested here, on the thread that
        # reads the people beside the ledger (850,000 ids: 7-10 ms).
        ids = self._borrowers.get_column("borrower_id")
        self._in_order = ids.dtype == pl.String and ids.null_count() == 0 and ids.is_sorted()

    def of(self, borrower_ids: pl.Series) -> pl.DataFrame:
        """The phone, zones and day zone of the borrowers asked for under each pack of their
        loans (REACH_SCHEMA)."""
        rows = self._rows_of(borrower_ids)
        # Only those without a recorded zone are looked up (three in ten of the bench's):
        # a join of every row asked for on all three keys took 22-30 ms, this one 5-6 ms.
        blank = rows.get_column("timezone").is_null()
        found = self._answers(rows.filter(blank))
        at = blank.arg_true()
        recorded = rows.get_column("timezone")
        # Copies: scatter writes into the series it is called on.
        zones = recorded.clone().scatter(at, found.get_column("zones"))
        # Under a pack whose time of day must suit the number's zones too, a recorded zone is
        # joined by the number's (recorded first), its days still counted in the recorded one;
        # a toll-free number's are no place the consumer is (PhonenumbersZones.zones).
        both = ~blank & rows.get_column("jurisdiction").is_in(sorted(number_zones_packs()))
        if both.any():
            theirs = self._answers(rows.filter(both))
            pair = pl.DataFrame(
                {
                    "mine": recorded.filter(both),
                    "theirs": theirs.get_column("zones"),
                    "nowhere": theirs.get_column("non_geographic"),
                }
            )
            number = pl.col("theirs").str.split(ZONE_SEPARATOR)
            listed = pl.concat_list(
                "mine", pl.when(pl.col("nowhere")).then(pl.lit([], pl.List(pl.String)))
                .otherwise(number),
            )  # fmt: skip
            merged = pair.select(
                listed.list.unique(maintain_order=True).list.join(ZONE_SEPARATOR)
            ).to_series()
            zones = zones.scatter(both.arg_true(), merged)
        return rows.select(
            "borrower_id", "jurisdiction", "phone", zones.alias("zones"),
            recorded.clone().scatter(at, found.get_column("day_zone")).alias("day_zone"),
        ).cast(REACH_SCHEMA)  # fmt: skip

    def _rows_of(self, borrower_ids: pl.Series) -> pl.DataFrame:
        """The rows of the borrowers asked for, in the frame's order."""
        borrowers = self._borrowers
        if borrower_ids.len() * _FEW > borrowers.height or not self._in_order:
            # A filter by a set of the ids asked for: 20 ms against a semi-join's 30 ms on
            # the bench night's 850,000 borrowers and 92,000 asked for (a bisection of the
            # sorted ids, 23 ms).
            return borrowers.filter(pl.col("borrower_id").is_in(borrower_ids.implode()))
        # A few asked for (the guards' history: a bench night's 292): each one's run of rows
        # found by bisection, 0.5 ms where the filter tests all 850,000 rows in 6-28 ms.
        wanted = pl.Series(sorted(set(borrower_ids.drop_nulls().to_list())), dtype=pl.String)
        ids = borrowers.get_column("borrower_id")
        starts = ids.search_sorted(wanted, side="left").cast(pl.Int64).to_numpy()
        ends = ids.search_sorted(wanted, side="right").cast(pl.Int64).to_numpy()
        lengths = ends - starts
        # Each run's rows: its start repeated over the run, plus the place within it.
        firsts = np.repeat(starts, lengths)
        within = np.arange(firsts.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        return borrowers[pl.Series(firsts + within)]

    def _answers(self, rows: pl.DataFrame) -> pl.DataFrame:
        """The zones and day zone of each of `rows` by its number and default zone alone (any
        recorded zone aside), in their order: kept answers, the others worked out (and
        learned)."""
        keys = ["phone", "default_zone"]
        found = self._joined(rows, keys)
        if found.height != rows.height:  # a key known twice (zone_cache.read_zones)
            self._known = self._known.unique(keys, keep="first")
            found = self._joined(rows, keys)
        missing = found.filter(pl.col("zones").is_null()).select(keys).unique()
        if missing.height:
            made = []
            for phone, default in missing.iter_rows():
                own, nowhere = self._phones.number_zones(phone, default)
                zones, day = ZONE_SEPARATOR.join(own), day_zone(own, default)
                made.append((phone, default, zones, day, nowhere))
                self.learned.append((phone, None, default, zones, day, nowhere))
            more = pl.DataFrame(made, schema=self._known.schema, orient="row")
            self._known = pl.concat([self._known, more])
            found = self._joined(rows, keys)
        return found

    def _joined(self, rows: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
        """`rows` with the kept answer of their key (none: null), in their order."""
        known = self._known
        if rows.height * _FEW <= known.height:
            # A few rows: the answers for their numbers first (the join would hash every
            # answer kept, 55,000 on a bench night: 3.9 ms against 1.8).
            phones = rows.get_column("phone").drop_nulls().implode()
            known = known.filter(pl.col("phone").is_in(phones) | pl.col("phone").is_null())
        return rows.join(known, on=keys, how="left", nulls_equal=True,
                         maintain_order="left")  # fmt: skip


def people_from_frames(
    borrowers: pl.DataFrame,
    attempts: pl.DataFrame,
    holds: pl.DataFrame,
    opt_outs: pl.DataFrame,
    known_zones: pl.DataFrame | None = None,
) -> People:
    """People from frames: borrowers (PhoneReach's: a row per pack of their loans), attempts
    (ordered by time; their numbers read in E.164), holds and opt-outs; `known_zones` as
    PhoneReach takes them."""
    reach = PhoneReach(borrowers, known_zones)
    return People.of_frames(reach, attempts_in_e164(attempts, borrowers), holds, opt_outs)


# The contact attempts of some borrowers (ids), every one on record (a store's lazy read).
AttemptsOf = Callable[[Sequence[str]], pl.DataFrame]


def attempts_in_e164(attempts: pl.DataFrame, borrowers: pl.DataFrame) -> pl.DataFrame:
    """`attempts` with each number dialled in E.164 (the dial cap counts the attempts to a
    number by it): a book may write one as dialled nationally (`13812345678`), read then in
    the country of the borrower's own number (`borrowers`' `phone`), or leave it out
    (_on_own_number). A book written in E.164 pays one test of each number; each distinct
    number written otherwise is read once."""
    attempts = _on_own_number(attempts, borrowers)
    numbers = attempts.get_column("to_phone")
    national = ~numbers.str.starts_with("+").fill_null(True)
    if not national.any():
        return attempts
    owners = borrowers.select("borrower_id", "phone").unique("borrower_id", keep="first")
    rows = (
        attempts.filter(national)
        .select("borrower_id", "to_phone")
        .join(owners, on="borrower_id", how="left", maintain_order="left")
    )
    pairs = rows.select("to_phone", "phone").unique()
    read = pairs.with_columns(_in_e164(pairs).alias("e164"))
    found = rows.join(read, on=["to_phone", "phone"], how="left", nulls_equal=True,
                      maintain_order="left").get_column("e164")  # fmt: skip
    return attempts.with_columns(numbers.scatter(national.arg_true(), found))


def _on_own_number(attempts: pl.DataFrame, borrowers: pl.DataFrame) -> pl.DataFrame:
    """`attempts` with the borrower's own number given to each call or SMS on record without
    its number that names no contact (`to_phone` is optional in a book): it rang them there,
    as `contact log` reads one without --to. So it counts against that number in the files of
    the other borrowers who share it too (their dial cap counts every call to the number,
    CONTRACT.md: six such calls today left a seventh planned for the other)."""
    blank = attempts.select(
        pl.col("to_phone").is_null() & pl.col("contact_id").is_null()
        & pl.col("channel").is_in(sorted(PHONE_CHANNELS))
    ).to_series()  # fmt: skip
    if not blank.any():
        return attempts
    owners = borrowers.select("borrower_id", "phone").unique("borrower_id", keep="first")
    own = (
        attempts.filter(blank)
        .select("borrower_id")
        .join(owners, on="borrower_id", how="left", maintain_order="left")
        .get_column("phone")
    )
    return attempts.with_columns(attempts.get_column("to_phone").scatter(blank.arg_true(), own))


def _in_e164(calls: pl.DataFrame) -> pl.Series:
    """Each call's `to_phone` in E.164, read in the country of the borrower's own number
    (`phone`) when written without its country code (phone_zones.dialled_in_e164)."""
    return pl.Series(
        [dialled_in_e164(raw, like) for raw, like in calls.select("to_phone", "phone").iter_rows()],
        dtype=pl.String,
    )


class LoanHistory:
    """contact_plan.ActionHistory over frames: each loan's borrower's calls to their own number
    (with outcomes, on the borrower's local days), then the loan's actions carried out, found
    for the loans asked about only.

    `attempts`: every attempt on record (a frame), or a function reading those of the
    borrowers asked about: a guard counts calls over the whole record unless its requirement
    sets `within_days`. `reach` gives each borrower's number and day zone: a call to a
    registered contact, or to a number that is not the borrower's, is not the borrower's
    attempt (CONTRACT.md), and its day is the borrower's local calendar day (`distinct_days`).
    """

    def __init__(
        self, attempts: pl.DataFrame | AttemptsOf, done: pl.DataFrame, loans: pl.DataFrame,
        reach: Reach,
    ) -> None:  # fmt: skip
        # The calls are picked out when asked for, from the few borrowers asked about: picked
        # out of every attempt up front, they cost a bench night's people thread 20 ms.
        self._attempts = attempts
        self._done, self._owners = done, loans.select("loan_id", "borrower_id")
        self._reach = reach
        # A night asks twice (treatments repeated until done, then the guards), mostly for
        # the same loans: each loan's records are gathered once.
        self._known: dict[str, list[ActionRecord]] = {}

    def of(self, loan_ids: Sequence[str]) -> dict[str, list[ActionRecord]]:
        """The records of the loans asked for (loans without any are left out)."""
        missing = [loan for loan in dict.fromkeys(loan_ids) if loan not in self._known]
        if missing:
            found = self._gather(missing)
            self._known.update({loan: found.get(loan, []) for loan in missing})
        return {loan: self._known[loan] for loan in loan_ids if self._known[loan]}

    def carried_out(self, day: date) -> pl.DataFrame:
        """The actions of the day's plan carried out (the done frame holds those alone)."""
        today = self._done.filter(pl.col("planned_for") == day)
        return today.select("loan_id", "action").unique().cast(CARRIED_SCHEMA)

    def _gather(self, loan_ids: Sequence[str]) -> dict[str, list[ActionRecord]]:
        """The records of the loans asked for, from the frames."""
        wanted = pl.Series(list(loan_ids), dtype=pl.String)
        # Found by bisection in the loans, which come in loan_id order: a filter of a million
        # loan ids took a bench night's few hundred asked for 8-9 ms. Should one not be found
        # so (loans in another order, or not there), by the filter.
        at = positions(self._owners.get_column("loan_id"), wanted)
        if (at >= 0).all():
            owners = self._owners[at]
        else:
            owners = self._owners.filter(pl.col("loan_id").is_in(wanted.implode()))
        calls = self._calls(owners.get_column("borrower_id").unique()).join(
            owners, on="borrower_id", how="inner", maintain_order="left"
        )
        outcome = pl.coalesce(
            "outcome",
            pl.when(pl.col("status") == "done").then(pl.lit("done")).otherwise(pl.lit("failed")),
        )
        # A planned call that was made is in the contact log already (its outbox row repeats
        # it): counted once, from the log, which also holds the calls made outside the plan.
        done = self._done.filter(
            pl.col("loan_id").is_in(wanted.implode()) & (pl.col("action") != "call")
        ).select("loan_id", "action", "planned_for", outcome.alias("outcome"))
        found: dict[str, list[ActionRecord]] = {}
        for frame in (calls.select("loan_id", "action", "on", "outcome"), done):
            for loan, action, on, result in frame.iter_rows():
                found.setdefault(loan, []).append(ActionRecord(action, on, result))
        return found

    def _calls(self, borrower_ids: pl.Series) -> pl.DataFrame:
        """The borrowers' calls to their own number (borrower_id, action, on, outcome), each
        on the borrower's local day."""
        if isinstance(self._attempts, pl.DataFrame):
            theirs = self._attempts.filter(pl.col("borrower_id").is_in(borrower_ids.implode()))
        else:
            theirs = self._attempts(borrower_ids.to_list())
        own = (
            self._reach.of(borrower_ids).sort("borrower_id", "jurisdiction")
            .unique("borrower_id", keep="first").select("borrower_id", "phone", "day_zone")
        )  # fmt: skip
        # A call a contact rule refused, logged anyway (allowed = false: quiet hours, a cap),
        # is no gentler step tried: six at 23:30 must not open the way to a visit. A book's
        # attempts carry no verdict (the lender's log of calls made).
        lawful = pl.col("allowed").fill_null(True) if "allowed" in theirs.columns else pl.lit(True)
        calls = theirs.filter(
            (pl.col("channel") == "call") & pl.col("outcome").is_in(CALL_OUTCOMES)
            & pl.col("contact_id").is_null() & lawful
        ).join(own, on="borrower_id", how="inner", maintain_order="left")  # fmt: skip
        calls = calls.filter(pl.col("to_phone").is_null() | (_in_e164(calls) == pl.col("phone")))
        local = pl.col("at").dt.date()
        for zone in calls.get_column("day_zone").drop_nulls().unique().sort().to_list():
            day = pl.col("at").dt.convert_time_zone(zone).dt.date()
            local = pl.when(pl.col("day_zone") == zone).then(day).otherwise(local)
        return calls.select("borrower_id", pl.lit("call").alias("action"), local.alias("on"),
                            "outcome")  # fmt: skip
