"""`arrears contact …`: log an attempt, check one, place a hold, record an opt-out, lint a
draft.

cli.py adds this sub-app at its end (it reuses cli.py's options and helpers), so import the
command line through `arrears.entrypoints.cli`.
"""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from arrears.adapters.settings import config_path, load_settings
from arrears.domain.audit_chain import AuditEntry
from arrears.domain.contact import CHANNELS, HOLD_KINDS, OUTCOMES, ContactRequest, Hold, OptOut
from arrears.domain.content_lint import Finding
from arrears.domain.errors import DomainError
from arrears.domain.staff import CONSOLE
from arrears.entrypoints.cli_common import (
    Config,
    Db,
    Json,
    err,
    fail,
    given_first,
    on_one_line,
    open_app,
    parse_day,
    parse_instant,
)
from arrears.services.contact_check import ContactInputError, check_contact, reason_document
from arrears.services.contact_log import log_contact, place_hold, record_opt_out
from arrears.services.content_check import (
    NOTE_MAX,
    UnknownPackOrChannel,
    check_draft,
    draft_document,
    finding_document,
)
from arrears.services.ports import StoredAttempt

contact_app = typer.Typer(
    help="Contact attempts: record what happened, check what is allowed (rule packs decide).",
    no_args_is_help=True,
    rich_markup_mode=None,  # help is text: "[channels]" must print as written
)

Borrower = Annotated[str, typer.Option("--borrower", help="The borrower's id.")]
Channel = Annotated[str, typer.Option("--channel", help=", ".join(CHANNELS))]
To = Annotated[
    str | None,
    typer.Option(
        "--to",
        help="Phone number (E.164; without +country, one of the borrower's number's country); "
        "default: the registered one.",
    ),
]
Contact = Annotated[
    str | None,
    typer.Option("--contact", help="A registered contact of the borrower (else the borrower)."),
]


@contact_app.command("log")
def log_command(
    borrower: Borrower,
    channel: Channel,
    at: Annotated[str, typer.Option("--at", help="ISO 8601 instant with offset.")],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="e.g. connected, no_answer, sent; inbound: a call the person made, answered "
            "(--to: the number they called from)",
        ),
    ],
    to: To = None,
    contact: Contact = None,
    note: Annotated[
        str,
        typer.Option(
            "--note", help="What happened or was said: kept, with the content lint's findings."
        ),
    ] = "",
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Record a contact attempt; warn (and flag it) when it broke a rule, and when its note
    holds phrases the content lint finds (the note is kept all the same)."""
    request = _request(borrower, channel, at, to, contact)
    if outcome not in OUTCOMES[channel]:
        fail(f"--outcome {outcome!r}: a {channel} ends in one of {', '.join(OUTCOMES[channel])}", 2)
    if len(note.strip()) > NOTE_MAX:
        fail(f"--note: a note is at most {NOTE_MAX} characters, this one {len(note.strip())}", 2)
    now = datetime.now(UTC)
    entry = _console(now, "contact.log", borrower, channel=request.channel,
                     at=request.at.isoformat(), outcome=outcome, contact=contact)  # fmt: skip
    with open_app(db, config) as application:
        try:
            stored = log_contact(
                application.contacts, application.contact_terms, request, outcome, now, entry,
                note,
            )  # fmt: skip
        except ContactInputError as error:
            fail(str(error), 2)
        except DomainError as error:
            fail(str(error))
    if not stored.decision.allowed:
        broken = "; ".join(f"{r.rule}: {r.detail} ({r.source})" for r in stored.decision.broken)
        err.print(
            f"[bold yellow]warning:[/] this attempt broke a rule: {escape(broken)}",
            highlight=False,
            soft_wrap=True,
        )
    if stored.note is not None and stored.note.findings:
        err.print(
            f"[bold yellow]warning:[/] the note was kept; the content lint found: "
            f"{escape(_findings_line(stored.note.findings))}",
            highlight=False,
            soft_wrap=True,
        )
    if as_json:
        print(json.dumps(attempt_document(stored), ensure_ascii=False))
    else:
        verdict = "allowed" if stored.decision.allowed else "NOT allowed"
        err.print(f"attempt {stored.attempt_id} recorded ({verdict})")


@contact_app.command("check")
def check_command(
    borrower: Borrower,
    channel: Channel,
    at: Annotated[
        str | None, typer.Option("--at", help="ISO 8601 instant with offset (default: now).")
    ] = None,
    to: To = None,
    contact: Contact = None,
    db: Db = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Would this contact be allowed at that instant? Exit 0 either way; the answer says."""
    request = _request(borrower, channel, datetime.now(UTC).isoformat() if at is None else at, to,
                       contact)  # fmt: skip
    with open_app(db, config) as application:
        try:
            decision = check_contact(application.contacts, application.contact_terms, request)
        except ContactInputError as error:
            fail(str(error), 2)
        except DomainError as error:
            fail(str(error))
    document = {
        "allowed": decision.allowed,
        "reasons": [reason_document(r) for r in decision.reasons],
    }
    if as_json:
        print(json.dumps(document, ensure_ascii=False))
        return
    print("allowed" if decision.allowed else "blocked")
    for reason in decision.reasons:
        mark = "ok     " if reason.passed else "BLOCKED"
        print(f"  {mark} {reason.rule}: {reason.detail} [{reason.source}]")


