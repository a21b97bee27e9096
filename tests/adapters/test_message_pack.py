"""The shipped messages and a settings file's own: every text or e-mail a shipped ladder plans
has one that passes its pack's content rules; a lender's replace them by template id, and a
bad one is refused naming the file, the entry and what is wrong."""

from pathlib import Path

import pytest

from arrears.adapters.content_pack import shipped_content_packs
from arrears.adapters.message_pack import shipped_messages
from arrears.adapters.settings import SettingsError, load_settings
from arrears.adapters.strategy_file import ladders_for
from arrears.domain.messages import PLACEHOLDERS, faults, render

PACKS = shipped_content_packs()
FACTS = {name: f"<{name}>" for name in PLACEHOLDERS}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "arrears.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_message_a_shipped_ladder_plans_is_shipped_and_passes_its_rules() -> None:
    shipped = shipped_messages(PACKS)
    ladders = ladders_for(load_settings(None).products)
    planned = {(t.template, t.action) for ladder in ladders.values() for stage in ladder.stages
               for t in stage.treatments if t.action in ("sms", "email")}  # fmt: skip
    assert planned
    for template_id, channel in planned:
        assert shipped[template_id].template.channel == channel, template_id
    for template_id, known in shipped.items():
        assert template_id.startswith(known.jurisdiction + ".")
        message = render(known.template, FACTS)
        assert faults(message.texts, message.channel, [PACKS[known.jurisdiction]]) == []


def test_a_settings_file_replaces_a_message_and_adds_its_own(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[messages]]
jurisdiction = "cn"
template = "cn.early_sms"
channel = "sms"
body = "【{lender}】{name}您好，您的借款已逾期{dpd}天，请致电{service_phone}。"

[[messages]]
jurisdiction = "us"
template = "lender.email"
channel = "email"
subject = "Loan {loan_id}"
body = "Please call {service_phone}. Reply STOP to opt out."
""",
    )
    messages = load_settings(path).messages
    assert messages["cn.early_sms"].template.body.endswith("请致电{service_phone}。")
    assert messages["lender.email"].jurisdiction == "us"
    assert messages["cn.mid_sms"] == shipped_messages(PACKS)["cn.mid_sms"]


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        (
            'jurisdiction = "cn"\ntemplate = "t"\nchannel = "sms"\nbody = "你这个老赖"',
            "messages[0]: template 't' breaks the cn pack's content rules: cn.content.insults",
        ),
        (
            'jurisdiction = "us"\ntemplate = "t"\nchannel = "sms"\nbody = "Pay now."',
            "us.content.electronic_opt_out: it does not say one of",
        ),
        (
            'jurisdiction = "cn"\ntemplate = "t"\nchannel = "sms"\nbody = "{amount}"',
            "messages[0]: template 't': placeholder {amount} is not one of",
        ),
        (
            'jurisdiction = "xx"\ntemplate = "t"\nchannel = "sms"\nbody = "x"',
            "`jurisdiction` must be one of cn, us, uk",
        ),
        (
            'jurisdiction = "cn"\ntemplate = "t"\nchannel = "sms"\nbody = "x"\ncolour = 1',
            "messages[0]: unknown key(s) colour",
        ),
        (
            'jurisdiction = "cn"\ntemplate = "t"\nchannel = "sms"',
            "messages[0]: `body` must be a non-empty string",
        ),
    ],
)
def test_a_bad_message_is_refused_naming_the_file_and_entry(
    tmp_path: Path, entry: str, said: str
) -> None:
    path = write(tmp_path, f"[[messages]]\n{entry}\n")
    with pytest.raises(SettingsError) as refused:
        load_settings(path)
    assert str(path) in str(refused.value)
    assert said in str(refused.value)


def test_a_template_given_twice_is_refused(tmp_path: Path) -> None:
    entry = '[[messages]]\njurisdiction = "cn"\ntemplate = "t"\nchannel = "sms"\nbody = "x"\n'
    with pytest.raises(SettingsError, match=r"messages\[1\]: template 't' is given twice"):
        load_settings(write(tmp_path, entry * 2))
