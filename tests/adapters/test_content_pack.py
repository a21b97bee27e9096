"""The shipped packs' content rules: each finds its phrases and leaves a near miss alone (in
simplified and traditional Chinese, in English as whole words); a bad rule is refused naming
the file and key; a lender's settings only add phrases and rules."""

from pathlib import Path
from typing import Any

import pytest

from arrears.adapters.compliance_pack import parse_contact_pack
from arrears.adapters.content_pack import parse_content_pack, shipped_content_packs
from arrears.adapters.packs import RulePackError, read_pack
from arrears.adapters.settings import SettingsError, load_settings
from arrears.domain.content_lint import lint, missing

PACKS = shipped_content_packs()

# rule id, a text it finds (and the words it finds there), a near miss it must not find.
BOUNDARIES = [
    ("cn.content.threats", "再不还钱，后果自负", "后果自负", "跟客户讲清逾期的后果"),
    ("cn.content.threats", "你等著瞧", "等著瞧", "你等着看短信"),
    ("cn.content.insults", "你这个老赖", "老赖", "客户说不会赖账"),
    ("cn.content.insults", "你這個老賴", "老賴", "老實說明天還"),
    ("cn.content.impersonation", "我们是法院的", "我们是法院", "客户说要去法院起诉"),
    ("cn.content.impersonation", "法院傳票已經寄出", "傳票", "请核对记账传票"),
    ("cn.content.blacklist", "你已经进了网贷黑名单", "黑名单", "客户把号码加入了来电黑名单"),
    ("cn.content.blacklist", "你上了黑名單", "黑名單", "落实黑户口问题"),
    ("cn.content.false_consequences", "不还钱就要坐牢", "坐牢", "请坐，牢记还款日"),
    ("cn.content.false_consequences", "你會被拘留", "拘留", "不拘形式，留下聯繫方式"),
    ("cn.content.disclosure", "我们要爆你通讯录", "通讯录", "客户的通讯方式已更新"),
    ("cn.content.disclosure", "我們會通知你的單位", "通知你的單位", "通知你本人"),
    ("cn.content.fees", "要收上门费", "上门费", "逾期将加收罚息"),
    ("cn.content.fees", "會有額外費用", "額外費用", "額外收到的款項將退回"),
    ("cn.content.borrow_to_repay", "你去借钱还上", "借钱还", "借钱还钱天经地义"),
    ("cn.content.borrow_to_repay", "找親戚借一點", "找親戚借", "客户其他网贷还有很多"),
    ("us.content.threats", "We know where you live.", "We know where you live",
     "Please confirm where you live."),
    ("us.content.abusive_language", "You DEADBEAT!", "DEADBEAT", "We took a closer look"),
    ("us.content.false_authority", "Officer Dan from the police", "from the police",
     "A call from the policy holder"),
    ("us.content.arrest_and_seizure", "You could be arrested", "be arrested",
     "Seize the moment to pay"),
    ("us.content.threat_of_suit", "We will sue you", "sue you", "We will not sue you for it"),
    ("us.content.disclosure", "We'll tell your employer", "tell your employer",
     "You can tell us your employer"),
    ("us.content.opt_out_denied", "Do not reply STOP to these texts.", "Do not reply STOP",
     "Reply STOP to opt out at any time."),
    ("us.content.unauthorized_fees", "A $25 processing fee applies", "processing fee",
     "No fee for processing"),
    ("uk.content.borrow_or_sell", "You could sell your car", "sell your car",
     "The money you borrowed from us"),
    ("uk.content.pressure", "This is your last chance", "last chance", "At last, a chance to talk"),
    ("uk.content.false_authority", "The bailiffs are coming", "bailiffs",
     "We will not send bailiffs"),
    ("uk.content.false_consequences", "You will go to prison", "go to prison", "A prison visit"),
    ("uk.content.threats_and_abuse", "You scrounger", "scrounger", "Scrounging for change"),
    ("uk.content.disclosure", "We will post online", "post online",
     "Your payment was posted online"),
]  # fmt: skip


def findings_of(jurisdiction: str, rule_id: str, text: str) -> list[str]:
    return [f.matched for f in lint(text, [PACKS[jurisdiction]]) if f.rule_id == rule_id]


