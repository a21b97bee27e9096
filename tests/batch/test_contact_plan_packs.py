"""A borrower with loans under several packs: the night's plan decides every contact as
`contact check` does (services.contact_check), under every pack of the borrower's loans.

Over random books of borrowers holding cn, us and uk loans, with numbers of one zone, of many
(a US toll-free number) and of none (a fictional UK range: each pack's own default zone), with
or without a recorded zone, each candidate contact is replayed through the service in the
plan's order: its window is the times every pack allows on the day (each pack's window found
with the facts the service builds for it), and at the window's last moment, counting the
contacts planned before it, the service's verdict and broken rules are the plan's.
"""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrears.adapters import strategy_file
from arrears.adapters.book_tables import with_pack_zones
from arrears.adapters.compliance_pack import contact_packs
from arrears.adapters.parquet_store import pack_zones
from arrears.adapters.people_index import PhoneReach, attempts_in_e164
from arrears.adapters.phone_zones import PhonenumbersZones
from arrears.adapters.strategy_file import load_ladder
from arrears.batch.contact_checks import ATTEMPT_SCHEMA, HOLD_SCHEMA, OPT_OUT_SCHEMA
from arrears.batch.contact_plan import CHANNEL_OF, plan_actions
from arrears.batch.plan_people import REACH_SCHEMA, FrameReach, People
from arrears.bootstrap import build_app
from arrears.domain.compliance import lawful_window
from arrears.domain.contact import ContactAttempt, ContactRequest, Hold, OptOut
from arrears.domain.errors import DomainError
from arrears.services.contact_check import (
    ContactTerms,
    decide_in_file,
    facts_for,
    packs_for,
    resolve_request,
)
from arrears.services.ports import ContactFile
from tests.contact_factories import local

DAY = date(2026, 3, 2)
PACKS = contact_packs()
LADDERS = {j: load_ladder(j) for j in ("cn", "us", "uk")}
PRODUCT = {"cn": "cn-cash", "us": "us-installment", "uk": "uk-installment"}
TERMS = build_app(None, None).run_context(DAY).terms
SERVICE = ContactTerms(
    PACKS, {code: p.jurisdiction for code, p in TERMS.products.items()}, PhonenumbersZones()
)
PHONES = ("+8613812345678", "+12125551234", "+18005550100", "+447700900123")
ZONES = (None, None, "America/Los_Angeles", "Asia/Shanghai", "Europe/London")
ACTIONS = ("sms", "call", "call", "email", "letter")
CANDIDATE_COLUMNS = ["loan_id", "borrower_id", "stage", "ladder", "arm", "action", "template"]


@st.composite
def books(draw: st.DrawFn) -> tuple[dict[str, ContactFile], pl.DataFrame, pl.DataFrame]:
    """Contact files of borrowers, their loans (loan_id, borrower_id, product) and candidates:
    a loan per candidate, under one of its borrower's jurisdictions."""
    files, loans, candidates = {}, [], []
    for n in range(draw(st.integers(1, 3))):
        borrower = f"B{n}"
        owned = draw(st.lists(st.sampled_from(sorted(PRODUCT)), min_size=1, max_size=3,
                              unique=True))  # fmt: skip
        phone = draw(st.sampled_from(PHONES))
        attempts = []
        for _ in range(draw(st.integers(0, 8))):
            at = datetime.combine(DAY, datetime.min.time(), UTC) + timedelta(
                minutes=draw(st.integers(-8 * 1440, 1440))
            )
            channel = draw(st.sampled_from(["call", "call", "sms"]))
            outcomes = (
                ["connected", "no_answer", "busy", "inbound"] if channel == "call" else ["sent"]
            )
            to = draw(st.sampled_from([phone, phone, None]))  # to_phone is optional in a book
            attempts.append(ContactAttempt(at, channel, to, None,
                                           draw(st.sampled_from(outcomes))))  # fmt: skip
        holds = [Hold("dispute", DAY - timedelta(days=2))] if draw(st.integers(0, 9)) == 0 else []
        since = local(DAY - timedelta(days=20), "10:00")
        opt_outs = [OptOut("sms", since)] if draw(st.integers(0, 9)) == 0 else []
        files[borrower] = ContactFile(
            borrower, phone, draw(st.sampled_from(ZONES)),
            frozenset(PRODUCT[j] for j in owned), {}, tuple(sorted(attempts, key=lambda a: a.at)),
            tuple(holds), tuple(opt_outs),
        )  # fmt: skip
        wanted = draw(st.lists(st.sampled_from(owned), min_size=len(owned), max_size=6))
        for k, jurisdiction in enumerate([*owned, *wanted[len(owned) :]]):
            loan = f"L{n}-{k}"
            loans.append((loan, borrower, PRODUCT[jurisdiction]))
            candidates.append((loan, borrower, "early", LADDERS[jurisdiction].label,
                               "x=champion", draw(st.sampled_from(ACTIONS)), "t"))  # fmt: skip
    loan_frame = pl.DataFrame(loans, schema=["loan_id", "borrower_id", "product"], orient="row")
    return files, loan_frame, pl.DataFrame(candidates, schema=CANDIDATE_COLUMNS, orient="row")


