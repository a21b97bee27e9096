"""The shipped contact packs load with the regulations' defaults; bad packs name the bad key."""

from datetime import time
from pathlib import Path
from typing import Any

import pytest

from arrears.adapters.compliance_pack import contact_packs, parse_contact_pack
from arrears.adapters.packs import RulePackError, cap_policies, read_pack

PACKS = contact_packs()


def rule(jurisdiction: str, rule_id: str) -> Any:
    """A shipped rule by id."""
    return next(r for r in PACKS[jurisdiction].rules if r.rule_id == rule_id)


def test_every_jurisdiction_has_contact_rules_with_sources() -> None:
    assert set(PACKS) == {"cn", "us", "uk"}
    for pack in PACKS.values():
        assert pack.rules
        assert all(r.source and r.rule_id.startswith(f"{pack.jurisdiction}.") for r in pack.rules)


def test_the_cn_pack_has_the_regulations_defaults() -> None:
    quiet = rule("cn", "cn.quiet_hours")
    assert (quiet.quiet_from, quiet.quiet_until) == (time(22), time(8))
    assert "GB/T 45251-2025" in quiet.source
    assert rule("cn", "cn.connected_calls_per_day").limit == 3
    assert rule("cn", "cn.dial_attempts_per_number_per_day").limit == 6
    third = rule("cn", "cn.third_party")
    assert (third.limit, third.outcomes) == (3, {"no_answer", "busy", "invalid_number"})
    assert third.last_outcomes == {"invalid_number"}
    assert PACKS["cn"].default_zone == "Asia/Shanghai"
    ids = {r.rule_id for r in PACKS["cn"].rules}
    assert {"cn.hold", "cn.opt_out", "cn.registered_contacts_only", "cn.third_party_refused"} <= ids


def test_the_us_and_uk_packs_have_the_regulations_defaults() -> None:
    assert (
        rule("us", "us.inconvenient_time").quiet_from,
        rule("us", "us.inconvenient_time").quiet_until,
    ) == (time(21), time(8))
    frequency = rule("us", "us.call_frequency_7_in_7")
    assert (frequency.limit, frequency.days, frequency.channels) == (7, 7, {"call"})
    assert rule("us", "us.call_after_conversation").days == 7
    assert rule("us", "us.electronic_opt_out").channels == {"sms", "email"}
    assert "1006.6(b)(1)(i)" in rule("us", "us.inconvenient_time").source
    uk = rule("uk", "uk.unreasonable_time")
    assert (uk.quiet_from, uk.quiet_until, uk.verified) == (time(21), time(8), False)


