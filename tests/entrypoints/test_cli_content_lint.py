"""`arrears contact lint` checks a draft against a pack's content rules (exit 0 clean, 3 when
something is found, 2 for a usage error, 1 for a bad settings file); `arrears contact log
--note` and `arrears contact hold --note` keep the note with its findings and warn."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from arrears.adapters.db.tables import holds
from arrears.entrypoints.cli import app
from tests.entrypoints.test_cli_contact import MORNING, cli
from tests.entrypoints.test_cli_contact import db as db  # the fixture: a store with B1

runner = CliRunner()
DRAFT = "您已逾期，再不还款将影响子女上学，请尽快借钱还款。"


def lint(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["contact", "lint", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(autouse=True)
def _no_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No ./arrears.toml nor $ARREARS_CONFIG: the shipped packs alone."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ARREARS_CONFIG", raising=False)


def test_a_draft_with_findings_prints_each_and_exits_3() -> None:
    code, out, err = lint("--pack", "cn", "--text", DRAFT)
    assert code == 3
    lines = out.splitlines()
    assert [line.split("\t")[:3] for line in lines] == [
        ["cn.content.false_consequences", "10-14", "影响子女"],
        ["cn.content.false_consequences", "12-16", "子女上学"],
        ["cn.content.borrow_to_repay", "20-23", "借钱还"],
    ]
    assert "中国银行业协会" in lines[0]
    assert "3 finding(s) under the cn pack's content rules" in err


def test_lint_json_prints_one_document_with_every_finding() -> None:
    code, out, _ = lint("--pack", "cn", "--text", DRAFT, "--json")
    assert code == 3
    document = json.loads(out)
    assert set(document) == {"pack", "clean", "findings"}
    assert (document["pack"], document["clean"]) == ("cn", False)
    first = document["findings"][0]
    assert set(first) == {"rule", "source", "phrase", "matched", "start", "end"}
    assert DRAFT[first["start"] : first["end"]] == first["matched"] == "影响子女"


def test_a_clean_draft_exits_0() -> None:
    polite = "您的账单已逾期，请及时还款，如有困难请联系我们协商。"
    assert lint("--pack", "cn", "--text", polite) == (0, "clean\n", "")
    code, out, _ = lint("--pack", "us", "--text", "We will not sue you for it.", "--json")
    assert (code, json.loads(out)) == (0, {"pack": "us", "clean": True, "findings": []})


def test_a_draft_is_read_from_a_file_or_stdin(tmp_path: Path) -> None:
    path = tmp_path / "template.txt"
    path.write_text("Your bailiffs visit is booked.\n", encoding="utf-8")
    code, out, _ = lint("--pack", "uk", "--file", str(path))
    assert code == 3
    assert out.startswith("uk.content.false_authority\t5-13\tbailiffs")
    code, out, _ = lint("--pack", "us", "--file", "-", stdin="you DEADBEAT")
    assert (code, out.split("\t")[0]) == (3, "us.content.abusive_language")


def test_stdin_that_is_not_utf8_is_refused_as_a_file_is(tmp_path: Path) -> None:
    # A terminal's stdin (Python's UTF-8 mode) took its bad bytes for surrogates, linted as
    # characters (helper-125).
    bad = b"\xff" + "坐牢".encode()
    (tmp_path / "bad.txt").write_bytes(bad)
    for given, stdin in (("bad.txt", None), ("-", bad)):
        done = subprocess.run(
            [sys.executable, "-m", "arrears", "contact", "lint", "--pack", "cn", "--file", given],
            input=stdin, capture_output=True, env={**os.environ, "PYTHONUTF8": "1"}, check=False,
        )  # fmt: skip
        assert (done.returncode, done.stdout) == (2, b""), given
        assert "cannot read it as UTF-8" in done.stderr.decode()


def test_a_finding_across_a_line_break_or_tab_stays_on_its_line() -> None:
    # Its words had broken the one-line, tab-separated output (helper-125); shown with a
    # space for each, their offsets are the text's.
    code, out, _ = lint("--pack", "us", "--text", "We will sue\nyou tomorrow")
    assert code == 3
    assert out.splitlines()[0].split("\t")[:3] == ["us.content.threat_of_suit", "8-15", "sue you"]
    code, out, _ = lint("--pack", "cn", "--text", "你会坐\t牢")
    [line] = out.splitlines()
    assert line.split("\t")[:3] == ["cn.content.false_consequences", "2-5", "坐 牢"]


def test_a_draft_for_a_channel_must_make_the_statements_its_pack_requires() -> None:
    # 12 CFR 1006.6(e): a text or an e-mail says how to opt out of them.
    late = "Your payment is late. Call us at 555-0100."
    code, out, err = lint("--pack", "us", "--channel", "sms", "--text", late)
    assert code == 3
    rule, where, phrases = out.rstrip("\n").split("\t")
    assert (rule, where) == ("us.content.electronic_opt_out", "missing")
    assert phrases.startswith("(one of: reply STOP, text STOP, send STOP, opt out, opt-out, "
                              "unsubscribe) [12 CFR 1006.6(e)")  # fmt: skip
    assert "0 finding(s) under the us pack's content rules, 1 required statement(s) missing" in (
        " ".join(err.split())
    )
    assert lint("--pack", "us", "--channel", "sms", "--text", late + " Reply STOP to opt out.")[
        :2
    ] == (0, "clean\n")
    # A letter, or a draft checked for no channel, owes no opt-out; nor does a cn text.
    assert lint("--pack", "us", "--channel", "letter", "--text", late)[:2] == (0, "clean\n")
    assert lint("--pack", "us", "--text", late)[:2] == (0, "clean\n")
    assert lint("--pack", "cn", "--channel", "sms", "--text", "您的账单已逾期。")[:2] == (
        0,
        "clean\n",
    )
    code, out, _ = lint("--pack", "us", "--channel", "email", "--text", "You deadbeat.", "--json")
    document = json.loads(out)
    assert code == 3
    assert (document["channel"], document["clean"]) == ("email", False)
    assert [f["rule"] for f in document["findings"]] == ["us.content.abusive_language"]
    assert [(m["rule"], m["phrases"][0]) for m in document["missing"]] == [
        ("us.content.electronic_opt_out", "reply STOP")
    ]
    assert document["missing"][0]["source"].startswith("12 CFR 1006.6(e)")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--pack", "fr", "--text", "x"), "--pack: no content pack 'fr'; the packs are cn, uk, us"),
        (
            ("--pack", "us", "--channel", "fax", "--text", "x"),
            "--channel: no channel 'fax'; the channels are sms, call, email, letter, visit",
        ),
        (("--pack", "fr", "--channel", "fax", "--text", "x"), "--pack: no content pack 'fr'"),
        (("--pack", "cn"), "give the draft with one of --text and --file"),
        (("--pack", "cn", "--text", "x", "--file", "f"), "one of --text and --file"),
        (("--pack", "cn", "--file", "missing.txt"), "--file missing.txt: cannot read it"),
    ],
)
def test_usage_errors_exit_2_naming_the_option(args: tuple[str, ...], message: str) -> None:
    code, out, err = lint(*args)
    assert (code, out) == (2, "")
    assert message in " ".join(err.split())


def test_a_lenders_phrases_are_looked_for_and_a_bad_settings_file_exits_1(
    tmp_path: Path,
) -> None:
    settings = tmp_path / "lender.toml"
    settings.write_text('[content.phrases]\n"cn.content.insults" = ["臭虫"]\n', encoding="utf-8")
    code, out, _ = lint("--pack", "cn", "--text", "你这个臭虫", "--config", str(settings))
    assert (code, out.split("\t")[:3]) == (3, ["cn.content.insults", "3-5", "臭虫"])
    assert lint("--pack", "cn", "--text", "你这个臭虫")[0] == 0  # without the file
    settings.write_text('[content]\nremove = ["老赖"]\n', encoding="utf-8")
    code, _, err = lint("--pack", "cn", "--text", "x", "--config", str(settings))
    assert code == 1
    assert "unknown key(s) ['remove'] in [content]" in " ".join(err.split())


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


def test_hold_keeps_the_note_with_its_findings_and_warns(db: str) -> None:
    code, _, err = cli(
        "contact", "hold", "--borrower", "B1", "--kind", "dispute", "--from", "2026-03-01",
        "--note", " 客户说你们再打就曝光 ", db=db,
    )  # fmt: skip
    assert code == 0, err
    assert "the note was kept; the content lint found: cn.content.disclosure 「曝光」" in " ".join(
        err.split()
    )
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(holds.c.note, holds.c.note_findings)).one()
    finally:
        engine.dispose()
    assert row.note == "客户说你们再打就曝光"
    assert [(f["rule"], f["start"]) for f in row.note_findings] == [("cn.content.disclosure", 8)]
    code, _, err = cli(
        "contact", "hold", "--borrower", "B1", "--kind", "hardship", "--from", "2026-03-01",
        "--note", "x" * 2001, db=db,
    )  # fmt: skip
    assert code == 2
    assert "--note: a note is at most 2000 characters, this one 2001" in err
