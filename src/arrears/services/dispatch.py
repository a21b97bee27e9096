"""Send the outbox's texts and e-mails whose window holds the moment: each checked again by
the compliance engine at that moment, filled in from the loan's last run, linted, sent once
and logged as a contact (docs/CHANNELS.md)."""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from arrears.domain.contact import ContactRequest, require_aware
from arrears.domain.errors import DomainError
from arrears.domain.messages import KnownMessage, Message, TemplateError, faults, render
from arrears.domain.money import format_amount
from arrears.services.contact_check import (
    ContactTerms,
    check_contact,
    load_file,
    reason_document,
)
from arrears.services.contact_log import log_contact
from arrears.services.content_check import packs_of
from arrears.services.dispatch_ports import (
    DispatchStore,
    DueMessage,
    Finished,
    MessageFacts,
    MessageSender,
    SendFailed,
)
from arrears.services.ports import ContactStore

# A gateway's passing fault is tried again after RETRY_AFTER, at most TRIES times in all,
# and never outside the row's lawful window (the next run plans what is still due).
TRIES = 3
RETRY_AFTER = timedelta(minutes=10)


class DispatchRefused(DomainError):
    """Nothing was sent: a due row's template has no message, or one of another channel."""


class _GatewayDown(Exception):
    """A channel's gateway cannot be reached or signed into: its rows wait for the next run."""


@dataclass
class SendReport:
    """What one sending did: counts by how each row ended, the rules that cancelled rows,
    each row's end, and the rows left in doubt by an earlier sender."""

    ended: Counter[str] = field(default_factory=Counter)
    cancelled_by: Counter[str] = field(default_factory=Counter)
    rows: list[tuple[str, Finished]] = field(default_factory=list)
    in_doubt: list[str] = field(default_factory=list)
    down: dict[str, str] = field(default_factory=dict)  # channel -> what its gateway said


@dataclass(frozen=True)
class Sending:
    """What sending needs besides the stores: the messages, the gateways by channel, and the
    lender's own facts the messages name ({lender}, {service_phone})."""

    messages: Mapping[str, KnownMessage]
    senders: Mapping[str, MessageSender]
    lender: Mapping[str, str]


def send_due(
    store: DispatchStore,
    contacts: ContactStore,
    terms: ContactTerms,
    sending: Sending,
    now: datetime,
) -> SendReport:
    """Send every row due at `now` on the channels there is a gateway for; refuse (before
    anything is claimed) when a due row's template has no message of its channel."""
    require_aware(now, "the moment of sending")
    report = SendReport(in_doubt=store.in_doubt())
    due = store.due(now, tuple(sorted(sending.senders)))
    _check_templates(due, sending.messages)
    for item in due:
        if item.channel in report.down or not store.claim(item, now):
            continue  # its gateway is down, or another sender took it
        try:
            finished = _deliver(item, store, contacts, terms, sending, now)
        except _GatewayDown as down:
            # Nothing was sent and no try made: due again at once, from the next run on.
            report.down[item.channel] = str(down)
            finished = Finished("retry", item.tries, now, detail=str(down), next_try_at=now)
        store.finish(item.action_key, finished)
        report.ended[finished.state] += 1
        report.cancelled_by.update(r["rule"] for r in finished.reasons if not r["passed"])
        report.rows.append((item.action_key, finished))
    return report


def _check_templates(due: list[DueMessage], messages: Mapping[str, KnownMessage]) -> None:
    """DispatchRefused naming each template of the due rows without a message of its row's
    channel (a settings or ladder mistake: every row of it would fail alike)."""
    wrong = sorted({
        f"{item.template} ({item.channel})" for item in due
        if item.template not in messages
        or messages[item.template].template.channel != item.channel
    })  # fmt: skip
    if wrong:
        raise DispatchRefused(
            f"no message for template(s) {', '.join(wrong)}: give each a [[messages]] entry of "
            f"that channel in the settings file; nothing was sent"
        )


def _deliver(
    item: DueMessage,
    store: DispatchStore,
    contacts: ContactStore,
    terms: ContactTerms,
    sending: Sending,
    now: datetime,
) -> Finished:
    """Check, fill in, lint and send one claimed row, and log it as a contact once sent."""
    tries = item.tries + 1
    facts = store.facts(item.loan_id, item.planned_for)
    if facts is None:
        return Finished("failed", tries, now, detail=f"loan {item.loan_id} has no run yet")
    if facts.paid_since_run:
        # The figures predate a payment: a demand for money already paid would mislead.
        return Finished("cancelled", tries, now, detail="a payment came in since the last run")
    request = ContactRequest(item.borrower_id, item.channel, now)
    decision = check_contact(contacts, terms, request)
    if not decision.allowed:
        reasons = [reason_document(r) for r in decision.reasons]
        broken = ", ".join(r.rule for r in decision.broken)
        return Finished("cancelled", tries, now, detail=f"refused at sending by {broken}",
                        reasons=reasons)  # fmt: skip
    file = load_file(contacts, item.borrower_id)
    address = file.phone if item.channel == "sms" else facts.email
    if not address:
        return Finished("failed", tries, now, detail="no e-mail address on record")
    known = sending.messages[item.template]
    try:
        message = render(known.template, _filled(item, facts, sending.lender))
    except TemplateError as error:  # too long once filled in
        return Finished("failed", tries, now, address, detail=str(error))
    found = faults(message.texts, message.channel,
                   packs_of(terms.content, terms.jurisdictions, file.products))  # fmt: skip
    if found:
        return Finished("failed", tries, now, address, detail="; ".join(found))
    return _sent(item, message, address, contacts, terms, sending, now, tries)


def _sent(
    item: DueMessage,
    message: Message,
    address: str,
    contacts: ContactStore,
    terms: ContactTerms,
    sending: Sending,
    now: datetime,
    tries: int,
) -> Finished:
    """Hand the message to its gateway; log the contact once any of it was taken."""
    try:
        ids = sending.senders[item.channel].send(address, message, item.action_key, now)
    except SendFailed as failure:
        if failure.gateway:
            raise _GatewayDown(failure.detail) from None
        if failure.sent_parts:  # some of it reached the borrower: it is a contact made
            log_contact(contacts, terms, ContactRequest(item.borrower_id, item.channel, now),
                        "sent", now)  # fmt: skip
            return Finished("failed", tries, now, address, detail=failure.detail)
        again = now + RETRY_AFTER
        if failure.permanent or tries >= TRIES or again >= item.window_end:
            return Finished("failed", tries, now, address, detail=failure.detail)
        return Finished("retry", tries, now, address, detail=failure.detail, next_try_at=again)
    log_contact(contacts, terms, ContactRequest(item.borrower_id, item.channel, now), "sent", now)
    return Finished("sent", tries, now, address, message_ids=ids)


def _filled(item: DueMessage, facts: MessageFacts, lender: Mapping[str, str]) -> dict[str, str]:
    """The placeholders' values for a row's message."""
    return {
        "name": facts.name,
        "loan_id": item.loan_id,
        "as_of": facts.as_of.isoformat(),
        "dpd": str(facts.dpd),
        "overdue": format_amount(facts.overdue),
        "outstanding": format_amount(facts.outstanding),
        "currency": facts.currency,
        "lender": lender.get("lender", ""),
        "service_phone": lender.get("service_phone", ""),
    }