def pack_with(**entry: Any) -> dict[str, Any]:
    """A minimal pack file holding one rule (a key given as None: left out)."""
    base = {"id": "xx.quiet", "kind": "quiet_hours", "quiet_from": "22:00", "quiet_until": "08:00",
            "verified": True, "source": "a law"}  # fmt: skip
    base.update(entry)
    return {
        "pack": {"jurisdiction": "xx", "timezone": "Asia/Shanghai"},
        "contact": {"rule": [{k: v for k, v in base.items() if v is not None}]},
    }


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"quiet_form": "22:00"}, "unknown key(s) ['quiet_form']"),
        ({"kind": "curfew"}, "xx.quiet).kind: unknown kind 'curfew'"),
        ({"quiet_from": "8:00"}, 'xx.quiet).quiet_from must be a time "HH:MM"'),
        ({"verified": "yes"}, "xx.quiet).verified must be bool"),
        ({"source": ""}, "every rule cites its legal source"),
        ({"source": "  "}, "every rule cites its legal source"),
        ({"channels": ["fax"]}, "unknown channels ['fax']"),
        ({"channels": "call"}, "xx.quiet).channels must be list"),
        ({"quiet_until": "22:00"}, "are equal"),
        ({"channels": []}, "xx.quiet).channels is empty"),
        ({"verified": None}, "needs ['verified']"),
    ],
)
def test_a_bad_rule_is_refused_naming_its_key(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(RulePackError, match=r"^xx\.toml: contact\.rule\[0\]") as raised:
        parse_contact_pack(pack_with(**entry), "xx.toml")
    assert message in str(raised.value)


def test_a_rule_without_its_parameters_is_refused() -> None:
    data = pack_with(kind="connected_per_day")
    del data["contact"]["rule"][0]["quiet_from"], data["contact"]["rule"][0]["quiet_until"]
    data["contact"]["rule"][0]["limit"] = 3
    with pytest.raises(RulePackError, match=r"needs \['outcomes'\]"):
        parse_contact_pack(data, "xx.toml")


def test_a_limit_must_be_a_whole_number_not_a_boolean() -> None:
    data = pack_with(kind="dials_per_number_per_day", limit=True)
    del data["contact"]["rule"][0]["quiet_from"], data["contact"]["rule"][0]["quiet_until"]
    with pytest.raises(RulePackError, match="limit must be int, got True"):
        parse_contact_pack(data, "xx.toml")


def test_a_rule_has_an_id() -> None:
    with pytest.raises(RulePackError, match=r"contact\.rule\[0\]\.id is empty"):
        parse_contact_pack(pack_with(id=" "), "xx.toml")


def test_a_rule_id_appears_once() -> None:
    data = pack_with()
    data["contact"]["rule"].append(dict(data["contact"]["rule"][0]))
    with pytest.raises(RulePackError, match=r"'xx\.quiet' appears twice"):
        parse_contact_pack(data, "xx.toml")


def test_the_default_zone_must_be_an_iana_zone() -> None:
    data = pack_with()
    data["pack"]["timezone"] = "Mars/Olympus"
    with pytest.raises(RulePackError, match=r"pack\.timezone"):
        parse_contact_pack(data, "xx.toml")


def test_the_us_pack_wants_every_zone_of_the_number_even_with_a_recorded_one() -> None:
    # 12 CFR 1006.6(b)(1)(i): conflicting location information, a time convenient in all.
    packs = contact_packs()
    assert [j for j, pack in sorted(packs.items()) if pack.number_zones_too] == ["us"]


def test_the_packs_are_parsed_once_and_each_caller_gets_a_dict_of_its_own() -> None:
    # A caller that drops a pack from its dict (packs for one book) drops it for no other.
    mine = contact_packs()
    del mine["cn"]
    again = contact_packs()
    assert "cn" in again
    assert again["us"] is mine["us"]  # the same frozen pack: parsed once


@pytest.mark.parametrize(("key", "stricter", "attribute", "shipped"), [
    ("zones", "recorded_and_number", "number_zones_too", ["us"]),
    # cn: quiet hours are the debtor's local time, a call to their contact included.
    ("contact_zones", "contact_and_debtor", "debtor_zones_for_contacts", ["cn"]),
])  # fmt: skip
def test_each_zone_policy_is_one_of_two(
    key: str, stricter: str, attribute: str, shipped: list[str]
) -> None:
    assert [j for j, pack in sorted(PACKS.items()) if getattr(pack, attribute)] == shipped
    data = pack_with()
    assert not getattr(parse_contact_pack(data, "xx.toml"), attribute)
    data["pack"][key] = stricter
    assert getattr(parse_contact_pack(data, "xx.toml"), attribute)
    data["pack"][key] = "number_only"
    with pytest.raises(RulePackError, match=rf"pack\.{key} must be one of"):
        parse_contact_pack(data, "xx.toml")


def test_every_shipped_rule_is_documented_with_its_parameters() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "COMPLIANCE.md").read_text("utf-8")
    for pack in PACKS.values():
        for shipped in pack.rules:
            assert f"`{shipped.rule_id}`" in text
            assert shipped.source in text


def test_a_misspelt_or_empty_contact_section_is_refused() -> None:
    # Either would leave every contact allowed: a pack must say what is lawful.
    misspelt = pack_with()
    misspelt["contacts"] = misspelt.pop("contact")
    with pytest.raises(RulePackError, match=r"xx\.toml: unknown section\(s\) \['contacts'\]"):
        parse_contact_pack(misspelt, "xx.toml")
    empty = pack_with()
    del empty["contact"]
    with pytest.raises(RulePackError, match=r"xx\.toml: no \[\[contact\.rule\]\]"):
        parse_contact_pack(empty, "xx.toml")


def test_a_third_party_rule_of_no_failed_attempts_is_refused() -> None:
    data = pack_with(kind="third_party_unreachable", limit=0, outcomes=["no_answer"],
                     last_outcomes=["invalid_number"])  # fmt: skip
    del data["contact"]["rule"][0]["quiet_from"], data["contact"]["rule"][0]["quiet_until"]
    with pytest.raises(RulePackError, match="`limit` must be 1 or more for this kind"):
        parse_contact_pack(data, "xx.toml")


