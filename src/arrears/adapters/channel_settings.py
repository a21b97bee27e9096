"""A settings file's `[channels]`: the lender's name and service number the messages name, and
the SMTP server and SMSC they go out through (passwords from the environment)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from email.utils import getaddresses
from typing import Any

from arrears.adapters.channels.smpp_sms import SmsGateway
from arrears.adapters.channels.smtp_email import EmailGateway
from arrears.adapters.packs import RulePackError

_TOP = frozenset({"lender", "service_phone", "email", "sms", "rehearsal"})
# `password` is known only to be refused with the right words (_env).
_EMAIL = frozenset({"host", "port", "sender", "starttls", "username", "password_env", "password"})
_SMS = frozenset({"host", "port", "system_id", "password_env", "password", "source",
                  "source_ton", "source_npi", "system_type", "replies"})  # fmt: skip
# [channels.sms] replies: "take" (arrears reads borrowers' replies with the receipts, and
# records the opt-outs they ask for) or "leave" (the lender's own reply handler takes them).
_REPLIES = ("take", "leave")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
# SMPP 3.4, 5.2: system_id is at most 15 octets, source_addr 20; an address as E.164 digits.
_SYSTEM_ID_MOST, _SOURCE_MOST = 15, 20
_ADDRESS = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+")
# A source address: digits, a number in E.164 (+digits), or a sender name of at most 11
# letters, digits and spaces (an alphanumeric address, GSM 03.40 9.1.2.5).
_NUMBER, _E164, _NAME = (re.compile(r"[0-9]{1,20}"), re.compile(r"\+[0-9]{6,15}"),
                         re.compile(r"[A-Za-z0-9][A-Za-z0-9 ]{0,10}"))  # fmt: skip
# Type of number and numbering plan (SMPP 3.4, 5.2.5, 5.2.6): the values the spec defines.
_TONS, _NPIS = frozenset(range(7)), frozenset({0, 1, 3, 4, 6, 8, 9, 10, 14, 18})


@dataclass(frozen=True)
class ChannelSettings:
    """What sending needs from the settings file (a gateway None: that channel is not sent)."""

    lender: str = ""
    service_phone: str = ""
    email: EmailGateway | None = None
    email_password_env: str | None = None
    sms: SmsGateway | None = None
    sms_password_env: str | None = None
    # Whether `arrears receipts` takes borrowers' replies (else left for another handler).
    take_replies: bool = True
    # The gateways are test ones: `send --rehearse --at` may stand at any moment.
    rehearsal: bool = False

    def facts(self) -> dict[str, str]:
        """The lender's own placeholders' values."""
        return {"lender": self.lender, "service_phone": self.service_phone}


def parse_channels(data: Any, where: str) -> ChannelSettings:
    """`[channels]` as read from the file `where`; RulePackError naming a bad key."""
    if not isinstance(data, dict):
        raise RulePackError(f"{where}: [channels] must be a table")
    _known(data, _TOP, f"{where}: [channels]")
    lender, phone = (_text(data, k, f"{where}: channels", required=False)
                     for k in ("lender", "service_phone"))  # fmt: skip
    if any(c in text for text in (lender, phone) for c in "\r\n"):
        raise RulePackError(f"{where}: channels: `lender` and `service_phone` are one line each")
    rehearsal = data.get("rehearsal", False)
    if not isinstance(rehearsal, bool):
        raise RulePackError(f"{where}: channels: `rehearsal` must be true or false")
    settings = ChannelSettings(lender, phone, rehearsal=rehearsal)
    if "email" in data:
        settings = _with_email(settings, data["email"], f"{where}: channels.email")
    if "sms" in data:
        settings = _with_sms(settings, data["sms"], f"{where}: channels.sms")
    if (settings.email or settings.sms) and not (lender and phone):
        raise RulePackError(
            f"{where}: [channels] needs `lender` and `service_phone` once a gateway is set: "
            f"every message names who sends it and how to reach them"
        )
    return settings


def _with_email(settings: ChannelSettings, data: Any, where: str) -> ChannelSettings:
    """The settings with the SMTP server of `[channels.email]`."""
    if not isinstance(data, dict):
        raise RulePackError(f"{where} must be a table")
    _known(data, _EMAIL, where)
    sender = _text(data, "sender", where)
    found = getaddresses([sender])
    address = found[0][1] if len(found) == 1 else ""
    if not _ADDRESS.fullmatch(address) or not address.isascii():
        raise RulePackError(
            f"{where}: sender {sender!r} must be one address, e.g. 催收中心 <c@lender.example>"
        )
    starttls = data.get("starttls", False)
    if not isinstance(starttls, bool):
        raise RulePackError(f"{where}: starttls must be true or false")
    username = _text(data, "username", where, required=False) or None
    if username is not None and not starttls:
        # Signing in over a plain connection would send the password in clear.
        raise RulePackError(f"{where}: `username` needs `starttls = true`")
    env = _env(data, where, required=username is not None)
    gateway = EmailGateway(_text(data, "host", where), _port(data, where), sender, address,
                           starttls, username)  # fmt: skip
    return replace(settings, email=gateway, email_password_env=env)


def _with_sms(settings: ChannelSettings, data: Any, where: str) -> ChannelSettings:
    """The settings with the SMSC of `[channels.sms]`."""
    if not isinstance(data, dict):
        raise RulePackError(f"{where} must be a table")
    _known(data, _SMS, where)
    system_id = _text(data, "system_id", where)
    if len(system_id.encode()) > _SYSTEM_ID_MOST or not system_id.isascii():
        raise RulePackError(f"{where}: system_id is at most {_SYSTEM_ID_MOST} ASCII characters "
                            f"(SMPP 3.4, 5.2.1)")  # fmt: skip
    source = _text(data, "source", where)
    # By its form, unless set: an E.164 number is international (ISDN plan), other digits
    # are read by the SMSC as they stand (unknown), a name is alphanumeric.
    if _E164.fullmatch(source):
        source, ton, npi = source[1:], 1, 1
    elif _NUMBER.fullmatch(source):
        ton, npi = 0, 1
    elif _NAME.fullmatch(source):
        ton, npi = 5, 0
    else:
        raise RulePackError(
            f"{where}: source {source!r} must be digits (at most {_SOURCE_MOST}), +digits, or a "
            f"sender name of at most 11 letters, digits and spaces"
        )
    ton = _code(data, "source_ton", ton, _TONS, where)
    npi = _code(data, "source_npi", npi, _NPIS, where)
    replies = data.get("replies", _REPLIES[0])
    if replies not in _REPLIES:
        raise RulePackError(f"{where}: replies must be one of {list(_REPLIES)}, got {replies!r}")
    env = _env(data, where, required=True)
    gateway = SmsGateway(_text(data, "host", where), _port(data, where), system_id, "", source,
                         ton, npi, _text(data, "system_type", where, required=False))  # fmt: skip
    return replace(settings, sms=gateway, sms_password_env=env,
                   take_replies=replies == _REPLIES[0])  # fmt: skip


def _code(
    data: Mapping[str, Any], key: str, default: int, known: frozenset[int], where: str
) -> int:
    """A TON or NPI: the form's default, or the one set if the spec defines it."""
    value = data.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or value not in known:
        raise RulePackError(f"{where}: `{key}` must be one of {sorted(known)} (SMPP 3.4, 5.2.5-6)")
    return value


def _known(data: Mapping[str, Any], keys: frozenset[str], where: str) -> None:
    unknown = sorted(set(data) - keys)
    if unknown:
        raise RulePackError(f"{where}: unknown key(s) {', '.join(unknown)}; known: "
                            f"{', '.join(sorted(keys))}")  # fmt: skip


def _text(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise RulePackError(f"{where}: `{key}` must be a non-empty string")
    return value.strip()


def _port(data: Mapping[str, Any], where: str) -> int:
    port = data.get("port")
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        raise RulePackError(f"{where}: `port` must be a number from 1 to 65535")
    return port


def _env(data: Mapping[str, Any], where: str, required: bool) -> str | None:
    """The name of the environment variable the password is read from (never the password
    itself in a file that is copied around)."""
    if "password" in data:
        raise RulePackError(f"{where}: give `password_env`, the variable that holds it")
    name = data.get("password_env")
    if name is None and not required:
        return None
    if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
        raise RulePackError(
            f"{where}: `password_env` must name an environment variable "
            f"(e.g. ARREARS_SMTP_PASSWORD)"
        )
    return name
