"""The strategy ladder: stages worst-first with entry rules and treatments, and its checks."""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from arrears.domain.day_range import MAX_DAYS
from arrears.domain.entry_rules import (
    EntryRule,
    LoanFacts,
    not_lent_words,
    settled_words,
    shadowed_by,
    unmatched_words,
)
from arrears.domain.errors import Clauses, DomainError
from arrears.domain.escalation import GUARDED_ACTIONS, Guard, check_action
from arrears.domain.experiments import Experiment, arm_for
from arrears.domain.loan import Loan
from arrears.domain.stages import NOT_LENT
from arrears.domain.statement import LoanState, days_to_next_due

SETTLED = "settled"
RESERVED = (SETTLED, NOT_LENT)  # the stages no ladder may declare or default to


@dataclass(frozen=True)
class Treatment:
    """An action on day `day` of a stage (0 = the day the loan entered it), maybe repeated."""

    day: int
    action: str
    template: str
    every: int | None = None  # repeat every N days after `day` while the loan stays in the stage
    until: int | None = None  # last day of the repeats
    arms: frozenset[str] | None = None  # experiment arms that get it; None = every loan
    # Repeats stop once the action is on record as done since the loan entered the stage: a
    # step its guard refused on its day is tried again, one carried out is not repeated.
    until_done: bool = False
    # Due only when this action is on record as done (at any time): an agency recall only
    # for an account an agency was given.
    when_done: str | None = None
    # Owed to every borrower the ladder collects from (a validation notice, a forbearance
    # offer, a formal notice): also due in each stage listed before its own (the harsher
    # ones), on the same days, while its action is not on record as done on the loan at any
    # time. A case that skipped its stage (first seen already far past due) still gets it.
    owed: bool = False

    def __post_init__(self) -> None:
        check_action(self.action)
        if self.day < 0:
            raise DomainError(f"day must not be negative, got {self.day}")
        for key in ("day", "every", "until"):
            value = getattr(self, key)
            if value is not None and value > MAX_DAYS:
                raise DomainError(f"{key} must be at most {MAX_DAYS}, got {value}")
        if not self.template.strip():
            raise DomainError("template must not be empty")
        if self.every is not None and self.every < 1:
            raise DomainError(f"every must be at least 1, got {self.every}")
        if self.until is not None and (self.every is None or self.until < self.day):
            raise DomainError(f"until {self.until} needs `every` and must not be before day")
        if self.arms == frozenset():
            raise DomainError("arms must not be empty (leave it out for every arm)")
        if self.until_done and self.every is None:
            raise DomainError("until_done needs `every` (the days between tries)")
        if self.when_done is not None:
            try:
                check_action(self.when_done)
            except DomainError as error:
                raise DomainError(f"when_done: {error}") from None

    def due_on(self, day: int, arms: frozenset[str]) -> bool:
        """Whether the treatment falls on day `day` of the stage for a loan in `arms`."""
        if self.arms is not None and not self.arms & arms:
            return False
        if day == self.day:
            return True
        return (
            self.every is not None
            and day > self.day
            and (day - self.day) % self.every == 0
            and (self.until is None or day <= self.until)
        )


@dataclass(frozen=True)
class Stage:
    """A stage: entered when any entry rule matches; its treatments and on-request heavy steps."""

    name: str
    label_zh: str
    label_en: str
    entry: tuple[EntryRule, ...] = ()
    treatments: tuple[Treatment, ...] = ()
    heavy: tuple[str, ...] = ()  # steps people may request here, each behind its guard
    label_zh_tw: str | None = None  # in traditional characters; None: label_zh is shown


@dataclass(frozen=True)
class StageDecision:
    """The stage a loan is in, and the rule that put it there (`reason`, as the run stores
    it; `words`: the same in words a page shows in its reader's language, reason_words)."""

    stage: str
    words: Clauses

    @property
    def reason(self) -> str:
        """Why, in English: 'dpd 52 in 31..90, bucket M2'."""
        return str(self.words)


# The stage of a loan no rule of its ladder takes, unless the ladder names its own.
DEFAULT_STAGE = "current"