def test_the_us_pack_refuses_suits_on_time_barred_debt_and_the_others_do_not() -> None:
    limitation = PACKS["us"].limitation
    assert limitation is not None
    assert (limitation.rule_id, limitation.years) == ("us.time_barred", 3)
    assert limitation.actions == {"lawyers_letter", "legal_review"}
    assert "1006.26(b)" in limitation.source
    # In China an expired period is the debtor's defence, not a bar on suing (民法典 Art. 192,
    # 193), and a demand interrupts it (Art. 195): the cn pack refuses nothing for it.
    assert PACKS["cn"].limitation is None
    assert PACKS["uk"].limitation is None
    text = (Path(__file__).resolve().parents[2] / "docs" / "COMPLIANCE.md").read_text("utf-8")
    assert f"`{limitation.rule_id}`" in text
    assert limitation.source in text


LIMITATION = {"id": "xx.time_barred", "years": 3, "actions": ["lawyers_letter"],
              "verified": True, "source": "a law"}  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"yeras": 3}, r"\[limitation\]: unknown key\(s\) \['yeras'\]"),
        ({"years": 0}, "limitation years must be between 1 and 30, got 0"),
        ({"years": "3"}, r"\[limitation\]\.years must be int, got '3'"),
        ({"years": True}, r"\[limitation\]\.years must be int, got True"),
        ({"actions": ["lawsuit"]}, r"actions must name some of .*; got \['lawsuit'\]"),
        ({"actions": []}, "actions must name some of"),
        ({"actions": [1]}, r"actions must be a list of strings, got \[1\]"),
        ({"source": " "}, "every rule cites its legal source"),
        ({"verified": None}, r"\[limitation\]: missing key `verified`"),
    ],
)
def test_a_bad_limitation_is_refused_naming_its_key(change: dict[str, Any], message: str) -> None:
    data = pack_with()
    entry = LIMITATION | change
    data["limitation"] = {k: v for k, v in entry.items() if v is not None}
    with pytest.raises(RulePackError, match=r"xx\.toml: \[limitation\]") as raised:
        parse_contact_pack(data, "xx.toml")
    assert raised.match(message)
    data["limitation"] = LIMITATION
    assert parse_contact_pack(data, "xx.toml").limitation is not None


def test_an_unknown_key_of_the_pack_is_refused() -> None:
    # A misspelt `zones` would have dropped the stricter policy without a word (helper-60).
    data = pack_with()
    data["pack"]["zonez"] = "recorded_and_number"
    with pytest.raises(RulePackError, match=r"^xx\.toml: unknown key\(s\) \['zonez'\] in \[pack\]"):
        parse_contact_pack(data, "xx.toml")


@pytest.mark.parametrize(
    ("cap", "message"),
    [
        ({"source": "a law", "rate": "0.24"}, "caps.licensed.rule must be a text that is not"),
        ({"rule": "xx.cap", "source": " ", "rate": "0.24"}, "caps.licensed.source must be a text"),
        ({"rule": "xx.cap", "source": "a law"}, "give one of `rate` and `lpr_multiple`"),
        ({"rule": "xx.cap", "source": "a law", "rate": "0.24", "lpr_multiple": "4"},
         "give one of `rate` and `lpr_multiple`"),
        ({"rule": "xx.cap", "source": "a law", "rat": "0.24"}, "unknown key(s) ['rat']"),
        ({"rule": "xx.cap", "source": "a law", "lpr_multiple": "0"}, "must be above zero"),
        ({"rule": "xx.cap", "source": "a law", "rate": "24%"}, "caps.licensed: "),
    ],
)  # fmt: skip
def test_a_bad_cap_is_refused_naming_its_key(cap: dict[str, Any], message: str) -> None:
    # A cut is recorded with its rule's legal source (CONTRACT.md): a cap without one was
    # taken, and one without `rule` ended the run in a KeyError (helper-60).
    with pytest.raises(RulePackError, match=r"^xx\.toml: caps\.licensed") as raised:
        cap_policies({"caps": {"licensed": cap}}, "xx.toml")
    assert message in str(raised.value)


