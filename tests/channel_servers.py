"""Real servers for the channels' tests: an SMSC (smpp34's SMPP server) and an SMTP server
(aiosmtpd), each on a free loopback port in a thread of its own, keeping what they took."""

import asyncio
import socket
import string
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import smpp34
from aiosmtpd.controller import Controller

UCS2 = 0x08
# The GSM 7-bit default alphabet's codes that differ from ASCII, and its extension table
# (after ESC), for the characters the tests send (3GPP TS 23.038, 6.2.1).
GSM_SPECIAL = {0x00: "@", 0x01: "£", 0x02: "$", 0x11: "_", 0x24: "¤"}
GSM_ESCAPED = {0x28: "{", 0x29: "}", 0x3C: "[", 0x3E: "]", 0x65: "€"}


def _too_long(event: Any) -> bool:
    """Whether a submit holds more than a message can carry over the air (GSM 03.40: 140
    octets; in the 7-bit alphabet, sent a septet an octet, 160 septets, a 6-octet header
    taking 7 of them)."""
    raw: bytes = event.short_message
    if event.data_coding == UCS2:
        return len(raw) > 140
    header = raw[0] + 1 if event.esm_class & 0x40 else 0
    return len(raw) - header + (7 if header else 0) > 160


def gsm_decode(raw: bytes) -> str:
    """Septets (one an octet, as SMPP carries them) as text."""
    out, escaped = [], False
    for code in raw:
        if escaped:
            out.append(GSM_ESCAPED[code])
            escaped = False
        elif code == 0x1B:
            escaped = True
        else:
            out.append(GSM_SPECIAL.get(code, chr(code)))
    assert not escaped, "a part ends inside an escape"
    return "".join(out)


def free_port() -> int:
    """A loopback port nothing listens on now (for a server to take at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port held, never listened on: a connection to it is refused for as long as
    the block lasts (no other process can take it meanwhile)."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@dataclass
class Text:
    """A text as the SMSC took it: its parts joined and decoded (each part decodes alone:
    none is cut inside a character)."""

    source: str
    destination: str
    body: str
    parts: int
    source_ton: int = 0
    source_npi: int = 0
    dest_ton: int = 0
    dest_npi: int = 0


@dataclass
class Smsc:
    """What the SMSC took, and how it answers the next submits (`refuse`: a command_status
    for each of the next submits, each part of a long text one, 0 to accept; `refuse_to`: a
    command_status for every submit to a number)."""

    port: int
    texts: list[Text] = field(default_factory=list)
    refuse: list[int] = field(default_factory=list)
    refuse_to: dict[str, int] = field(default_factory=dict)
    garbled: list[str] = field(default_factory=list)  # parts that did not decode alone
    silent: bool = False  # take submits and never answer them
    # Each part taken: (its message id, its destination), for the receipts pushed to a
    # receiver that binds; parts to a number in `undelivered` get stat:UNDELIV.
    taken: list[tuple[str, str]] = field(default_factory=list)
    undelivered: set[str] = field(default_factory=set)
    receipted: set[str] = field(default_factory=set)
    refused_receipts: int = 0
    receipts_as_tlv: bool = False
    replies: list[tuple[str, str]] = field(default_factory=list)  # (from, text) to push
    reply_ton: int = 1  # the type of number the replies' source is given with
    reply_national: str | None = None  # a country code to leave out of the replies' source
    replies_taken: int = 0  # acknowledged by the session they were pushed to
    submits: int = 0
    _parts: dict[tuple[str, int], list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def counted(self, name: str, expected: int, within: float = 10.0) -> int:
        """A count of the SMSC's (`replies_taken`, `refused_receipts`) once it reached
        `expected` or `within` seconds passed: the SMSC counts a reply or a receipt when the
        reader's answer to it arrives, which may be after the reader is done."""
        deadline = time.monotonic() + within
        while getattr(self, name) < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        value: int = getattr(self, name)
        return value

    def take(self, event: Any) -> None:
        """Answer one submit_sm, keeping the text once all its parts came."""
        with self._lock:
            self.submits += 1
            if self.silent:
                return
            status = self.refuse.pop(0) if self.refuse else 0
            if _too_long(event):
                status = 0x01  # ESME_RINVMSGLEN
            status = self.refuse_to.get(event.destination_addr, status)
            if status:
                event.reject(status)
                return
            event.accept(message_id=f"m{self.submits}")
            if event.registered_delivery & 0x01:  # a final receipt asked for
                self.taken.append((f"m{self.submits}", event.destination_addr))
            try:
                self._keep(event)
            except (UnicodeDecodeError, KeyError, AssertionError) as error:  # a part garbled
                self.garbled.append(repr(error))

    async def push_receipts(self, esme: Any) -> None:
        """Send a session that can receive the receipt of every part taken and not receipted
        yet (as a text, or as parameters alone with `receipts_as_tlv`), after any borrower's
        reply queued; a receipt answered with an error stays to be sent again."""
        left: list[tuple[str, str]] = []
        for source, text in self.replies:  # a borrower's reply (esm_class 0): no receipt
            coding, esm_class, parts = handset_parts(text, 0x5A5A)
            for part in parts:
                try:
                    answer = await esme.deliver_sm(
                        destination_addr="10690000", short_message=part,
                        source_addr=self.reply_source(source), source_addr_ton=self.reply_ton,
                        esm_class=esm_class, data_coding=coding,
                    )  # fmt: skip
                    taken = answer.is_success
                except smpp34.SmppError:
                    taken = False
                self.replies_taken += int(taken)
                if not taken:
                    left.append((source, text))  # kept for another session, as an SMSC does
                    break
        self.replies[:] = left
        waiting = [m for m in self.taken if m[0] not in self.receipted]
        for message_id, destination in waiting:
            stat = "UNDELIV" if destination in self.undelivered else "DELIVRD"
            text = (f"id:{message_id} sub:001 dlvrd:{int(stat == 'DELIVRD'):03d} submit date:"
                    f"2509301000 done date:2509301001 stat:{stat} err:000 text:")  # fmt: skip
            tlvs = [smpp34.Tlv(0x001E, message_id.encode() + b"\x00"),
                    smpp34.Tlv(0x0427, bytes([2 if stat == "DELIVRD" else 5]))]  # fmt: skip
            try:
                answer = await esme.deliver_sm(
                    destination_addr="10690000", source_addr=destination, esm_class=0x04,
                    short_message=b"" if self.receipts_as_tlv else text.encode(),
                    tlvs=tlvs if self.receipts_as_tlv else [],
                )  # fmt: skip
                taken = answer.is_success
            except smpp34.SmppError:
                taken = False
            if not taken:
                self.refused_receipts += 1  # the reader said "try later": sent again next time
                continue
            self.receipted.add(message_id)

    def reply_source(self, number: str) -> str:
        """A reply's source as the SMSC gives it: the E.164 digits, or the national number."""
        digits = number.lstrip("+")
        if self.reply_national and digits.startswith(self.reply_national):
            return digits[len(self.reply_national) :]
        return digits

    def _keep(self, event: Any) -> None:
        raw: bytes = event.short_message
        decode = (lambda b: b.decode("utf-16-be")) if event.data_coding == UCS2 else gsm_decode
        source = (event.source_addr, event.destination_addr)
        addressing = (event.source_addr_ton, event.source_addr_npi, event.dest_addr_ton,
                      event.dest_addr_npi)  # fmt: skip
        if event.esm_class & 0x40:  # a concatenation header: 05 00 03 ref total seq
            ref, total, seq = raw[3], raw[4], raw[5]
            key = (event.destination_addr, ref)
            parts = self._parts.setdefault(key, [""] * total)
            parts[seq - 1] = decode(raw[6:])
            if all(parts):
                self.texts.append(Text(*source, "".join(parts), total, *addressing))
                del self._parts[key]
            return
        self.texts.append(Text(*source, decode(raw), 1, *addressing))