@pytest.mark.parametrize(("rule_id", "hit", "words", "near_miss"), BOUNDARIES)
def test_each_shipped_rule_finds_its_phrase_and_not_a_near_miss(
    rule_id: str, hit: str, words: str, near_miss: str
) -> None:
    jurisdiction = rule_id.split(".")[0]
    assert findings_of(jurisdiction, rule_id, hit) == [words]
    assert lint(near_miss, [PACKS[jurisdiction]]) == ()


def test_every_shipped_content_rule_has_its_boundaries_tested() -> None:
    shipped = {rule.rule_id for pack in PACKS.values() for rule in pack.rules}
    assert shipped == {rule_id for rule_id, *_ in BOUNDARIES}
    chinese = {rule_id for rule_id, hit, *_ in BOUNDARIES if rule_id.startswith("cn.")}
    assert len(chinese) == 8


def test_every_jurisdiction_has_content_rules_citing_their_law() -> None:
    assert set(PACKS) == {"cn", "us", "uk"}
    for jurisdiction, pack in PACKS.items():
        assert pack.jurisdiction == jurisdiction
        assert len(pack.rules) >= 6
        for rule in pack.rules:
            assert rule.rule_id.startswith(f"{jurisdiction}.content.")
            assert rule.source.strip()
    assert "CONC 7.3.10R(3)" in PACKS["uk"].rule("uk.content.borrow_or_sell").source  # type: ignore[union-attr]
    assert "1006.26(b)" in PACKS["us"].rule("us.content.threat_of_suit").source  # type: ignore[union-attr]


def test_the_phrases_the_brief_names_are_found_in_both_scripts() -> None:
    text = "公安 法院传票 拘留 坐牢 黑名单 曝光 通讯录 爆通讯录 借钱还 以贷还贷 用网贷还"
    traditional = "法院傳票 拘留 坐牢 黑名單 曝光 通訊錄 爆通訊錄 借錢還 以貸還貸 用網貸還"
    for written in (text, traditional):
        rules = {f.rule_id for f in lint(written, [PACKS["cn"]])}
        assert rules >= {
            "cn.content.impersonation", "cn.content.false_consequences", "cn.content.blacklist",
            "cn.content.disclosure", "cn.content.borrow_to_repay",
        }  # fmt: skip


def test_each_phrase_with_lianxi_is_there_in_taiwans_lianluo_too() -> None:
    # COMPLIANCE.md: "Taiwan's own words where they differ: 簡訊, 聯絡"; two phrases had
    # only their 聯繫 forms (helper-125: 我們會聯絡你同事 passed as clean).
    for rule in PACKS["cn"].rules:
        said = set(rule.phrases)
        for phrase in said:
            if "聯繫" in phrase:
                assert phrase.replace("聯繫", "聯絡") in said, (rule.rule_id, phrase)
    for text in ("我們會聯絡你的單位", "我們會聯絡你同事"):
        assert [f.rule_id for f in lint(text, [PACKS["cn"]])] == ["cn.content.disclosure"]


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        ('Payment overdue. Do not reply "STOP"; you cannot “opt out”.',
         ["do not reply STOP", "cannot opt out"]),
        # An apostrophe within a word stays: the phrases keep theirs (helper-126).
        ('Don\'t reply "STOP"', ["don't reply STOP"]),
        ("Don’t reply “STOP”", ["don't reply STOP"]),
        ("You can't 'unsubscribe'", ["can't unsubscribe"]),
    ],
)  # fmt: skip
def test_a_quoted_denial_of_the_opt_out_is_found(text: str, phrases: list[str]) -> None:
    # Read through its quotes as the required statement is (helper-125: clean before).
    assert [f.phrase for f in lint(text, [PACKS["us"]])] == phrases


