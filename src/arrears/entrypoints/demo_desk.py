"""The demo's simulated collection desk: it works each day's plan the way people would.

Calls connect or not at random, messages and letters go out, some borrowers who answer promise
to pay and some of those keep it; a few dispute the debt or ask for no more text messages (from
the next day's plan on), and a few say they will never pay: the desk refers those to legal. A
few borrowers reply to the last day's texts.
Every contact is logged through the compliance engine, so the demo shows whether any planned
contact broke a rule.
"""

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from arrears.bootstrap import App
from arrears.domain.access import Principal, Role
from arrears.domain.contact import ContactRequest, Hold, OptOut
from arrears.domain.money import format_amount
from arrears.domain.replies import Reply
from arrears.domain.staff import CONSOLE
from arrears.services.contact_log import log_contact, place_hold, record_opt_out
from arrears.services.legal import set_flag

# How often a planned call reaches the borrower, and what a reached borrower does.
CALL_OUTCOMES = ("connected", "no_answer", "busy")
CALL_WEIGHTS = (35, 45, 20)
PROMISE_SHARE = 0.4
DISPUTE_SHARE = 0.01  # of the borrowers reached: dispute the debt (a hold while it is checked)
DISPUTE_DAYS = 14
OPT_OUT_SHARE = 0.02  # … ask for no more text messages
REFUSE_SHARE = 0.01  # … say they will never pay: referred to legal (the `legal` flag)
# Who refers them: the demo's people are made after its runs (demo_staff), so the desk acts
# with every permission, as the console (the audit log's name for it).
DESK_PRINCIPAL = Principal(CONSOLE, Role.ADMIN)
DEMO_ZONE = ZoneInfo("Asia/Shanghai")
KEPT_SHARE = 0.55
PROMISE_DAYS = 3
# What a few borrowers answer to the last day's texts: two ask to stop (an opt-out word,
# alone or among others: opted out at once), the rest wait for a person on /replies.
REPLIES = ("退订", "别再发了，退订", "我上周已经还了，请核实一下", "这个月工资晚发，下周一定还",
           "能不能分期还款？")  # fmt: skip


@dataclass
class Desk:
    """What the desk did over the demo, and the payments its promises will bring."""

    rng: random.Random = field(default_factory=lambda: random.Random(11))
    done: Counter[str] = field(default_factory=Counter)
    broken_rules: int = 0
    promised_payments: list[dict[str, str]] = field(default_factory=list)
    texted: set[str] = field(default_factory=set)  # the borrowers the last day's texts went to

    def work(self, app: App, day: date) -> None:
        """Work every item planned for `day`."""
        cases = app.cases
        self.texted = set()
        for item in cases.planned_for(day):
            if item.channel is None or item.window_start is None or item.window_end is None:
                cases.complete(item.action_key, "done", "done")
                self.done[item.action] += 1
                continue
            outcome = "sent"
            if item.channel == "call":
                outcome = self.rng.choices(CALL_OUTCOMES, CALL_WEIGHTS)[0]
            at = self._moment(item.window_start, item.window_end)
            request = ContactRequest(item.borrower_id, item.channel, at)
            stored = log_contact(app.contacts, app.contact_terms, request, outcome, at)
            self.broken_rules += 0 if stored.decision.allowed else 1
            status = "failed" if outcome in ("no_answer", "busy") else "done"
            cases.complete(item.action_key, status, outcome)
            self.done[f"{item.action}:{outcome}"] += 1
            if outcome == "connected":
                self._answered(app, item.loan_id, item.borrower_id, day, at)
            if item.channel == "sms" and stored.decision.allowed:
                self.texted.add(item.borrower_id)

    def replies(self, app: App, now: datetime) -> Counter[str]:
        """A few borrowers the last day's texts went to reply (REPLIES), taken as `arrears
        receipts` takes replies from an SMSC: counts by what became of them."""
        taking = app.reply_taking
        kept: Counter[str] = Counter()
        texted = sorted(self.texted)
        for borrower_id, text in zip(self.rng.sample(texted, min(len(texted), len(REPLIES))),
                                     REPLIES, strict=False):  # fmt: skip
            file = app.contacts.load_contact_file(borrower_id)
            stored = taking.take(Reply(file.phone, text), now) if file is not None else None
            kept[stored.state if stored is not None else "lost"] += 1
        return kept

    def payments_between(self, after: date, upto: date) -> list[dict[str, str]]:
        """Promised payments that arrive in (after, upto]."""
        return [
            p for p in self.promised_payments if after < date.fromisoformat(p["paid_on"]) <= upto
        ]

    def _moment(self, start: datetime, end: datetime) -> datetime:
        """A random minute inside the lawful window."""
        start, end = (
            start.replace(tzinfo=start.tzinfo or UTC),
            end.replace(tzinfo=end.tzinfo or UTC),
        )
        minutes = max(1, int((end - start).total_seconds() // 60) - 1)
        return start + timedelta(minutes=self.rng.randrange(minutes))

    def _answered(self, app: App, loan_id: str, borrower_id: str, day: date, at: datetime) -> None:
        """A borrower who answers may promise to pay, dispute the debt (collection pauses
        while it is looked into), ask for no more text messages or say they will never pay
        (referred to legal: the next run's legal stage takes the loan). The desk records a
        hold or an opt-out to take effect from the next day: today's plan was made without
        it, and the demo counts every contact of a plan that breaks a rule."""
        draw = self.rng.random()
        tomorrow = day + timedelta(days=1)
        if draw < PROMISE_SHARE:
            self._promise(app, loan_id, day)
        elif draw < PROMISE_SHARE + DISPUTE_SHARE:
            ends = day + timedelta(days=DISPUTE_DAYS)
            hold = Hold("dispute", tomorrow, ends, "demo: disputes the debt")
            place_hold(app.contacts, app.contact_terms, borrower_id, hold, at)
            self.done["hold:dispute"] += 1
        elif draw < PROMISE_SHARE + DISPUTE_SHARE + OPT_OUT_SHARE:
            # From the borrower's next midnight (the demo's borrowers live in China).
            since = datetime.combine(tomorrow, time(), DEMO_ZONE)
            record_opt_out(app.contacts, borrower_id, OptOut("sms", since))
            self.done["opt-out:sms"] += 1
        elif draw < PROMISE_SHARE + DISPUTE_SHARE + OPT_OUT_SHARE + REFUSE_SHARE and not any(
            f["flag"] == "legal" for f in app.track.flags(loan_id)
        ):
            set_flag(app.desk, app.track, app.contact_terms, DESK_PRINCIPAL, loan_id, "legal",
                     "demo: says they will never pay", day, at)  # fmt: skip
            self.done["referred:legal"] += 1

    def _promise(self, app: App, loan_id: str, day: date) -> None:
        amount = app.cases.overdue_total(loan_id)
        if amount <= 0:
            return
        promise_id = f"PR-{loan_id}-{day}"
        due = day + timedelta(days=PROMISE_DAYS)
        app.cases.record_promise({"promise_id": promise_id, "loan_id": loan_id, "amount": amount,
                                  "made_on": day, "due_on": due})  # fmt: skip
        self.done["promise"] += 1
        if self.rng.random() < KEPT_SHARE:
            paid_on = day + timedelta(days=self.rng.randint(1, PROMISE_DAYS))
            self.promised_payments.append({
                "payment_id": f"PAY-{promise_id}", "loan_id": loan_id,
                "amount": format_amount(amount), "paid_on": paid_on.isoformat(), "channel": "app",
            })  # fmt: skip