def test_the_shipped_caps_load_with_their_sources() -> None:
    for jurisdiction in ("cn", "us", "uk"):
        caps = cap_policies(read_pack(f"{jurisdiction}.toml"), f"{jurisdiction}.toml")
        assert all(policy.source.strip() for policy in caps.values())
    assert set(cap_policies(read_pack("cn.toml"), "cn.toml")) == {"licensed", "private"}


def test_only_the_cn_pack_sets_a_deadline_a_judgment_starts() -> None:
    enforcement = PACKS["cn"].enforcement
    assert enforcement is not None
    assert (enforcement.rule_id, enforcement.years, enforcement.verified) == (
        "cn.enforcement_deadline", 2, True
    )  # fmt: skip
    assert "民事诉讼法》(2023) 第二百五十条" in enforcement.source
    assert (PACKS["us"].enforcement, PACKS["uk"].enforcement) == (None, None)


DEADLINE = {"id": "xx.enforcement", "years": 2, "source": "a law", "verified": False}


@pytest.mark.parametrize(
    ("deadlines", "message"),
    [
        ({"appeal": DEADLINE}, "unknown deadline(s) ['appeal'] in [deadlines]"),
        ({"enforcement": {**DEADLINE, "days": 3}}, "unknown key(s) ['days']"),
        ({"enforcement": {**DEADLINE, "years": 0}}, "years must be between 1 and 30, got 0"),
        ({"enforcement": {**DEADLINE, "source": " "}}, "every rule cites its legal source"),
        ({"enforcement": {**DEADLINE, "years": "2"}}, "years must be int"),
    ],
)
def test_a_bad_deadline_is_refused_naming_its_key(deadlines: dict[str, Any], message: str) -> None:
    with pytest.raises(RulePackError, match=r"^xx\.toml: ") as raised:
        parse_contact_pack({**pack_with(), "deadlines": deadlines}, "xx.toml")
    assert message in str(raised.value)
    made = parse_contact_pack({**pack_with(), "deadlines": {"enforcement": DEADLINE}}, "xx.toml")
    assert made.enforcement is not None
    assert made.enforcement.years == 2


def test_only_the_cn_pack_shows_a_limitation_period_of_information() -> None:
    period = PACKS["cn"].limitation_period
    assert period is not None
    assert (period.rule_id, period.years, period.verified) == ("cn.limitation_period", 3, True)
    assert "第一百八十八条" in period.source
    assert "第一百九十五条" in period.source
    assert PACKS["cn"].limitation is None  # it refuses nothing
    assert (PACKS["us"].limitation_period, PACKS["uk"].limitation_period) == (None, None)
    bad = {**pack_with(), "limitation_period": {**DEADLINE, "refuses": ["lawyers_letter"]}}
    with pytest.raises(
        RulePackError, match=r"\[limitation_period\]: unknown key\(s\) \['refuses'\]"
    ):
        parse_contact_pack(bad, "xx.toml")


def test_only_the_cn_pack_has_an_outsourcing_rule() -> None:
    # CBA 2026, GB/T 45251-2025: agencies on a published white list, evaluated at least
    # yearly (REGULATIONS.md). The us and uk tables list no such rule: lender policy there.
    rule = PACKS["cn"].outsourcing
    assert rule is not None
    assert (rule.rule_id, rule.evaluation_months, rule.verified) == ("cn.outsourcing", 12, False)
    assert "金融机构个人消费类贷款催收工作指引" in rule.source
    assert "GB/T 45251-2025" in rule.source
    assert (PACKS["us"].outsourcing, PACKS["uk"].outsourcing) == (None, None)
    text = (Path(__file__).resolve().parents[2] / "docs" / "COMPLIANCE.md").read_text("utf-8")
    assert f"`{rule.rule_id}`" in text
    assert rule.source in text
    assert f"`evaluation_months = {rule.evaluation_months}`" in text


