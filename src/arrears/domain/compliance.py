"""The compliance engine: may this contact be made now, and what may still be done on a day."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from arrears.domain import rule_details as d
from arrears.domain.citation import cited
from arrears.domain.contact import (
    CHANNELS,
    ContactAttempt,
    ContactDecision,
    ContactFacts,
    ContactRequest,
    Reason,
)
from arrears.domain.contact_rules import CAPACITIES, CHECKS, Scene, quiet_span, zone
from arrears.domain.rule_pack import ContactRule, RulePack

__all__ = [
    "ContactRule",
    "DayCapacity",
    "RulePack",
    "decide_contact",
    "decide_entry",
    "lawful_window",
    "remaining_capacity",
]

Span = tuple[datetime, datetime]  # [start, end) as aware datetimes


def decide_contact(request: ContactRequest, facts: ContactFacts, pack: RulePack) -> ContactDecision:
    """Check every rule of the pack that governs the request's channel; allowed if all pass."""
    scene = Scene.of(request, facts)
    reasons = tuple(_reason(rule, scene) for rule in pack.rules_for(request.channel))
    return ContactDecision(all(reason.passed for reason in reasons), reasons)


def decide_entry(
    request: ContactRequest, facts: ContactFacts, pack: RulePack, attempt: ContactAttempt
) -> ContactDecision:
    """decide_contact for an attempt being recorded (`attempt`, made as `request` asks), and
    broken too under every rule that an attempt on record after it passed without it and
    fails with it: an attempt logged out of order (a dialler's file sent late) can make a
    later call the 8th in 7 days (12 CFR 1006.14(b)(2)(i)(A)) though each passed when logged.
    The borrower's own later attempts are judged again under every rule (`facts.attempts`);
    other borrowers' later attempts to the number this one dialled under the per-number dial
    cap only (`facts.shared_dials`), the one rule that counts them.

    A call the person made (INBOUND) is no contact placed: no rule judges it (every rule of
    the channel passes, saying so), but the calls on record after it are judged again with
    it, a conversation: one within the 7 days after it (12 CFR 1006.14(b)(2)(i)(B)) flags it,
    naming that call."""
    if attempt.placed:
        decision = decide_contact(request, facts, pack)
    else:
        decision = _not_judged(request, pack)
    flagged: dict[str, Reason] = {}
    for index, made in sorted(enumerate(facts.attempts), key=lambda pair: pair[1].at):
        if made.at <= request.at or not made.placed:  # a call the person made: never judged
            continue
        others = facts.attempts[:index] + facts.attempts[index + 1 :]
        asked = ContactRequest(request.borrower_id, made.channel, made.at, made.to_phone,
                               made.contact_id)  # fmt: skip
        then = decide_contact(asked, replace(facts, attempts=others), pack)
        now = decide_contact(asked, replace(facts, attempts=(*others, attempt)), pack)
        _flag(flagged, then, now, d.THE_ATTEMPT.say(channel=made.channel, at=made.at.isoformat()))
    number = attempt.to_phone
    capped = tuple(rule for rule in pack.rules if rule.kind == "dials_per_number_per_day")
    shared = sorted(enumerate(facts.shared_dials), key=lambda pair: pair[1].at)
    for index, made in shared if number is not None and capped else ():
        if made.at <= request.at or made.to_phone != number or not made.placed:
            continue
        # The other borrower's attempt, counted as a dial to the number: the borrower's own
        # attempts to it and everyone else's, without it and then with this one.
        theirs = facts.shared_dials[:index] + facts.shared_dials[index + 1 :]
        asked = ContactRequest(request.borrower_id, made.channel, made.at, number)
        scene = replace(facts, shared_dials=theirs)
        only = replace(pack, rules=capped)
        then = decide_contact(asked, scene, only)
        now = decide_contact(asked, replace(scene, attempts=(*facts.attempts, attempt)), only)
        label = d.SHARED_ATTEMPT.say(channel=made.channel, at=made.at.isoformat())
        _flag(flagged, then, now, label)
    if not flagged:
        return decision
    return ContactDecision(False, decision.reasons + tuple(flagged.values()))


def _not_judged(request: ContactRequest, pack: RulePack) -> ContactDecision:
    """The decision on a call the person made: every rule of the channel passes, unjudged."""
    detail = d.NOT_JUDGED.say()
    rules = pack.rules_for(request.channel)
    reasons = tuple(Reason(rule.rule_id, _source(rule), detail, True) for rule in rules)
    return ContactDecision(True, reasons)


def _flag(
    flagged: dict[str, Reason], then: ContactDecision, now: ContactDecision, what: str
) -> None:
    """Add to `flagged` each rule that `then` passed and `now` breaks (once per rule), its
    detail saying which attempt on record (`what`) the recorded one made break it."""
    for was, found in zip(then.reasons, now.reasons, strict=True):
        if was.passed and not found.passed and found.rule not in flagged:
            detail = d.FLAGGED.say(what=what, detail=found.detail)
            flagged[found.rule] = replace(found, detail=detail)