def _people(files: dict[str, ContactFile], loans: pl.DataFrame) -> People:
    """The planner's people as a store builds them: a reach row per pack of a borrower's
    loans (with_pack_zones, PhoneReach), and their attempts, holds and opt-outs."""
    borrowers = pl.DataFrame(
        [(f.borrower_id, f.phone, f.timezone) for f in files.values()],
        schema={"borrower_id": pl.String, "phone": pl.String, "timezone": pl.String},
        orient="row",
    )  # fmt: skip
    reach = PhoneReach(with_pack_zones(borrowers, loans, TERMS, pack_zones()))
    tried = [(f.borrower_id, a.at, a.channel, a.to_phone, a.contact_id, a.outcome)
             for f in files.values() for a in f.attempts]  # fmt: skip
    held = [(f.borrower_id, h.kind, h.starts_on, h.ends_on) for f in files.values()
            for h in f.holds]  # fmt: skip
    outs = [(f.borrower_id, o.channel, o.since) for f in files.values() for o in f.opt_outs]
    return People.of_frames(
        reach,
        # Read as every store reads them (numbers in E.164, one left out: the borrower's own).
        attempts_in_e164(pl.DataFrame(tried, schema=ATTEMPT_SCHEMA, orient="row"), borrowers),
        pl.DataFrame(held, schema=HOLD_SCHEMA, orient="row"),
        pl.DataFrame(outs, schema=OPT_OUT_SCHEMA, orient="row"),
    )


def _window(file: ContactFile, request: ContactRequest) -> tuple[datetime, datetime] | None:
    """The times on DAY that every pack of the borrower's loans allows, from the facts the
    service gives each pack (None: they share none)."""
    spans = []
    for pack in packs_for(file, SERVICE):
        facts = facts_for(file, request, pack, SERVICE)
        span = lawful_window(DAY, facts.zones, pack, channel=request.channel,
                             day_zone=facts.day_zone)  # fmt: skip
        if span is None:
            return None
        spans.append(span)
    start, end = max(s for s, _ in spans), min(e for _, e in spans)
    return (start, end) if start < end else None


@settings(max_examples=150, deadline=None)
@given(books())
def test_the_plan_decides_each_contact_as_contact_check_does_under_every_pack(
    book: tuple[dict[str, ContactFile], pl.DataFrame, pl.DataFrame],
) -> None:
    files, loans, candidates = book
    plan, blocked = plan_actions(
        candidates, {ladder.label: ladder for ladder in LADDERS.values()}, PACKS,
        {ladder.label: j for j, ladder in LADDERS.items()}, _people(files, loans), {}, DAY,
    )  # fmt: skip
    planned = {row["loan_id"]: row for row in plan.iter_rows(named=True)}
    refused: dict[str, set[str]] = {}
    for loan, rule in blocked.select("loan_id", "rule").iter_rows():
        refused.setdefault(loan, set()).add(rule)
    made: dict[str, list[ContactAttempt]] = {b: list(f.attempts) for b, f in files.items()}
    order = candidates.sort("borrower_id", "loan_id", "action", "template")
    for loan, borrower, action in order.select("loan_id", "borrower_id", "action").iter_rows():
        file = files[borrower]
        channel = CHANNEL_OF[action]
        assert channel is not None
        file = replace(file, attempts=tuple(made[borrower]),
                       shared_dials=_dialled_by_others(files, made, borrower))  # fmt: skip
        window = _window(file, ContactRequest(borrower, channel, local(DAY, "12:00")))
        if window is None:
            quiet = {r.rule_id for p in packs_for(file, SERVICE) for r in p.rules_for(channel)
                     if r.kind == "quiet_hours"}  # fmt: skip
            assert loan not in planned, loan
            assert refused.get(loan), loan
            assert refused[loan] <= quiet, loan
            continue
        start, end = window
        at = end - timedelta(seconds=1)
        request = resolve_request(file, SERVICE, ContactRequest(borrower, channel, at))
        decision = decide_in_file(file, request, SERVICE)
        if decision.allowed:
            assert loan not in refused, (loan, refused[loan])
            row = planned[loan]
            assert (row["window_start"], row["window_end"]) == (start, end), loan
            outcome = "connected" if channel == "call" else "sent"
            made[borrower].append(ContactAttempt(start, channel, file.phone, None, outcome))
        else:
            assert loan not in planned, (loan, decision.broken)
            assert refused[loan] == {r.rule for r in decision.broken}, loan