OUTSOURCING = {"id": "xx.outsourcing", "evaluation_months": 12, "source": "a law",
               "verified": True}  # fmt: skip


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({**OUTSOURCING, "evaluation_month": 12}, "unknown key(s) ['evaluation_month']"),
        ({k: v for k, v in OUTSOURCING.items() if k != "evaluation_months"},
         "missing key `evaluation_months`"),
        ({**OUTSOURCING, "evaluation_months": 0}, "evaluation_months must be between 1 and 60"),
        ({**OUTSOURCING, "evaluation_months": "12"}, "evaluation_months must be int"),
        ({**OUTSOURCING, "evaluation_months": True}, "evaluation_months must be int"),
        ({**OUTSOURCING, "source": " "}, "every rule cites its legal source"),
        ({**OUTSOURCING, "verified": "yes"}, "verified must be bool"),
        ([OUTSOURCING], "[outsourcing] must be a table"),
    ],
)  # fmt: skip
def test_a_bad_outsourcing_rule_is_refused_naming_its_key(table: Any, message: str) -> None:
    with pytest.raises(RulePackError, match=r"^xx\.toml: \[outsourcing\]") as raised:
        parse_contact_pack({**pack_with(), "outsourcing": table}, "xx.toml")
    assert message in str(raised.value)
    made = parse_contact_pack({**pack_with(), "outsourcing": OUTSOURCING}, "xx.toml")
    assert made.outsourcing is not None
    assert made.outsourcing.evaluation_months == 12
    misspelt = {**pack_with(), "outsourcings": OUTSOURCING}
    with pytest.raises(RulePackError, match=r"unknown section\(s\) \['outsourcings'\]"):
        parse_contact_pack(misspelt, "xx.toml")


def test_the_cn_and_us_packs_say_what_a_bureau_record_waits_on() -> None:
    # 征信业管理条例 第十五条 (told before the first negative record); 12 CFR 1006.30(a) (no
    # furnishing before the consumer is reached). The uk table lists no such rule.
    cn, us = PACKS["cn"].bureau, PACKS["us"].bureau
    assert cn is not None
    assert us is not None
    assert (cn.rule_id, cn.kind, cn.action) == ("cn.credit_pre_notice", "pre_notice",
                                                "credit_pre_notice")  # fmt: skip
    assert "第十五条" in cn.source
    assert (us.rule_id, us.kind, us.outcomes, us.letter_days) == (
        "us.passive_collection",
        "contacted_first",
        ("connected", "refused", "inbound"),
        14,
    )
    assert us.source.startswith("12 CFR 1006.30(a)(1)")
    assert PACKS["uk"].bureau is None
    text = (Path(__file__).resolve().parents[2] / "docs" / "BUREAU.md").read_text("utf-8")
    for rule in (cn, us):
        assert f"`{rule.rule_id}`" in text
        assert rule.source in text


BUREAU = {"id": "xx.pre", "kind": "pre_notice", "action": "credit_pre_notice",
          "source": "a law", "verified": True}  # fmt: skip


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({**BUREAU, "kind": "notice"}, "kind must be one of ['contacted_first', 'pre_notice']"),
        ({**BUREAU, "actions": "x"}, "unknown key(s) ['actions']"),
        ({**BUREAU, "action": "fax"}, "names the ladder action that tells the borrower"),
        ({k: v for k, v in BUREAU.items() if k != "action"}, "missing key `action`"),
        ({**BUREAU, "source": " "}, "every rule cites its legal source"),
        ({"id": "xx.first", "kind": "contacted_first", "outcomes": ["spoke"], "letter_days": 14,
          "source": "a law", "verified": True}, "outcomes must be some of"),
        ({"id": "xx.first", "kind": "contacted_first", "outcomes": ["connected"],
          "letter_days": "14", "source": "a law", "verified": True}, "letter_days must be int"),
        ([BUREAU], "kind must be one of"),
    ],
)  # fmt: skip
def test_a_bad_bureau_rule_is_refused_naming_its_key(table: Any, message: str) -> None:
    with pytest.raises(RulePackError, match=r"^xx\.toml: \[bureau\]") as raised:
        parse_contact_pack({**pack_with(), "bureau": table}, "xx.toml")
    assert message in str(raised.value)
    made = parse_contact_pack({**pack_with(), "bureau": BUREAU}, "xx.toml")
    assert made.bureau is not None
    assert made.bureau.action == "credit_pre_notice"


def test_the_cn_pack_answers_a_bureau_dispute_within_twenty_days() -> None:
    rule = PACKS["cn"].bureau_disputes
    assert rule is not None
    assert (rule.rule_id, rule.days, rule.verified) == ("cn.credit_dispute", 20, True)
    assert "第二十五条" in rule.source
    assert (PACKS["us"].bureau_disputes, PACKS["uk"].bureau_disputes) == (None, None)
    text = (Path(__file__).resolve().parents[2] / "docs" / "BUREAU.md").read_text("utf-8")
    assert f"`{rule.rule_id}`" in text
    assert rule.source in text
    bad = {"id": "xx.d", "days": "20", "source": "s", "verified": True}
    with pytest.raises(RulePackError, match=r"xx.toml: \[bureau_disputes\].days must be int"):
        parse_contact_pack({**pack_with(), "bureau_disputes": bad}, "xx.toml")
    with pytest.raises(RulePackError, match=r"unknown key\(s\) \['day'\]"):
        parse_contact_pack({**pack_with(), "bureau_disputes": {**bad, "day": 1}}, "xx.toml")


