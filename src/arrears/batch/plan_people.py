"""What the planner knows of people and loans: how borrowers are reached under each pack of
their loans, their attempts, holds and opt-outs, and the loans' action history."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import polars as pl

from arrears.batch.contact_checks import ATTEMPT_SCHEMA, HOLD_SCHEMA, OPT_OUT_SCHEMA
from arrears.domain.escalation import ActionRecord

# A plan's action carried out (ActionHistory.carried_out): its loan and action.
CARRIED_SCHEMA = pl.Schema({"loan_id": pl.String, "action": pl.String})
REACH_SCHEMA = pl.Schema({
    "borrower_id": pl.String, "jurisdiction": pl.String, "phone": pl.String, "zones": pl.String,
    "day_zone": pl.String,
})  # fmt: skip


class Reach(Protocol):
    """How borrowers are reached: their phone and the time zones they may be in, under each
    pack of their loans (every one governs a contact with them; the zones a number gives and
    the zone days count in may differ by pack, each taking its own default zone)."""

    def of(self, borrower_ids: pl.Series) -> pl.DataFrame:
        """One row per known borrower asked for and jurisdiction of their loans (REACH_SCHEMA):
        zones joined by commas; the day zone is the one whose calendar days the pack's daily
        limits count."""
        ...


@dataclass(frozen=True)
class FrameReach:
    """A Reach over a frame already holding every borrower's zones (REACH_SCHEMA)."""

    frame: pl.DataFrame

    def of(self, borrower_ids: pl.Series) -> pl.DataFrame:
        """The rows of the borrowers asked for."""
        wanted = pl.DataFrame({"borrower_id": borrower_ids.unique()})
        return self.frame.join(wanted, on="borrower_id", how="semi")


class ActionHistory(Protocol):
    """What was done on loans (calls and their outcomes, actions carried out): the guards'
    history, asked once a night for the loans with a guarded action due."""

    def of(self, loan_ids: Sequence[str]) -> Mapping[str, Sequence[ActionRecord]]:
        """Each loan's records (loans without any may be left out)."""
        ...

    def carried_out(self, day: date) -> pl.DataFrame:
        """The actions of the day's plan already carried out (CARRIED_SCHEMA): a re-run of
        the day decides them no more."""
        ...


@dataclass(frozen=True)
class KnownHistory:
    """An ActionHistory over records already in memory."""

    records: Mapping[str, Sequence[ActionRecord]]

    def of(self, loan_ids: Sequence[str]) -> Mapping[str, Sequence[ActionRecord]]:
        """The records of the loans asked for."""
        return {loan: self.records[loan] for loan in loan_ids if loan in self.records}

    def carried_out(self, day: date) -> pl.DataFrame:  # noqa: ARG002 - the protocol's
        """None known: the records tell no plan's actions apart."""
        return pl.DataFrame(schema=CARRIED_SCHEMA)


@dataclass(frozen=True)
class People:
    """What the planner knows of borrowers: how to reach them, their attempts (in any order),
    holds and opt-outs (contact_checks' schemas)."""

    reach: Reach
    attempts: pl.DataFrame
    holds: pl.DataFrame
    opt_outs: pl.DataFrame

    @classmethod
    def of_frames(
        cls,
        reach: Reach,
        attempts: pl.DataFrame | None = None,
        holds: pl.DataFrame | None = None,
        opt_outs: pl.DataFrame | None = None,
    ) -> "People":
        """People from frames (absent ones empty)."""

        def typed(frame: pl.DataFrame | None, schema: pl.Schema) -> pl.DataFrame:
            if frame is None:
                return pl.DataFrame(schema=schema)
            return frame.select(list(schema)).cast(schema)

        return cls(reach, typed(attempts, ATTEMPT_SCHEMA), typed(holds, HOLD_SCHEMA),
                   typed(opt_outs, OPT_OUT_SCHEMA))  # fmt: skip
