"""Use case: would this contact be allowed at this instant? (load the facts → the packs decide)."""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from arrears.domain.citation import cited
from arrears.domain.compliance import RulePack, decide_contact, decide_entry, lawful_window
from arrears.domain.contact import (
    ContactAttempt,
    ContactDecision,
    ContactFacts,
    ContactRequest,
    Reason,
)
from arrears.domain.contact_rules import day_zone, local_day
from arrears.domain.content_lint import ContentPack
from arrears.domain.errors import DomainError
from arrears.domain.rule_details import NO_TIME_OF_DAY
from arrears.domain.rule_pack import ContactRule
from arrears.services.ports import ContactFile, ContactStore, PhoneNumbers

# Channels that reach a phone number: without --to they go to the registered number.
PHONE_CHANNELS = frozenset({"call", "sms"})


class ContactRefused(DomainError):
    """The contact cannot be decided or recorded: unknown borrower, contact or rule pack."""


class ContactInputError(DomainError):
    """A malformed input (a phone number that is not one)."""


@dataclass(frozen=True)
class ContactTerms:
    """What contact decisions need besides the store: the packs and how to read numbers."""

    packs: Mapping[str, RulePack]  # jurisdiction -> contact rules
    jurisdictions: Mapping[str, str]  # product code -> jurisdiction
    phones: PhoneNumbers
    # jurisdiction -> content rules (the lint of what collectors write about a contact)
    content: Mapping[str, ContentPack] = field(default_factory=dict)


def check_contact(
    store: ContactStore, terms: ContactTerms, request: ContactRequest
) -> ContactDecision:
    """The decision for a request: every rule of every pack that applies to the borrower."""
    file = load_file(store, request.borrower_id)
    resolved = resolve_request(file, terms, request)
    return decide_in_file(with_dials_to(store, file, resolved), resolved, terms)


def load_file(store: ContactStore, borrower_id: str) -> ContactFile:
    """The borrower's stored contact file, or ContactRefused naming the unknown borrower."""
    file = store.load_contact_file(borrower_id)
    if file is None:
        raise ContactRefused(f"borrower {borrower_id!r} is not in the database")
    return file


def with_dials_to(store: ContactStore, file: ContactFile, request: ContactRequest) -> ContactFile:
    """The file, with other borrowers' attempts to the request's number too when it is none of
    the file's own (a number given with --to): the dial cap counts every attempt to it."""
    number = request.to_phone
    if number is None or number in file.numbers():
        return file
    theirs = store.shared_dials(file.borrower_id, (number,))
    return replace(file, shared_dials=file.shared_dials + theirs)


def resolve_request(
    file: ContactFile, terms: ContactTerms, request: ContactRequest
) -> ContactRequest:
    """The request with its number in E.164; a call or SMS without one goes to the record's.

    A number a contact registered reaches that contact, whether or not the request names them:
    the third-party rules apply to whoever answers it (CONTRACT.md's counting rules; PIPL
    Art. 6, 23).
    """
    if request.to_phone is not None:
        try:
            # Written without +country code: a number of the borrower's own number's country.
            phone = terms.phones.normalise(request.to_phone, like=file.phone)
        except ValueError as error:
            raise ContactInputError(f"--to: {error}") from None
        if request.contact_id is None and phone != file.phone:
            theirs = sorted(c for c, number in file.contacts.items() if number == phone)
            return replace(request, to_phone=phone, contact_id=theirs[0] if theirs else None)
        return replace(request, to_phone=phone)
    if request.channel not in PHONE_CHANNELS:
        return request
    if request.contact_id is None:
        return replace(request, to_phone=file.phone)
    return replace(request, to_phone=file.contacts.get(request.contact_id))


def decide_in_file(
    file: ContactFile,
    request: ContactRequest,
    terms: ContactTerms,
    attempt: ContactAttempt | None = None,
) -> ContactDecision:
    """Decide under each pack that governs one of the borrower's loans; all must allow. With
    the `attempt` being recorded, also judge the attempts on record after it again
    (compliance.decide_entry)."""
    reasons: list[Reason] = []
    for pack in packs_for(file, terms):
        facts = facts_for(file, request, pack, terms)
        if attempt is None:
            reasons.extend(decide_contact(request, facts, pack).reasons)
        else:
            reasons.extend(decide_entry(request, facts, pack, attempt).reasons)
    return ContactDecision(all(r.passed for r in reasons), tuple(reasons))


