"""The content lint finds a pack's phrases however a text is cased, spaced or written in
full-width characters, as whole words in English, never inside an exception; it says where,
in the text as written."""

from collections.abc import Callable
from dataclasses import replace

import pytest

from arrears.domain.content_lint import (
    ContentPack,
    ContentRule,
    Finding,
    RequiredContent,
    fold,
    lint,
    missing,
    rules_found,
)
from arrears.domain.errors import DomainError

PRISON = ContentRule("xx.prison", "a law", True, ("坐牢", "police", "借钱还"), ("借钱还钱",))
PACK = ContentPack("xx", (PRISON,))


def found(text: str, pack: ContentPack = PACK) -> list[str]:
    """The words of the text each finding points at."""
    return [text[f.start : f.end] for f in lint(text, [pack])]


def test_a_finding_names_the_rule_its_source_the_phrase_and_where_it_is() -> None:
    assert lint("你再不还就要坐牢了", [PACK]) == (
        Finding("xx.prison", "a law", "坐牢", "坐牢", 6, 8),
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("你要坐 牢", ["坐 牢"]),  # a space between the characters
        ("你要坐\u3000牢", ["坐\u3000牢"]),  # an ideographic (full-width) space
        ("你要坐 \n * 牢", ["坐 \n * 牢"]),  # spaces, a line break and a separator
        ("你要坐·牢", ["坐·牢"]),
        ("你要坐-牢", ["坐-牢"]),
        ("你要坐—牢", ["坐—牢"]),  # a lone dash still breaks it up, as a hyphen does
        ("你要坐...牢", ["坐...牢"]),  # three full stops are no ellipsis
        # Quoted, a phrase is said all the same (helper-125: "do not reply STOP" quoted
        # passed, where a required statement is read through its quotes).
        ('call the "police"', ["police"]),
        ("call the “po”lice", ["po”lice"]),
        ("你要坐\u200b牢", ["坐\u200b牢"]),  # a zero-width space nobody sees
        # Other characters nobody sees (helper-89): a left-to-right mark, a right-to-left
        # override, an invisible times, a combining grapheme joiner, a variation selector, a
        # tag character, a Hangul filler.
        ("你要坐\u200e牢", ["坐\u200e牢"]),
        ("你要坐\u202e牢", ["坐\u202e牢"]),
        ("你要坐\u2062牢", ["坐\u2062牢"]),
        ("你要坐\u034f牢", ["坐\u034f牢"]),
        ("你要坐\ufe0f牢", ["坐\ufe0f牢"]),
        ("你要坐\U000e0041牢", ["坐\U000e0041牢"]),
        ("你要坐\u3164牢", ["坐\u3164牢"]),
        ("the po\u200elice", ["po\u200elice"]),
        ("我是ＰＯＬＩＣＥ", ["ＰＯＬＩＣＥ"]),  # full-width letters
        ("This is the POLICE.", ["POLICE"]),
        ("the pólice", ["pólice"]),  # an accent
        ("the po\u0301lice", ["po\u0301lice"]),  # an accent written apart
        ("我是police", ["police"]),  # Chinese bounds an English word
    ],
)
def test_spacing_full_width_case_and_accents_do_not_hide_a_phrase(
    text: str, words: list[str]
) -> None:
    assert found(text) == words


@pytest.mark.parametrize(
    "text",
    [
        "请坐，牢记还款日",  # a sentence's comma parts the characters
        "请坐。牢记还款日",
        "请坐! 牢记还款日",
        # An ellipsis (省略号) and a dash of two (破折号) are a sentence's marks too: NFKC had
        # made them full stops and hyphens, which break a phrase up (helper-125).
        "请坐……牢记还款日",
        "请坐…牢记还款日",
        "请坐——牢记还款日",
        "a policeman called",  # not a whole word
        "an impoliceable text",
    ],
)
def test_a_sentences_marks_and_longer_words_are_not_a_phrase(text: str) -> None:
    assert found(text) == []


def test_a_phrase_ends_at_any_mark_that_is_no_letter() -> None:
    assert found("the police-station, (police) 'police'") == ["police", "police", "police"]


def test_an_exception_excuses_a_match_inside_it_and_no_other() -> None:
    assert found("借钱还钱，天经地义") == []
    assert found("借 钱 还 钱") == []  # folded alike
    assert found("借钱还钱天经地义，你去借钱还吧") == ["借钱还"]
    assert [f.start for f in lint("借钱还钱天经地义，你去借钱还吧", [PACK])] == [11]


def test_a_match_inside_a_longer_match_of_the_same_rule_is_reported_once() -> None:
    rule = ContentRule("xx.book", "a law", True, ("通讯录", "爆通讯录"))
    assert found("我们要爆通讯录了", ContentPack("xx", (rule,))) == ["爆通讯录"]


def test_each_rule_of_each_pack_reports_its_own_findings_in_text_order() -> None:
    other = ContentPack("yy", (ContentRule("yy.jail", "b law", False, ("jail", "坐牢")),))
    findings = lint("jail, 坐牢", [PACK, other])
    assert [(f.rule_id, f.matched, f.start) for f in findings] == [
        ("yy.jail", "jail", 0),
        ("xx.prison", "坐牢", 6),
        ("yy.jail", "坐牢", 6),
    ]
    assert findings[0].source == "b law (unverified)"
    assert rules_found(findings) == ["xx.prison", "yy.jail"]