@dataclass(frozen=True)
class Ladder:
    """A named, versioned ladder: stages worst-first (first match wins), experiments, guards."""

    name: str
    version: int
    stages: tuple[Stage, ...]
    experiments: tuple[Experiment, ...] = ()
    guards: tuple[Guard, ...] = ()
    default_stage: str = DEFAULT_STAGE

    def __post_init__(self) -> None:
        problems = ladder_problems(self)
        if problems:
            raise DomainError("; ".join(problems))

    @property
    def label(self) -> str:
        """Name and version, as callers record them: 'cn-default v4'."""
        return f"{self.name} v{self.version}"

    def stage(self, name: str) -> Stage | None:
        """The stage called `name`, if declared."""
        return next((s for s in self.stages if s.name == name), None)

    def guard_for(self, action: str) -> Guard | None:
        """The guard declared for `action`, if any."""
        return next((g for g in self.guards if g.action == action), None)

    def offers(self, stage: str, action: str) -> bool:
        """Whether `action` is scheduled or may be requested in `stage` (an owed treatment of
        a gentler stage is scheduled there too: owed_from_gentler)."""
        found = self.stage(stage)
        return found is not None and (
            action in found.heavy
            or any(t.action == action for t in found.treatments)
            or any(t.action == action for t in owed_from_gentler(self, stage))
        )

    @property
    def arm_names(self) -> frozenset[str]:
        """Every arm of every experiment."""
        return frozenset(a for e in self.experiments for a, _ in e.arms)


def assign_stage(ladder: Ladder, facts: LoanFacts) -> StageDecision:
    """The stage of a loan: not lent, settled, else the first stage (worst-first) whose rule
    matches."""
    if not facts.lent:
        # Not configurable either: the money is not lent yet.
        return StageDecision(NOT_LENT, not_lent_words())
    if facts.settled:
        # Not configurable: nothing is collected from a loan that owes nothing.
        return StageDecision(SETTLED, settled_words())
    for stage in ladder.stages:
        for rule in stage.entry:
            if rule.matches(facts):
                return StageDecision(stage.name, rule.words(facts))
    return StageDecision(ladder.default_stage, unmatched_words(str(facts.dpd)))


def stage_on(
    ladder: Ladder, loan: Loan, state: LoanState, flags: Iterable[str] = ()
) -> StageDecision:
    """The stage `ladder` puts a loan in on its state's day, as the end-of-day run decides it
    (assign_stage on the loan's facts; `flags`: those set on it, domain.flags)."""
    lines = state.installments
    facts = LoanFacts(
        loan.loan_id, state.dpd, state.overdue.total, state.outstanding_principal, state.bucket,
        settled=not any(i.open for i in lines),
        days_to_next_due=days_to_next_due(lines, state.as_of),
        segment=loan.segment, score=loan.score, flags=frozenset(flags),
        lent=state.as_of >= loan.contract_date,
    )  # fmt: skip
    return assign_stage(ladder, facts)


def facts_read(ladder: Ladder) -> frozenset[str]:
    """The LoanFacts fields assign_stage reads on this ladder (its decision and reason depend
    on nothing else): every rule's, with `lent`, `settled` and the `dpd` of the default
    reason."""
    return frozenset({"lent", "settled", "dpd"}).union(
        *(rule.reads() for stage in ladder.stages for rule in stage.entry)
    )


def due_treatments(
    ladder: Ladder,
    stage_name: str,
    days_in_stage: int,
    arm: str | Iterable[str] | None = None,
    done: Collection[str] = (),
    ever: Collection[str] = (),
) -> list[Treatment]:
    """The treatments due on day `days_in_stage` of a stage for a loan in `arm` (or arms);
    `done`: the actions on record as done since the loan entered the stage, `ever`: at any
    time (escalation.done_since). Owed treatments of gentler stages come after the stage's
    own (owed_from_gentler)."""
    if days_in_stage < 0:
        raise DomainError(f"days_in_stage must not be negative, got {days_in_stage}")
    stage = ladder.stage(stage_name)
    if stage is None:
        if stage_name in (*RESERVED, ladder.default_stage):
            return []
        raise DomainError(f"stage {stage_name!r} is not in ladder {ladder.label}")
    arms = frozenset([arm] if isinstance(arm, str) else arm or ())
    owed = [t for t in owed_from_gentler(ladder, stage_name, arms) if t.action not in ever]
    return [
        t
        for t in (*stage.treatments, *owed)
        if t.due_on(days_in_stage, arms)
        and not (t.until_done and t.action in done)
        and (t.when_done is None or t.when_done in ever)
    ]


