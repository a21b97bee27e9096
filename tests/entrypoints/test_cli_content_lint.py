"""`arrears contact log --note` keeps the note with its findings and warns."""

import json

from tests.entrypoints.test_cli_contact import MORNING, cli
from tests.entrypoints.test_cli_contact import db as db  # the fixture: a store with B1


def test_log_keeps_the_note_with_its_findings_and_warns(db: str) -> None:
    code, out, err = cli(
        "contact", "log", "--borrower", "B1", "--channel", "call", "--at", MORNING,
        "--outcome", "connected", "--note", "我们是法院的，你等着瞧", "--json", db=db,
    )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    assert document["attempt"]["note"] == "我们是法院的，你等着瞧"
    assert [(f["rule"], f["matched"]) for f in document["note_findings"]] == [
        ("cn.content.impersonation", "我们是法院"),
        ("cn.content.threats", "等着瞧"),
    ]
    assert "the note was kept; the content lint found: cn.content.impersonation" in " ".join(
        err.split()
    )
    code, _, err = cli(
        "contact", "log", "--borrower", "B1", "--channel", "call", "--at", MORNING,
        "--outcome", "connected", "--note", "x" * 2001, db=db,
    )  # fmt: skip
    assert code == 2
    assert "--note: a note is at most 2000 characters" in err
