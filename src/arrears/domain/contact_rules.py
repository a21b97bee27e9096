"""One small check (and capacity) function per contact rule kind, and the scene they read.

A pack lists rules (`rule_pack.py`); each names its kind and parameters. The kinds below are the
only code: a new jurisdiction, or a lender's stricter policy, is a new pack file.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from arrears.domain import rule_details as d
from arrears.domain.contact import INBOUND, ContactAttempt, ContactFacts, ContactRequest, Hold
from arrears.domain.errors import DomainError
from arrears.domain.pii import mask_phone
from arrears.domain.rule_pack import ContactRule

# What shows the borrower was reached, by a call either way or a visit: they answered, refused
# or rang in (domain/contact.OUTCOMES).
REACHING_CHANNELS = frozenset({"call", "visit"})
REACHED = frozenset({"connected", "refused", INBOUND})


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name` (cached: decisions look zones up for every attempt)."""
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        raise DomainError(f"{name!r} is not an IANA time zone") from None


@dataclass(frozen=True)
class Scene:
    """A request in context: its local day and the attempts made at or before it, oldest first
    (the borrower's in `prior`, other borrowers' to a shared number in `shared`)."""

    request: ContactRequest
    facts: ContactFacts
    day: date
    prior: tuple[ContactAttempt, ...]
    shared: tuple[ContactAttempt, ...] = ()

    @classmethod
    def of(cls, request: ContactRequest, facts: ContactFacts) -> "Scene":
        """Place a request among the facts (attempts after it are not yet made)."""
        prior = tuple(sorted((a for a in facts.attempts if a.at <= request.at), key=_at))
        shared = tuple(sorted((a for a in facts.shared_dials if a.at <= request.at), key=_at))
        return cls(request, facts, local_day(request.at, facts.day_zone), prior, shared)

    def counted(
        self, rule: ContactRule, days: int = 1, *, shared: bool = False
    ) -> Iterator[ContactAttempt]:
        """Prior attempts on the rule's counted channels on the `days` local days ending today
        (other borrowers' to a shared number when `shared`)."""
        first = self.day - timedelta(days=days - 1)
        for attempt in self.shared if shared else self.prior:
            day = local_day(attempt.at, self.facts.day_zone)
            if attempt.channel in rule.counted_channels and first <= day <= self.day:
                yield attempt


def _at(attempt: ContactAttempt) -> datetime:
    """The instant of an attempt (sort key)."""
    return attempt.at


def day_zone(number_zones: tuple[str, ...], default_zone: str) -> str:
    """The zone whose calendar days a borrower's limits count in when none is recorded:
    their number's (`number_zones`, never empty: the default when the number tells none),
    the pack's default if it is one of them (a toll-free number), else the first. Days are
    the consumer's local days (CONTRACT.md): counted in New York, the calls to an Alaskan
    number (America/Adak or America/Anchorage) after 20:00 there fell on the next day."""
    return default_zone if default_zone in number_zones else number_zones[0]


def local_day(at: datetime, zone_name: str) -> date:
    """The calendar day an instant falls on in a zone."""
    return at.astimezone(zone(zone_name)).date()


def quiet_span(rule: ContactRule) -> tuple[time, time]:
    """A quiet_hours rule's [from, until) wall-clock times."""
    if rule.quiet_from is None or rule.quiet_until is None:
        raise DomainError(f"{rule.rule_id}: a {rule.kind} rule has no quiet hours")
    return rule.quiet_from, rule.quiet_until


def is_quiet(moment: time, rule: ContactRule) -> bool:
    """Whether a local wall-clock time falls in the rule's quiet hours [from, until)."""
    start, end = quiet_span(rule)
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end  # the quiet hours wrap past midnight


Check = Callable[[ContactRule, Scene], tuple[bool, str]]
Capacity = Callable[[ContactRule, Scene], int | None]


