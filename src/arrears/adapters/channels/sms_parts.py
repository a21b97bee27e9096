"""A text as SMPP short messages: the GSM 7-bit default alphabet when it has every character,
else UCS-2; a long text in concatenated parts, each cut on a character's boundary."""

import unicodedata
from dataclasses import dataclass

# GSM 03.38 (3GPP TS 23.038, 6.2.1): the default alphabet, by code, and its extension table
# (each written as ESC then the code). SMPP sends a septet an octet (data_coding 0).
GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = {"\f": 0x0A, "^": 0x14, "{": 0x28, "}": 0x29, "\\": 0x2F, "[": 0x3C,
                 "~": 0x3D, "]": 0x3E, "|": 0x40, "€": 0x65}  # fmt: skip
ESC = 0x1B
_GSM = {char: bytes([code]) for code, char in enumerate(GSM_BASIC) if code != ESC}
_GSM.update({char: bytes([ESC, code]) for char, code in GSM_EXTENSION.items()})
GSM_CODING, UCS2_CODING = 0x00, 0x08
UDHI = 0x40  # esm_class: the message begins with a user data header
# 140 octets a message (GSM 03.40): 160 septets or 70 UCS-2 units alone; with the 6-octet
# concatenation header, 153 septets or 67 units a part.
SINGLE = {GSM_CODING: 160, UCS2_CODING: 140}
PART = {GSM_CODING: 153, UCS2_CODING: 134}


@dataclass(frozen=True)
class ShortMessages:
    """A text's submit_sm payloads: their data_coding, esm_class and octets."""

    coding: int
    esm_class: int
    parts: tuple[bytes, ...]


def short_messages(text: str, reference: int) -> ShortMessages:
    """The text's parts; `reference` (0-255) ties the parts of one text together."""
    coding = GSM_CODING if all(c in _GSM for c in text) else UCS2_CODING
    units = [_GSM[c] for c in text] if coding == GSM_CODING else [
        c.encode("utf-16-be") for c in text]  # a character outside the BMP is one pair  # fmt: skip
    whole = b"".join(units)
    if len(whole) <= SINGLE[coding]:
        return ShortMessages(coding, 0, (whole,))
    chunks: list[bytes] = []
    current = b""
    for unit in units:  # never cut an escape sequence or a surrogate pair
        if len(current) + len(unit) > PART[coding]:
            chunks.append(current)
            current = b""
        current += unit
    chunks.append(current)
    if len(chunks) > 255:
        raise ValueError(f"a text of {len(chunks)} parts: at most 255 can be joined")
    header = bytes([0x05, 0x00, 0x03, reference & 0xFF, len(chunks)])
    parts = tuple(header + bytes([seq]) + chunk for seq, chunk in enumerate(chunks, start=1))
    return ShortMessages(coding, UDHI, parts)


LATIN1_CODING, IA5_CODING = 0x03, 0x01
_GSM_BY_CODE = dict(enumerate(GSM_BASIC))
_GSM_EXTENDED = {code: char for char, code in GSM_EXTENSION.items()}


def read_short_message(raw: bytes, coding: int, esm_class: int) -> str:
    """A short message's text (a borrower's reply): its user data header, when esm_class
    says it has one, left out; UCS-2, Latin-1, IA5 or the GSM default alphabet a septet an
    octet, by its data_coding (another coding read as the GSM alphabet, an SMSC's default).
    A control character (a NUL an SMSC counted in, an escape sequence) reads as U+FFFD: it
    is no part of what the borrower wrote, and no database or terminal takes it as text."""
    if esm_class & UDHI and raw:
        raw = raw[1 + raw[0] :]  # its first octet is the header's length
    if coding == UCS2_CODING:
        text = raw[: len(raw) - len(raw) % 2].decode("utf-16-be", errors="replace")
    elif coding == LATIN1_CODING:
        text = raw.decode("latin-1")
    elif coding == IA5_CODING:
        text = raw.decode("ascii", errors="replace")
    else:
        text = _gsm_text(raw)
    return "".join("\ufffd" if _control(ch) else ch for ch in text)


def concatenation(raw: bytes, esm_class: int) -> tuple[int, int, int] | None:
    """A part's (reference, total, seq) from its user data header's concatenation element
    (IEI 0x00, an 8-bit reference, or 0x08, a 16-bit one; GSM 03.40 9.2.3.24.1 and .8);
    None when it has none (a whole message)."""
    if not esm_class & UDHI or not raw:
        return None
    header = raw[1 : 1 + raw[0]]
    at = 0
    while at + 2 <= len(header):
        iei, length = header[at], header[at + 1]
        data = header[at + 2 : at + 2 + length]
        if iei == 0x00 and length == 3 and len(data) == 3 and 1 <= data[2] <= data[1]:
            return data[0], data[1], data[2]
        if iei == 0x08 and length == 4 and len(data) == 4 and 1 <= data[3] <= data[2]:
            return data[0] << 8 | data[1], data[2], data[3]
        at += 2 + length
    return None


def _gsm_text(raw: bytes) -> str:
    """Octets of the GSM default alphabet, a septet each, as text."""
    chars: list[str] = []
    escaped = False
    for octet in raw:
        if escaped:
            chars.append(_GSM_EXTENDED.get(octet, " "))  # an unknown escape reads as a space
            escaped = False
        elif octet == ESC:
            escaped = True
        else:
            chars.append(_GSM_BY_CODE.get(octet, "?"))
    return "".join(chars)


def _control(ch: str) -> bool:
    """A control character other than a line's end or a tab (Unicode category Cc)."""
    return ch not in "\n\r\t" and unicodedata.category(ch) == "Cc"