def _reason(rule: ContactRule, scene: Scene) -> Reason:
    """One rule's verdict, its source labelled when the pack marks it unverified."""
    passed, detail = CHECKS[rule.kind](rule, scene)
    return Reason(rule.rule_id, _source(rule), detail, passed)


def _source(rule: ContactRule) -> str:
    """A rule's source, labelled when the pack marks it unverified."""
    return cited(rule.source, rule.verified)


def lawful_window(
    day: date,
    zones: Sequence[str],
    pack: RulePack,
    *,
    channel: str = "call",
    day_zone: str | None = None,
) -> Span | None:
    """The longest stretch of the local `day` in which no zone is in quiet hours, or None.

    `day` is a calendar day of `day_zone` (default: the first zone); the window is
    [start, end) in that zone, and every one of `zones` must allow every instant of it.
    """
    home = zone(day_zone or zones[0])
    start = datetime.combine(day, time(), home).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), home).astimezone(UTC)
    open_spans = [(start, end)]
    for rule in pack.rules_for(channel):
        if rule.kind == "quiet_hours":
            for name in zones:
                open_spans = _intersect(open_spans, _allowed_spans(rule, name, start, end))
    if not open_spans:
        return None
    first, last = max(open_spans, key=lambda span: span[1] - span[0])  # max keeps the earliest
    return first.astimezone(home), last.astimezone(home)


def _allowed_spans(rule: ContactRule, zone_name: str, start: datetime, end: datetime) -> list[Span]:
    """The instants around [start, end) outside the rule's quiet hours in one zone, in UTC."""
    quiet_from, quiet_until = quiet_span(rule)
    where = zone(zone_name)
    first = start.astimezone(where).date() - timedelta(days=1)
    last = end.astimezone(where).date() + timedelta(days=1)
    spans: list[Span] = []
    day = first
    while day <= last:
        after = day + timedelta(days=1)
        if quiet_from > quiet_until:  # quiet over midnight: open in the daytime
            pieces = [((day, quiet_until), (day, quiet_from))]
        else:  # quiet inside the day: open before and after
            pieces = [
                ((day, time()), (day, quiet_from)),
                ((day, quiet_until), (after, time())),
            ]
        for (d0, t0), (d1, t1) in pieces:
            spans.append(
                (
                    datetime.combine(d0, t0, where).astimezone(UTC),
                    datetime.combine(d1, t1, where).astimezone(UTC),
                )
            )
        day = after
    return spans


def _intersect(left: list[Span], right: list[Span]) -> list[Span]:
    """The instants in both lists of sorted, disjoint spans."""
    out: list[Span] = []
    for a0, a1 in left:
        for b0, b1 in right:
            lo, hi = max(a0, b0), min(a1, b1)
            if lo < hi:
                out.append((lo, hi))
    return _merge(sorted(out))


def _merge(spans: list[Span]) -> list[Span]:
    """Join spans that touch or overlap (sorted input)."""
    merged: list[Span] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


@dataclass(frozen=True)
class DayCapacity:
    """What a borrower may still be sent on a local day, per channel.

    `remaining[channel]`: how many more attempts the daily limits allow (None = the pack sets
    no daily limit; 0 = none today, e.g. a hold, an opt-out or no lawful window);
    `windows[channel]`: the lawful send window in local time, or None.
    """

    day: date
    remaining: Mapping[str, int | None]
    windows: Mapping[str, Span | None]

    def allows(self, channel: str) -> bool:
        """Whether at least one more attempt on `channel` fits the day."""
        left = self.remaining[channel]
        return left is None or left > 0


def remaining_capacity(
    facts: ContactFacts, day: date, pack: RulePack, *, to_phone: str | None = None
) -> DayCapacity:
    """For the borrower (not a third party) on a local day of `facts.day_zone`: what is left.

    Every attempt recorded on the day counts, also those later than now: a plan for a day
    must fit the whole day. `to_phone` is the number a call would dial.
    """
    tz = zone(facts.day_zone)
    end = datetime.combine(day + timedelta(days=1), time(), tz).astimezone(UTC)
    remaining: dict[str, int | None] = {}
    windows: dict[str, Span | None] = {}
    for channel in CHANNELS:
        request = ContactRequest("", channel, end - timedelta(microseconds=1), to_phone)
        scene = Scene.of(request, facts)
        window = lawful_window(day, facts.zones, pack, channel=channel, day_zone=facts.day_zone)
        limits = [
            left
            for rule in pack.rules_for(channel)
            if rule.kind in CAPACITIES and (left := CAPACITIES[rule.kind](rule, scene)) is not None
        ]
        windows[channel] = window
        remaining[channel] = 0 if window is None else min(limits, default=None)
    return DayCapacity(day, remaining, windows)
