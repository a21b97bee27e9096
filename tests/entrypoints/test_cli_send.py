"""`arrears send`: the outbox's texts and e-mails due at a moment go out once through a real
SMSC and a real SMTP server, each checked again by the compliance engine at that moment and
logged as a contact; refused rows, gateways down and bad input leave nothing half done."""

import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
import smpplib.consts
from sqlalchemy import func, insert, select, update
from typer.testing import CliRunner

from arrears.adapters.db.casework_tables import audit_log
from arrears.adapters.db.dispatch_store import SqlDispatchStore
from arrears.adapters.db.engine import WRITE_FIRST
from arrears.adapters.db.tables import (
    borrowers,
    contact_attempts,
    deliveries,
    opt_outs,
    outbox,
    payments,
)
from arrears.batch.run import run_day
from arrears.bootstrap import App
from arrears.domain.messages import Message, render
from arrears.domain.money import format_amount
from arrears.domain.receipts import Receipt
from arrears.entrypoints.cli import app as cli_app
from arrears.services.dispatch import Sending, send_due
from arrears.services.dispatch_ports import Finished
from tests.channel_servers import Smsc, closed_port, running_smsc, running_smtp

runner = CliRunner()
DAY = date(2025, 9, 30)  # the book is run through this day; its texts are planned for it
AT = datetime(2025, 9, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, inside every window
PASSWORD = {"SMSC_PASSWORD": "s3cret", "SMTP_PASSWORD": "m4il"}


def settings(tmp_path: Path, sms_port: int | None = None, smtp_port: int | None = None,
             more: str = "") -> Path:  # fmt: skip
    """A settings file with the gateways given."""
    # Rehearsals: the tests' SMSC and SMTP server are test gateways.
    text = '[channels]\nlender = "速还金融"\nservice_phone = "95000"\nrehearsal = true\n'
    if sms_port is not None:
        text += (f'[channels.sms]\nhost = "127.0.0.1"\nport = {sms_port}\nsystem_id = "lender1"\n'
                 'password_env = "SMSC_PASSWORD"\nsource = "10690000"\n')  # fmt: skip
    if smtp_port is not None:
        text += (f'[channels.email]\nhost = "127.0.0.1"\nport = {smtp_port}\n'
                 'sender = "速还金融 <collect@suhuan.example>"\n')  # fmt: skip
    path = tmp_path / "arrears.toml"
    path.write_text(text + more, encoding="utf-8")
    return path


def send(app: App, config: Path, *more: str, at: datetime = AT) -> tuple[int, str, str]:
    db = app.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(cli_app, ["send", "--rehearse", "--at", at.isoformat(), "--db", db,
                                     "--config", str(config), *more], env=PASSWORD)  # fmt: skip
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def texts_due(app: App) -> dict[str, tuple[str, str, str]]:
    """The day's planned texts: key -> (loan, borrower, template)."""
    o = outbox.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(o.action_key, o.loan_id, o.borrower_id, o.template).where(
            o.channel == "sms", o.planned_for == DAY))  # fmt: skip
        return {key: (loan, borrower, template) for key, loan, borrower, template in rows}


def expected_text(app: App, loan_id: str, template: str) -> str:
    """The text a loan's template says once filled in from the domain's evaluation of the
    loan on the day (the reference the run agrees with)."""
    (loan, paid), *_ = [(lo, p) for lo, p in app.ledger.load_book() if lo.loan_id == loan_id]
    state = app.evaluate(loan, paid, DAY)
    with app.engine.connect() as conn:
        name = conn.execute(
            select(borrowers.c.name).where(borrowers.c.borrower_id == loan.borrower_id)
        ).scalar_one()  # fmt: skip
    facts = {"name": name, "loan_id": loan_id, "as_of": "2025-09-30", "dpd": str(state.dpd),
             "overdue": format_amount(state.overdue.total),
             "outstanding": format_amount(state.outstanding_principal), "currency": "CNY",
             "lender": "速还金融", "service_phone": "95000"}  # fmt: skip
    return render(app.settings.messages[template].template, facts).body


def phone_of(app: App, borrower_id: str) -> str:
    with app.engine.connect() as conn:
        return str(conn.execute(
            select(borrowers.c.phone).where(borrowers.c.borrower_id == borrower_id)
        ).scalar_one())  # fmt: skip


def sent_attempts(app: App) -> list[tuple[str, str, datetime, str]]:
    c = contact_attempts.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(c.borrower_id, c.channel, c.at, c.outcome)
                            .where(c.channel.in_(("sms", "email"))))  # fmt: skip
        return sorted((b, ch, at.replace(tzinfo=UTC) if at.tzinfo is None else at, o)
                      for b, ch, at, o in rows)  # fmt: skip


def outbox_rows(app: App) -> dict[str, tuple[str, str | None]]:
    o = outbox.c
    with app.engine.connect() as conn:
        rows = conn.execute(select(o.action_key, o.status, o.outcome).where(o.channel == "sms"))
        return {key: (status, outcome) for key, status, outcome in rows}


