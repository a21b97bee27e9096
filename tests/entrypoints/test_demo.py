"""The demo's whole cycle on a small book: every contact its plans made kept every rule, heavy
steps went ahead once their guards were met, and refusals were counted by rule."""

import io
import re
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from arrears.entrypoints.demo import run_demo
from arrears.entrypoints.desk_calendar import desk_day


def test_the_demo_cycle_breaks_no_rule_and_escalates(tmp_path: Path) -> None:
    out = io.StringIO()
    served = {desk_day(datetime.now(UTC))}
    run_demo(tmp_path / "demo", 300, Console(file=out, width=200))
    served.add(desk_day(datetime.now(UTC)))
    printed = out.getvalue()
    assert "contacts logged through the compliance engine that broke a rule: 0" in printed
    planned = re.search(r"planned actions: (.*)", printed)
    assert planned is not None
    counts = dict(re.findall(r"(\w+) (\d+)", planned.group(1)))
    # The ladder's steps all happened: reminders and calls, notices, the agency, the lawyer.
    for action in ("sms", "call", "formal_notice", "agency_placement", "lawyers_letter"):
        assert int(counts.get(action, 0)) > 0, f"no {action} planned: {printed}"
    with sqlite3.connect(tmp_path / "demo" / "arrears.db") as db:
        [(broken,)] = db.execute("SELECT count(*) FROM contact_attempts WHERE NOT allowed")
        [(attempts,)] = db.execute("SELECT count(*) FROM contact_attempts")
        [(refused,)] = db.execute("SELECT count(*) FROM blocked_actions")
        # Cases are balanced each day from the first daily run: some payments came in once
        # their case was a collector's (the dashboard credits only those).
        [(credited,)] = db.execute(
            "SELECT count(*) FROM payments p JOIN assignments a ON a.loan_id = p.loan_id"
            " WHERE p.paid_on >= a.assigned_on"
        )
        [(days,)] = db.execute("SELECT count(DISTINCT assigned_on) FROM assignments")
        # The demo's agency is on the white list and evaluated the day the desk opens, so
        # cn.outsourcing lets the seeding place late cases with it.
        [(placed,)] = db.execute("SELECT count(*) FROM placements")
        [agency] = db.execute("SELECT agency_id, listed, evaluated_on FROM agencies")
        replies = dict(db.execute("SELECT state, count(*) FROM sms_replies GROUP BY state"))
    assert credited > 0
    # Borrowers texted on the last day replied (five, or as many as were texted): 退订
    # alone and among others opted out, the rest wait for a person.
    said = re.search(r"replies to the last day's texts: (\d+) \((\d+) opted out at once, "
                     r"(\d+) waiting to be read", printed)  # fmt: skip
    assert said is not None
    assert (replies["opted_out"], replies["to_read"]) == (int(said[2]), int(said[3])) == (
        2, int(said[1]) - 2)  # fmt: skip
    assert int(said[1]) >= 3
    assert placed > 0
    assert "placed with agency-hz (on the white list, evaluated 2025-08-18" in printed
    # Evaluated again on the desk's day it is served (the book's days are over 12 months
    # before it): the pages place cases with it too.
    assert agency[:2] == ("agency-hz", 1)
    assert agency[2] in {days_around.isoformat() for days_around in served}
    assert f"agency-hz evaluated again on the desk's day {agency[2]} (cn.outsourcing)" in printed
    assert days > 1
    assert broken == 0
    assert attempts > 1000
    assert refused > 0  # disputes and opt-outs the desk recorded stop later contacts