def _dialled_by_others(
    files: dict[str, ContactFile], made: dict[str, list[ContactAttempt]], borrower: str
) -> tuple[ContactAttempt, ...]:
    """As the SQL store loads them: other borrowers' attempts to the borrower's number, those
    on record without a number (naming no contact) given their borrower's own number."""
    found = []
    for other, done in made.items():
        for a in done if other != borrower else ():
            if a.to_phone is None and a.contact_id is None and a.channel in ("call", "sms"):
                a = replace(a, to_phone=files[other].phone)
            if a.to_phone == files[borrower].phone:
                found.append(a)
    return tuple(sorted(found, key=lambda a: a.at))


def _plan_one(
    file: ContactFile, loans: list[tuple[str, str]], action: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The plan of one action on the borrower's first loan; `loans`: (loan_id, jurisdiction)."""
    frame = pl.DataFrame([(loan, file.borrower_id, PRODUCT[j]) for loan, j in loans],
                         schema=["loan_id", "borrower_id", "product"], orient="row")  # fmt: skip
    first, jurisdiction = loans[0]
    candidates = pl.DataFrame(
        [(first, file.borrower_id, "early", LADDERS[jurisdiction].label, "x=champion", action,
          "t")], schema=CANDIDATE_COLUMNS, orient="row",
    )  # fmt: skip
    return plan_actions(
        candidates, {ladder.label: ladder for ladder in LADDERS.values()}, PACKS,
        {ladder.label: j for j, ladder in LADDERS.items()}, _people({"B": file}, frame), {}, DAY,
    )  # fmt: skip


def test_a_call_on_a_chinese_loan_keeps_to_the_american_hours_of_the_borrowers_other_loan() -> None:
    file = ContactFile("B", "+8613812345678", None, frozenset({"cn-cash", "us-installment"}), {})
    plan, _ = _plan_one(file, [("L1", "cn"), ("L2", "us")], "call")
    # 21:00 in Shanghai (us.inconvenient_time), not 22:00 (cn.quiet_hours).
    assert plan.get_column("window_end").to_list() == [local(DAY, "21:00").astimezone(UTC)]
    alone, _ = _plan_one(file, [("L1", "cn")], "call")
    assert alone.get_column("window_end").to_list() == [local(DAY, "22:00").astimezone(UTC)]


def test_a_call_on_a_chinese_loan_waits_a_week_after_a_conversation_for_the_american_one() -> None:
    talked = ContactAttempt(local(DAY - timedelta(days=3), "10:00"), "call", "+8613812345678",
                            None, "connected")  # fmt: skip
    file = ContactFile("B", "+8613812345678", None, frozenset({"cn-cash", "us-installment"}),
                       {}, (talked,))  # fmt: skip
    plan, blocked = _plan_one(file, [("L1", "cn"), ("L2", "us")], "call")
    assert plan.height == 0
    assert blocked.get_column("rule").to_list() == ["us.call_after_conversation"]
    assert "2026-02-27" in blocked.item(0, "detail")


def test_a_reach_without_the_pack_of_the_loan_is_refused() -> None:
    """A store that left out a pack of the borrower's loans would plan without its rules."""
    reach = pl.DataFrame(
        [("B", "us", "+8613812345678", "Asia/Shanghai", "Asia/Shanghai")],
        schema=REACH_SCHEMA, orient="row",
    )  # fmt: skip
    candidates = pl.DataFrame(
        [("L1", "B", "early", LADDERS["cn"].label, "x=champion", "call", "t")],
        schema=CANDIDATE_COLUMNS, orient="row",
    )  # fmt: skip
    with pytest.raises(KeyError, match="no zones for borrower 'B' under 'cn'"):
        plan_actions(
            candidates, {ladder.label: ladder for ladder in LADDERS.values()}, PACKS,
            {ladder.label: j for j, ladder in LADDERS.items()},
            People.of_frames(FrameReach(reach)), {}, DAY,
        )  # fmt: skip


def _calls_on_cn_loans(
    files: dict[str, ContactFile], loans: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The plan of a call due on L0 (B0's) and on L1 (B1's), both cn loans."""
    candidates = pl.DataFrame(
        [(loan, b, "early", LADDERS["cn"].label, "x=champion", "call", "t")
         for loan, b in (("L0", "B0"), ("L1", "B1"))],
        schema=CANDIDATE_COLUMNS, orient="row",
    )  # fmt: skip
    return plan_actions(
        candidates, {ladder.label: ladder for ladder in LADDERS.values()}, PACKS,
        {ladder.label: j for j, ladder in LADDERS.items()}, _people(files, loans), {}, DAY,
    )  # fmt: skip


def test_two_borrowers_on_one_number_get_one_call_between_them_at_the_cap() -> None:
    """Five calls to the number today, four for B0 and one for B1: of their two calls due,
    the first is the number's sixth and the second is refused (CONTRACT.md: the dial cap
    counts every call attempt to that phone number)."""
    number = "+8613812345678"
    calls = [ContactAttempt(local(DAY, f"09:0{k}"), "call", number, None, "no_answer")
             for k in range(5)]  # fmt: skip
    files = {
        "B0": ContactFile("B0", number, None, frozenset({"cn-cash"}), {}, tuple(calls[:4])),
        "B1": ContactFile("B1", number, None, frozenset({"cn-cash"}), {}, tuple(calls[4:])),
    }
    loans = pl.DataFrame([("L0", "B0", "cn-cash"), ("L1", "B1", "cn-cash")],
                         schema=["loan_id", "borrower_id", "product"], orient="row")  # fmt: skip
    plan, blocked = _calls_on_cn_loans(files, loans)
    assert plan.get_column("loan_id").to_list() == ["L0"]
    assert blocked.select("loan_id", "rule").rows() == [
        ("L1", "cn.dial_attempts_per_number_per_day")
    ]
    # B0's four and the call planned for B0.
    assert "(5 for other borrowers of the number)" in blocked.item(0, "detail")


def test_dials_on_record_without_their_number_count_against_the_borrowers_own() -> None:
    """Six unanswered calls today with no number on record (to_phone is optional in a book):
    they reached the borrower on their own number, so a seventh is refused, as the domain
    refuses it; six to a registered contact without its number leave the borrower's alone."""
    number = "+8613812345678"
    mine = tuple(ContactAttempt(local(DAY, f"09:0{k}"), "call", None, None, "no_answer")
                 for k in range(6))  # fmt: skip
    theirs = tuple(replace(made, contact_id="C1") for made in mine)
    loans = pl.DataFrame([("L0", "B0", "cn-cash"), ("L1", "B1", "cn-cash")],
                         schema=["loan_id", "borrower_id", "product"], orient="row")  # fmt: skip
    other = ContactFile("B1", "+8613900000000", None, frozenset({"cn-cash"}), {}, ())
    for made, refused in ((mine, True), (theirs, False)):
        files = {"B0": ContactFile("B0", number, None, frozenset({"cn-cash"}), {}, made),
                 "B1": other}  # fmt: skip
        plan, blocked = _calls_on_cn_loans(files, loans)
        assert plan.get_column("loan_id").to_list() == (["L1"] if refused else ["L0", "L1"])
        assert blocked.select("loan_id", "rule").rows() == (
            [("L0", "cn.dial_attempts_per_number_per_day")] if refused else []
        )


def test_dials_on_record_without_their_number_count_for_the_other_borrower_of_the_number() -> None:
    """B1 shares B0's number; B1's six unanswered calls today are on record without their
    number: they rang B1's own number, B0's too, whose call is then its seventh (CBA 2026: at
    most 6 a day to a number), as with the number written. Six to B1's registered contact
    without a number rang another number."""
    number = "+8613812345678"
    blank = tuple(ContactAttempt(local(DAY, f"09:0{k}"), "call", None, None, "no_answer")
                  for k in range(6))  # fmt: skip
    loans = pl.DataFrame([("L0", "B0", "cn-cash"), ("L1", "B1", "cn-cash")],
                         schema=["loan_id", "borrower_id", "product"], orient="row")  # fmt: skip
    for made, refused in (
        (blank, True),
        (tuple(replace(a, to_phone=number) for a in blank), True),
        (tuple(replace(a, contact_id="C1") for a in blank), False),
    ):
        files = {"B0": ContactFile("B0", number, None, frozenset({"cn-cash"}), {}),
                 "B1": ContactFile("B1", number, None, frozenset({"cn-cash"}),
                                   {"C1": "+8613900000000"}, made)}  # fmt: skip
        plan, blocked = _calls_on_cn_loans(files, loans)
        assert plan.get_column("loan_id").to_list() == ([] if refused else ["L0", "L1"])
        assert blocked.select("loan_id", "rule").rows() == (
            [("L0", "cn.dial_attempts_per_number_per_day"),
             ("L1", "cn.dial_attempts_per_number_per_day")] if refused else []
        )  # fmt: skip
        if refused:
            assert "(6 for other borrowers of the number)" in blocked.item(0, "detail")


def test_a_call_planned_for_a_borrower_under_three_packs_counts_once_for_the_other() -> None:
    """B0's number has no zone: each of B0's packs counts days in its own zone, yet B0's one
    call is one dial for B1, who shares the number (found by the property test above)."""
    number = "+447700900123"
    calls = tuple(ContactAttempt(datetime(2026, 3, 2, 1, k, tzinfo=UTC), "call", number, None,
                                 "no_answer") for k in range(4))  # fmt: skip
    everywhere = frozenset({"cn-cash", "uk-installment", "us-installment"})
    files = {
        "B0": ContactFile("B0", number, None, everywhere, {}),
        "B1": ContactFile("B1", number, None, frozenset({"cn-cash"}), {}, calls),
    }
    loans = pl.DataFrame(
        [("L0", "B0", "cn-cash"), ("L0u", "B0", "uk-installment"),
         ("L0s", "B0", "us-installment"), ("L1", "B1", "cn-cash")],
        schema=["loan_id", "borrower_id", "product"], orient="row",
    )  # fmt: skip
    plan, blocked = _calls_on_cn_loans(files, loans)
    assert blocked.height == 0, blocked.rows()
    assert plan.get_column("loan_id").to_list() == ["L0", "L1"]  # B1's: the number's sixth


def test_a_ladder_shared_by_products_of_two_jurisdictions_is_refused(tmp_path: Path) -> None:
    # The night judges a candidate under its ladder's pack: a US product on the Chinese ladder
    # would have had its loans judged under one pack for both (the last product's).
    (tmp_path / "ladder.toml").write_text(
        (Path(strategy_file.__file__).parent.parent / "packs" / "strategy_cn.toml").read_text(
            encoding="utf-8"
        ),
        encoding="utf-8",
    )
    config = tmp_path / "arrears.toml"
    config.write_text(
        '[products.cn-own]\nstrategy = "ladder.toml"\n'
        '[products.us-own]\njurisdiction = "us"\ncap = "none"\nstrategy = "ladder.toml"\n',
        encoding="utf-8",
    )
    context = build_app(None, str(config)).run_context(DAY)
    with pytest.raises(DomainError, match=r"ladder 'cn-default v5' serves products of two "
                       r"jurisdictions \('cn-cash': cn, 'us-own': us\)"):  # fmt: skip
        context.jurisdiction_by_ladder()
    assert build_app(None, None).run_context(DAY).jurisdiction_by_ladder() == {
        LADDERS["cn"].label: "cn", LADDERS["us"].label: "us", LADDERS["uk"].label: "uk"
    }  # fmt: skip


def test_a_run_refuses_two_ladders_under_one_label() -> None:
    # A case records its ladder's label; the night staged by the first product's ladder and
    # planned the last one's treatments under it (ladders_for names the files at load).
    context = build_app(None, None).run_context(DAY)
    edited = replace(context.ladders["cn-cash"], default_stage="parked")
    with pytest.raises(DomainError) as refused:
        replace(context, ladders={**context.ladders, "cn-private": edited})
    assert str(refused.value) == (
        "products 'cn-cash' and 'cn-private' have different ladders named 'cn-default v5': a "
        "case records its ladder by name and version, so give each ladder its own `name` or "
        "`version`"
    )