# `contact lint`: 0 clean, 3 findings (a draft to change), 2 usage, 1 a bad settings file.
FOUND = 3


@contact_app.command("lint")
def lint_command(
    pack: Annotated[str, typer.Option("--pack", help="The rule pack: cn, us, uk.")],
    text: Annotated[str | None, typer.Option("--text", help="The draft's text.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="A UTF-8 file holding the draft (- for stdin).")
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="The draft's channel: also check what its texts must say."),
    ] = None,
    config: Config = None,
    as_json: Json = False,
) -> None:
    """Check a draft (a template, a letter) against a pack's content rules before it is
    used: every finding with its rule, source, words and place; with --channel, every
    statement the pack requires of that channel's texts that the draft lacks. Exit 0 when it
    is clean, 3 when something is found or missing; nothing is stored (no database is
    needed)."""
    if (text is None) == (file is None):
        fail("give the draft with one of --text and --file", 2)
    draft = text if text is not None else _read_draft(str(file))
    try:
        settings = load_settings(config_path(given_first("config", config), Path.cwd()))
    except DomainError as error:
        fail(str(error))
    try:
        check = check_draft(settings.content_packs, pack, draft, channel)
    except UnknownPackOrChannel as error:
        fail(f"{'--channel' if pack in settings.content_packs else '--pack'}: {error}", 2)
    if as_json:
        print(json.dumps(draft_document(pack, channel, check), ensure_ascii=False))
    else:
        for f in check.findings:
            # One line a finding, tab-separated: words that span a line break or a tab show
            # it as a space (helper-125: they broke the line), their offsets as they are.
            print(f"{f.rule_id}\t{f.start}-{f.end}\t{on_one_line(f.matched)}\t"
                  f"(phrase {f.phrase}) [{f.source}]")  # fmt: skip
        for r in check.missing:
            print(f"{r.rule_id}\tmissing\t(one of: {', '.join(r.phrases)}) [{r.cited}]")
        if check.clean:
            print("clean")
    if not check.clean:
        err.print(
            f"{len(check.findings)} finding(s) under the {pack} pack's content rules"
            + (f", {len(check.missing)} required statement(s) missing" if check.missing else "")
        )
        raise typer.Exit(FOUND)


def _read_draft(path: str) -> str:
    """The draft in a UTF-8 file (- for stdin), or exit 2 naming the problem."""
    try:
        # Its bytes read as UTF-8, as a file's are: the terminal's stdin took bad bytes for
        # surrogates, linted as if they were characters (helper-125).
        raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        return raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        fail(f"--file {path}: cannot read it as UTF-8 text: {error}", 2)


def _findings_line(findings: tuple[Finding, ...]) -> str:
    """Findings in one line: each rule, the words found and where."""
    return "; ".join(f"{f.rule_id} 「{f.matched}」 at {f.start}" for f in findings)