def delivery_rows(app: App) -> dict[str, dict[str, object]]:
    with app.engine.connect() as conn:
        return {r.action_key: r._asdict() for r in conn.execute(select(deliveries))}


def test_the_days_texts_go_out_once_each_as_filled_in_and_are_logged(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    due = texts_due(book)
    assert len(due) == 4
    config = settings(tmp_path, sms_port=smsc.port)
    code, out, err = send(book, config)
    assert code == 0, err
    assert out.startswith(f"{AT.isoformat()}: sent 4, retry 0, failed 0, cancelled 0")
    # Each borrower got their loan's text, as its template says once filled in.
    got = sorted((t.destination, t.body) for t in smsc.texts)
    wanted = sorted((phone_of(book, borrower).lstrip("+"), expected_text(book, loan, template))
                    for loan, borrower, template in due.values())  # fmt: skip
    assert got == wanted
    assert all(t.source == "10690000" for t in smsc.texts)
    assert all(body.startswith("【速还金融】") for _, body in got)
    # Logged once each as a contact made at the moment of sending, and the plan is worked.
    assert sent_attempts(book) == sorted((b, "sms", AT, "sent") for _, b, _ in due.values())
    assert set(outbox_rows(book).values()) == {("done", "sent")}
    kept = delivery_rows(book)
    assert {k: (d["state"], d["tries"]) for k, d in kept.items()} == dict.fromkeys(due, ("sent", 1))
    assert all(d["message_ids"] and d["address"] for d in kept.values())
    # Sent again a minute later: nothing is due, nothing goes twice.
    code, out, _ = send(book, config, at=AT + timedelta(minutes=1))
    assert code == 0
    assert "sent 0" in out
    assert len(smsc.texts) == 4
    assert len(sent_attempts(book)) == 4


def test_a_text_is_checked_again_when_sent_and_a_payment_since_the_plan_cancels_it(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    due = sorted(texts_due(book).items())
    (opted_key, (_, opted, _)), (paid_key, (paid_loan, _, _)) = due[0], due[1]
    with book.engine.begin() as conn:
        # The borrower asked for no more texts after the plan was made.
        conn.execute(insert(opt_outs).values(borrower_id=opted, channel="sms",
                                             since=AT - timedelta(hours=1)))  # fmt: skip
        conn.execute(insert(payments).values(payment_id="P-today", loan_id=paid_loan,
                                             amount=100, paid_on=DAY, channel="app"))  # fmt: skip
    code, out, err = send(book, settings(tmp_path, sms_port=smsc.port), "--json")
    assert code == 0, err
    document = json.loads(out)
    assert (document["sent"], document["cancelled"]) == (2, 2)
    assert document["cancelled_by"] == {"cn.opt_out": 1}
    rows = {r["action_key"]: r for r in document["rows"]}
    assert rows[opted_key]["state"] == "cancelled"
    assert "cn.opt_out" in rows[opted_key]["detail"]
    assert rows[paid_key]["detail"] == "a payment came in since the last run"
    # Neither was sent nor logged; their outbox rows are cancelled, not counted as tried.
    reached = {t.destination for t in smsc.texts}
    assert phone_of(book, opted).lstrip("+") not in reached
    assert len(smsc.texts) == 2
    assert opted not in {b for b, *_ in sent_attempts(book)}
    assert outbox_rows(book)[opted_key] == ("cancelled", None)
    reasons = delivery_rows(book)[opted_key]["reasons"]
    assert isinstance(reasons, list)
    assert any(r["rule"] == "cn.opt_out" and not r["passed"] for r in reasons)


def test_a_passing_refusal_is_tried_again_later_and_a_lasting_one_fails(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    # The first text is throttled, the second refused for its destination, the rest taken.
    smsc.refuse.extend([smpplib.consts.SMPP_ESME_RTHROTTLED,
                        smpplib.consts.SMPP_ESME_RINVDSTADR])  # fmt: skip
    code, out, err = send(book, config)
    assert code == 0, err
    assert "sent 2, retry 1, failed 1, cancelled 0" in out
    kept = delivery_rows(book)
    retry = next(k for k, d in kept.items() if d["state"] == "retry")
    failed = next(k for k, d in kept.items() if d["state"] == "failed")
    assert "Throttling" in str(kept[retry]["detail"])
    assert outbox_rows(book)[failed] == ("failed", "failed")
    assert outbox_rows(book)[retry] == ("sending", None)  # claimed: a re-run keeps it
    # Not before ten minutes; then once.
    code, out, _ = send(book, config, at=AT + timedelta(minutes=9))
    assert "sent 0" in out
    code, out, _ = send(book, config, at=AT + timedelta(minutes=10))
    assert "sent 1, retry 0" in out
    assert delivery_rows(book)[retry]["tries"] == 2
    assert outbox_rows(book)[retry] == ("done", "sent")
    assert len(smsc.texts) == 3
    assert len(sent_attempts(book)) == 3  # the refused one was never a contact


def test_an_smsc_down_sends_nothing_and_its_rows_wait_for_the_next_send(
    book: App, tmp_path: Path
) -> None:
    with closed_port() as port:  # nothing listens there
        code, out, err = send(book, settings(tmp_path, sms_port=port))
    assert code == 1
    assert "sms: the gateway could not be reached" in err
    assert "sent 0" in out
    assert sent_attempts(book) == []
    # No try was spent: with the SMSC up on that port, every text goes.
    with running_smsc() as smsc:
        config = settings(tmp_path, sms_port=smsc.port)
        code, out, err = send(book, config, at=AT + timedelta(minutes=1))
        assert code == 0, err
        assert "sent 4" in out
        assert {d["tries"] for d in delivery_rows(book).values()} == {1}


def test_two_senders_at_once_send_each_text_once(book: App, smsc: Smsc, tmp_path: Path) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    db = book.engine.url.render_as_string(hide_password=False)
    command = [sys.executable, "-m", "arrears", "send", "--rehearse", "--at", AT.isoformat(),
               "--db", db, "--config", str(config), "--json"]  # fmt: skip
    environment = {**os.environ, **PASSWORD}
    senders = [subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(2)]  # fmt: skip
    results = [sender.communicate(timeout=120) for sender in senders]
    assert [s.returncode for s in senders] == [0, 0], results
    # Each text went once, by one sender or the other.
    assert sum(json.loads(out)["sent"] for out, _ in results) == 4
    assert len(smsc.texts) == 4
    assert sorted(t.destination for t in smsc.texts) == sorted(
        phone_of(book, b).lstrip("+") for _, b, _ in texts_due(book).values()
    )
    assert len(sent_attempts(book)) == 4


def test_an_email_goes_through_smtp_with_its_subject_and_a_stable_message_id(
    book: App, tmp_path: Path
) -> None:
    key, (loan, borrower, _) = sorted(texts_due(book).items())[0]
    with book.engine.begin() as conn:  # a ladder's e-mail treatment, as the run plans one
        conn.execute(update(outbox).where(outbox.c.action_key == key)
                     .values(channel="email", template="cn.early_email"))  # fmt: skip
        conn.execute(update(borrowers).where(borrowers.c.borrower_id == borrower)
                     .values(email="借款人 <borrower@example.com>"))  # fmt: skip
    more = ('[[messages]]\njurisdiction = "cn"\ntemplate = "cn.early_email"\nchannel = "email"\n'
            'subject = "【{lender}】借款{loan_id}逾期提醒"\n'
            'body = "{name}您好，截至{as_of}，您的借款{loan_id}应还{overdue}元。"\n')  # fmt: skip
    with running_smtp() as (port, mailbox):
        config = settings(tmp_path, smtp_port=port, more=more)
        code, out, err = send(book, config, "--channel", "email")
        assert code == 0, err
        assert "sent 1" in out
    (mail,) = mailbox.mails
    assert mail["Subject"] == f"【速还金融】借款{loan}逾期提醒"
    assert parseaddr(mail["From"]) == ("速还金融", "collect@suhuan.example")
    assert parseaddr(mail["To"])[1] == "borrower@example.com"
    assert f"您的借款{loan}应还" in mail.get_content()
    assert mail["Message-ID"] == delivery_rows(book)[key]["message_ids"][0]  # type: ignore[index]
    assert sent_attempts(book) == [(borrower, "email", AT, "sent")]


def test_a_template_without_a_message_refuses_the_send_before_anything_is_claimed(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    key = sorted(texts_due(book))[0]
    with book.engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.action_key == key)
                     .values(template="cn.unwritten"))  # fmt: skip
    code, _, err = send(book, settings(tmp_path, sms_port=smsc.port))
    assert code == 1
    assert "cn.unwritten (sms)" in err
    assert "nothing was sent" in err
    assert smsc.submits == 0
    assert delivery_rows(book) == {}
    assert set(outbox_rows(book).values()) == {("planned", None)}


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--rehearse", "--at", "2025-09-30T10:00:00"], "has no UTC offset"),
        (["--channel", "fax"], "--channel: 'fax' is not one of sms, email"),
        # A real send is checked at the moment it goes out: only a rehearsal names another.
        (["--at", "2025-09-30T10:00:00+08:00"], "--at needs --rehearse"),
        (["--rehearse"], "--rehearse needs --at"),
    ],
)
def test_bad_options_are_usage_errors(
    book: App, smsc: Smsc, tmp_path: Path, args: list[str], said: str
) -> None:
    db = book.engine.url.render_as_string(hide_password=False)
    config = settings(tmp_path, sms_port=smsc.port)
    result = runner.invoke(cli_app, ["send", *args, "--db", db, "--config", str(config)],
                           env=PASSWORD)  # fmt: skip
    assert result.exit_code == 2
    assert said in result.stderr
    assert smsc.submits == 0


