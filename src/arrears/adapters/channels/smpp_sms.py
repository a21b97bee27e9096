"""Text messages through an SMSC over SMPP 3.4 (smpplib), one bound session for a batch."""

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from types import TracebackType
from typing import Any

import phonenumbers
import smpplib.client
import smpplib.consts
import smpplib.exceptions
import smpplib.smpp

from arrears.adapters.channels.sms_parts import (
    concatenation,
    read_short_message,
    short_messages,
)
from arrears.domain.messages import Message
from arrears.domain.receipts import Receipt, read_receipt
from arrears.domain.replies import Reply, ReplyPart
from arrears.services.dispatch_ports import SendFailed

TIMEOUT_SECONDS = 30
# smpplib logs its sessions' life (a warning on each disconnect of a bound session): this
# sender reports what matters itself, so its clients' logs go nowhere.
_LOG = "arrears.smpp"
logging.getLogger(_LOG).addHandler(logging.NullHandler())
logging.getLogger(_LOG).propagate = False
_C = smpplib.consts
# Answers of an SMSC (SMPP 3.4, 5.1.3 command_status) that say "not now", not "never": a
# system error, its queue full, throttled.
PASSING = frozenset({_C.SMPP_ESME_RSYSERR, _C.SMPP_ESME_RMSGQFUL, _C.SMPP_ESME_RTHROTTLED})
# Answers about the lender's own side (its source address, its bind): every text would get
# them, so the gateway is at fault and the channel stops, no try spent.
GATEWAY_FAULTS = frozenset({
    _C.SMPP_ESME_RINVSRCADR, _C.SMPP_ESME_RINVSRCTON, _C.SMPP_ESME_RINVSRCNPI,
    _C.SMPP_ESME_RINVBNDSTS, _C.SMPP_ESME_RINVSYSID, _C.SMPP_ESME_RINVPASWD,
    _C.SMPP_ESME_RBINDFAIL,
})  # fmt: skip
TON_INTERNATIONAL, NPI_ISDN = 1, 1
FINAL_RECEIPT = 0x01  # registered_delivery: a receipt when the part is delivered or fails
# esm_class (5.2.12): bits 2-5 are the message type; 0b0001 is a delivery receipt.
MESSAGE_TYPE, RECEIPT_TYPE = 0x3C, 0x04
TRY_LATER = _C.SMPP_ESME_RX_T_APPN  # "temporary application error": deliver it again
MOST_PARTS = 6  # as domain.messages.SMS_MOST reckons a text's length


@dataclass(frozen=True)
class SmsGateway:
    """The SMSC: where it is, how the lender binds to it, and the address texts come from
    with its type of number and numbering plan (SMPP 3.4, 5.2.5 and 5.2.6)."""

    host: str
    port: int
    system_id: str
    password: str  # read from the environment, never from the settings file
    source: str  # digits (a number or service code) or a registered sender name
    source_ton: int
    source_npi: int
    system_type: str = ""
    timeout: float = TIMEOUT_SECONDS  # for each answer awaited


