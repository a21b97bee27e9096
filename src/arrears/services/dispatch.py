"""Send the outbox's texts and e-mails whose window holds the moment: each checked again by
the compliance engine at that moment, filled in from the loan's last run, linted, sent once
and logged as a contact (docs/CHANNELS.md)."""

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import ContactRequest, require_aware
from arrears.domain.content_lint import ContentPack
from arrears.domain.errors import DomainError
from arrears.domain.messages import KnownMessage, Message, TemplateError, faults, render
from arrears.domain.money import format_amount
from arrears.domain.receipts import Receipt
from arrears.domain.replies import Reply, StoredReply
from arrears.domain.staff import CONSOLE
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
    ReceiptReader,
    SendFailed,
)
from arrears.services.ports import ContactStore
from arrears.services.replies import ReplyTaking

# A gateway's passing fault is tried again after RETRY_AFTER, at most TRIES times in all,
# and never outside the row's lawful window (the next run plans what is still due).
TRIES = 3
RETRY_AFTER = timedelta(minutes=10)
# A row claimed longer ago than this and not finished was left by a sender that stopped: in
# doubt. A sender finishes each row within its gateway's timeouts (30 s each).
IN_DOUBT_AFTER = timedelta(minutes=15)
# Nothing is begun this close to a window's end: a text of six parts can take its gateway
# this long at worst (30 s a step), and it must reach the borrower inside the window.
END_MARGIN = timedelta(minutes=5)


class DispatchRefused(DomainError):
    """Nothing was sent: a due row's template has no message of its channel, or one the
    content rules as they are now find fault with."""


class SendInterrupted(DomainError):
    """The store failed to record how a row ended: the batch stops there, that row left
    claimed (in doubt when its message went), with what was done before it."""

    def __init__(self, report: "SendReport", key: str, finished: Finished, error: Exception):
        went = finished.state == "sent" or bool(finished.message_ids)
        super().__init__(
            f"stopped: the database could not record how {key} ended ({error}); "
            + ("its message went and it is left in doubt" if went else "it is left claimed")
        )
        self.report = report


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
    clock: Callable[[], datetime],
) -> SendReport:
    """Send every row due now on the channels there is a gateway for, each checked, sent and
    logged at the moment `clock` gives as it comes to it (a batch that runs into the quiet
    hours is stopped by them); refuse, before anything is claimed, when a due row's template
    has no message of its channel or its message breaks the content rules as they are now."""
    start = _aware(clock())
    report = SendReport(in_doubt=store.in_doubt(start - IN_DOUBT_AFTER))
    report.rows.extend(store.expire(start))  # retries whose window ended
    report.ended.update(finished.state for _, finished in report.rows)
    due = store.due(start, tuple(sorted(sending.senders)), END_MARGIN)
    _check_templates(due, sending.messages, terms.content)
    for item in due:
        now = _aware(clock())
        if now >= item.window_end - END_MARGIN:
            continue  # too late to begin it today: it stays planned, not sent
        if item.channel in report.down or not store.claim(item, now):
            continue  # its gateway is down, or another sender took it
        try:
            finished = _deliver(item, store, contacts, terms, sending, now, clock)
        except _GatewayDown as down:
            # Nothing was sent and no try made: due again at once, from the next run on.
            report.down[item.channel] = str(down)
            finished = Finished("retry", item.tries, now, detail=str(down), next_try_at=now)
        try:
            store.finish(item.action_key, finished)
        except Exception as error:  # said with what was done so far, then stop
            raise SendInterrupted(report, item.action_key, finished, error) from error
        report.ended[finished.state] += 1
        report.cancelled_by.update(r["rule"] for r in finished.reasons if not r["passed"])
        report.rows.append((item.action_key, finished))
    return report


def _aware(now: datetime) -> datetime:
    """The clock's moment, refused without its offset."""
    require_aware(now, "the moment of sending")
    return now


