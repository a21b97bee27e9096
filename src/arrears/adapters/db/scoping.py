"""The one place a scope becomes SQL: which loans a person's queries may touch."""

from collections.abc import Mapping

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from arrears.adapters.db.casework_tables import assignments, legal_cases, loan_flags, placements
from arrears.adapters.db.tables import cases
from arrears.domain.access import Scope, ScopeKind
from arrears.domain.ladder import DEFAULT_STAGE, SETTLED
from arrears.domain.stages import NOT_LENT

LEGAL_STAGES = ("legal",)  # the shipped ladders' legal track (packs/strategy_*.toml)


def in_scope(
    scope: Scope, loan_id: ColumnElement[str], defaults: Mapping[str, str] | None = None
) -> ColumnElement[bool]:
    """A condition true for the loans the scope covers (domain.access.scope_of says which);
    `defaults`: each ladder's default stage by its label, where a loan rests out of
    collection (a ladder not among them rests in DEFAULT_STAGE)."""
    # Aliases: a scope's subqueries must not correlate with the same tables in the query
    # they are put into (a queue joins assignments itself).
    a, p = assignments.alias("scope_a").c, placements.alias("scope_p").c
    c, g = cases.alias("scope_c").c, legal_cases.alias("scope_g").c
    if scope.kind is ScopeKind.ALL:
        return true()
    if scope.kind is ScopeKind.OWN:
        return exists(select(a.loan_id).where(a.loan_id == loan_id, a.collector_id == scope.key))
    if scope.kind is ScopeKind.TEAM:
        mine = exists(select(a.loan_id).where(a.loan_id == loan_id, a.team_id == scope.key))
        # The pool: cases in collection (on a stage of a ladder) not yet given to any team;
        # the performing book is nobody's to see.
        unassigned = ~exists(select(a.loan_id).where(a.loan_id == loan_id))
        in_collection = ~_resting(c.stage, c.ladder, defaults or {})
        collected = exists(select(c.loan_id).where(c.loan_id == loan_id, in_collection))
        return mine | (unassigned & collected)
    if scope.kind is ScopeKind.AGENCY:
        placed = and_(p.loan_id == loan_id, p.agency_id == scope.key, p.recalled_on.is_(None))
        return exists(select(p.loan_id).where(placed))
    if scope.kind is ScopeKind.LEGAL:
        staged = exists(select(c.loan_id).where(c.loan_id == loan_id, c.stage.in_(LEGAL_STAGES)))
        tracked = exists(select(g.loan_id).where(g.loan_id == loan_id))
        f = loan_flags.alias("scope_f").c
        referred = exists(select(f.loan_id).where(f.loan_id == loan_id, f.flag == "legal"))
        return staged | tracked | referred
    return false()


def _resting(
    stage: ColumnElement[str], ladder: ColumnElement[str], defaults: Mapping[str, str]
) -> ColumnElement[bool]:
    """Whether a case rests out of collection: settled, not lent, or on its ladder's default
    stage (a ladder may name it: one named `paying` had its performing loans in every
    supervisor's pool, helper-125)."""
    own = [and_(ladder == label, stage == default) for label, default in sorted(defaults.items())]
    unknown = stage == DEFAULT_STAGE
    if defaults:
        unknown = and_(ladder.not_in(sorted(defaults)), unknown)
    return or_(stage.in_((SETTLED, NOT_LENT)), unknown, *own)