def owed_from_gentler(
    ladder: Ladder, stage_name: str, arms: frozenset[str] | None = None
) -> list[Treatment]:
    """The owed treatments of the stages listed after `stage_name` (the gentler ones), which
    a case in it gets on their days while their action is not on record as done: for a loan
    in `arms`, of the steps for those arms, each action and template once (one letter sent,
    not two under one plan key), none the stage lists itself and else the nearest stage's.
    Without `arms`: every one some loan may be owed (the ladder's checks)."""
    names = [s.name for s in ladder.stages]
    if stage_name not in names:
        return []
    at = names.index(stage_name)
    taken = [t for t in ladder.stages[at].treatments if _for_arms(t, arms)]
    owed = []
    for stage in ladder.stages[at + 1 :]:
        for t in stage.treatments:
            if t.owed and _for_arms(t, arms) and not _taken(t, taken, per_loan=arms is not None):
                taken.append(t)
                owed.append(t)
    return owed


def _for_arms(treatment: Treatment, arms: frozenset[str] | None) -> bool:
    """Whether a treatment is for a loan in `arms` (None: any loan)."""
    return arms is None or treatment.arms is None or bool(treatment.arms & arms)


def _taken(treatment: Treatment, taken: list[Treatment], *, per_loan: bool) -> bool:
    """Whether steps taken before under the treatment's plan key (action and template) leave
    it out: for one loan, any one; over every loan, when they are for every loan it is for."""
    same = [t for t in taken if (t.action, t.template) == (treatment.action, treatment.template)]
    if per_loan or not same:
        return bool(same)
    if any(t.arms is None for t in same):
        return True
    return treatment.arms is not None and treatment.arms <= frozenset().union(
        *(t.arms or () for t in same)
    )


def label_clash(ladders: Mapping[str, Ladder]) -> tuple[str, str] | None:
    """Two keys of `ladders` (products) whose ladders differ under one label, if any: a case
    records its ladder's label, and the run finds a ladder by it, so one label must name one
    ladder (else one product's loans are staged by one and planned by the other)."""
    first: dict[str, str] = {}
    for key in sorted(ladders):
        seen = first.setdefault(ladders[key].label, key)
        if ladders[seen] != ladders[key]:
            return seen, key
    return None


def assign_arms(ladder: Ladder, loan_id: str, stage: str | None = None) -> dict[str, str]:
    """The loan's arm in each experiment of the ladder (experiment name → arm); with `stage`,
    in those that run there only (Experiment.runs_in): a case draws an experiment's arm the
    night it enters the experiment's stages (batch/stages.arm_plan)."""
    return {
        e.name: arm_for(loan_id, e) for e in ladder.experiments if stage is None or e.runs_in(stage)
    }


def ladder_problems(ladder: Ladder) -> list[str]:
    """Everything wrong with a ladder as a whole, each naming the stage or key concerned."""
    problems: list[str] = []
    if not ladder.name.strip():
        problems.append("name must not be blank")
    if isinstance(ladder.version, bool) or ladder.version < 1:
        problems.append(f"version must be a positive integer, got {ladder.version!r}")
    problems += _stage_problems(ladder)
    problems += _experiment_problems(ladder)
    problems += _guard_problems(ladder)
    return problems


def _stage_problems(ladder: Ladder) -> list[str]:
    problems = [
        f"stage {n!r} is declared twice" for n in sorted(_repeated([s.name for s in ladder.stages]))
    ]
    if not ladder.stages:
        # Every loan would sit in the default stage and nothing would ever be done for it.
        problems.append("a ladder needs at least one [[stage]]: without one no loan is worked")
    if not ladder.default_stage.strip() or ladder.default_stage in RESERVED:
        problems.append(
            f"default_stage must name a stage (not blank, not {SETTLED!r} or {NOT_LENT!r})"
        )
    earlier: list[tuple[str, EntryRule]] = []
    for stage in ladder.stages:
        problems += _one_stage_problems(ladder, stage, earlier)
        earlier += [(stage.name, rule) for rule in stage.entry]
    return problems


