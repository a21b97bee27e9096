"""What sending the outbox's texts and e-mails needs: the gateways and the store."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from arrears.domain.audit_chain import AuditEntry
from arrears.domain.messages import Message
from arrears.domain.receipts import Receipt
from arrears.domain.replies import Reply


class SendFailed(Exception):
    """The gateway did not take the message: `permanent` when trying again cannot help (an
    address refused), else a passing fault (a connection lost, a queue full); `gateway` when
    the gateway could not be reached or signed into at all (no message of its channel can
    go until it is mended)."""

    def __init__(
        self,
        detail: str,
        *,
        permanent: bool,
        sent_parts: int = 0,
        gateway: bool = False,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.sent_parts = sent_parts  # of a long text, the parts the gateway took before
        self.gateway = gateway
        # No answer once it was handed over: it may have reached the borrower.
        self.maybe_sent = maybe_sent


class MessageSender(Protocol):
    """A gateway of one channel, open for a batch of messages."""

    def send(self, to: str, message: Message, key: str, at: datetime) -> tuple[str, ...]:
        """Send `message` to `to` (E.164 number or e-mail address), `key` naming it once for
        the gateway; the gateway's ids of what it took, or SendFailed."""
        ...


@dataclass(frozen=True)
class DueMessage:
    """An outbox row whose text or e-mail may be sent now (in its window, not yet claimed, or
    claimed before and due to be tried again)."""

    action_key: str
    loan_id: str
    borrower_id: str
    channel: str
    template: str
    planned_for: date
    window_end: datetime  # the lawful window's end: nothing is tried from then on
    tries: int  # made before (a retry's)
    claimed: bool  # a delivery row exists (a retry's): claimed again, not anew


@dataclass(frozen=True)
class MessageFacts:
    """What a message about a loan says, as of the loan's last run, and what it is sent to."""

    name: str
    email: str | None
    currency: str
    as_of: date
    dpd: int
    overdue: int
    outstanding: int
    paid_since_run: bool  # a payment dated by the plan's day that the last run did not apply


@dataclass(frozen=True)
class Finished:
    """How a claimed delivery ends this time: sent, retry (tried again from `next_try_at`),
    failed or cancelled; with the outbox row's status and outcome when it ends for good."""

    state: str
    tries: int
    at: datetime
    address: str | None = None
    detail: str | None = None
    message_ids: tuple[str, ...] = ()
    reasons: list[dict[str, Any]] = field(default_factory=list)
    next_try_at: datetime | None = None


class DispatchStore(Protocol):
    """The outbox's deliveries on SQLite or PostgreSQL."""

    def due(self, now: datetime, channels: tuple[str, ...], margin: timedelta) -> list[DueMessage]:
        """Rows of `channels` whose window holds `now` and lasts `margin` longer: planned and
        unclaimed, or to be tried again by now."""
        ...

    def in_doubt(self, claimed_before: datetime) -> list[str]:
        """Keys claimed before `claimed_before` by a sender that never said how it ended (a
        sender stopped between the gateway and the record): never sent again by themselves."""
        ...

    def expire(self, now: datetime) -> list[tuple[str, "Finished"]]:
        """Fail the rows waiting for another try whose window has ended by `now`, and say
        how each ended."""
        ...

    def claim(self, item: DueMessage, now: datetime) -> bool:
        """Take the row for this sender (False: another took it, or it was worked)."""
        ...

    def facts(self, loan_id: str, planned_for: date) -> MessageFacts | None:
        """The loan's figures at its last run and its borrower's name and e-mail (None: the
        loan has no state yet)."""
        ...

    def finish(self, action_key: str, finished: Finished) -> None:
        """Record how the claimed delivery ended this time, and the outbox row's end."""
        ...

    def settle(
        self,
        action_key: str,
        went: bool,
        claimed_before: datetime,
        entry: Callable[[str], AuditEntry],
    ) -> tuple[str, str, datetime] | None:
        """End a row in doubt (claimed before `claimed_before`, never finished) as sent or
        not, with its audit entry (`entry`: made of the row's loan) in the same transaction;
        its borrower, channel and claim's instant, or None when the row is not in doubt."""
        ...

    def record_receipt(self, receipt: Receipt, at: datetime) -> str:
        """Keep a receipt with its part, ending the text once its parts say delivered or
        undelivered, or apart until its part is on record; what it did."""
        ...


class ReceiptReader(Protocol):
    """A gateway's delivery receipts and borrowers' replies, read for a while."""

    def read(
        self,
        seconds: float,
        keep: Callable[[Receipt], bool],
        keep_reply: Callable[[Reply], bool] | None = None,
    ) -> int:
        """Hand each receipt that comes within `seconds` to `keep`, and each reply to
        `keep_reply`, before acknowledging it (False: the gateway is to deliver it again;
        no `keep_reply`: replies are left for another reader); the number kept. SendFailed
        (gateway) when it cannot be reached."""
        ...