class SmppSmsSender:
    """Sends each message as one or more submit_sm (a long text in concatenated parts); use
    it as a context manager."""

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway
        self._client: smpplib.client.Client | None = None

    def __enter__(self) -> "SmppSmsSender":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            with contextlib.suppress(
                smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError, OSError
            ):  # what was sent is sent; an SMSC gone at the end changes nothing
                self._client.unbind()
            self._drop()

    def send(self, to: str, message: Message, key: str, at: datetime) -> tuple[str, ...]:  # noqa: ARG002
        """Send one text to an E.164 number; the SMSC's message id of each part (the parts
        of one text tied by a reference made from `key`). SendFailed: passing for the SMSC's
        "not now" answers and a session lost before a part went; permanent for a refusal of
        the text, or no answer once a part went (it may have been taken)."""
        reference = hashlib.sha256(key.encode()).digest()[0]
        texts = short_messages(message.body, reference)
        if len(texts.parts) > MOST_PARTS:
            raise SendFailed(f"a text of {len(texts.parts)} parts: at most {MOST_PARTS}",
                             permanent=True)  # fmt: skip
        client = self._open()
        ids: list[str] = []
        for part in texts.parts:
            try:
                sent = client.send_message(
                    source_addr_ton=self.gateway.source_ton,
                    source_addr_npi=self.gateway.source_npi, source_addr=self.gateway.source,
                    dest_addr_ton=TON_INTERNATIONAL, dest_addr_npi=NPI_ISDN,
                    destination_addr=to.lstrip("+"), short_message=part,
                    data_coding=texts.coding, esm_class=texts.esm_class,
                    registered_delivery=FINAL_RECEIPT,
                )  # fmt: skip
            except (smpplib.exceptions.ConnectionError, OSError) as error:
                self._drop()
                raise SendFailed(f"SMPP session lost: {error}", permanent=False,
                                 sent_parts=len(ids)) from None  # fmt: skip
            try:
                ids.append(self._answer(client, sent.sequence, len(ids)))
            except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError,
                    smpplib.exceptions.UnknownCommandError, OSError) as error:  # fmt: skip
                # The SMSC may have taken the part: sending it again could send it twice.
                self._drop()
                raise SendFailed(f"no answer from the SMSC to part {len(ids) + 1} ({error}): "
                                 f"it may have been sent, so it is not sent again",
                                 permanent=True, sent_parts=len(ids),
                                 maybe_sent=True) from None  # fmt: skip
        return tuple(ids)

    def _answer(self, client: smpplib.client.Client, sequence: int, taken: int) -> str:
        """The message id the SMSC answers the submit_sm of `sequence` with, answering its
        enquire_links meanwhile; SendFailed when it refuses."""
        while True:
            pdu: Any = client.read_pdu()
            if pdu.command == "enquire_link":
                reply = smpplib.smpp.make_pdu("enquire_link_resp", client=client)
                reply.sequence = pdu.sequence
                client.send_pdu(reply)
                continue
            if pdu.command not in ("submit_sm_resp", "generic_nack") or pdu.sequence != sequence:
                continue  # a deliver_sm or another answer: nothing this sender waits for
            status = int(pdu.status)
            if status == 0 and pdu.command == "submit_sm_resp":
                return str(pdu.message_id.decode() if isinstance(pdu.message_id, bytes)
                           else pdu.message_id)  # fmt: skip
            said = f"SMSC refused: 0x{status:08x} {_C.DESCRIPTIONS.get(status, 'unknown status')}"
            raise SendFailed(said, permanent=status not in PASSING, sent_parts=taken,
                             gateway=status in GATEWAY_FAULTS and not taken)  # fmt: skip

    def _open(self) -> smpplib.client.Client:
        """The batch's session, connected and bound as a transmitter on first use."""
        if self._client is None:
            self._client = _bound(self.gateway, "bind_transmitter")
        return self._client

    def _drop(self) -> None:
        """Forget a session in an unknown state: the next message binds another."""
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.disconnect()
            self._client = None


class SmppReceiptReader:
    """Reads what an SMSC holds for the lender, bound as a transceiver that sends nothing
    (the SMSC of the tests, smpp34's, refuses a receiver's deliver_sm_resp): delivery
    receipts, and borrowers' replies when asked to take them (else each is answered "try
    later", left for the lender's own reply handler). `region` (ISO 3166) reads a reply's
    number given without its country code."""

    def __init__(self, gateway: SmsGateway, region: str = "CN") -> None:
        self.gateway = gateway
        self.region = region

    def read(
        self,
        seconds: float,
        keep: Callable[[Receipt], bool],
        keep_reply: Callable[[Reply], bool] | None = None,
    ) -> int:
        """Hand each receipt that comes within `seconds` to `keep`, and each reply to
        `keep_reply`, before it is acknowledged: one they could not write is answered "try
        later" (ESME_RX_T_APPN) for the SMSC to deliver again, as is a reply with no
        `keep_reply`. How many were kept; SendFailed (gateway) when the SMSC cannot be
        reached or bound."""
        client = _bound(self.gateway, "bind_transceiver")
        until = time.monotonic() + seconds
        kept = 0
        try:
            while (left := until - time.monotonic()) > 0:
                # The session's time left, not a second a read: smpplib sets no other.
                client._socket.settimeout(left)
                try:
                    pdu: Any = client.read_pdu()
                except TimeoutError:
                    break  # --for is up (a PDU cut off by it is the SMSC's to send again)
                except Exception:  # noqa: BLE001 (a PDU smpplib cannot read: end cleanly)
                    break
                if pdu.command == "deliver_sm":
                    status, took = _acknowledged(pdu, keep, keep_reply, self.region)
                    kept += took
                    reply = smpplib.smpp.make_pdu("deliver_sm_resp", client=client,
                                                  status=status)  # fmt: skip
                elif pdu.command == "enquire_link":
                    reply = smpplib.smpp.make_pdu("enquire_link_resp", client=client)
                elif pdu.command == "unbind":  # the SMSC ends the session
                    reply = smpplib.smpp.make_pdu("unbind_resp", client=client)
                    reply.sequence = pdu.sequence
                    client.send_pdu(reply)
                    break
                elif pdu.command in ("data_sm", "alert_notification", "generic_nack") or (
                    pdu.command.endswith("_resp")
                ):
                    continue  # nothing this reader answers for (a data_sm is left unanswered)
                else:
                    reply = smpplib.smpp.make_pdu("generic_nack", client=client,
                                                  status=_C.SMPP_ESME_RINVCMDID)  # fmt: skip
                reply.sequence = pdu.sequence
                client.send_pdu(reply)
        except (smpplib.exceptions.ConnectionError, smpplib.exceptions.PDUError,
                smpplib.exceptions.UnknownCommandError, OSError):  # fmt: skip
            pass  # the SMSC ended the session: what was acknowledged was kept first
        finally:
            with contextlib.suppress(OSError):
                client.disconnect()
        return kept