def _one_stage_problems(
    ladder: Ladder, stage: Stage, earlier: list[tuple[str, EntryRule]]
) -> list[str]:
    where = f"stage {stage.name!r}"
    problems = []
    if not stage.name.strip() or stage.name in RESERVED:
        problems.append(
            f"{where}: a stage needs a name, and {SETTLED!r} and {NOT_LENT!r} are reserved"
        )
    # Collectors and borrowers read a stage by its label (the pages, the letters).
    problems += [
        f"{where}: {key} must not be blank"
        for key in ("label_zh", "label_en", "label_zh_tw")
        if getattr(stage, key) is not None and not getattr(stage, key).strip()
    ]
    if stage.name == ladder.default_stage and stage.entry:
        problems.append(f"{where} is the default stage, entered when no rule matches: no entry")
    elif stage.name != ladder.default_stage and not stage.entry:
        problems.append(f"{where} has no entry rule and is not the default: never entered")
    for number, rule in enumerate(stage.entry, 1):
        hidden = shadowed_by(rule, earlier)
        if hidden is not None:
            problems.append(
                f"{where} entry {number} can never match: earlier stage(s) "
                f"{', '.join(map(repr, hidden))} take every loan it matches (first match wins)"
            )
    for action in stage.heavy:
        try:
            check_action(action)
        except DomainError as error:
            problems.append(f"{where} heavy: {error}")
    for number, treatment in enumerate(stage.treatments, 1):
        unknown = sorted((treatment.arms or frozenset()) - ladder.arm_names)
        if unknown:
            problems.append(
                f"{where} treatment {number}: arm(s) {unknown} are not arms of any experiment"
            )
        problems += [
            f"{where} treatment {number}: arm {arm!r} of experiment {e.name!r}, which does "
            f"not run in {name!r} (its stages: {', '.join(sorted(e.stages or ()))}): a loan "
            f"draws its arm as it enters them"
            for name in _stages_due_in(ladder, stage, treatment)
            for arm in sorted((treatment.arms or frozenset()) & ladder.arm_names)
            for e in ladder.experiments
            if arm in dict(e.arms) and not e.runs_in(name)
        ]
    return problems


def _stages_due_in(ladder: Ladder, stage: Stage, treatment: Treatment) -> list[str]:
    """The stages a treatment of `stage` falls due in: its own, and the harsher ones it is
    owed in (owed_from_gentler)."""
    return [stage.name] + [
        s.name
        for s in ladder.stages
        if s.name != stage.name and treatment in owed_from_gentler(ladder, s.name)
    ]


def _experiment_problems(ladder: Ladder) -> list[str]:
    problems: list[str] = []
    names = [e.name for e in ladder.experiments]
    problems += [f"experiment {n!r} is declared twice" for n in sorted(_repeated(names))]
    arms = [a for e in ladder.experiments for a, _ in e.arms]
    # Treatments name arms, not experiments: an arm name must say which experiment it is.
    problems += [f"arm {a!r} is in more than one experiment" for a in sorted(_repeated(arms))]
    # The split is drawn by hashing the salt with the loan: two experiments of one salt split
    # the book alike, each arm of one always with the same arm of the other (STRATEGY.md: a
    # new salt draws an independent split), and their results cannot be told apart.
    for salt in sorted(_repeated([e.salt for e in ladder.experiments])):
        alike = [e.name for e in ladder.experiments if e.salt == salt]
        problems.append(
            f"experiments {', '.join(map(repr, alike))} share the salt {salt!r}: their splits "
            f"would be the same; give each its own"
        )
    stages = {s.name for s in ladder.stages} | {ladder.default_stage}
    for experiment in ladder.experiments:
        for name in sorted((experiment.stages or frozenset()) - stages):
            problems.append(f"experiment {experiment.name!r} stages: unknown stage {name!r}")
    return problems


def _guard_problems(ladder: Ladder) -> list[str]:
    problems: list[str] = []
    guarded = [g.action for g in ladder.guards]
    problems += [f"guards.{a} is declared twice" for a in sorted(_repeated(guarded))]
    used = {a for s in ladder.stages for a in s.heavy} | {
        t.action for s in ladder.stages for t in s.treatments
    }
    for stage in ladder.stages:
        for action in stage.heavy:
            if action not in guarded:
                problems.append(f"stage {stage.name!r} heavy: {action} has no guard")
    for action in sorted((used & GUARDED_ACTIONS) - set(guarded)):
        problems.append(f"{action} is used but has no guard (guards.{action})")
    cycle = _guard_cycle(ladder.guards)
    if cycle:
        problems.append(f"guards form a cycle, so none can ever pass: {' → '.join(cycle)}")
    return problems


def _guard_cycle(guards: tuple[Guard, ...]) -> list[str]:
    """A cycle of guarded actions each requiring the next, if any."""
    needs = {g.action: [r.action for r in g.requires] for g in guards}

    def walk(action: str, path: list[str]) -> list[str]:
        if action in path:
            return [*path[path.index(action) :], action]
        for required in needs.get(action, []):
            found = walk(required, [*path, action])
            if found:
                return found
        return []

    for action in needs:
        found = walk(action, [])
        if found:
            return found
    return []


def _repeated(names: list[str]) -> set[str]:
    return {n for n in names if names.count(n) > 1}
