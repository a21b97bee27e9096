"""Real servers for the channels' tests: an SMSC (smpp34's SMPP server) and an SMTP server
(aiosmtpd), each on a free loopback port in a thread of its own, keeping what they took."""

import asyncio
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import smpp34
from aiosmtpd.controller import Controller

UCS2 = 0x08


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Text:
    """A text as the SMSC took it: its parts joined and decoded."""

    source: str
    destination: str
    body: str
    parts: int


@dataclass
class Smsc:
    """What the SMSC took, and how it answers the next submits (`refuse`: a command_status
    for each of the next submits, each part of a long text one, 0 to accept; `refuse_to`: a
    command_status for every submit to a number)."""

    port: int
    texts: list[Text] = field(default_factory=list)
    refuse: list[int] = field(default_factory=list)
    refuse_to: dict[str, int] = field(default_factory=dict)
    submits: int = 0
    _parts: dict[tuple[str, int], list[bytes]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, event: Any) -> None:
        """Answer one submit_sm, keeping the text once all its parts came."""
        with self._lock:
            self.submits += 1
            status = self.refuse.pop(0) if self.refuse else 0
            status = self.refuse_to.get(event.destination_addr, status)
            if status:
                event.reject(status)
                return
            event.accept(message_id=f"m{self.submits}")
            self._keep(event)

    def _keep(self, event: Any) -> None:
        raw: bytes = event.short_message
        coding = "utf-16-be" if event.data_coding == UCS2 else "ascii"
        if event.esm_class & 0x40:  # a concatenation header: 05 00 03 ref total seq
            ref, total, seq = raw[3], raw[4], raw[5]
            key = (event.destination_addr, ref)
            parts = self._parts.setdefault(key, [b""] * total)
            parts[seq - 1] = raw[6:]
            if all(parts):
                body = b"".join(parts).decode(coding)
                self.texts.append(Text(event.source_addr, event.destination_addr, body, total))
                del self._parts[key]
            return
        self.texts.append(Text(event.source_addr, event.destination_addr, raw.decode(coding), 1))


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
            if event in done and isinstance(event.result(), smpp34.SubmitSmEvent):
                smsc.take(event.result())
            elif event not in done:
                event.cancel()
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


class _Mailbox:
    """aiosmtpd's handler: every message taken, parsed; recipients refused by `refuse`."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.refuse: dict[str, str] = {}  # address -> the answer to its RCPT TO

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
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.mails.append(parsed)
        return "250 Message accepted for delivery"


@contextmanager
def running_smtp() -> Iterator[tuple[int, _Mailbox]]:
    """An SMTP server on a free port; its port and mailbox; stopped after."""
    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox
    finally:
        controller.stop()
