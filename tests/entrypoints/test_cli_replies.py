"""Borrowers' replies through a real SMSC: `arrears receipts` takes them, an opt-out word
alone opts the borrowers on the number out of texts at once (the next send refuses their
text), the rest wait for `arrears replies` and a person's `arrears reply ID --stop`."""

import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert
from typer.testing import CliRunner

from arrears.adapters.db.audit_store import SqlAuditLog
from arrears.adapters.db.tables import borrowers, loans
from arrears.bootstrap import App
from arrears.domain.pii import mask_phone
from arrears.domain.replies import Reply
from arrears.entrypoints.cli import app as cli_app
from arrears.services.replies import ReplyTaking, reply_rules
from tests.channel_servers import Smsc
from tests.entrypoints.test_cli_send import (
    AT,
    delivery_rows,
    outbox_rows,
    phone_of,
    receipts,
    send,
    settings,
    texts_due,
)

runner = CliRunner()


def cli(app: App, *args: str) -> tuple[int, str, str]:
    db = app.engine.url.render_as_string(hide_password=False)
    result = runner.invoke(cli_app, [*args, "--db", db])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_a_stop_reply_opts_out_at_once_and_the_rest_wait_for_a_person(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    config = settings(tmp_path, sms_port=smsc.port)
    (stop_key, (_, stopper, _)), (asks_key, (_, asker, _)), *_ = sorted(texts_due(book).items())
    third = next(f"B{n:07d}" for n in range(1, 61) if f"B{n:07d}" not in (stopper, asker))
    smsc.replies[:] = [
        (phone_of(book, stopper), "退订"),  # UCS-2, as a handset sends Chinese
        (phone_of(book, asker), "我下周一定还，这几天别再发短信了"),
        ("+447700900123", "STOP"),  # no borrower on the number
        # A long reply of a borrower with no text due: two parts, read once whole.
        (phone_of(book, third), "我已经在还款了，" * 10 + "\x1b[2K"),
    ]
    code, out, err = receipts(book, config, "--json")  # stands at AT + 5 minutes
    assert code == 0, err
    assert json.loads(out) == {"delivered": 0, "undelivered": 0, "pending": 0, "unmatched": 0,
                               "again": 0, "replies": 4, "opted_out": 1}  # fmt: skip
    assert smsc.counted("replies_taken", 5) == 5
    (entry,) = [c.entry for c in SqlAuditLog(book.engine).entries(subject=f"borrower:{stopper}")]
    assert (entry.action, entry.detail["word"], entry.detail["since"]) == (
        "contact.opt_out", "退订", (AT + timedelta(minutes=5)).isoformat())  # fmt: skip

    # The next send refuses the text of the borrower who asked, by the pack's opt-out rule.
    code, _, err = send(book, config, at=AT + timedelta(minutes=10))
    assert code == 0, err
    rows = outbox_rows(book)
    assert rows[stop_key] == ("cancelled", None)
    assert rows[asks_key] == ("done", "sent")  # not asked in so many words: a person reads it
    reasons = delivery_rows(book)[stop_key]["reasons"]
    assert isinstance(reasons, list)
    assert [r["rule"] for r in reasons if not r["passed"]] == ["cn.opt_out"]

    code, out, _ = cli(book, "replies", "--json")
    assert code == 0
    waiting = json.loads(out)
    assert [(r["borrower_ids"], r["word"], r["number"]) for r in waiting] == [
        ([asker], None, mask_phone(phone_of(book, asker))),
        ([], "STOP", "+4477****0123"),
        ([third], None, mask_phone(phone_of(book, third))),
    ]
    assert waiting[0]["text"] == "我下周一定还，这几天别再发短信了"
    assert waiting[2]["text"] == "我已经在还款了，" * 10 + "\ufffd[2K"  # whole; no escape
    code, out, err = cli(book, "replies")
    assert (code, out.count("\n"), err.strip()) == (0, 3, "3 replies")
    assert "\tmentions STOP\tSTOP" in out
    assert phone_of(book, asker) not in out  # numbers are masked
    assert "\x1b" not in out  # an escape read as U+FFFD when it came: the cursor stays
    code, _, _ = cli(book, "reply", str(waiting.pop()["reply_id"]), "--stop", "no")
    assert code == 0

    # A person reads them: the first asks to stop; nobody is on the other's number.
    code, out, err = cli(book, "reply", str(waiting[0]["reply_id"]), "--stop", "yes")
    assert code == 0, err
    assert f"{asker} opted out of sms from" in out
    code, _, err = cli(book, "reply", str(waiting[1]["reply_id"]), "--stop", "yes")
    assert code == 1
    assert "no borrower is on +4477****0123" in err
    code, out, _ = cli(book, "reply", str(waiting[1]["reply_id"]), "--stop", "no")
    assert (code, out.strip()) == (0, f"reply {waiting[1]['reply_id']}: read, no opt-out")
    code, _, err = cli(book, "reply", str(waiting[1]["reply_id"]), "--stop", "no")
    assert code == 1
    assert "no such reply waiting to be read" in err
    code, out, _ = cli(book, "replies", "--state", "all", "--json")
    assert [(r["state"], r["read_by"]) for r in json.loads(out)] == [
        ("opted_out", None), ("opted_out", "setup"), ("read", "setup"), ("read", "setup"),
    ]  # fmt: skip
    code, out, _ = cli(book, "replies")
    assert (code, out) == (0, "")


def test_bad_input_is_refused_naming_it(book: App) -> None:
    code, _, err = cli(book, "reply", "1", "--stop", "maybe")
    assert code == 2
    assert "--stop: 'maybe' is not yes or no" in err
    code, _, err = cli(book, "replies", "--state", "unread")
    assert code == 2
    assert "--state 'unread': expected one of opted_out, to_read, read, all" in err
    # Past the ids the database holds: the driver's traceback had ended it (helper-117).
    for number in ("3000000000", "99999999999999999999", "0"):
        code, _, err = cli(book, "reply", number, "--stop", "no")
        assert code == 2, number
        assert "Invalid value for 'reply_id'" in err
        assert "Traceback" not in err


def test_replies_are_left_for_the_lenders_own_handler_when_it_says_so(
    book: App, smsc: Smsc, tmp_path: Path
) -> None:
    config = settings(tmp_path, sms_port=smsc.port, more='replies = "leave"\n')
    (_, (_, borrower, _)), *_ = sorted(texts_due(book).items())
    smsc.replies[:] = [(phone_of(book, borrower), "STOP")]
    code, out, err = receipts(book, config, "--json")
    assert code == 0, err
    assert (json.loads(out)["replies"], smsc.replies_taken, len(smsc.replies)) == (0, 0, 1)
    assert book.replies.replies(("to_read", "opted_out"), 10) == []


def test_a_listed_reply_stays_on_its_one_line(book: App) -> None:
    # A format or separator character (a line or paragraph separator, NEL, a right-to-left
    # override) a borrower sent shows as a space: no reply hides or forges another row.
    said = "ok\u2028forged row\u0085more\u202eevil\u2029end"
    ReplyTaking(book.replies, ()).take(Reply("+8613800000000", said), AT)
    code, out, _ = cli(book, "replies")
    assert code == 0
    assert out.splitlines() == [out.rstrip("\n")]
    assert out.rstrip("\n").endswith("\tok forged row more evil end")


def test_a_us_borrowers_reply_is_listed_with_the_day_to_honour_it_by(book: App) -> None:
    with book.engine.begin() as conn:
        conn.execute(insert(borrowers).values(borrower_id="B-US", name="Sue Smith",
                                              phone="+13125550188"))  # fmt: skip
        conn.execute(insert(loans).values(
            loan_id="L-US", borrower_id="B-US", product="us-installment", currency="USD",
            principal=100_000, annual_rate="0.2", contract_date=date(2025, 1, 1)))  # fmt: skip
    rules = reply_rules(book.contact_terms.packs.values())
    ReplyTaking(book.replies, rules).take(Reply("+13125550188", "paying at the end of May"), AT)
    code, out, _ = cli(book, "replies")
    # Came Monday 29 September, 22:00 in New York; Columbus Day (13 October) is no business
    # day: the tenth after is 14 October.
    assert (code, out.split("\t")[4:7]) == (0, ["to_read", "mentions END", "honour by 2025-10-14"])