def _check_templates(
    due: list[DueMessage], messages: Mapping[str, KnownMessage], content: Mapping[str, ContentPack]
) -> None:
    """DispatchRefused naming each template of the due rows without a message of its row's
    channel, or whose message its pack's content rules as they are now find fault with (a
    settings or ladder mistake: every row of it would fail alike)."""
    wrong: set[str] = set()
    for template_id, channel in {(item.template, item.channel) for item in due}:
        known = messages.get(template_id)
        if known is None or known.template.channel != channel:
            wrong.add(f"{template_id} ({channel}): no message of that channel")
            continue
        pack = content.get(known.jurisdiction)
        found = faults(known.template.texts, channel, [pack] if pack else [])
        if found:
            wrong.add(f"{template_id} ({channel}): {'; '.join(found)}")
    if wrong:
        raise DispatchRefused(
            f"template(s) that cannot be sent: {' | '.join(sorted(wrong))}; give each a "
            f"[[messages]] entry of its channel in the settings file; nothing was sent"
        )


def _deliver(
    item: DueMessage,
    store: DispatchStore,
    contacts: ContactStore,
    terms: ContactTerms,
    sending: Sending,
    now: datetime,
    clock: Callable[[], datetime],
) -> Finished:
    """Check, fill in, lint and send one claimed row, and log it as a contact once sent; a
    row that cannot be checked or filled in (an unknown product, a bad record) fails, naming
    why, and the batch goes on."""
    tries = item.tries + 1
    try:
        ready = _checked(item, store, contacts, terms, sending, now, tries)
    except (DomainError, ValueError) as error:
        return Finished("failed", tries, now, detail=f"not sent: {error}")
    except Exception as error:  # noqa: BLE001 (nothing went yet: the row must not be left claimed)
        # The record or the rules could not be read (the database busy): nothing reached the
        # gateway, so the row is tried again as a passing fault is, not left claimed to be
        # found in doubt a quarter of an hour on (helper-117).
        detail = f"not sent: its record could not be read ({error!r})"
        again = now + RETRY_AFTER
        if tries >= TRIES or again >= item.window_end - END_MARGIN:
            return Finished("failed", tries, now, detail=detail)
        return Finished("retry", tries, now, detail=detail, next_try_at=again)
    if isinstance(ready, Finished):
        return ready
    message, address = ready
    return _sent(item, message, address, contacts, terms, sending, now, tries, clock)


def _checked(
    item: DueMessage,
    store: DispatchStore,
    contacts: ContactStore,
    terms: ContactTerms,
    sending: Sending,
    now: datetime,
    tries: int,
) -> Finished | tuple[Message, str]:
    """_deliver's steps up to the gateway: how the row ends before it, or the message and
    the address it goes to."""
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
    address = file.phone if item.channel == "sms" else _one_address(facts.email)
    if not address:
        why = "no e-mail address on record"
        if facts.email:
            why = "the e-mail on record is not one plain address (a list, or no user@domain)"
        return Finished("failed", tries, now, detail=why)
    known = sending.messages[item.template]
    try:
        message = render(known.template, _filled(item, facts, sending.lender))
    except TemplateError as error:  # too long once filled in
        return Finished("failed", tries, now, address, detail=str(error))
    found = faults(message.texts, message.channel,
                   packs_of(terms.content, terms.jurisdictions, file.products))  # fmt: skip
    if found:
        return Finished("failed", tries, now, address, detail="; ".join(found))
    return message, address


def _sent(
    item: DueMessage,
    message: Message,
    address: str,
    contacts: ContactStore,
    terms: ContactTerms,
    sending: Sending,
    now: datetime,
    tries: int,
    clock: Callable[[], datetime],
) -> Finished:
    """Hand the message to its gateway; log it as a contact, at the moment the gateway was
    done with it, once any of it went or may have gone."""
    try:
        ids = sending.senders[item.channel].send(address, message, item.action_key, now)
    except Exception as error:  # noqa: BLE001 (an adapter's fault must not strand the batch)
        failure = error if isinstance(error, SendFailed) else SendFailed(
            f"the {item.channel} gateway's adapter failed ({error!r}): it may have been sent, "
            f"so it is not sent again", permanent=True, maybe_sent=True)  # fmt: skip
        if failure.gateway:
            raise _GatewayDown(failure.detail) from None
        if failure.sent_parts or failure.maybe_sent:  # it reached or may have reached them
            detail = _logged(item, contacts, terms, _aware(clock()), failure.detail)
            return Finished("failed", tries, now, address, detail=detail)
        again = now + RETRY_AFTER
        if failure.permanent or tries >= TRIES or again >= item.window_end - END_MARGIN:
            return Finished("failed", tries, now, address, detail=failure.detail)
        return Finished("retry", tries, now, address, detail=failure.detail, next_try_at=again)
    detail = _logged(item, contacts, terms, _aware(clock()), None)
    return Finished("sent", tries, now, address, detail=detail, message_ids=ids)


