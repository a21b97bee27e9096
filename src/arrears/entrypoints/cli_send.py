"""`arrears send`, `receipts` and `settle`: the outbox's texts and e-mails due now, through
the settings' gateways, the texts' delivery receipts and borrowers' replies, and rows in
doubt ended by hand (docs/CHANNELS.md)."""

import json
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from arrears.adapters.channel_settings import ChannelSettings
from arrears.adapters.channels.smpp_sms import SmppReceiptReader, SmppSmsSender
from arrears.adapters.channels.smtp_email import SmtpEmailSender
from arrears.domain.errors import DomainError
from arrears.entrypoints.cli_common import Config, Db, Json, err, fail, open_app, parse_instant
from arrears.services.dispatch import (
    Sending,
    SendInterrupted,
    SendReport,
    send_due,
    settle_in_doubt,
    take_receipts,
)
from arrears.services.dispatch_ports import MessageSender, SendFailed

CHANNEL_CHOICES = ("sms", "email")


At = Annotated[
    str | None,
    typer.Option("--at", help="With --rehearse: the moment the rehearsal stands at."),
]
Rehearse = Annotated[
    bool,
    typer.Option("--rehearse", help="The gateways are test ones: take --at as the moment."),
]


def send_command(
    at: At = None,
    rehearse: Rehearse = False,
    channel: Annotated[
        str | None, typer.Option("--channel", help="Send only this channel: sms or email.")
    ] = None,
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Send every planned text and e-mail whose lawful window holds the moment, through the
    gateways of the settings' [channels]: each checked again by the compliance engine at
    that moment, filled in from the loan's last run, linted, sent once and logged as a
    contact. Exit 1 when a gateway could not be reached (its rows wait for the next send).

    Each row is checked and logged at the clock's moment as it is sent: a message goes out
    now, so only a rehearsal against test gateways may say it goes at another moment."""
    clock = _clock(at, rehearse)
    started = clock()
    if channel is not None and channel not in CHANNEL_CHOICES:
        fail(f"--channel: {channel!r} is not one of {', '.join(CHANNEL_CHOICES)}", 2)
    with open_app(db, config) as app:
        channels = app.settings.channels
        _check_rehearsal(channels, rehearse)
        try:
            with _senders(channels, os.environ, channel) as senders:
                sending = Sending(app.settings.messages, senders, channels.facts())
                report = send_due(app.dispatch, app.contacts, app.contact_terms, sending, clock)
        except SendInterrupted as stop:
            _print(stop.report, started, as_json)  # what went before it, as ever
            fail(str(stop))
        except DomainError as error:
            fail(str(error))
    _print(report, started, as_json)
    if report.down:
        raise typer.Exit(1)


def _clock(at: str | None, rehearse: bool) -> Callable[[], datetime]:
    """The clock a command reads: the real one, or a rehearsal's --at; exit 2 for one
    without the other."""
    if at is not None and not rehearse:
        fail("--at needs --rehearse: a real send is checked at the moment it goes out", 2)
    if rehearse and at is None:
        fail("--rehearse needs --at, the moment the rehearsal stands at", 2)
    fixed = parse_instant(at, "--at") if at is not None else None

    def clock() -> datetime:
        return fixed if fixed is not None else datetime.now(UTC)

    return clock


def _check_rehearsal(channels: ChannelSettings, rehearse: bool) -> None:
    """Exit 2 for a rehearsal through gateways not said to be test ones."""
    if rehearse and not channels.rehearsal:
        fail("--rehearse needs `rehearsal = true` in [channels]: the gateways set must be "
             "test ones, as a rehearsal's messages go out through them", 2)  # fmt: skip


@contextmanager
def _senders(
    channels: ChannelSettings, environ: Mapping[str, str], only: str | None
) -> Iterator[dict[str, MessageSender]]:
    """The gateways set in [channels] (of `only`, when given), open for the batch; exit 2
    when none is set or a password's variable is not in the environment."""
    wanted = {c for c in CHANNEL_CHOICES if only in (None, c)}
    senders: dict[str, MessageSender] = {}
    with ExitStack() as stack:
        if channels.email is not None and "email" in wanted:
            gateway = channels.email
            if channels.email_password_env is not None:
                gateway = replace(gateway, password=_password(environ, channels.email_password_env))
            senders["email"] = stack.enter_context(SmtpEmailSender(gateway))
        if channels.sms is not None and "sms" in wanted:
            assert channels.sms_password_env is not None  # required by the settings
            password = _password(environ, channels.sms_password_env)
            senders["sms"] = stack.enter_context(
                SmppSmsSender(replace(channels.sms, password=password))
            )
        if not senders:
            fail(
                "no gateway to send through: set [channels.email] or [channels.sms] in the "
                "settings file" + (f" (--channel {only})" if only else ""),
                2,
            )
        yield senders


def _password(environ: Mapping[str, str], name: str) -> str:
    """A gateway's password from the environment, or exit 2 naming the variable."""
    value = environ.get(name)
    if not value:
        fail(f"the environment has no {name} (the gateway's password, [channels] password_env)", 2)
    return value


def _print(report: SendReport, now: datetime, as_json: bool) -> None:
    """Counts by how rows ended, each row not sent with why, and what waits or is in doubt."""
    if as_json:
        document: dict[str, Any] = {
            "at": now.isoformat(),
            **{state: report.ended.get(state, 0)
               for state in ("sent", "retry", "failed", "cancelled")},
            "cancelled_by": dict(sorted(report.cancelled_by.items())),
            "rows": [{"action_key": key, "state": f.state, "tries": f.tries, "detail": f.detail,
                      "message_ids": list(f.message_ids)}
                     for key, f in report.rows],
            "in_doubt": report.in_doubt, "down": report.down,
        }  # fmt: skip
        print(json.dumps(document, ensure_ascii=False))
    else:
        counts = ", ".join(f"{state} {report.ended.get(state, 0)}"
                           for state in ("sent", "retry", "failed", "cancelled"))  # fmt: skip
        print(f"{now.isoformat()}: {counts}")
        for key, finished in report.rows:
            if finished.state != "sent":
                print(f"{finished.state}\t{key}\t{finished.detail}")
    for channel, said in sorted(report.down.items()):
        err.print(f"{channel}: the gateway could not be reached: {said}", markup=False)
    if report.in_doubt:
        err.print(
            f"{len(report.in_doubt)} row(s) claimed by an earlier send that never said how it "
            f"ended (not sent again): {', '.join(report.in_doubt[:5])}",
            markup=False,
        )


def receipts_command(
    seconds: Annotated[
        float,
        typer.Option("--for", min=0.5, max=3600, help="How long to read receipts (seconds)."),
    ] = 10.0,
    at: At = None,
    rehearse: Rehearse = False,
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Read the delivery receipts the SMSC of [channels.sms] holds for the texts sent, and
    the borrowers' replies, for --for seconds, each written before the SMSC is told it came:
    a text whose parts are all delivered is `delivered`, one with a part that failed is
    `undelivered` (its outbox row failed); a reply of an opt-out word alone (STOP, TD, 退订),
    or with one of its pack's `anywhere` words in it, opts the borrowers on its number out of
    texts, any other waits to be read (`arrears replies`). Exit 1 when the SMSC could not be
    reached."""
    clock = _clock(at, rehearse)
    with open_app(db, config) as app:
        channels = app.settings.channels
        _check_rehearsal(channels, rehearse)
        if channels.sms is None or channels.sms_password_env is None:
            fail("no [channels.sms] in the settings file: no SMSC to read receipts from", 2)
        password = _password(os.environ, channels.sms_password_env)
        reader = SmppReceiptReader(replace(channels.sms, password=password),
                                   app.settings.phone_region)  # fmt: skip
        replies = None
        if channels.take_replies:
            replies = app.reply_taking
        try:
            counts = take_receipts(app.dispatch, reader, seconds, clock, replies)
        except SendFailed as failure:
            fail(f"sms: the gateway could not be reached: {failure.detail}")
    states = ("delivered", "undelivered", "pending", "unmatched", "again", "replies",
              "opted_out")  # fmt: skip
    if as_json:
        print(json.dumps({state: counts.get(state, 0) for state in states}))
    else:
        print(", ".join(f"{state} {counts.get(state, 0)}" for state in states))


def settle_command(
    action_key: Annotated[str, typer.Argument(help="The outbox row in doubt (its key).")],
    went: Annotated[
        str,
        typer.Option("--went", help="What the gateway's records say: yes (it went) or no."),
    ],
    db: Db = None,
    config: Config = None,
) -> None:
    """End a row in doubt (claimed by a send that stopped before saying how it ended) as the
    gateway's records say: --went yes makes it sent and logs it as a contact at the moment
    it was claimed, --went no cancels it. Audited `delivery.settle`. Exit 1 when the row is
    not in doubt."""
    if went not in ("yes", "no"):
        fail(f"--went: {went!r} is not yes or no", 2)
    with open_app(db, config) as app:
        try:
            settle_in_doubt(app.dispatch, app.contacts, app.contact_terms, action_key,
                            went == "yes", datetime.now(UTC))  # fmt: skip
        except DomainError as error:
            fail(str(error))
    print(f"{action_key}: settled, {'sent' if went == 'yes' else 'cancelled'}")
