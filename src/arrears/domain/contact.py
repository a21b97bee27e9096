"""Contact attempts, requests and the facts a compliance decision reads (value types only)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from arrears.domain import rule_details
from arrears.domain.errors import Refusal, Term, Terms

CHANNELS = ("sms", "call", "email", "letter", "visit")

# A telephone conversation the consumer (or a registered contact) started: they called, and a
# collector answered. Recorded as a call that ended so (an extension of CONTRACT.md's call
# outcomes), it is a conversation about the debt whoever started it (12 CFR
# 1006.14(b)(2)(i)(B): the 7 days after one), but no contact placed: no rule judges it, and
# the caps on calls made (dials a day to a number, 7 call attempts in 7 days) never count it.
INBOUND = "inbound"

# What each channel's attempt can end in. The call outcomes are CONTRACT.md's (and INBOUND); a
# visit ends like a call (met, nobody there, refused); messages are sent, delivered or failed,
# and an SMS can also bounce off a number that does not exist.
OUTCOMES: Mapping[str, tuple[str, ...]] = {
    "call": ("connected", "no_answer", "busy", "invalid_number", "refused", INBOUND),
    "sms": ("sent", "delivered", "failed", "invalid_number"),
    "email": ("sent", "delivered", "failed"),
    "letter": ("sent", "delivered", "failed"),
    "visit": ("connected", "no_answer", "refused"),
}
ALL_OUTCOMES = tuple(sorted({outcome for known in OUTCOMES.values() for outcome in known}))

# Why collection may pause: a disputed debt, a hardship arrangement, a deceased borrower, or a
# request to stop contact. Each pack says which kinds block contact and cites why.
HOLD_KINDS = ("dispute", "hardship", "deceased", "cease_contact")


def require_aware(at: datetime, what: str) -> None:
    """Refuse a naive instant: a local time without its offset names no moment."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise Refusal("{what} {at} has no UTC offset", what=what, at=at.isoformat())


def require_channel(channel: str) -> None:
    """Refuse a channel the contract does not know."""
    if channel not in CHANNELS:
        raise Refusal(
            "unknown channel {channel}; expected one of {known}",
            channel=repr(channel),
            known=Terms.of("channel:", CHANNELS, "or"),
        )


@dataclass(frozen=True)
class ContactAttempt:
    """A contact attempt that happened: when, how, to which number and person, and its outcome
    (INBOUND: a call the person made to the collector, answered; `to_phone` the number they
    called from)."""

    at: datetime
    channel: str
    to_phone: str | None
    contact_id: str | None  # None = the borrower; else one of their registered contacts
    outcome: str

    def __post_init__(self) -> None:
        """Refuse naive instants and outcomes the channel cannot have."""
        require_aware(self.at, "attempt time")
        require_channel(self.channel)
        if self.outcome not in OUTCOMES[self.channel]:
            raise Refusal(
                "outcome {outcome} is not possible for a {channel}; expected {known}",
                outcome=repr(self.outcome),
                channel=Term(f"channel:{self.channel}", self.channel),
                known=Terms.of("outcome:", OUTCOMES[self.channel], "or"),
            )

    @property
    def placed(self) -> bool:
        """Whether the collector made it (not a call the person made to them: INBOUND)."""
        return self.outcome != INBOUND


@dataclass(frozen=True)
class ContactRequest:
    """A contact someone wants to make (or has made) at an instant."""

    borrower_id: str
    channel: str
    at: datetime
    to_phone: str | None = None
    contact_id: str | None = None  # None = the borrower; else one of their registered contacts

    def __post_init__(self) -> None:
        """Refuse naive instants and unknown channels."""
        require_aware(self.at, "contact time")
        require_channel(self.channel)


@dataclass(frozen=True)
class Hold:
    """A pause of collection over local days `starts_on`..`ends_on` (inclusive; None = open)."""

    kind: str
    starts_on: date
    ends_on: date | None = None
    note: str = ""

    def __post_init__(self) -> None:
        """Refuse unknown kinds and ranges that end before they start."""
        if self.kind not in HOLD_KINDS:
            raise Refusal(
                "unknown hold {kind}; expected one of {known}",
                kind=repr(self.kind),
                known=Terms.of("hold:", HOLD_KINDS, "or"),
            )
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise Refusal(
                "hold {kind} ends {ends_on} before it starts",
                kind=Term(f"hold:{self.kind}", self.kind),
                ends_on=self.ends_on.isoformat(),
            )

    def active_on(self, day: date) -> bool:
        """Whether the hold covers a local day."""
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)

    def describe(self) -> str:
        """The hold in words, e.g. `dispute hold 2026-03-01..open`."""
        end = self.ends_on.isoformat() if self.ends_on else rule_details.OPEN.say()
        return rule_details.HOLD.say(kind=self.kind, start=self.starts_on, end=end)


@dataclass(frozen=True)
class OptOut:
    """The borrower asked not to be contacted through a channel, from an instant on."""

    channel: str
    since: datetime

    def __post_init__(self) -> None:
        """Refuse naive instants and unknown channels."""
        require_aware(self.since, "opt-out time")
        require_channel(self.channel)


@dataclass(frozen=True)
class ContactFacts:
    """Everything known about a borrower that a contact decision reads.

    `zones` are the IANA zones the contacted person may be in (all must allow the time);
    `day_zone` is the zone whose calendar days the daily limits count; `contacts` maps the
    borrower's registered contact ids to their numbers (never a phone book: PIPL Art. 6, 23).
    `shared_dials` are attempts on record for other borrowers to a number this borrower's
    contacts dial (a number two borrowers share): the per-number dial cap counts every attempt
    to the number (CONTRACT.md), the limits per person only the borrower's own `attempts`.
    `phone` is the borrower's own number on record: a number dialled that is neither it nor
    a registered contact's reaches nobody the borrower gave (None: unknown, taken as theirs).
    """

    zones: tuple[str, ...]
    day_zone: str
    attempts: tuple[ContactAttempt, ...] = ()
    holds: tuple[Hold, ...] = ()
    opt_outs: tuple[OptOut, ...] = ()
    contacts: Mapping[str, str] = field(default_factory=dict)
    shared_dials: tuple[ContactAttempt, ...] = ()
    phone: str | None = None

    def __post_init__(self) -> None:
        """Refuse facts without a time zone, which could not say what the local time is."""
        if not self.zones:
            raise Refusal("contact facts need at least one time zone")


@dataclass(frozen=True)
class Reason:
    """One rule checked for a contact: its id, legal source, what it found, and if it passed."""

    rule: str
    source: str
    detail: str
    passed: bool


@dataclass(frozen=True)
class ContactDecision:
    """Whether a contact is allowed, with every rule checked (passed ones too)."""

    allowed: bool
    reasons: tuple[Reason, ...]

    @property
    def broken(self) -> tuple[Reason, ...]:
        """The rules that block the contact."""
        return tuple(reason for reason in self.reasons if not reason.passed)
