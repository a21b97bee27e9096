"""A contact rule pack as data: its rules, each a kind with parameters and a legal source."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time

from arrears.domain.bureau import ReportingRule
from arrears.domain.bureau_disputes import DisputeRule
from arrears.domain.contact import ALL_OUTCOMES, CHANNELS, HOLD_KINDS
from arrears.domain.errors import DomainError
from arrears.domain.legal_deadlines import DeadlineRule
from arrears.domain.limitation import Limitation, LimitationPeriod
from arrears.domain.outsourcing import OutsourcingRule
from arrears.domain.replies import ReplyRule

# The parameters each kind needs (besides `channels` and `count_channels`, which every rule has).
RULE_KINDS: Mapping[str, frozenset[str]] = {
    "quiet_hours": frozenset({"quiet_from", "quiet_until"}),
    "connected_per_day": frozenset({"limit", "outcomes"}),
    "dials_per_number_per_day": frozenset({"limit"}),
    "attempts_in_days": frozenset({"limit", "days"}),
    "after_conversation": frozenset({"days", "outcomes"}),
    "third_party_unreachable": frozenset({"limit", "outcomes", "last_outcomes"}),
    "third_party_refused": frozenset({"outcomes"}),
    "third_party_once": frozenset({"limit", "outcomes"}),
    "registered_contacts_only": frozenset(),
    "hold": frozenset({"hold_kinds"}),
    "opt_out": frozenset(),
}


@dataclass(frozen=True)
class ContactRule:
    """One rule of a pack: which channels it governs, its parameters and its legal source.

    `channels` are the requests it checks; `count_channels` the past attempts it counts
    (empty = the same as `channels`).
    """

    rule_id: str
    kind: str
    source: str
    verified: bool
    channels: frozenset[str] = frozenset(CHANNELS)
    count_channels: frozenset[str] = frozenset()
    limit: int | None = None
    days: int | None = None
    quiet_from: time | None = None
    quiet_until: time | None = None
    outcomes: frozenset[str] = frozenset()
    last_outcomes: frozenset[str] = frozenset()
    hold_kinds: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        """Refuse unknown kinds, missing parameters and values outside their range."""
        if self.kind not in RULE_KINDS:
            raise DomainError(f"{self.rule_id}: unknown rule kind {self.kind!r}")
        for name in sorted(RULE_KINDS[self.kind]):
            if getattr(self, name) in (None, frozenset()):
                raise DomainError(f"{self.rule_id}: a {self.kind} rule needs `{name}`")
        _subset(self, "channels", self.channels | self.count_channels, CHANNELS)
        _subset(self, "outcomes", self.outcomes | self.last_outcomes, ALL_OUTCOMES)
        _subset(self, "hold_kinds", self.hold_kinds, HOLD_KINDS)
        if self.limit is not None and self.limit < 0:
            raise DomainError(f"{self.rule_id}: `limit` must be 0 or more")
        if self.kind == "third_party_unreachable" and self.limit == 0:
            # "The last 0 attempts all failed" always holds: a limit of 0 would let every
            # third party be reached at once (for the other kinds 0 is the strictest).
            raise DomainError(f"{self.rule_id}: `limit` must be 1 or more for this kind")
        if self.days is not None and self.days < 1:
            raise DomainError(f"{self.rule_id}: `days` must be 1 or more")
        if self.quiet_from is not None and self.quiet_from == self.quiet_until:
            raise DomainError(f"{self.rule_id}: `quiet_from` and `quiet_until` are equal")

    @property
    def counted_channels(self) -> frozenset[str]:
        """The channels whose past attempts this rule counts."""
        return self.count_channels or self.channels


def _subset(rule: ContactRule, name: str, values: frozenset[str], known: tuple[str, ...]) -> None:
    """Refuse values outside the known ones, naming the parameter."""
    unknown = sorted(values - set(known))
    if unknown:
        raise DomainError(f"{rule.rule_id}: unknown {name} {unknown}; known: {list(known)}")


@dataclass(frozen=True)
class RulePack:
    """A jurisdiction's contact rules, in the order they are checked and reported."""

    jurisdiction: str
    default_zone: str  # the zone assumed when neither the borrower nor the number gives one
    rules: tuple[ContactRule, ...]
    # Whether the time of day must suit every zone of the number dialled even when the
    # borrower's zone is recorded (else the recorded zone alone decides).
    number_zones_too: bool = False
    # Whether a call to a registered contact must suit the debtor's zones too, not only the
    # contact's number's (a rule of the debtor's local time, which a third party's call is
    # no way around).
    debtor_zones_for_contacts: bool = False
    # The actions refused once a debt is time-barred (None: the pack refuses none for that).
    limitation: Limitation | None = None
    # The deadline a judgment starts (enforcement applied for), None: the pack sets none.
    enforcement: DeadlineRule | None = None
    # A limitation period shown as information only (the debtor's defence), None: none.
    limitation_period: LimitationPeriod | None = None
    # The white list and evaluation a placement with an agency needs, None: the pack sets
    # none (lender policy).
    outsourcing: OutsourcingRule | None = None
    # What a credit-bureau record waits on before it is furnished, None: nothing (the pack
    # sets no such rule).
    bureau: ReportingRule | None = None
    # The days a dispute of a furnished record is answered in, None: the pack sets none.
    bureau_disputes: DisputeRule | None = None
    # The words that, sent alone in reply to a text, ask for no more texts (None: none).
    replies: ReplyRule | None = None

    def rules_for(self, channel: str) -> tuple[ContactRule, ...]:
        """The rules that govern a request on `channel`."""
        return tuple(rule for rule in self.rules if channel in rule.channels)