def _logged(
    item: DueMessage, contacts: ContactStore, terms: ContactTerms, at: datetime, detail: str | None
) -> str | None:
    """Log a message that went as a contact made at `at`; the row's detail, saying so when
    the log could not be written (the message went: the row must still end)."""
    try:
        log_contact(contacts, terms, ContactRequest(item.borrower_id, item.channel, at), "sent",
                    at)  # fmt: skip
    except Exception as error:  # noqa: BLE001 (the send happened whatever the log says)
        unlogged = f"it went, but the contact log could not be written ({error!r})"
        return f"{detail}; {unlogged}" if detail else unlogged
    return detail


def _one_address(stored: str | None) -> str | None:
    """The one plain ASCII address a stored e-mail names ("Name <a@b.c>" or "a@b.c"), or
    None for none, a list or something else: a message goes to the borrower alone."""
    if not stored:
        return None
    found = getaddresses([stored])
    if len(found) != 1:
        return None
    address = found[0][1]
    local, _, domain = address.rpartition("@")
    if not (local and "." in domain and address.isascii()) or any(c.isspace() for c in address):
        return None
    return address


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


def take_receipts(
    store: DispatchStore,
    reader: ReceiptReader,
    seconds: float,
    clock: Callable[[], datetime],
    replies: ReplyTaking | None = None,
) -> Counter[str]:
    """Read the gateway's delivery receipts for `seconds` (and borrowers' replies, given
    `replies`), each written (at the moment it came) before the gateway is told it came, so
    none is lost: one that cannot be written is left for the gateway to deliver again.
    Counts by what they did (delivered, undelivered, pending, unmatched; replies, and of
    them opted_out; `again` for those left)."""
    counts: Counter[str] = Counter()

    def keep(receipt: Receipt) -> bool:
        try:
            counts[store.record_receipt(receipt, _aware(clock()))] += 1
        except Exception:  # noqa: BLE001 (the database busy or gone: the SMSC sends it again)
            counts["again"] += 1
            return False
        return True

    def kept(stored: StoredReply | None) -> None:
        if stored is not None:  # None: a part of a long reply, kept aside for the rest
            counts["replies"] += 1
            counts[stored.state] += 1

    def keep_reply(reply: Reply) -> bool:
        assert replies is not None
        try:
            kept(replies.take(reply, _aware(clock())))
        except Exception:  # noqa: BLE001 (as for a receipt: the SMSC sends it again)
            counts["again"] += 1
            return False
        return True

    if replies is not None:
        try:
            for stored in replies.sweep(_aware(clock())):
                kept(stored)
        except Exception:  # noqa: BLE001 (the database busy: the parts wait for the next read)
            counts["again"] += 1
    reader.read(seconds, keep, keep_reply if replies is not None else None)
    return counts


def settle_in_doubt(
    store: DispatchStore,
    contacts: ContactStore,
    terms: ContactTerms,
    action_key: str,
    went: bool,
    now: datetime,
) -> None:
    """End a row in doubt by hand, as the gateway's records say (audited `delivery.settle`):
    it went (`done`/`sent`, logged as a contact at the moment it was claimed) or it did not
    (`cancelled`). DispatchRefused when the row is not in doubt."""
    now = _aware(now)

    def entry(loan_id: str) -> AuditEntry:
        return AuditEntry(now.astimezone(UTC), CONSOLE, "delivery.settle", f"loan:{loan_id}",
                          {"action_key": action_key, "went": went})  # fmt: skip

    settled = store.settle(action_key, went, now - IN_DOUBT_AFTER, entry)
    if settled is None:
        raise DispatchRefused(
            f"{action_key} is not in doubt (no such row, finished, or claimed less than "
            f"{int(IN_DOUBT_AFTER.total_seconds() // 60)} minutes ago): nothing was changed"
        )
    borrower, channel, claimed = settled
    if went:
        log_contact(contacts, terms, ContactRequest(borrower, channel, claimed), "sent", now)
