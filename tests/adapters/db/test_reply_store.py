"""Borrowers' replies on SQLite and PostgreSQL: kept with the opt-outs and audit entries they
record in one transaction; read by hand once; nothing changed by a refused reading."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, insert, select

from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.db import tables
from arrears.adapters.db.audit_store import SqlAuditLog
from arrears.adapters.db.contact_store import SqlContactStore
from arrears.adapters.db.instants import utc
from arrears.adapters.db.reply_store import SqlReplyStore
from arrears.domain.calendar import BusinessCalendar
from arrears.domain.contact import OptOut
from arrears.domain.replies import OPTED_OUT, READ, TO_READ, Reply, ReplyPart, StoredReply
from arrears.services.replies import (
    ReplyRefused,
    ReplyTaking,
    honour_dates,
    read_by_hand,
    reply_rules,
)

RULES = reply_rules(contact_packs().values())
PRODUCTS = {"cn-cash": "cn", "uk-loan": "uk", "us-card": "us"}
AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SHARED = "+8613812345678"  # two borrowers on one number (a family's phone)


def seeded(engine: Engine) -> SqlReplyStore:
    with engine.begin() as conn:
        conn.execute(insert(tables.borrowers), [
            {"borrower_id": "B1", "name": "张三", "phone": SHARED},
            {"borrower_id": "B2", "name": "张四", "phone": SHARED},
            {"borrower_id": "B3", "name": "Ann", "phone": "+12125551234"},
            {"borrower_id": "B5", "name": "Tom", "phone": "+447911123456"},
            {"borrower_id": "B6", "name": "Sue", "phone": "+13125550188"},
        ])  # fmt: skip
        conn.execute(insert(tables.loans), [
            {"loan_id": "L5", "borrower_id": "B5", "product": "uk-loan", "currency": "GBP",
             "principal": 100_000, "annual_rate": "0.2", "contract_date": date(2026, 1, 1)},
            {"loan_id": "L6", "borrower_id": "B6", "product": "us-card", "currency": "USD",
             "principal": 100_000, "annual_rate": "0.2", "contract_date": date(2026, 1, 1)},
        ])  # fmt: skip
    return SqlReplyStore(engine, PRODUCTS)


def take(
    store: SqlReplyStore, number: str, text: str, at: datetime = AT, part: ReplyPart | None = None
) -> StoredReply | None:
    return ReplyTaking(store, RULES).take(Reply(number, text, part), at)


def whole(kept: StoredReply | None) -> StoredReply:
    assert kept is not None
    return kept


def opt_outs(engine: Engine) -> dict[str, tuple[str, datetime]]:
    o = tables.opt_outs.c
    with engine.connect() as conn:
        rows = conn.execute(select(o.borrower_id, o.channel, o.since))
        return {r.borrower_id: (r.channel, utc(r.since)) for r in rows}


def test_an_opt_out_word_alone_opts_out_everyone_on_the_number_audited(migrated: Engine) -> None:
    store = seeded(migrated)
    kept = whole(take(store, SHARED, "退订"))
    assert (kept.state, kept.borrower_ids, kept.rule_id, kept.word) == (
        OPTED_OUT, ("B1", "B2"), "cn.reply_opt_out", "退订")  # fmt: skip
    assert opt_outs(migrated) == {"B1": ("sms", AT), "B2": ("sms", AT)}
    for borrower in ("B1", "B2"):
        (entry,) = [c.entry for c in SqlAuditLog(migrated).entries(subject=f"borrower:{borrower}")]
        assert (entry.action, entry.detail["reply"], entry.detail["rule"]) == (
            "contact.opt_out", kept.reply_id, "cn.reply_opt_out")  # fmt: skip
        assert "第十八条" in entry.detail["source"]
    # The contact store reads it: the next check of a text refuses it.
    file = SqlContactStore(migrated).load_contact_file("B2")
    assert file is not None
    assert file.opt_outs == (OptOut("sms", AT),)
    assert store.replies((OPTED_OUT,), 10) == [kept]


def test_an_earlier_opt_out_is_kept(migrated: Engine) -> None:
    store = seeded(migrated)
    take(store, "+12125551234", "STOP", AT - timedelta(days=1))
    take(store, "+12125551234", "stop.", AT)
    assert opt_outs(migrated) == {"B3": ("sms", AT - timedelta(days=1))}
    assert len(store.replies((OPTED_OUT,), 10)) == 2


@pytest.mark.parametrize(
    ("number", "text", "word"),
    [
        ("+12125551234", "I will pay by the end of May", "END"),
        ("+12125551234", "I paid yesterday", None),
        ("+447700900123", "STOP", "STOP"),  # no borrower on the number: a person looks
    ],
)
def test_any_other_reply_waits_for_a_person_and_opts_no_one_out(
    migrated: Engine, number: str, text: str, word: str | None
) -> None:
    store = seeded(migrated)
    kept = whole(take(store, number, text))
    assert (kept.state, kept.rule_id, kept.word) == (TO_READ, None, word)
    assert opt_outs(migrated) == {}
    assert SqlAuditLog(migrated).entries() == []
    assert store.replies((TO_READ,), 10) == [kept]


def test_a_person_reads_a_reply_once_and_may_record_the_opt_out(migrated: Engine) -> None:
    store = seeded(migrated)
    first = whole(take(store, SHARED, "我已还款，别再发了", AT))
    second = whole(take(store, "+12125551234", "ok thanks", AT + timedelta(minutes=1)))
    now = AT + timedelta(hours=2)
    done = read_by_hand(store, first.reply_id, True, "alice", now)
    assert (done.state, done.borrower_ids, done.read_by) == (OPTED_OUT, ("B1", "B2"), "alice")
    # From when it came, not from when it was read: texts since then should not have gone.
    assert opt_outs(migrated) == {"B1": ("sms", AT), "B2": ("sms", AT)}
    read = read_by_hand(store, second.reply_id, False, "alice", now)
    assert read.state == READ
    assert opt_outs(migrated) == {"B1": ("sms", AT), "B2": ("sms", AT)}
    actions = [(c.entry.action, c.entry.subject, c.entry.actor)
               for c in SqlAuditLog(migrated).entries()]  # fmt: skip
    assert actions == [
        ("reply.read", f"reply:{first.reply_id}", "alice"),
        ("contact.opt_out", "borrower:B1", "alice"),
        ("contact.opt_out", "borrower:B2", "alice"),
        ("reply.read", f"reply:{second.reply_id}", "alice"),
    ]
    assert store.replies((TO_READ,), 10) == []
    with pytest.raises(ReplyRefused, match="no such reply waiting"):
        read_by_hand(store, first.reply_id, False, "bob", now)
    with pytest.raises(ReplyRefused, match="no such reply waiting"):
        read_by_hand(store, 999, True, "bob", now)


def test_no_opt_out_is_recorded_for_a_number_no_borrower_is_on(migrated: Engine) -> None:
    store = seeded(migrated)
    kept = whole(take(store, "+447700900123", "please stop"))
    with pytest.raises(ReplyRefused, match=r"no borrower is on \+4477\*\*\*\*0123"):
        read_by_hand(store, kept.reply_id, True, "alice", AT)
    assert store.replies((TO_READ,), 10) == [kept]  # nothing changed
    assert SqlAuditLog(migrated).entries() == []
    # A borrower on the number since: read now, they are opted out.
    with migrated.begin() as conn:
        conn.execute(insert(tables.borrowers).values(borrower_id="B4", name="Bo",
                                                     phone="+447700900123"))  # fmt: skip
    done = read_by_hand(store, kept.reply_id, True, "alice", AT + timedelta(hours=1))
    assert done.borrower_ids == ("B4",)
    assert opt_outs(migrated) == {"B4": ("sms", AT)}


def test_a_reply_is_credited_to_the_borrowers_own_pack_first(migrated: Engine) -> None:
    store = seeded(migrated)
    uk = whole(take(store, "+447911123456", "Stop."))  # B5's loan is a uk product
    # B3 has no loan: the packs in order (cn's has no STOP, us's comes next).
    us = whole(take(store, "+12125551234", "Stop."))
    assert (uk.rule_id, us.rule_id) == ("uk.reply_opt_out", "us.reply_opt_out")
    (entry,) = [c.entry for c in SqlAuditLog(migrated).entries(subject="borrower:B5")]
    assert entry.detail["source"].startswith("FCA CONC 7.9")


def test_a_long_reply_is_read_once_whole(migrated: Engine) -> None:
    store = seeded(migrated)
    # A long reply whose second part alone would read "end": read whole, a person reads it.
    parts = ["I have paid every month and will keep paying until the loan's", " end"]
    assert take(store, "+12125551234", parts[1], AT, ReplyPart(7, 2, 2)) is None
    assert take(store, "+12125551234", parts[1], AT, ReplyPart(7, 2, 2)) is None  # again
    assert store.replies((TO_READ, OPTED_OUT), 10) == []
    kept = whole(take(store, "+12125551234", parts[0], AT + timedelta(seconds=2),
                      ReplyPart(7, 2, 1)))  # fmt: skip
    assert (kept.text, kept.state, kept.word) == ("".join(parts), TO_READ, "END")
    assert opt_outs(migrated) == {}
    # Split inside a word: 退|订 in two parts, read whole, it opts out.
    assert take(store, SHARED, "我" * 66 + "退", AT, ReplyPart(9, 2, 1)) is None
    split = whole(take(store, SHARED, "订，别再发了", AT, ReplyPart(9, 2, 2)))
    assert (split.state, split.word) == (OPTED_OUT, "退订")
    with migrated.connect() as conn:  # only the marks that each was read whole stay a while
        rows = conn.execute(select(tables.sms_reply_parts.c.reference,
                                   tables.sms_reply_parts.c.seq)).all()  # fmt: skip
    assert sorted((int(r), int(q)) for r, q in rows) == [(7, 0), (9, 0)]


def test_a_long_reply_missing_a_part_goes_to_a_person_after_an_hour(migrated: Engine) -> None:
    store = seeded(migrated)
    taking = ReplyTaking(store, RULES)
    assert take(store, "+12125551234", "STOP", AT, ReplyPart(3, 3, 2)) is None
    assert taking.sweep(AT + timedelta(minutes=59)) == []  # its parts may still come
    (kept,) = taking.sweep(AT + timedelta(hours=1, seconds=1))
    assert (kept.text, kept.state, kept.rule_id, kept.received_at) == ("…STOP…", TO_READ, None, AT)
    assert opt_outs(migrated) == {}  # never an opt-out by its words alone
    assert taking.sweep(AT + timedelta(hours=2)) == []


def test_a_long_reply_taken_whole_meanwhile_is_not_swept_too(
    migrated: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = seeded(migrated)
    taking = ReplyTaking(store, RULES)
    assert take(store, "+12125551234", "I paid", AT, ReplyPart(4, 2, 1)) is None
    stale = SqlReplyStore._stale

    def late_part_meanwhile(self: SqlReplyStore, since: datetime) -> list[tuple[str, int, int]]:
        found = stale(self, since)  # the sweep found it stale; then its last part came
        whole(take(store, "+12125551234", " already", AT + timedelta(hours=1), ReplyPart(4, 2, 2)))
        return found

    monkeypatch.setattr(SqlReplyStore, "_stale", late_part_meanwhile)
    assert taking.sweep(AT + timedelta(hours=1, seconds=1)) == []
    monkeypatch.undo()
    assert [r.text for r in store.replies((TO_READ,), 10)] == ["I paid already"]
    # The part delivered again after the reply was read whole is dropped, not a new reply.
    assert (
        take(store, "+12125551234", " already", AT + timedelta(hours=1), ReplyPart(4, 2, 2)) is None
    )
    # Another long reply reusing the reference within the hour starts anew.
    assert (
        take(store, "+12125551234", "Call me", AT + timedelta(hours=1), ReplyPart(4, 2, 1)) is None
    )
    anew = whole(take(store, "+12125551234", " back", AT + timedelta(hours=1), ReplyPart(4, 2, 2)))
    assert anew.text == "Call me back"
    assert taking.sweep(AT + timedelta(hours=3)) == []  # the mark let go, nothing kept
    assert [r.text for r in store.replies((TO_READ,), 10)] == ["I paid already", "Call me back"]
    with migrated.connect() as conn:
        assert conn.execute(select(tables.sms_reply_parts)).all() == []


def test_a_us_borrowers_reply_waiting_has_its_ten_business_days(migrated: Engine) -> None:
    store = seeded(migrated)
    # 2026-03-02 03:00 UTC is Sunday 1 March, 22:00 in New York: counted from Monday.
    us = whole(take(store, "+13125550188", "I'll pay by the end of the week"))
    cn = whole(take(store, SHARED, "我下周还"))
    nobody = whole(take(store, "+447700900123", "who is this?"))
    weekdays = lambda _j, first, last: BusinessCalendar.weekends_only(range(first, last + 1))  # noqa: E731
    due = honour_dates(store, RULES, weekdays, [us, cn, nobody])
    assert due == {us.reply_id: date(2026, 3, 13)}  # the tenth business day after 1 March
    read_by_hand(store, us.reply_id, False, "alice", AT)
    (read,) = store.replies(("read",), 10)
    assert honour_dates(store, RULES, weekdays, [read]) == {}  # read: nothing to honour
