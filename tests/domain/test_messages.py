"""Message templates: only the known placeholders, plainly named; a text filled in whole or
refused; what the packs' content rules find or miss in a message, each named."""

import pytest

from arrears.adapters.content_pack import shipped_content_packs
from arrears.domain.messages import (
    SMS_MOST,
    MessageTemplate,
    TemplateError,
    faults,
    render,
)

PACKS = shipped_content_packs()


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("您好{borrower}", "placeholder {borrower} is not one of"),
        ("应还{overdue:>10}元", "placeholder {overdue} is not one of"),
        ("应还{overdue!r}元", "placeholder {overdue} is not one of"),
        ("{name.__class__}", "placeholder {name.__class__} is not one of"),
        ("{0}", "placeholder {0} is not one of"),
        ("您好{name", "expected '}' before end of string"),
        ("   ", "the body is empty"),
    ],
)
def test_a_template_names_only_known_placeholders_plainly(body: str, said: str) -> None:
    with pytest.raises(TemplateError, match=r"template 'cn\.x'") as refused:
        MessageTemplate("cn.x", "sms", body)
    assert said in str(refused.value)


def test_channels_and_subjects_are_checked() -> None:
    with pytest.raises(TemplateError, match="channel 'letter' is not one a message is sent on"):
        MessageTemplate("cn.x", "letter", "body")
    with pytest.raises(TemplateError, match="an e-mail needs a subject"):
        MessageTemplate("cn.x", "email", "body")
    with pytest.raises(TemplateError, match="a text message has no subject"):
        MessageTemplate("cn.x", "sms", "body", "subject")
    with pytest.raises(TemplateError, match="a subject is one line"):
        MessageTemplate("cn.x", "email", "body", "two\nlines")


def test_a_template_is_filled_in_whole() -> None:
    template = MessageTemplate("cn.x", "email", "{name}您好，应还{overdue}元。{{不是占位符}}",
                               "借款{loan_id}")  # fmt: skip
    message = render(template, {"name": "王芳", "overdue": "1234.50", "loan_id": "L1"})
    assert (message.subject, message.body) == ("借款L1", "王芳您好，应还1234.50元。{不是占位符}")
    assert message.texts == "借款L1\n王芳您好，应还1234.50元。{不是占位符}"
    with pytest.raises(TemplateError, match="no value for loan_id, overdue"):
        render(template, {"name": "王芳"})


def test_a_text_longer_than_six_parts_once_filled_in_is_refused() -> None:
    template = MessageTemplate("cn.x", "sms", "{name}" + "字" * (SMS_MOST - 3))
    assert len(render(template, {"name": "王小芳"}).body) == SMS_MOST
    with pytest.raises(TemplateError, match=f"{SMS_MOST + 1} long once filled"):
        render(template, {"name": "欧阳小芳"})


def test_faults_name_each_phrase_found_and_each_statement_missing() -> None:
    assert faults("您好，请按时还款。", "sms", [PACKS["cn"]]) == []
    found = faults("再不还钱你就是老赖", "sms", [PACKS["cn"]])
    assert len(found) == 1
    assert found[0].startswith("cn.content.insults finds '老赖' (")
    # The us pack asks every text and e-mail to say how to opt out (12 CFR 1006.6(e)).
    (lacking,) = faults("Please pay today.", "email", [PACKS["us"]])
    assert lacking.startswith("us.content.electronic_opt_out: it does not say one of 'reply STOP'")
    assert "1006.6(e)" in lacking
    assert faults("Please pay today. Reply STOP to opt out.", "sms", [PACKS["us"]]) == []
    assert faults("Please pay today.", "call", [PACKS["us"]]) == []  # no statement for calls


@pytest.mark.parametrize(
    "breaks", ["\r\nBcc: x@y.example", "\u2028", "\x0b", "\x0c", "\x1c", "\x85"]
)
def test_a_subject_that_breaks_a_line_once_filled_in_is_refused(breaks: str) -> None:
    # Every break an e-mail header refuses: one holding U+2028 (a borrower's name may) failed
    # at the gateway after the row was claimed, and was logged as sent (helper-117).
    template = MessageTemplate("cn.x", "email", "body", "借款{loan_id}{name}")
    with pytest.raises(TemplateError, match="the subject holds a line break once filled in"):
        render(template, {"loan_id": "L1", "name": f"张三{breaks}李四"})
    with pytest.raises(TemplateError, match="a subject is one line"):
        MessageTemplate("cn.x", "email", "body", f"借款{breaks}逾期")