def decide_on_day(
    store: ContactStore, terms: ContactTerms, borrower_id: str, channel: str, day: date
) -> ContactDecision:
    """The decision for a contact on the borrower's local `day` as the night's plan takes it
    (batch/plan_windows): at the last moment of the times every pack of the borrower's loans
    allows that day, counting every attempt on record; refused under each pack's quiet rule
    when the packs share no lawful time that day. For a step dated on a day (the desk's
    lawyer's letter), so that the desk and the run decide it alike."""
    file = load_file(store, borrower_id)
    packs = packs_for(file, terms)
    asked = resolve_request(file, terms, ContactRequest(borrower_id, channel, _noon(day)))
    start, end = None, None
    quiet: list[Reason] = []
    for pack in packs:
        facts = facts_for(file, asked, pack, terms)
        window = lawful_window(day, facts.zones, pack, channel=channel, day_zone=facts.day_zone)
        quiet += [_closed(rule, day) for rule in pack.rules_for(channel)
                  if rule.kind == "quiet_hours"]  # fmt: skip
        if window is None:
            return ContactDecision(False, tuple(quiet))
        start = window[0] if start is None else max(start, window[0])
        end = window[1] if end is None else min(end, window[1])
    if start is None or end is None or start >= end:
        return ContactDecision(False, tuple(quiet))
    at = end - timedelta(seconds=1)  # the plan's instant: every attempt of the day so far
    request = resolve_request(file, terms, ContactRequest(borrower_id, channel, at))
    return decide_in_file(with_dials_to(store, file, request), request, terms)


def holds_on_day(
    store: ContactStore, terms: ContactTerms, borrower_id: str, day: date
) -> ContactDecision:
    """The hold rules of every pack of the borrower's loans on their local `day` (a step that
    contacts nobody but presses for payment, as a filing does, stops under a hold too)."""
    file = load_file(store, borrower_id)
    reasons: list[Reason] = []
    for pack in packs_for(file, terms):
        holds = tuple(rule for rule in pack.rules if rule.kind == "hold")
        if not holds:
            continue
        request = ContactRequest(borrower_id, "letter", _noon(day))
        facts = facts_for(file, request, pack, terms)
        at = datetime.combine(day, time(12), ZoneInfo(facts.day_zone))
        decided = decide_contact(replace(request, at=at), facts, replace(pack, rules=holds))
        reasons.extend(decided.reasons)
    return ContactDecision(all(r.passed for r in reasons), tuple(reasons))


def borrower_days(
    store: ContactStore, terms: ContactTerms, borrower_id: str, now: datetime
) -> list[date]:
    """The borrower's local day at `now` in the zone each pack of their loans counts days in
    (the day its hold rule asks about: contact_rules._hold)."""
    file = load_file(store, borrower_id)
    days = []
    for pack in packs_for(file, terms):
        own = terms.phones.zones(file.phone, pack.default_zone, file.timezone)
        days.append(local_day(now, day_zone(own, pack.default_zone)))
    return days


def _noon(day: date) -> datetime:
    """An instant of `day` (UTC noon) where only the day matters to a request."""
    return datetime.combine(day, time(12), UTC)


def _closed(rule: ContactRule, day: date) -> Reason:
    """A quiet rule refusing a day with no time every pack allows (as the night names it)."""
    source = cited(rule.source, rule.verified)
    detail = NO_TIME_OF_DAY.say(day=day.isoformat())
    return Reason(rule.rule_id, source, detail, False)


def packs_for(file: ContactFile, terms: ContactTerms) -> list[RulePack]:
    """The rule packs of the jurisdictions of the borrower's loans (no loan: refused)."""
    if not file.products:
        raise ContactRefused(
            f"borrower {file.borrower_id!r} has no loan, so no rule pack says a contact is "
            f"allowed; import their loans first"
        )
    found: dict[str, RulePack] = {}
    for product in sorted(file.products):
        jurisdiction = terms.jurisdictions.get(product)
        if jurisdiction is None:
            raise ContactRefused(f"product {product!r} of borrower {file.borrower_id!r} is unknown")
        if jurisdiction not in terms.packs:
            raise ContactRefused(f"no contact rule pack for jurisdiction {jurisdiction!r}")
        found[jurisdiction] = terms.packs[jurisdiction]
    return [found[j] for j in sorted(found)]


def facts_for(
    file: ContactFile, request: ContactRequest, pack: RulePack, terms: ContactTerms
) -> ContactFacts:
    """The facts one pack decides on, with the zones of the person the request reaches.

    Days count in the borrower's zone: the recorded one, else one of their number's
    (contact_rules.day_zone). The time of day must suit the person reached: the borrower
    (recorded zone, else every zone of the number dialled; under a pack that says so, the
    recorded zone and every zone of the number) or a contact (every zone of their number;
    under a pack that says so, and the borrower's too).
    """
    phones, default = terms.phones, pack.default_zone
    own = phones.zones(file.phone, default, file.timezone)
    if request.contact_id is None:
        zones = phones.zones(request.to_phone or file.phone, default, file.timezone,
                             number_too=pack.number_zones_too)  # fmt: skip
    else:
        zones = phones.zones(request.to_phone or file.contacts.get(request.contact_id), default)
        if pack.debtor_zones_for_contacts:
            zones = (*zones, *(name for name in own if name not in zones))
    return ContactFacts(
        zones=zones,
        day_zone=day_zone(own, default),
        attempts=file.attempts,
        holds=file.holds,
        opt_outs=file.opt_outs,
        contacts=file.contacts,
        shared_dials=file.shared_dials,
        phone=file.phone,
    )


def reason_document(reason: Reason) -> dict[str, Any]:
    """A reason as stored and printed: {"rule", "source", "detail", "passed"}."""
    return {
        "rule": reason.rule,
        "source": reason.source,
        "detail": reason.detail,
        "passed": reason.passed,
    }