def test_every_pack_names_the_words_that_alone_ask_for_no_more_texts() -> None:
    # 47 CFR 64.1200(a)(10) lists the us words; TD/退订 are the Chinese platforms' codes.
    words = {j: (p.replies.rule_id, p.replies.words) for j, p in PACKS.items() if p.replies}
    assert words == {
        "cn": ("cn.reply_opt_out", ("TD", "T", "退订", "退訂", "拒收")),
        "us": ("us.reply_opt_out",
               ("STOP", "STOPALL", "QUIT", "END", "REVOKE", "OPT OUT", "CANCEL", "UNSUBSCRIBE")),
        "uk": ("uk.reply_opt_out",
               ("STOP", "STOPALL", "UNSUBSCRIBE", "OPT OUT", "CANCEL", "END", "QUIT")),
    }  # fmt: skip
    # 47 CFR 64.1200(a)(11): ten business days, in the pack's own zone; the others set none.
    timed = {j: (p.replies.honour_days, p.replies.zone) for j, p in PACKS.items() if p.replies}
    assert timed == {"cn": (None, "Asia/Shanghai"), "us": (10, "America/New_York"),
                     "uk": (None, "Europe/London")}  # fmt: skip
    anywhere = {j: p.replies.anywhere for j, p in PACKS.items() if p.replies}
    assert anywhere == {"cn": ("退订", "退訂"),
                        "us": ("STOP", "STOPALL", "UNSUBSCRIBE", "OPT OUT", "REVOKE"),
                        "uk": ("STOP", "STOPALL", "UNSUBSCRIBE", "OPT OUT")}  # fmt: skip
    text = (Path(__file__).resolve().parents[2] / "docs" / "CHANNELS.md").read_text("utf-8")
    for pack in PACKS.values():
        assert pack.replies is not None
        assert pack.replies.jurisdiction == pack.jurisdiction
        assert f"`{pack.replies.rule_id}`" in text
        assert pack.replies.source in text


REPLIES = {"id": "xx.reply", "opt_out": ["STOP"], "source": "a law", "verified": True}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({**REPLIES, "opt_outs": ["STOP"]}, "unknown key(s) ['opt_outs']"),
        ({k: v for k, v in REPLIES.items() if k != "opt_out"}, "missing key `opt_out`"),
        ({**REPLIES, "opt_out": "STOP"}, "opt_out must be list"),
        ({**REPLIES, "opt_out": ["STOP", 1]}, "opt_out must be a list of strings"),
        ({**REPLIES, "opt_out": []}, "opt_out needs at least one word"),
        ({**REPLIES, "opt_out": ["STOP", "!!"]}, "opt_out word '!!' has no letter"),
        ({**REPLIES, "anywhere": "STOP"}, "anywhere must be list"),
        ({**REPLIES, "anywhere": [None]}, "anywhere must be a list of strings"),
        ({**REPLIES, "honour_within_business_days": "10"},
         "honour_within_business_days must be int"),
        ({**REPLIES, "honour_within_business_days": 0}, "must be between 1 and 60"),
        ({**REPLIES, "source": " "}, "every rule cites its legal source"),
        ({**REPLIES, "verified": "yes"}, "verified must be bool"),
        ([REPLIES], "[replies] must be a table"),
    ],
)  # fmt: skip
def test_a_bad_reply_rule_is_refused_naming_its_key(table: Any, message: str) -> None:
    with pytest.raises(RulePackError, match=r"^xx\.toml: \[replies\]") as raised:
        parse_contact_pack({**pack_with(), "replies": table}, "xx.toml")
    assert message in str(raised.value)
    made = parse_contact_pack({**pack_with(), "replies": REPLIES}, "xx.toml")
    assert made.replies is not None
    assert (made.replies.rule_id, made.replies.words) == ("xx.reply", ("STOP",))
    assert parse_contact_pack(pack_with(), "xx.toml").replies is None