def handset_parts(text: str, reference: int) -> tuple[int, int, list[bytes]]:
    """A reply as a handset codes it, written apart from arrears' own coder: (data_coding,
    esm_class, parts). GSM 7-bit, a septet an octet, for text of ASCII letters, digits, and
    the punctuation both alphabets share (and @ $ _), else UCS-2; a long one in parts with a
    16-bit reference (IEI 0x08: 7 header octets, so 133 octets of text a part)."""
    septets = {v: k for k, v in GSM_SPECIAL.items() if v in "@$_"}
    plain = set(" !\"#%&'()*+,-./:;<=>?") | set(string.ascii_letters + string.digits)
    if all(c in plain or c in septets for c in text):
        coding, units = 0, [bytes([septets.get(c, ord(c))]) for c in text]
    else:
        coding = UCS2
        units = [text[i : i + 1].encode("utf-16-be") for i in range(len(text))]
    whole = b"".join(units)
    if len(whole) <= 140:
        return coding, 0, [whole]
    chunks, current = [], b""
    for unit in units:
        if len(current) + len(unit) > 132:
            chunks.append(current)
            current = b""
        current += unit
    chunks.append(current)
    total = len(chunks)
    return coding, 0x40, [bytes([6, 8, 4, reference >> 8, reference & 0xFF, total, seq]) + chunk
                          for seq, chunk in enumerate(chunks, start=1)]  # fmt: skip


@contextmanager
def running_smsc() -> Iterator[Smsc]:
    """An SMSC on a free port, accepting every bind; stopped after."""
    smsc = Smsc(free_port())
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        server = smpp34.Server(host="127.0.0.1", port=smsc.port, system_id="TestSMSC")
        await server.start()
        ready.set()
        waiting = asyncio.ensure_future(stop.wait())
        while not stop.is_set():
            event = asyncio.ensure_future(server.next())
            done, _ = await asyncio.wait({event, waiting}, return_when=asyncio.FIRST_COMPLETED)
            if event not in done:
                event.cancel()
                continue
            happened = event.result()
            if isinstance(happened, smpp34.SubmitSmEvent):
                smsc.take(happened)
            elif isinstance(happened, smpp34.Esme) and happened.can_receive:
                await smsc.push_receipts(happened)
        await server.stop()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10), "the SMSC did not start"
    try:
        yield smsc
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


class Mailbox:
    """aiosmtpd's handler: every message taken, parsed; senders and recipients refused as
    set, or the line hung up once a message is in."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}  # address -> the answer to its RCPT TO
        self.refuse_sender: str | None = None  # the answer to every MAIL FROM
        self.refuse_message: str | None = None  # the answer to every message, not kept
        self.hang_up_after_data = False  # keep the message, then close with no answer
        self.raw: list[bytes] = []  # each message as it came over the wire

    async def handle_MAIL(  # noqa: N802
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.refuse_sender:
            return self.refuse_sender
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook names)
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,
        options: Any,
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self,
        server: Any,
        session: Any,
        envelope: Any,
    ) -> str:
        if self.refuse_message:
            return self.refuse_message
        self.raw.append(envelope.original_content)
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append(parsed)
        if self.hang_up_after_data:
            server.transport.close()
        return "250 Message accepted for delivery"


@contextmanager
def running_smtp() -> Iterator[tuple[int, Mailbox]]:
    """An SMTP server on a free port; its port and mailbox; stopped after."""
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()