def test_no_gateway_or_no_password_is_a_usage_error_and_sends_nothing(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    db = book.engine.url.render_as_string(hide_password=False)
    bare = settings(tmp_path)
    result = runner.invoke(cli_app, ["send", "--rehearse", "--at", AT.isoformat(), "--db", db,
                                     "--config", str(bare)])  # fmt: skip
    assert result.exit_code == 2
    assert "no gateway to send through" in result.stderr
    config = settings(tmp_path, sms_port=smsc.port)
    args = ["send", "--rehearse", "--at", AT.isoformat(), "--db", db, "--config", str(config)]
    result = runner.invoke(cli_app, args, env={"SMSC_PASSWORD": ""})
    assert result.exit_code == 2
    assert "the environment has no SMSC_PASSWORD" in result.stderr
    assert smsc.submits == 0
    with book.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(deliveries)).scalar() == 0


def test_no_try_is_made_after_the_window_ends(book: App, smsc: Smsc, tmp_path: Path) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    late = datetime(2025, 9, 30, 13, 45, tzinfo=UTC)  # 21:45 in Shanghai: it ends at 22:00
    smsc.refuse.append(smpplib.consts.SMPP_ESME_RTHROTTLED)
    code, out, err = send(book, config, at=late)
    assert code == 0, err
    # Ten minutes on is inside the last five, where nothing is begun: it fails, not waits.
    assert "sent 3, retry 0, failed 1" in out
    assert "Throttling" in out
    code, out, _ = send(book, config, at=late + timedelta(minutes=9, seconds=59))
    assert "sent 0" in out
    assert len(smsc.texts) == 3


