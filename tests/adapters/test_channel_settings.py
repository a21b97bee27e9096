"""A settings file's [channels]: the gateways messages go out through, their passwords named
by an environment variable (never written in the file), and clear errors for bad values."""

from pathlib import Path

import pytest

from arrears.adapters.channel_settings import ChannelSettings
from arrears.adapters.settings import SettingsError, load_settings

LENDER = '[channels]\nlender = "速还金融"\nservice_phone = "95000"\n'
SMS = ('[channels.sms]\nhost = "smsc.example"\nport = 2775\nsystem_id = "lender1"\n'
       'password_env = "SMSC_PASSWORD"\nsource = "10690000"\n')  # fmt: skip
EMAIL = '[channels.email]\nhost = "smtp.example"\nport = 587\nsender = "催收 <c@x.example>"\n'


def load(tmp_path: Path, text: str) -> ChannelSettings:
    path = tmp_path / "arrears.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path).channels


def test_no_channels_sends_nothing_and_both_gateways_are_read(tmp_path: Path) -> None:
    assert load_settings(None).channels.email is None
    assert load_settings(None).channels.sms is None
    channels = load(tmp_path, LENDER + SMS + EMAIL + 'starttls = true\nusername = "c"\n'
                    'password_env = "SMTP_PASSWORD"\n')  # fmt: skip
    assert channels.facts() == {"lender": "速还金融", "service_phone": "95000"}
    assert channels.sms is not None
    assert channels.email is not None
    assert (channels.sms.host, channels.sms.port, channels.sms.source) == (
        "smsc.example", 2775, "10690000")  # fmt: skip
    assert channels.sms.password == ""  # read from the environment when sending
    # Digits are read by the SMSC as they stand (TON unknown, ISDN plan).
    assert (channels.sms.source_ton, channels.sms.source_npi) == (0, 1)
    assert channels.sms_password_env == "SMSC_PASSWORD"
    assert (channels.email.starttls, channels.email.username) == (True, "c")
    assert channels.email.sender_address == "c@x.example"
    assert not channels.rehearsal
    assert channels.email_password_env == "SMTP_PASSWORD"
    assert channels.take_replies  # arrears reads the replies unless told to leave them
    assert not load(tmp_path, LENDER + SMS + 'replies = "leave"\n').take_replies


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (SMS, "[channels] needs `lender` and `service_phone` once a gateway is set"),
        (
            LENDER + SMS.replace('password_env = "SMSC_PASSWORD"', 'password = "x"'),
            "channels.sms: give `password_env`, the variable that holds it",
        ),
        (
            LENDER + SMS.replace('password_env = "SMSC_PASSWORD"\n', ""),
            "channels.sms: `password_env` must name an environment variable",
        ),
        (
            LENDER + SMS.replace("port = 2775", "port = 70000"),
            "channels.sms: `port` must be a number from 1 to 65535",
        ),
        (
            LENDER + SMS.replace('system_id = "lender1"', 'system_id = "a-very-long-system-id"'),
            "system_id is at most 15 ASCII characters",
        ),
        (
            LENDER + SMS.replace('source = "10690000"', 'source = "速还金融"'),
            "source '速还金融' must be digits (at most 20), +digits, or a sender name",
        ),
        (
            LENDER + SMS.replace('source = "10690000"', 'source = "SuhuanFinance"'),
            "source 'SuhuanFinance' must be digits",
        ),
        (LENDER + SMS + "source_ton = 9\n", "channels.sms: `source_ton` must be one of [0, 1,"),
        (LENDER + SMS + "source_npi = 2\n", "channels.sms: `source_npi` must be one of [0, 1, 3,"),
        (LENDER + SMS + "replies = true\n", "channels.sms: replies must be one of ['take',"),
        (
            LENDER + EMAIL.replace("<c@x.example>", "collections"),
            "channels.email: sender '催收 collections' must be one address",
        ),
        (
            LENDER + EMAIL.replace("催收 <c@x.example>", "a@b.example, c@d.example"),
            "sender 'a@b.example, c@d.example' must be one address",
        ),
        (
            LENDER + EMAIL.replace("催收 <c@x.example>", "ops@desk <c@acme.example>"),
            "sender 'ops@desk <c@acme.example>' must be one address",
        ),
        (
            '[channels]\nlender = """速还\n金融"""\nservice_phone = "95000"\n',
            "`lender` and `service_phone` are one line each",
        ),
        (LENDER + "rehearsal = 1\n", "channels: `rehearsal` must be true or false"),
        (LENDER + EMAIL + 'username = "c"\n', "channels.email: `username` needs `starttls = true`"),
        (
            LENDER + EMAIL + 'starttls = true\nusername = "c"\n',
            "channels.email: `password_env` must name an environment variable",
        ),
        (LENDER + EMAIL + "starttls = 1\n", "channels.email: starttls must be true or false"),
        (LENDER + "fax = 1\n", "[channels]: unknown key(s) fax"),
    ],
)
def test_a_bad_channel_setting_is_refused_naming_it(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load(tmp_path, text)
    assert said in str(refused.value)


@pytest.mark.parametrize(
    ("source", "more", "read"),
    [
        ("+8613800000000", "", ("8613800000000", 1, 1)),  # E.164: international, ISDN
        ("Suhuan Fin", "", ("Suhuan Fin", 5, 0)),  # a sender name: alphanumeric
        ("95000", "source_ton = 3\nsource_npi = 0\n", ("95000", 3, 0)),  # as the SMSC asks
    ],
)
def test_a_source_address_has_the_type_of_number_its_form_says_unless_set(
    tmp_path: Path, source: str, more: str, read: tuple[str, int, int]
) -> None:
    channels = load(tmp_path, LENDER + SMS.replace("10690000", source) + more)
    assert channels.sms is not None
    assert (channels.sms.source, channels.sms.source_ton, channels.sms.source_npi) == read