def _quiet_hours(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """quiet_hours: the local time in every candidate zone is outside the quiet hours."""
    zones = scene.facts.zones
    local = {name: scene.request.at.astimezone(zone(name)) for name in zones}
    quiet = [name for name in zones if is_quiet(local[name].time(), rule)]
    where = zones[0] if len(zones) == 1 else d.SEVERAL_ZONES.say(n=len(zones))
    shown = quiet or list(zones)
    times = ", ".join(d.ZONE_TIME.say(time=f"{local[name]:%H:%M}", zone=name)
                      for name in shown[:3])  # fmt: skip
    more = d.MORE_ZONES.say(n=len(shown) - 3) if len(shown) > 3 else ""
    detail = d.QUIET_HOURS.say(start=f"{rule.quiet_from:%H:%M}", end=f"{rule.quiet_until:%H:%M}",
                               where=where, status="quiet" if quiet else "allowed",
                               times=times, more=more)  # fmt: skip
    return not quiet, detail


def _connected_per_day(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """connected_per_day: fewer than `limit` conversations with the borrower that local day."""
    done = _conversations_on_day(rule, scene)
    detail = d.CONVERSATIONS.say(limit=rule.limit, outcomes="/".join(sorted(rule.outcomes)),
                                 done=done, day=scene.day, zone=scene.facts.day_zone)  # fmt: skip
    return done < _limit(rule), detail


def _conversations_on_day(rule: ContactRule, scene: Scene) -> int:
    """Calls with the borrower that local day ending in one of the rule's outcomes."""
    return sum(
        1 for a in scene.counted(rule) if a.contact_id is None and a.outcome in rule.outcomes
    )


def _dials_per_number(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """dials_per_number_per_day: fewer than `limit` attempts to the number that local day,
    whoever's file they are in."""
    number = scene.request.to_phone
    done = _dials_on_day(rule, scene)
    theirs = _shared_dials_on_day(rule, scene)
    others = d.OTHER_BORROWERS.say(theirs=theirs) if theirs else ""
    # Masked: a reason is shown to whoever sees the case, who may not unmask the number.
    detail = d.DIALS.say(limit=rule.limit, done=done,
                         number=mask_phone(number) if number else d.THE_NUMBER.say(),
                         others=others, day=scene.day, zone=scene.facts.day_zone)  # fmt: skip
    return done < _limit(rule), detail


def _dials_on_day(rule: ContactRule, scene: Scene) -> int:
    """Attempts to the request's number that day, other borrowers' too; with no number, to the
    same person (safer). An attempt on record without its number counts against every number
    of the person it reached (the borrower's own, when it names no contact: _on_their_number
    reads it so too). A call the person made (inbound) dialled nothing."""
    number, person = scene.request.to_phone, scene.request.contact_id
    if number is None:
        return sum(1 for a in _placed(scene.counted(rule)) if a.contact_id == person)
    mine = sum(
        1
        for a in _placed(scene.counted(rule))
        if a.to_phone == number or (a.to_phone is None and a.contact_id == person)
    )
    return mine + _shared_dials_on_day(rule, scene)


def _shared_dials_on_day(rule: ContactRule, scene: Scene) -> int:
    """Other borrowers' attempts to the request's number that day."""
    number = scene.request.to_phone
    if number is None:
        return 0
    return sum(1 for a in _placed(scene.counted(rule, shared=True)) if a.to_phone == number)


def _placed(attempts: Iterator[ContactAttempt]) -> Iterator[ContactAttempt]:
    """The attempts the collector made: not a call the person made to them (inbound), which
    is neither a dial to a number nor a call attempt (12 CFR 1006.14(b)(2)(i)(A))."""
    return (a for a in attempts if a.placed)


def _placed_in_days(rule: ContactRule, scene: Scene) -> int:
    """Attempts made on the rule's channels on the `days` local days ending today."""
    return sum(1 for _ in _placed(scene.counted(rule, _days(rule))))


def _attempts_in_days(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """attempts_in_days: fewer than `limit` attempts on the `days` local days ending today
    (made by the collector: a call the person made is none)."""
    days = _days(rule)
    done = _placed_in_days(rule, scene)
    first = scene.day - timedelta(days=days - 1)
    detail = d.IN_DAYS.say(limit=rule.limit, days=days, done=done, first=first, day=scene.day,
                           zone=scene.facts.day_zone)  # fmt: skip
    return done < _limit(rule), detail


def _after_conversation(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """after_conversation: no conversation on that local day or the `days - 1` before, in
    any zone the borrower may be in. The conversation's day is the first of the 7 (12 CFR
    1006.14(b)(2)(i)(B)), and where the consumer was is not known: one at 00:30 in Anchorage
    is on the day before in Adak, and a call that is on the 8th day in Adak is on the 7th in
    Anchorage. (Calls placed are made only when every zone allows the time, so their days
    agree; a call the person made, or one logged flagged, may fall at any hour.)"""
    days = _days(rule)
    talks = [a for a in scene.prior if a.channel in rule.counted_channels
             and a.outcome in rule.outcomes and _days_apart(a.at, scene)[0] < days]  # fmt: skip
    # Said in the zone where the last conversation is nearest: its day is in the days shown.
    shown = _days_apart(talks[-1].at, scene)[1] if talks else scene.facts.day_zone
    today = local_day(scene.request.at, shown)
    first = today - timedelta(days=days - 1)
    found = (d.LAST_ON.say(at=talks[-1].at.astimezone(zone(shown)).isoformat()) if talks
             else d.NONE.say())  # fmt: skip
    detail = d.AFTER_CONVERSATION.say(days=days, first=first, day=today, found=found)
    return not talks, detail


def _days_apart(at: datetime, scene: Scene) -> tuple[int, str]:
    """The fewest local days from `at` to the request in any zone the borrower may be in (their
    day zone first, among equals), and that zone."""
    zones = dict.fromkeys((scene.facts.day_zone, *scene.facts.zones))
    apart = [((local_day(scene.request.at, z) - local_day(at, z)).days, z) for z in zones]
    return min(apart, key=lambda pair: pair[0])


def _third_party_unreachable(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """third_party_unreachable: a contact only once the borrower could not be reached."""
    if scene.request.contact_id is None:
        return True, d.NOT_A_THIRD_PARTY.say()
    # The borrower's tries are those on their own number: calls to a number nobody gave
    # must not open the way to their contacts (CONTRACT.md: "the borrower's last 3 call
    # attempts").
    tries = [
        a
        for a in scene.prior
        if a.contact_id is None
        and a.channel in rule.counted_channels
        and _on_their_number(a.to_phone, scene.facts.phone)
    ]
    last = tries[-_limit(rule) :] if _limit(rule) else []
    failed = len(last) == _limit(rule) and all(a.outcome in rule.outcomes for a in last)
    unreachable = bool(tries) and tries[-1].outcome in rule.last_outcomes
    tried = {"limit": rule.limit, "outcomes": "/".join(sorted(rule.outcomes)),
             "last_outcomes": "/".join(sorted(rule.last_outcomes)),
             "seen": ", ".join(a.outcome for a in last) or d.NONE.say()}  # fmt: skip
    # Reached since by any means (they rang in from another number, a visit met them, a call
    # to a new number got through): then they are not unreachable, and a third party may be
    # asked only to restore contact (GB/T 45251-2025; NIFA 2018 Art. 13).
    since = last[0].at if failed else (tries[-1].at if unreachable else None)
    reached = [
        a
        for a in scene.prior
        if since is not None and a.at >= since and a.contact_id is None
        and a.channel in REACHING_CHANNELS and a.outcome in REACHED
    ]  # fmt: skip
    if reached:
        return False, d.REACHED_SINCE.say(**tried, outcome=reached[-1].outcome,
                                          channel=reached[-1].channel)  # fmt: skip
    return failed or unreachable, d.UNREACHABLE.say(**tried)


def _third_party_refused(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """third_party_refused: never a contact who refused before."""
    contact = scene.request.contact_id
    if contact is None:
        return True, d.NOT_A_THIRD_PARTY.say()
    refusals = [a for a in scene.prior if _same_party(scene, a) and a.outcome in rule.outcomes]
    found = (
        d.REFUSED_ON.say(at=refusals[-1].at.isoformat(), through=_through(refusals[-1], contact))
        if refusals
        else d.NOT_REFUSED.say()
    )
    return not refusals, d.REFUSED.say(contact=contact, found=found)


def _third_party_once(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """third_party_once: a contact reached fewer than `limit` times so far."""
    contact = scene.request.contact_id
    if contact is None:
        return True, d.NOT_A_THIRD_PARTY.say()
    reached = [a for a in scene.prior if _same_party(scene, a) and a.outcome in rule.outcomes]
    through = "".join(sorted({_through(a, contact) for a in reached}))
    detail = d.ONCE.say(limit=rule.limit, n=len(reached), through=through)
    return len(reached) < _limit(rule), detail


def _same_party(scene: Scene, attempt: ContactAttempt) -> bool:
    """Whether an earlier attempt reached the third party asked for: the same registered
    contact, or another one on the same number (a household's phone entered twice, as a
    spouse and as a friend: whoever refused there, or was reached there, answers it)."""
    if attempt.contact_id is None:
        return False
    contact, contacts = scene.request.contact_id, scene.facts.contacts
    if attempt.contact_id == contact:
        return True
    number = scene.request.to_phone or contacts.get(contact or "")
    return number is not None and (attempt.to_phone or contacts.get(attempt.contact_id)) == number


def _through(attempt: ContactAttempt, contact: str | None) -> str:
    """How an attempt counted for `contact`: '' when made to it, else the contact it named."""
    if attempt.contact_id == contact:
        return ""
    return d.THROUGH.say(contact=attempt.contact_id)


def _on_their_number(number: str | None, own: str | None) -> bool:
    """Whether a number dialled is the borrower's own (no number, or theirs unknown: yes)."""
    return number is None or own is None or number == own


def _registered_contacts_only(_rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """registered_contacts_only: the borrower on their own number, or a contact the borrower
    registered on that contact's number; never a number nobody gave (a phone book's)."""
    contact, number = scene.request.contact_id, scene.request.to_phone
    if contact is None:
        own = scene.facts.phone
        if number is not None and own is not None and number != own:
            return False, d.NOT_ON_RECORD.say(number=mask_phone(number), own=mask_phone(own))
        return True, d.OWN_NUMBER.say()
    if contact not in scene.facts.contacts:
        return False, d.NOT_REGISTERED.say(contact=contact)
    registered = scene.facts.contacts[contact]
    if number is not None and number != registered:
        return False, d.NOT_THEIR_NUMBER.say(number=mask_phone(number), contact=contact)
    return True, d.REGISTERED.say(contact=contact)


def _hold(rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """hold: no hold of the rule's kinds covers the local day."""
    return held_on(rule, scene.facts.holds, scene.day)


def held_on(rule: ContactRule, holds: Iterable[Hold], day: date) -> tuple[bool, str]:
    """A hold rule on a local day: passes unless a hold of its kinds covers it (a contact's
    day, or that of a step which presses for payment without contacting anyone)."""
    active = [h for h in holds if h.kind in rule.hold_kinds and h.active_on(day)]
    if active:
        return False, d.HELD.say(holds="; ".join(h.describe() for h in active))
    return True, d.NOT_HELD.say(kinds="/".join(sorted(rule.hold_kinds)), day=day)


def _opt_out(_rule: ContactRule, scene: Scene) -> tuple[bool, str]:
    """opt_out: the borrower has not opted out of the channel by the instant."""
    channel = scene.request.channel
    outs = [o for o in scene.facts.opt_outs if o.channel == channel and o.since <= scene.request.at]
    if outs:
        return False, d.OPTED_OUT.say(channel=channel, at=outs[0].since.isoformat())
    return True, d.NOT_OPTED_OUT.say(channel=channel)


def _limit(rule: ContactRule) -> int:
    """The rule's limit (present for the kinds that count)."""
    assert rule.limit is not None  # guaranteed by ContactRule for the kinds that count
    return rule.limit


def _days(rule: ContactRule) -> int:
    """The rule's window in days (present for the kinds with a window)."""
    assert rule.days is not None  # guaranteed by ContactRule for the kinds with a window
    return rule.days


CHECKS: Mapping[str, Check] = {
    "quiet_hours": _quiet_hours,
    "connected_per_day": _connected_per_day,
    "dials_per_number_per_day": _dials_per_number,
    "attempts_in_days": _attempts_in_days,
    "after_conversation": _after_conversation,
    "third_party_unreachable": _third_party_unreachable,
    "third_party_refused": _third_party_refused,
    "third_party_once": _third_party_once,
    "registered_contacts_only": _registered_contacts_only,
    "hold": _hold,
    "opt_out": _opt_out,
}

# What each daily limit leaves for the rest of a day (None = no daily limit). A conversation cap
# is a bound on calls too: a planner does not plan calls hoping they go unanswered.
CAPACITIES: Mapping[str, Capacity] = {
    "connected_per_day": lambda r, s: max(0, _limit(r) - _conversations_on_day(r, s)),
    "dials_per_number_per_day": lambda r, s: max(0, _limit(r) - _dials_on_day(r, s)),
    "attempts_in_days": lambda r, s: max(0, _limit(r) - _placed_in_days(r, s)),
    "after_conversation": lambda r, s: None if _after_conversation(r, s)[0] else 0,
    "hold": lambda r, s: None if _hold(r, s)[0] else 0,
    "opt_out": lambda r, s: None if _opt_out(r, s)[0] else 0,
}