@contact_app.command("hold")
def hold_command(
    borrower: Borrower,
    kind: Annotated[str, typer.Option("--kind", help=", ".join(HOLD_KINDS))],
    starts_on: Annotated[str, typer.Option("--from", help="First held day, YYYY-MM-DD.")],
    ends_on: Annotated[
        str | None, typer.Option("--until", help="Last held day (default: open).")
    ] = None,
    note: Annotated[
        str, typer.Option("--note", help="Why: kept, with the content lint's findings.")
    ] = "",
    db: Db = None,
    config: Config = None,
) -> None:
    """Pause collection contact (again with the same --kind/--from: change its end, and its
    note when one is given); warn when the note holds phrases the content lint finds (the
    note is kept all the same)."""
    if kind not in HOLD_KINDS:
        fail(f"--kind {kind!r}: expected one of {', '.join(HOLD_KINDS)}", 2)
    first = parse_day(starts_on, "--from")
    last = parse_day(ends_on, "--until") if ends_on is not None else None
    if len(note.strip()) > NOTE_MAX:
        fail(f"--note: a note is at most {NOTE_MAX} characters, this one {len(note.strip())}", 2)
    now = datetime.now(UTC)
    entry = _console(now, "hold.place", borrower, kind=kind,
                     starts_on=first.isoformat(), ends_on=last.isoformat() if last else None,
                     note=note.strip() or None)  # fmt: skip
    with open_app(db, config) as application:
        try:
            kept = place_hold(application.contacts, application.contact_terms, borrower,
                              Hold(kind, first, last, note), now, entry)  # fmt: skip
        except DomainError as error:
            fail(str(error))
    if kept is not None and kept.findings:
        err.print(
            f"[bold yellow]warning:[/] the note was kept; the content lint found: "
            f"{escape(_findings_line(kept.findings))}",
            highlight=False,
            soft_wrap=True,
        )
    err.print(f"{kind} hold for {borrower} from {first} until {last or 'lifted'}")


@contact_app.command("opt-out")
def opt_out_command(
    borrower: Borrower,
    channel: Channel,
    since: Annotated[
        str | None, typer.Option("--since", help="ISO 8601 instant with offset (default: now).")
    ] = None,
    db: Db = None,
    config: Config = None,
) -> None:
    """Record that the borrower asked not to be contacted through a channel."""
    if channel not in CHANNELS:
        fail(f"--channel {channel!r}: expected one of {', '.join(CHANNELS)}", 2)
    instant = parse_instant(since, "--since") if since is not None else datetime.now(UTC)
    entry = _console(datetime.now(UTC), "contact.opt_out", borrower, channel=channel,
                     since=instant.isoformat())  # fmt: skip
    with open_app(db, config) as application:
        try:
            record_opt_out(application.contacts, borrower, OptOut(channel, instant), entry)
        except DomainError as error:
            fail(str(error))
    err.print(f"{borrower} opted out of {channel} from {instant.isoformat()}")


def _console(now: datetime, action: str, borrower: str, **detail: object) -> AuditEntry:
    """The audit entry of a change made at the console to a borrower's contact record (the
    database's holder acts: the log names the console, docs/CASEWORK.md)."""
    return AuditEntry(now, CONSOLE, action, f"borrower:{borrower}", dict(detail))


def _request(
    borrower: str, channel: str, at: str, to: str | None, contact: str | None
) -> ContactRequest:
    """A request from the options, refusing unknown channels and naive instants (exit 2)."""
    if channel not in CHANNELS:
        fail(f"--channel {channel!r}: expected one of {', '.join(CHANNELS)}", 2)
    return ContactRequest(borrower, channel, parse_instant(at, "--at"), to, contact)


def attempt_document(stored: StoredAttempt) -> dict[str, Any]:
    """`arrears contact log --json`: the stored attempt, and the decision at its instant."""
    attempt = stored.attempt
    return {
        "attempt": {
            "attempt_id": stored.attempt_id,
            "borrower_id": stored.borrower_id,
            "contact_id": attempt.contact_id,
            "channel": attempt.channel,
            "to": attempt.to_phone,
            "at": attempt.at.astimezone(UTC).isoformat(),
            "outcome": attempt.outcome,
            "recorded_at": stored.recorded_at.astimezone(UTC).isoformat(),
            "note": stored.note.text if stored.note else None,
        },
        "note_findings": [finding_document(f) for f in stored.note.findings] if stored.note else [],
        "allowed": stored.decision.allowed,
        "reasons": [reason_document(r) for r in stored.decision.reasons],
    }
