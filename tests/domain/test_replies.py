"""How a borrower's reply to a text reads: an opt-out word alone asks to stop, any other
reply goes to a person, naming an opt-out word it mentions."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arrears.domain.calendar import BusinessCalendar
from arrears.domain.errors import DomainError
from arrears.domain.replies import (
    OPTED_OUT,
    TO_READ,
    ReplyReading,
    ReplyRule,
    honour_by,
    read_reply,
)

US = ReplyRule("us.reply_opt_out", ("STOP", "END", "OPT OUT", "UNSUBSCRIBE"), "47 CFR", True,
               "us", anywhere=("STOP", "OPT OUT"))  # fmt: skip
CN = ReplyRule("cn.reply_opt_out", ("TD", "T", "退订", "退訂"), "通信短信息服务管理规定", False,
               "cn", anywhere=("退订", "退訂"))  # fmt: skip
RULES = (CN, US)


@pytest.mark.parametrize(
    ("text", "rule_id", "word"),
    [
        ("STOP", "us.reply_opt_out", "STOP"),
        ("stop", "us.reply_opt_out", "STOP"),
        ("  Stop.\n", "us.reply_opt_out", "STOP"),
        ("ＳＴＯＰ！", "us.reply_opt_out", "STOP"),  # full-width, as Chinese keyboards type it
        ("opt-out", "us.reply_opt_out", "OPT OUT"),
        ("Opt Out", "us.reply_opt_out", "OPT OUT"),
        ("optout", "us.reply_opt_out", "OPT OUT"),
        ("td", "cn.reply_opt_out", "TD"),
        ("ＴＤ", "cn.reply_opt_out", "TD"),
        ("T", "cn.reply_opt_out", "T"),
        ("退订。", "cn.reply_opt_out", "退订"),
        ("【退订】", "cn.reply_opt_out", "退订"),
    ],
)
def test_an_opt_out_word_alone_asks_to_stop(text: str, rule_id: str, word: str) -> None:
    assert read_reply(text, RULES) == ReplyReading(OPTED_OUT, rule_id, word)


@pytest.mark.parametrize(
    ("text", "rule_id", "word"),
    [
        ("Please stop texting me", "us.reply_opt_out", "STOP"),
        ("Stop it!!", "us.reply_opt_out", "STOP"),
        ("I want to opt-out of these", "us.reply_opt_out", "OPT OUT"),
        ("请不要再发了，退订", "cn.reply_opt_out", "退订"),  # found anywhere: no spaces
        ("請退訂，謝謝", "cn.reply_opt_out", "退訂"),  # as Traditional Chinese writes it
        ("Please 'stop' texting me", "us.reply_opt_out", "STOP"),  # quoted: still the word
        ("I said ‘STOP’", "us.reply_opt_out", "STOP"),
        ("不要再发了STOP", "us.reply_opt_out", "STOP"),  # run into Chinese
    ],
)
def test_an_anywhere_word_among_others_asks_to_stop(text: str, rule_id: str, word: str) -> None:
    assert read_reply(text, RULES) == ReplyReading(OPTED_OUT, rule_id, word)


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("I will pay by the end of May", "END"),  # a person decides: it may not ask to stop
        ("T-Mobile customer here", "T"),
        ("Please unsubscribe me", "UNSUBSCRIBE"),  # alone it would; among others, a person
    ],
)
def test_a_word_among_others_goes_to_a_person_named(text: str, word: str) -> None:
    assert read_reply(text, RULES) == ReplyReading(TO_READ, None, word)


def test_a_reply_missing_a_part_goes_to_a_person_whatever_it_says() -> None:
    assert read_reply("STOP", RULES, whole=False) == ReplyReading(TO_READ, None, "STOP")
    assert read_reply("我已还款", RULES, whole=False) == ReplyReading(TO_READ)


@pytest.mark.parametrize(
    "text",
    ["I already paid", "spend", "backstop", "I can't pay today", "I can’t pay until Friday",
     "Don’t worry", "我已还款", "", "   ", "?!"],
)  # fmt: skip
def test_any_other_reply_goes_to_a_person(text: str) -> None:
    # "end" is no word of "spend", "stop" none of "backstop", "t" none of "can't" or
    # "can’t" (the apostrophe phones type).
    assert read_reply(text, RULES) == ReplyReading(TO_READ)


def test_the_first_rule_naming_the_word_reads_it() -> None:
    uk = ReplyRule("uk.reply_opt_out", ("STOP",), "CONC 7.9", False, "uk")
    assert read_reply("stop", (uk, US)).rule_id == "uk.reply_opt_out"
    assert read_reply("stop", (US, uk)).rule_id == "us.reply_opt_out"
    assert read_reply("stop", ()) == ReplyReading(TO_READ)


def test_a_request_to_stop_is_honoured_within_its_business_days() -> None:
    # 47 CFR 64.1200(a)(11): ten business days, counted from the day after it came.
    weekdays = BusinessCalendar.weekends_only([2026])
    assert honour_by(date(2026, 3, 6), 10, weekdays) == date(2026, 3, 20)  # Fri → Fri
    assert honour_by(date(2026, 3, 7), 10, weekdays) == date(2026, 3, 20)  # a Saturday
    assert honour_by(date(2026, 3, 9), 1, weekdays) == date(2026, 3, 10)
    holiday = BusinessCalendar(frozenset({date(2026, 3, 16)}), frozenset(), frozenset({2026}))
    assert honour_by(date(2026, 3, 6), 10, holiday) == date(2026, 3, 23)
    with pytest.raises(DomainError, match="between 1 and 60"):
        ReplyRule("x.reply", ("STOP",), "src", False, honour_days=0)


def test_a_rule_needs_words_with_letters() -> None:
    with pytest.raises(DomainError, match="at least one word"):
        ReplyRule("x.reply", (), "src", False)
    with pytest.raises(DomainError, match=r"'\.\.' has no letter"):
        ReplyRule("x.reply", ("STOP", ".."), "src", False)
    with pytest.raises(DomainError, match=r"' ' has no letter"):
        ReplyRule("x.reply", ("STOP",), "src", False, anywhere=(" ",))


_DECORATION = st.text(alphabet=" \t\n.,!?。！，、-_'\"()【】", max_size=4)


@given(
    st.sampled_from([w for rule in RULES for w in rule.words]),
    _DECORATION,
    _DECORATION,
    st.booleans(),
)
def test_any_case_and_punctuation_around_a_word_alone_still_asks_to_stop(
    word: str, before: str, after: str, upper: bool
) -> None:
    text = before + (word.upper() if upper else word.lower()) + after
    assert read_reply(text, RULES).state == OPTED_OUT