def _bound(gateway: SmsGateway, bind: str) -> smpplib.client.Client:
    """A session with the SMSC, connected and bound (`bind`: bind_transmitter or
    bind_transceiver); SendFailed (the gateway's fault) when it cannot be."""
    client = smpplib.client.Client(
        gateway.host, gateway.port, timeout=gateway.timeout, logger_name=_LOG,
        allow_unknown_opt_params=True,  # SMPP 3.4, 3.2.2: ignore what it does not know
    )  # fmt: skip
    try:
        client.connect()
        getattr(client, bind)(system_id=gateway.system_id, password=gateway.password,
                              system_type=gateway.system_type)  # fmt: skip
    except (smpplib.exceptions.PDUError, smpplib.exceptions.ConnectionError,
            smpplib.exceptions.UnknownCommandError, OSError) as error:  # fmt: skip
        client.disconnect()
        raise SendFailed(f"SMPP {gateway.host}:{gateway.port}: {error}",
                         permanent=False, gateway=True) from None  # fmt: skip
    return client


def _acknowledged(
    pdu: Any,
    keep: Callable[[Receipt], bool],
    keep_reply: Callable[[Reply], bool] | None,
    region: str,
) -> tuple[int, int]:
    """The status a deliver_sm is answered with, and 1 when it was kept."""
    esm_class = int(getattr(pdu, "esm_class", 0) or 0)
    if esm_class & MESSAGE_TYPE != RECEIPT_TYPE:
        # A borrower's reply. Not taken without keep_reply ("try later", for the lender's
        # own reply handler to receive): acknowledged, the SMSC would delete it.
        return _reply_acknowledged(pdu, esm_class, keep_reply, region)
    try:
        raw = getattr(pdu, "short_message", b"") or b""
        named = getattr(pdu, "receipted_message_id", None)
        if isinstance(named, bytes):
            named = named.decode("ascii", errors="replace")
        state = getattr(pdu, "message_state", None)
        receipt = read_receipt(raw.decode("ascii", errors="replace"), named or None,
                               int(state) if state is not None else None)  # fmt: skip
        if receipt is None:
            return _C.SMPP_ESME_ROK, 0  # names no message: nothing to keep
        receipt = replace(receipt, address=_text(getattr(pdu, "source_addr", b"")))
        return (_C.SMPP_ESME_ROK, 1) if keep(receipt) else (TRY_LATER, 0)
    except Exception:  # noqa: BLE001 (an odd PDU must not end the session: sent again later)
        return TRY_LATER, 0


def _reply_acknowledged(
    pdu: Any, esm_class: int, keep_reply: Callable[[Reply], bool] | None, region: str
) -> tuple[int, int]:
    """The status a borrower's reply is answered with, and 1 when it was kept."""
    if keep_reply is None:
        return TRY_LATER, 0
    try:
        # A long reply may come in message_payload (SMPP 3.4, 5.3.2.32) instead.
        raw = getattr(pdu, "short_message", b"") or getattr(pdu, "message_payload", b"") or b""
        if isinstance(raw, str):
            raw = raw.encode("latin-1")
        text = read_short_message(raw, int(getattr(pdu, "data_coding", 0) or 0), esm_class)
        ton = int(getattr(pdu, "source_addr_ton", 0) or 0)
        number = reply_number(_text(getattr(pdu, "source_addr", b"")), ton, region)
        found = concatenation(raw, esm_class)
        reply = Reply(number, text, ReplyPart(*found) if found else None)
        return (_C.SMPP_ESME_ROK, 1) if keep_reply(reply) else (TRY_LATER, 0)
    except Exception:  # noqa: BLE001 (an odd PDU must not end the session: sent again later)
        return TRY_LATER, 0


def reply_number(source: str, ton: int, region: str) -> str:
    """A reply's number as E.164 when it can be read so (SMPP 3.4, 5.2.5): given as
    international (its TON, or a leading +; an international prefix 00 or 011 some SMSCs
    leave in dropped), a valid number of `region`, or one with its country code and no +;
    else as given."""
    given = source.strip()
    digits = given.lstrip("+")
    if not digits.isdigit():
        return given  # a name or a service code with letters: nothing to read
    international = ton == TON_INTERNATIONAL or given.startswith("+")
    candidates = [f"+{digits}"]
    if international:
        candidates += [f"+{digits[len(p) :]}" for p in ("00", "011") if digits.startswith(p)]
    else:
        candidates.insert(0, digits)  # as a number of the region, first
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return f"+{digits}" if international else given


def _text(value: bytes | str) -> str:
    """A PDU's C-octet string as text."""
    return value.decode("ascii", errors="replace") if isinstance(value, bytes) else value or ""
