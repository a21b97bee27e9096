"""`arrears portal link`: a one-time link into a borrower's portal, printed for the lender to
send; refused, with what is wrong, for no such borrower, a bad lifetime or address."""

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from arrears.adapters.db.casework_tables import audit_log
from arrears.adapters.db.tables import borrowers
from arrears.bootstrap import App
from arrears.entrypoints.cli import app as cli
from arrears.services.portal import link_opens, open_link
from tests.entrypoints.cli_ok import runner


def a_borrower(book: App) -> str:
    with book.engine.connect() as conn:
        return str(conn.execute(select(borrowers.c.borrower_id).limit(1)).scalar_one())


def test_a_link_is_printed_that_opens_once(book: App) -> None:
    borrower = a_borrower(book)
    before = datetime.now(UTC)
    args = ["portal", "link", borrower, "--minutes", "90", "--url", "https://pay.example.cn/"]
    done = runner.invoke(cli, [*args, "--db", book.database_url])
    assert done.exit_code == 0, done.stderr
    url = done.stdout.strip()
    assert url.startswith("https://pay.example.cn/p/")
    assert "opens once, until" in done.stderr
    token = url.rsplit("/", 1)[1]
    assert link_opens(book.portal, token, before + timedelta(minutes=89))
    assert not link_opens(book.portal, token, datetime.now(UTC) + timedelta(minutes=90))
    open_link(book.portal, token, datetime.now(UTC), "zh-CN")
    assert not link_opens(book.portal, token, datetime.now(UTC))
    with book.engine.connect() as conn:
        entry = conn.execute(select(audit_log.c.actor, audit_log.c.subject, audit_log.c.detail)
                             .where(audit_log.c.action == "portal.link")).one()  # fmt: skip
    assert (entry.actor, entry.subject, entry.detail) == ("setup", f"borrower:{borrower}",
                                                           {"minutes": 90})  # fmt: skip


def test_json_names_the_link_and_its_end(book: App) -> None:
    borrower = a_borrower(book)
    done = runner.invoke(cli, ["portal", "link", borrower, "--json", "--db", book.database_url])
    assert done.exit_code == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["borrower_id"] == borrower
    assert document["url"].startswith("http://127.0.0.1:8000/p/")
    ends = datetime.fromisoformat(document["expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < ends <= timedelta(hours=24)  # a day by default


def test_bad_requests_are_refused_naming_what_is_wrong(book: App) -> None:
    borrower = a_borrower(book)
    cases = [
        (["B-nobody"], 1, "no borrower 'B-nobody'"),
        ([borrower, "--minutes", "0"], 1, "a portal link lasts 1 to 10080 minutes, not 0"),
        ([borrower, "--minutes", "10081"], 1, "not 10081"),
        ([borrower, "--url", "pay.example.cn"], 2, "expected an http:// or https:// address"),
        ([borrower, "--url", "https://"], 2, "expected an http:// or https:// address"),
        ([borrower, "--url", "https://pay.example.cn/?a=1"], 2, "takes no ?query or #fragment"),
        ([borrower, "--url", "https://pay.example.cn/#x"], 2, "takes no ?query or #fragment"),
    ]
    for args, code, said in cases:
        done = runner.invoke(cli, ["portal", "link", *args, "--db", book.database_url])
        assert done.exit_code == code, args
        assert said in " ".join(done.stderr.split()), args
        assert done.stdout == ""
    with book.engine.connect() as conn:
        issued = conn.execute(select(audit_log.c.seq).where(audit_log.c.action == "portal.link"))
        assert issued.all() == []