def pack_file(**rule: Any) -> dict[str, Any]:
    """The cn pack file with its first content rule changed (a key given as None: left out)."""
    data = read_pack("cn.toml")
    first = dict(data["content"]["rule"][0])
    first.update(rule)
    data["content"]["rule"] = [{k: v for k, v in first.items() if v is not None}]
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": None}, r"content.rule\[0\].id must be a text"),
        ({"source": " "}, r"\(cn.content.threats\).source: every rule cites"),
        ({"verified": "yes"}, r"\(cn.content.threats\).verified must be true or false"),
        ({"phrases": None}, r"\(cn.content.threats\): missing key `phrases`"),
        ({"phrases": []}, r"\(cn.content.threats\).phrases must be a list of texts, not empty"),
        ({"phrases": ["坐牢", 3]}, r"\(cn.content.threats\).phrases must be a list of texts"),
        ({"phrases": ["坐牢", "坐 牢"]}, r"'坐 牢' is given twice"),
        ({"exceptions": ["请坐"]}, r"'请坐' holds none of the rule's phrases"),
        ({"phrase": ["坐牢"]}, r"unknown key\(s\) \['phrase'\]"),
        ({"id": "cn.quiet_hours"}, r"'cn.quiet_hours' is a contact rule's too"),
    ],
)
def test_a_bad_content_rule_is_refused_naming_the_file_and_key(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(RulePackError, match=message) as refused:
        parse_content_pack(pack_file(**change), "cn.toml")
    assert str(refused.value).startswith("cn.toml: ")


def test_a_pack_without_content_rules_or_with_a_stray_key_is_refused() -> None:
    data = read_pack("cn.toml")
    data["content"] = {"rules": data["content"]["rule"]}
    with pytest.raises(RulePackError, match=r"cn.toml: \[content\] may only hold"):
        parse_content_pack(data, "cn.toml")
    data["content"] = {"rule": []}
    with pytest.raises(RulePackError, match=r"no \[\[content.rule\]\]"):
        parse_content_pack(data, "cn.toml")


def test_the_contact_rules_read_a_pack_with_content_rules_and_refuse_a_misspelt_section() -> None:
    data = read_pack("cn.toml")
    assert parse_contact_pack(data, "cn.toml").rules
    data["contents"] = data.pop("content")
    with pytest.raises(RulePackError, match=r"unknown section\(s\) \['contents'\]"):
        parse_contact_pack(data, "cn.toml")


def settings(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "arrears.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_lender_adds_phrases_to_a_shipped_rule_and_rules_of_its_own(tmp_path: Path) -> None:
    loaded = load_settings(settings(tmp_path, """
[content.phrases]
"cn.content.insults" = ["臭虫", "臭蟲"]

[[content.rule]]
jurisdiction = "us"
id = "acme.content.nicknames"
source = "Acme collections policy 4.2"
verified = true
phrases = ["pal"]
exceptions = ["pen pal"]
"""))  # fmt: skip
    cn, us = loaded.content_packs["cn"], loaded.content_packs["us"]
    assert [f.matched for f in lint("你这个臭 虫，老赖", [cn])] == ["臭 虫", "老赖"]
    assert [f.rule_id for f in lint("Listen, pal. Write to your pen pal.", [us])] == [
        "acme.content.nicknames"
    ]
    shipped = PACKS["cn"].rule("cn.content.insults")
    grown = cn.rule("cn.content.insults")
    assert shipped is not None
    assert grown is not None
    assert grown.phrases == (*shipped.phrases, "臭虫", "臭蟲")
    assert load_settings(None).content_packs == PACKS


def test_the_us_pack_requires_an_opt_out_in_each_text_and_e_mail() -> None:
    # 12 CFR 1006.6(e): every e-mail and text carries a simple way to opt out.
    (opt_out,) = PACKS["us"].required
    assert (opt_out.rule_id, opt_out.channels) == ("us.content.electronic_opt_out",
                                                    ("sms", "email"))  # fmt: skip
    assert opt_out.source.startswith("12 CFR 1006.6(e)")
    assert [r.rule_id for r in missing("Your payment is late.", PACKS["us"], "sms")] == [
        "us.content.electronic_opt_out"
    ]
    for made in (
        "Reply STOP to stop texts.",
        "Text STOP to end.",
        "Send STOP to 12345.",
        "To opt out, call us.",
        "Opt-out: reply END.",
        "Unsubscribe here.",
    ):
        assert missing(made, PACKS["us"], "email") == (), made
    assert missing("Your payment is late.", PACKS["us"], "letter") == ()
    # The other packs require nothing of a draft (no law of theirs asks a statement of it).
    assert (PACKS["cn"].required, PACKS["uk"].required) == ((), ())


def test_a_lender_requires_a_statement_of_its_own(tmp_path: Path) -> None:
    loaded = load_settings(settings(tmp_path, """
[[content.required]]
jurisdiction = "cn"
id = "acme.content.hotline"
source = "Acme collections policy 7.1: every text gives the complaints hotline"
verified = true
channels = ["sms"]
phrases = ["投诉热线", "投訴熱線"]
"""))  # fmt: skip
    cn = loaded.content_packs["cn"]
    assert [r.rule_id for r in missing("您的账单已逾期。", cn, "sms")] == ["acme.content.hotline"]
    assert missing("您的账单已逾期。投诉热线：95000", cn, "sms") == ()
    assert missing("您的账单已逾期。", cn, "email") == ()
    assert cn.rules == PACKS["cn"].rules


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[content]\nremove = ["老赖"]', r"unknown key\(s\) \['remove'\] in \[content\]"),
        ('[content.phrases]\n"cn.content.nope" = ["x"]',
         r"no shipped content rule 'cn.content.nope'"),
        ('[content.phrases]\n"cn.content.insults" = ["老 赖"]', r"already looks for \['老 赖'\]"),
        ('[content.phrases]\n"cn.content.insults" = []',
         r"content.phrases.cn.content.insults must be a list"),
        ('[content.phrases]\n"cn.content.insults" = "x"', r"must be a list of texts"),
        ('[[content.rule]]\njurisdiction = "cn"\nid = "cn.content.insults"\nsource = "s"\n'
         'verified = true\nphrases = ["x"]', r"is a shipped rule: add phrases to it"),
        ('[[content.rule]]\njurisdiction = "fr"\nid = "a.b"\nsource = "s"\nverified = true\n'
         'phrases = ["x"]', r"content.rule\[0\].jurisdiction must be one of"),
        ('[[content.rule]]\njurisdiction = "cn"\nid = "a.b"\nverified = true\nphrases = ["x"]',
         r"content.rule\[0\] \(a.b\).source: every rule cites"),
        # Another way of making a shipped statement would let more drafts pass.
        ('[content.phrases]\n"us.content.electronic_opt_out" = ["write to us"]',
         r"'us.content.electronic_opt_out' is a required statement: a phrase more"),
        ('[[content.required]]\njurisdiction = "us"\nid = "us.content.electronic_opt_out"\n'
         'source = "s"\nverified = true\nchannels = ["sms"]\nphrases = ["x"]',
         r"content.required\[0\]: 'us.content.electronic_opt_out' is a shipped rule's id"),
        ('[[content.required]]\njurisdiction = "us"\nid = "a.b"\nsource = "s"\n'
         'verified = true\nchannels = ["fax"]\nphrases = ["x"]',
         r"content.required\[0\] \(a.b\): a.b: channels must be some of .*not \['fax'\]"),
        ('[[content.required]]\njurisdiction = "us"\nid = "a.b"\nsource = "s"\n'
         'verified = true\nphrases = ["x"]', r"\(a.b\): missing key `channels`"),
        ('[content]\nrequired = "x"', r"content.required must be \[\[content.required\]\]"),
        # helper-94: an id a contact rule, a statement or another of the lender's has.
        ('[[content.required]]\njurisdiction = "us"\nid = "us.electronic_opt_out"\n'
         'source = "s"\nverified = true\nchannels = ["sms"]\nphrases = ["x"]',
         r"'us.electronic_opt_out' is a shipped rule's id"),
        ('[[content.rule]]\njurisdiction = "cn"\nid = "us.content.electronic_opt_out"\n'
         'source = "s"\nverified = true\nphrases = ["x"]',
         r"'us.content.electronic_opt_out' is a shipped rule's id"),
        ('[[content.rule]]\njurisdiction = "cn"\nid = "a.b"\nsource = "s"\nverified = true\n'
         'phrases = ["x"]\n[[content.required]]\njurisdiction = "us"\nid = "a.b"\n'
         'source = "s"\nverified = true\nchannels = ["sms"]\nphrases = ["y"]',
         r"'a.b' is given twice"),
    ],
)  # fmt: skip
def test_a_settings_file_that_would_remove_or_misname_is_refused_naming_the_file_and_key(
    tmp_path: Path, body: str, message: str
) -> None:
    path = settings(tmp_path, body)
    with pytest.raises(SettingsError, match=message) as refused:
        load_settings(path)
    assert str(refused.value).startswith(str(path))