def test_a_phrase_is_found_every_time_it_occurs() -> None:
    assert found("坐牢坐牢 police police") == ["坐牢", "坐牢", "police", "police"]


def test_folding_keeps_where_each_character_came_from() -> None:
    folded = fold("Ａ  b 坐 牢")
    assert folded.text == "a b 坐牢"
    assert folded.origin == (0, 1, 3, 4, 5, 7)


@pytest.mark.parametrize(
    ("phrases", "exceptions", "message"),
    [
        ((), (), "needs phrases"),
        (("  ",), (), "has nothing to look for"),
        (("\u200b",), (), "has nothing to look for"),
        (("坐牢", "坐 牢"), (), "given twice"),
        (("police",), ("the police",), ""),  # fine
        (("police",), ("policeman",), "excuses nothing"),  # not as a whole word
        (("police",), ("no fee",), "excuses nothing"),
        (("police",), ("Police",), "both a phrase and an exception"),
    ],
)
def test_a_rule_refuses_phrases_and_exceptions_that_could_do_nothing(
    phrases: tuple[str, ...], exceptions: tuple[str, ...], message: str
) -> None:
    if not message:
        ContentRule("xx.r", "a law", True, phrases, exceptions)
        return
    with pytest.raises(DomainError, match=message):
        ContentRule("xx.r", "a law", True, phrases, exceptions)


def test_a_rule_needs_an_id_and_a_source() -> None:
    with pytest.raises(DomainError, match="needs an id"):
        ContentRule(" ", "a law", True, ("x",))
    with pytest.raises(DomainError, match="legal source"):
        ContentRule("xx.r", " ", True, ("x",))


def test_a_lender_adds_phrases_and_rules_but_none_it_has_already() -> None:
    own = ContentRule("acme.brand", "lender policy", True, ("催命",))
    stricter = PACK.stricter({"xx.prison": ("蹲大牢",)}, [own])
    assert [r.rule_id for r in stricter.rules] == ["xx.prison", "acme.brand"]
    assert found("蹲大牢 催命 坐牢", stricter) == ["蹲大牢", "催命", "坐牢"]
    assert stricter.rule("xx.prison") is not None
    assert stricter.rule("xx.prison").exceptions == PRISON.exceptions  # type: ignore[union-attr]
    with pytest.raises(DomainError, match="already looks for"):
        PACK.stricter({"xx.prison": ("坐 牢",)})
    with pytest.raises(DomainError, match="no content rule"):
        PACK.stricter({"xx.nope": ("x",)})
    with pytest.raises(DomainError, match="appear twice"):
        PACK.stricter({}, [ContentRule("xx.prison", "mine", True, ("x",))])


OPT_OUT = RequiredContent(
    "xx.opt_out", "a law", True, ("sms", "email"), ("reply STOP", "opt-out", "unsubscribe")
)
WITH_OPT_OUT = ContentPack("xx", (PRISON,), (OPT_OUT,))


@pytest.mark.parametrize(
    ("text", "channel", "lacking"),
    [
        ("Your payment is late. Call us.", "sms", ["xx.opt_out"]),
        ("Your payment is late. Call us.", "email", ["xx.opt_out"]),
        ("Your payment is late. Call us.", "call", []),  # not a channel it covers
        ("Late? Reply  stop to end texts.", "sms", []),  # folded: case, runs of spaces
        ("Late? ＲＥＰＬＹ ＳＴＯＰ", "sms", []),  # full-width
        ("To opt-out, write to us.", "email", []),
        ("You were unsubscribed from our newsletter.", "email", ["xx.opt_out"]),  # whole words
        ("Reply STOPPED", "sms", ["xx.opt_out"]),
        # helper-94: its words quoted, or written with another hyphen or dash.
        ('Reply "STOP" to end these texts.', "sms", []),
        ("Reply \u201cSTOP\u201d or 'stop'.", "sms", []),
        ("Opt\u2011out: write to us.", "email", []),
        ("Opt\u2013out: write to us.", "email", []),
    ],
)
def test_a_draft_for_a_channel_lacks_a_required_statement_unless_a_phrase_makes_it(
    text: str, channel: str, lacking: list[str]
) -> None:
    assert [r.rule_id for r in missing(text, WITH_OPT_OUT, channel)] == lacking


def test_a_required_statement_is_no_finding_of_the_lint() -> None:
    # A note is not a draft for a channel: lint judges the phrases it must not hold only.
    assert lint("Your payment is late.", [WITH_OPT_OUT]) == ()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RequiredContent("", "a law", True, ("sms",), ("stop",)), "needs an id"),
        (lambda: RequiredContent("r", " ", True, ("sms",), ("stop",)), "cites its legal source"),
        (lambda: RequiredContent("r", "a law", True, (), ("stop",)), "channels must be some of"),
        (lambda: RequiredContent("r", "a law", True, ("fax",), ("stop",)), r"not \['fax'\]"),
        (lambda: RequiredContent("r", "a law", True, ("sms",), ()), "needs its phrases"),
        (lambda: RequiredContent("r", "a law", True, ("sms",), ("stop", "STOP")), "given twice"),
        (lambda: ContentPack("xx", (PRISON,), (replace(OPT_OUT, rule_id="xx.prison"),)),
         r"\['xx.prison'\] appear twice"),
    ],
)  # fmt: skip
def test_a_bad_required_statement_is_refused_naming_what_is_wrong(
    make: Callable[[], object], message: str
) -> None:
    with pytest.raises(DomainError, match=message):
        make()