def test_nothing_is_begun_in_a_windows_last_five_minutes(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    code, out, _ = send(book, settings(tmp_path, sms_port=smsc.port),
                        at=datetime(2025, 9, 30, 13, 55, tzinfo=UTC))  # fmt: skip
    assert code == 0
    assert "sent 0" in out
    assert smsc.submits == 0
    assert set(outbox_rows(book).values()) == {("planned", None)}


def test_the_days_run_again_keeps_what_was_sent_and_what_waits(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    smsc.refuse.append(smpplib.consts.SMPP_ESME_RTHROTTLED)
    send(book, config)
    before = outbox_rows(book)
    assert sorted(before.values(), key=str) == sorted(
        [("done", "sent")] * 3 + [("sending", None)], key=str
    )
    # The end-of-day run of the same day again (a lender re-runs it after a late feed).
    run_day(book.runs, book.run_context(DAY), datetime(2025, 9, 30, 3, tzinfo=UTC))
    assert outbox_rows(book) == before
    code, out, _ = send(book, config, at=AT + timedelta(minutes=10))
    assert code == 0
    assert "sent 1" in out
    assert len(smsc.texts) == 4
    assert len(sent_attempts(book)) == 4


def test_only_a_text_sent_is_an_action_on_record_for_the_guards(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    (sent_key, (sent_loan, _, _)), (opted_key, (opted_loan, opted, _)), (waiting_key, _) = sorted(
        texts_due(book).items()
    )[:3]
    with book.engine.begin() as conn:
        conn.execute(insert(opt_outs).values(borrower_id=opted, channel="sms",
                                             since=AT - timedelta(hours=1)))  # fmt: skip
    waiting = texts_due(book)[waiting_key][1]
    smsc.refuse_to[phone_of(book, waiting).lstrip("+")] = smpplib.consts.SMPP_ESME_RTHROTTLED
    code, _, err = send(book, settings(tmp_path, sms_port=smsc.port))
    assert code == 0, err
    rows = outbox_rows(book)
    assert (rows[sent_key], rows[opted_key], rows[waiting_key]) == (
        ("done", "sent"), ("cancelled", None), ("sending", None))  # fmt: skip
    sms = [(r.on, r.outcome) for r in book.track.history(sent_loan) if r.action == "sms"]
    assert (DAY, "sent") in sms
    # A cancelled text, or one waiting for its next try, is neither done nor tried.
    for loan in (opted_loan, texts_due(book)[waiting_key][0]):
        assert not [r for r in book.track.history(loan) if r.action == "sms" and r.on == DAY]


def test_a_lenders_stricter_rule_refuses_a_shipped_message_before_anything_is_claimed(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    hotline = ('[[content.required]]\njurisdiction = "cn"\nid = "acme.content.hotline"\n'
               'source = "Acme policy 7.1"\nverified = true\nchannels = ["sms"]\n'
               'phrases = ["投诉热线"]\n')  # fmt: skip
    config = settings(tmp_path, sms_port=smsc.port, more=hotline)
    code, _, err = send(book, config)
    assert code == 1
    assert "cn.early_sms (sms): acme.content.hotline: it does not say one of '投诉热线'" in err
    assert "nothing was sent" in err
    assert smsc.submits == 0
    assert delivery_rows(book) == {}


def test_a_row_a_stopped_sender_left_is_in_doubt_and_never_sent_again(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    stuck = book.dispatch.due(AT, ("sms",), timedelta(minutes=5))[0]
    assert book.dispatch.claim(stuck, AT)  # a sender that stopped before the gateway
    code, out, err = send(book, config, at=AT + timedelta(minutes=1))
    assert code == 0
    assert "sent 3" in out
    assert "never said how it ended" not in err  # claimed a minute ago: may be in flight
    code, out, err = send(book, config, at=AT + timedelta(minutes=20))
    assert "sent 0" in out
    assert "1 row(s) claimed by an earlier send that never said how it ended" in err
    assert stuck.action_key in err
    assert len(smsc.texts) == 3


def test_a_retry_whose_window_ended_fails(book: App, smsc: Smsc, tmp_path: Path) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    smsc.refuse.append(smpplib.consts.SMPP_ESME_RTHROTTLED)
    send(book, config, at=datetime(2025, 9, 30, 13, 40, tzinfo=UTC))  # retry from 13:50
    waiting = next(k for k, d in delivery_rows(book).items() if d["state"] == "retry")
    code, out, _ = send(book, config, at=datetime(2025, 9, 30, 14, 5, tzinfo=UTC))
    assert code == 0
    assert f"failed\t{waiting}\tits window ended before it could be tried again" in out
    assert outbox_rows(book)[waiting] == ("failed", "failed")
    assert len(smsc.texts) == 3


def test_an_email_on_record_that_is_not_one_address_fails_its_row(
    book: App, tmp_path: Path
) -> None:
    key, (_, borrower, _) = sorted(texts_due(book).items())[0]
    with book.engine.begin() as conn:
        conn.execute(update(outbox).where(outbox.c.action_key == key)
                     .values(channel="email", template="cn.early_email"))  # fmt: skip
        conn.execute(update(borrowers).where(borrowers.c.borrower_id == borrower)
                     .values(email="Zhang, San <z@example.com>"))  # two addresses  # fmt: skip
    more = ('[[messages]]\njurisdiction = "cn"\ntemplate = "cn.early_email"\nchannel = "email"\n'
            'subject = "借款{loan_id}"\nbody = "{name}您好"\n')  # fmt: skip
    with running_smtp() as (port, mailbox):
        code, out, _ = send(book, settings(tmp_path, smtp_port=port, more=more))
    assert code == 0
    assert "the e-mail on record is not one plain address" in out
    assert mailbox.mails == []
    assert sent_attempts(book) == []


class _BrokenAdapter:
    """A gateway adapter that fails in a way it does not foresee."""

    def send(self, to: str, message: Message, key: str, at: datetime) -> tuple[str, ...]:
        raise RuntimeError("adapter bug")


def test_an_adapters_unforeseen_fault_fails_its_row_and_the_batch_goes_on(book: App) -> None:
    sending = Sending(book.settings.messages, {"sms": _BrokenAdapter()},
                      {"lender": "速还金融", "service_phone": "95000"})  # fmt: skip
    report = send_due(book.dispatch, book.contacts, book.contact_terms, sending, lambda: AT)
    assert report.ended == {"failed": 4}
    assert all("it may have been sent, so it is not sent again" in str(f.detail)
               for _, f in report.rows)  # fmt: skip
    assert set(outbox_rows(book).values()) == {("failed", "failed")}  # none left claimed
    assert book.dispatch.in_doubt(AT + timedelta(days=1)) == []


def test_a_rehearsal_needs_gateways_said_to_be_test_ones(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    real = settings(tmp_path, sms_port=smsc.port)
    real.write_text(real.read_text(encoding="utf-8").replace("rehearsal = true\n", ""),
                    encoding="utf-8")  # fmt: skip
    code, _, err = send(book, real)
    assert code == 2
    assert "--rehearse needs `rehearsal = true` in [channels]" in err
    assert smsc.submits == 0


def test_the_days_run_again_cancels_a_waiting_text_it_no_longer_plans(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    key, (loan, borrower, _) = sorted(texts_due(book).items())[0]
    smsc.refuse_to[phone_of(book, borrower).lstrip("+")] = smpplib.consts.SMPP_ESME_RTHROTTLED
    send(book, config)
    assert delivery_rows(book)[key]["state"] == "retry"
    (owed, paid), *_ = [(lo, p) for lo, p in book.ledger.load_book() if lo.loan_id == loan]
    overdue = book.evaluate(owed, paid, DAY).overdue.total
    with book.engine.begin() as conn:  # the borrower pays all that is past due that day
        conn.execute(insert(payments).values(payment_id="P-all", loan_id=loan, amount=overdue,
                                             paid_on=DAY, channel="app"))  # fmt: skip
    run_day(book.runs, book.run_context(DAY), datetime(2025, 9, 30, 1, tzinfo=UTC))
    assert outbox_rows(book)[key] == ("cancelled", None)
    assert delivery_rows(book)[key]["state"] == "cancelled"
    del smsc.refuse_to[phone_of(book, borrower).lstrip("+")]
    code, out, _ = send(book, config, at=AT + timedelta(minutes=10))
    assert code == 0
    assert "sent 0" in out
    assert phone_of(book, borrower).lstrip("+") not in {t.destination for t in smsc.texts}


def test_a_text_partly_sent_or_perhaps_sent_is_a_contact_logged(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    due = sorted(texts_due(book).items())
    (split_key, (_, split, _)), (_, (_, whole, _)) = due[0], due[1]
    smsc.refuse.extend([0, smpplib.consts.SMPP_ESME_RINVDSTADR])  # the first text's part 2
    code, _, err = send(book, settings(tmp_path, sms_port=smsc.port))
    assert code == 0, err
    assert outbox_rows(book)[split_key] == ("failed", "failed")
    assert split in {b for b, *_ in sent_attempts(book)}  # part 1 reached them
    assert whole in {b for b, *_ in sent_attempts(book)}
    assert len(sent_attempts(book)) == 4


def test_a_name_that_breaks_a_content_rule_once_filled_in_fails_its_row(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    key, (_, borrower, _) = sorted(texts_due(book).items())[0]
    with book.engine.begin() as conn:
        conn.execute(update(borrowers).where(borrowers.c.borrower_id == borrower)
                     .values(name="老赖"))  # fmt: skip
    code, out, _ = send(book, settings(tmp_path, sms_port=smsc.port))
    assert code == 0
    assert f"failed\t{key}\tcn.content.insults finds '老赖'" in out
    assert phone_of(book, borrower).lstrip("+") not in {t.destination for t in smsc.texts}


def test_each_row_is_checked_at_the_clocks_moment_as_the_batch_comes_to_it(book: App) -> None:
    sent: list[str] = []

    class Recorder:
        def send(self, to: str, message: Message, key: str, at: datetime) -> tuple[str, ...]:
            sent.append(key)
            return (f"m{len(sent)}",)

    # The clock moves on as the batch goes: the second row is reached in the window's last
    # five minutes, and neither it nor the rows after it are begun.
    moments = iter([datetime(2025, 9, 30, 13, 50, tzinfo=UTC)] * 2
                   + [datetime(2025, 9, 30, 13, 56, tzinfo=UTC)] * 20)  # fmt: skip
    sending = Sending(book.settings.messages, {"sms": Recorder()},
                      {"lender": "速还金融", "service_phone": "95000"})  # fmt: skip
    report = send_due(book.dispatch, book.contacts, book.contact_terms, sending,
                      lambda: next(moments))  # fmt: skip
    assert report.ended == {"sent": 1}
    assert len(sent) == 1
    assert sorted(outbox_rows(book).values(), key=str) == sorted(
        [("done", "sent")] + [("planned", None)] * 3, key=str)  # fmt: skip
    # Logged at the moment the gateway was done with it.
    assert [at for *_, at, _ in sent_attempts(book)] == [datetime(2025, 9, 30, 13, 56, tzinfo=UTC)]


def test_a_record_that_cannot_be_read_before_the_gateway_is_tried_again_not_left_claimed(
    book: App,
) -> None:
    # The database failing as a row's figures are read (it was busy): nothing went, but the
    # batch stopped with the row claimed, to be found in doubt 15 minutes on (helper-117).
    sent: list[str] = []

    class Recorder:
        def send(self, to: str, message: Message, key: str, at: datetime) -> tuple[str, ...]:
            sent.append(key)
            return (f"m{len(sent)}",)

    sending = Sending(book.settings.messages, {"sms": Recorder()},
                      {"lender": "速还金融", "service_phone": "95000"})  # fmt: skip
    with book.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE loan_states RENAME TO loan_states_away")
    report = send_due(book.dispatch, book.contacts, book.contact_terms, sending, lambda: AT)
    assert report.ended == {"retry": 4}
    assert all("its record could not be read" in str(f.detail) for _, f in report.rows)
    assert sent == []
    assert sent_attempts(book) == []  # no contact logged: none was made
    with book.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE loan_states_away RENAME TO loan_states")
    later = AT + timedelta(minutes=20)
    assert book.dispatch.in_doubt(later) == []
    again = send_due(book.dispatch, book.contacts, book.contact_terms, sending, lambda: later)
    assert again.ended == {"sent": 4}
    assert len(sent) == 4


def test_of_two_senders_that_both_saw_a_row_due_one_claims_it(book: App) -> None:
    first = book.dispatch.due(AT, ("sms",), timedelta(minutes=5))
    second = book.dispatch.due(AT, ("sms",), timedelta(minutes=5))
    assert [i.action_key for i in first] == [i.action_key for i in second]
    assert [book.dispatch.claim(i, AT) for i in first] == [True] * 4
    assert [book.dispatch.claim(i, AT) for i in second] == [False] * 4


def receipts(app: App, config: Path, *more: str) -> tuple[int, str, str]:
    db = app.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(cli_app, ["receipts", "--for", "1", "--rehearse", "--at",
                                     (AT + timedelta(minutes=5)).isoformat(), "--db", db,
                                     "--config", str(config), *more], env=PASSWORD)  # fmt: skip
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("as_tlv", [False, True], ids=["text", "parameters"])
def test_receipts_mark_each_text_delivered_or_undelivered(
    book: App, smsc: Smsc, tmp_path: Path, as_tlv: bool
) -> None:
    smsc.receipts_as_tlv = as_tlv
    config = settings(tmp_path, sms_port=smsc.port)
    due = sorted(texts_due(book).items())
    lost_key, (_, lost, _) = due[0]
    smsc.undelivered.add(phone_of(book, lost).lstrip("+"))
    code, _, err = send(book, config)
    assert code == 0, err
    parts = len(smsc.taken)  # each part asked for a final receipt
    assert parts > 4  # the Chinese texts go in two parts each
    # A borrower's reply that reads like a receipt is no receipt (its esm_class says so).
    smsc.replies.append((phone_of(book, due[1][1][1]).lstrip("+"), "id:m3 stat:UNDELIV"))
    code, out, err = receipts(book, config, "--json")
    assert code == 0, err
    lost_parts = sum(1 for _, to in smsc.taken if to == phone_of(book, lost).lstrip("+"))
    assert json.loads(out) == {"delivered": parts - lost_parts, "undelivered": lost_parts,
                               "pending": 0, "unmatched": 0, "again": 0, "replies": 1,
                               "opted_out": 0}  # fmt: skip
    assert smsc.counted("replies_taken", 1) == 1  # taken as a reply, to be read by a person
    (waiting,) = book.replies.replies(("to_read",), 10)
    assert waiting.text == "id:m3 stat:UNDELIV"
    rows = outbox_rows(book)
    assert rows[lost_key] == ("failed", "failed")
    assert {rows[k] for k, _ in due[1:]} == {("done", "delivered")}
    kept = delivery_rows(book)
    assert kept[lost_key]["state"] == "undelivered"
    if not as_tlv:
        assert "stat:UNDELIV" in str(kept[lost_key]["detail"])
    # The guards read a delivered text as done, an undelivered one as tried and failed.
    (record,) = [r for r in book.track.history(texts_due(book)[lost_key][0])
                 if r.action == "sms" and r.on == DAY]  # fmt: skip
    assert record.outcome == "failed"
    # Read again: nothing new comes, nothing changes.
    code, out, _ = receipts(book, config)
    assert out.strip() == (
        "delivered 0, undelivered 0, pending 0, unmatched 0, again 0, replies 0, opted_out 0"
    )
    assert outbox_rows(book) == rows


def test_a_receipt_that_cannot_be_written_is_left_for_the_smsc_to_send_again(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    send(book, config)
    parts = len(smsc.taken)
    with book.engine.begin() as conn:  # the table gone: every write fails
        conn.exec_driver_sql("ALTER TABLE delivery_parts RENAME TO delivery_parts_away")
    code, out, _ = receipts(book, config, "--json")
    assert code == 0
    assert json.loads(out)["again"] == parts
    # Answered "try later", not acknowledged.
    assert smsc.counted("refused_receipts", parts) == parts
    with book.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE delivery_parts_away RENAME TO delivery_parts")
    code, out, _ = receipts(book, config, "--json")
    assert json.loads(out)["delivered"] == parts  # sent again, kept this time
    assert set(outbox_rows(book).values()) == {("done", "delivered")}


def test_a_receipt_before_its_part_is_on_record_is_taken_when_it_is(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    # The SMSC's receipt for the first part it will take comes before the sender records it.
    early = Receipt("m1", "undelivered", "stat:UNDELIV err:001")
    assert book.dispatch.record_receipt(early, AT) == "unmatched"
    send(book, settings(tmp_path, sms_port=smsc.port))
    first = next(k for k, d in delivery_rows(book).items() if d["message_ids"][0] == "m1")  # type: ignore[index]
    assert delivery_rows(book)[first]["state"] == "undelivered"
    assert outbox_rows(book)[first] == ("failed", "failed")


def test_an_old_message_id_given_again_changes_no_text_that_has_its_receipt(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    send(book, config)
    receipts(book, config)
    before = outbox_rows(book)
    assert set(before.values()) == {("done", "delivered")}
    # An SMSC restarted gives its ids again: a receipt for "m1" is not the old text's.
    again = Receipt("m1", "undelivered", "stat:UNDELIV err:001")
    assert book.dispatch.record_receipt(again, AT + timedelta(hours=1)) == "unmatched"
    assert outbox_rows(book) == before


def test_receipts_from_an_smsc_not_there_exit_1(book: App, tmp_path: Path) -> None:
    with closed_port() as port:
        code, _, err = receipts(book, settings(tmp_path, sms_port=port))
    assert code == 1
    assert "sms: the gateway could not be reached" in err


def test_a_database_failing_mid_send_stops_saying_what_went_and_what_is_in_doubt(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    with book.engine.begin() as conn:  # the parts' table gone: recording a text sent fails
        conn.exec_driver_sql("ALTER TABLE delivery_parts RENAME TO delivery_parts_away")
    code, out, err = send(book, settings(tmp_path, sms_port=smsc.port))
    assert code == 1
    assert "stopped: the database could not record how" in err
    assert "its message went and it is left in doubt" in err
    assert "nothing was written" not in err
    assert out.startswith(f"{AT.isoformat()}: sent 0")  # what ended before it: nothing
    assert len(smsc.texts) == 1  # the batch stopped after the first
    with book.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE delivery_parts_away RENAME TO delivery_parts")
    code, _, err = send(book, settings(tmp_path, sms_port=smsc.port),
                        at=AT + timedelta(minutes=20))  # fmt: skip
    assert "1 row(s) claimed by an earlier send that never said how it ended" in err
    assert len(smsc.texts) == 4  # the others went; the one in doubt did not go again


def test_a_receipt_and_its_parts_being_recorded_at_once_meet(book: App) -> None:
    """A reader's receipt for a part a sender is recording (not yet committed) waits for it
    and finds it, rather than being kept apart with nobody to take it."""
    item = book.dispatch.due(AT, ("sms",), timedelta(minutes=5))[0]
    assert book.dispatch.claim(item, AT)
    sent = Finished("sent", 1, AT, "+8613800000000", message_ids=("zz1",))
    recording = threading.Event()
    results: list[str] = []

    def sender() -> None:
        with book.engine.connect().execution_options(**WRITE_FIRST) as conn, conn.begin():
            assert SqlDispatchStore._finish(conn, item.action_key, sent, "sending")
            recording.set()
            time.sleep(1.0)  # the reader comes meanwhile

    def reader() -> None:
        recording.wait(10)
        results.append(book.dispatch.record_receipt(Receipt("zz1", "delivered", "stat:DELIVRD"),
                                                    AT))  # fmt: skip

    threads = [threading.Thread(target=sender), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == ["delivered"]
    assert outbox_rows(book)[item.action_key] == ("done", "delivered")


def test_a_receipt_kept_apart_from_before_the_claim_is_not_taken(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    stale = Receipt("m1", "undelivered", "stat:UNDELIV err:001")
    assert book.dispatch.record_receipt(stale, AT - timedelta(hours=1)) == "unmatched"
    send(book, settings(tmp_path, sms_port=smsc.port))
    first = next(k for k, d in delivery_rows(book).items() if d["message_ids"][0] == "m1")  # type: ignore[index]
    assert delivery_rows(book)[first]["state"] == "sent"


def test_an_old_id_awaiting_its_receipt_is_not_another_numbers_or_days_later(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    send(book, settings(tmp_path, sms_port=smsc.port))  # no receipts read: parts await one
    first = next(k for k, d in delivery_rows(book).items() if d["message_ids"][0] == "m1")  # type: ignore[index]
    number = str(delivery_rows(book)[first]["address"]).lstrip("+")
    other = Receipt("m1", "undelivered", "stat:UNDELIV", address="8613999999999")
    assert book.dispatch.record_receipt(other, AT + timedelta(hours=1)) == "unmatched"
    late = Receipt("m1", "undelivered", "stat:UNDELIV", address=number)
    assert book.dispatch.record_receipt(late, AT + timedelta(days=4)) == "unmatched"
    assert delivery_rows(book)[first]["state"] == "sent"
    right = Receipt("m1", "delivered", "stat:DELIVRD", address=number)
    assert book.dispatch.record_receipt(right, AT + timedelta(hours=1)) == "delivered"


def settle(app: App, key: str, went: str) -> tuple[int, str, str]:
    db = app.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(cli_app, ["settle", key, "--went", went, "--db", db])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_row_in_doubt_is_settled_by_hand_as_the_gateway_says_and_audited(book: App) -> None:
    went, lost, fresh = book.dispatch.due(AT, ("sms",), timedelta(minutes=5))[:3]
    for item in (went, lost):
        assert book.dispatch.claim(item, AT)  # a send that stopped long ago
    assert book.dispatch.claim(fresh, datetime.now(UTC))  # one in flight now
    code, out, err = settle(book, went.action_key, "yes")
    assert code == 0, err
    assert out.strip() == f"{went.action_key}: settled, sent"
    assert outbox_rows(book)[went.action_key] == ("done", "sent")
    assert sent_attempts(book) == [(went.borrower_id, "sms", AT, "sent")]  # when it was claimed
    code, _, err = settle(book, lost.action_key, "no")
    assert code == 0, err
    assert outbox_rows(book)[lost.action_key] == ("cancelled", None)
    assert len(sent_attempts(book)) == 1
    with book.engine.connect() as conn:
        audited = conn.execute(select(audit_log.c.subject, audit_log.c.detail)
                               .where(audit_log.c.action == "delivery.settle")).all()  # fmt: skip
    assert sorted((s, d["action_key"], d["went"]) for s, d in audited) == sorted(
        [(f"loan:{went.loan_id}", went.action_key, True),
         (f"loan:{lost.loan_id}", lost.action_key, False)])  # fmt: skip
    # Settled already, claimed a moment ago, or no such row: not in doubt, nothing changes.
    for key in (went.action_key, fresh.action_key, "no-such-row"):
        code, _, err = settle(book, key, "no")
        assert code == 1
        assert "is not in doubt" in err
    assert outbox_rows(book)[went.action_key] == ("done", "sent")
    assert settle(book, went.action_key, "maybe")[0] == 2
