"""Borrowers' replies to texts: which ask to stop texts outright (one of a pack's opt-out
words alone, or one of its words that ask it wherever they stand), which mention an opt-out
word among others (a person reads them first), and which are for a person to read."""

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from arrears.domain.calendar import BusinessCalendar
from arrears.domain.errors import DomainError

OPTED_OUT, TO_READ, READ = "opted_out", "to_read", "read"
REPLY_STATES = (OPTED_OUT, TO_READ, READ)
# Apostrophes: ASCII, the typographic ones phones type (U+2018, U+2019), the modifier letter.
_APOSTROPHES = frozenset("'\u2018\u2019\u02bc")


@dataclass(frozen=True)
class ReplyPart:
    """Where a part of a long reply stands: its reply's reference, how many parts it has,
    and which this is (from 1; GSM 03.40 9.2.3.24.1)."""

    reference: int
    total: int
    seq: int


@dataclass(frozen=True)
class Reply:
    """A text a borrower sent to the lender's number: from which number (E.164 when it can
    be read so, else as the SMSC gave it), what it says, and, a part of a long reply, which
    part it is."""

    number: str
    text: str
    part: ReplyPart | None = None


@dataclass(frozen=True)
class ReplyRule:
    """A pack's words that ask for no more texts: sent alone (`words`), or wherever they
    stand in a reply (`anywhere`, whole words; a Chinese one anywhere at all)."""

    rule_id: str
    words: tuple[str, ...]
    source: str
    verified: bool
    jurisdiction: str = ""
    anywhere: tuple[str, ...] = ()
    # The business days a request to stop made in other words is honoured within (None: the
    # pack sets none), counted from the day after it came in `zone`.
    honour_days: int | None = None
    zone: str = "UTC"

    def __post_init__(self) -> None:
        if self.honour_days is not None and not 1 <= self.honour_days <= 60:
            raise DomainError(
                f"{self.rule_id}: honour_within_business_days must be between 1 and 60"
            )
        if not self.words:
            raise DomainError(f"{self.rule_id}: opt_out needs at least one word")
        for word in (*self.words, *self.anywhere):
            if not squeezed(word):
                raise DomainError(f"{self.rule_id}: opt_out word {word!r} has no letter")


@dataclass(frozen=True)
class ReplyReading:
    """What a reply asks: to stop texts (`state` opted_out, by `rule_id`), or to be read by a
    person (`to_read`), `word` naming an opt-out word it mentions among others."""

    state: str
    rule_id: str | None = None
    word: str | None = None


@dataclass(frozen=True)
class StoredReply:
    """A reply as kept: when it came, from whom, what it said and what became of it."""

    reply_id: int
    received_at: datetime
    number: str
    text: str
    borrower_ids: tuple[str, ...]
    state: str
    rule_id: str | None
    word: str | None
    read_by: str | None = None


def read_reply(text: str, rules: Iterable[ReplyRule], whole: bool = True) -> ReplyReading:
    """How a reply reads under the rules, the first rule naming a word reading it: one of
    their words and nothing else (case, width, spaces and punctuation aside: "Stop.",
    "ＴＤ", "opt-out"), or one of their `anywhere` words wherever it stands ("please stop
    texting me"), asks to stop; any other reply goes to a person, with the opt-out word it
    mentions, if any, named. A reply not `whole` (a long one missing a part) goes to a
    person whatever it says."""
    rules = tuple(rules)
    alone = squeezed(text)
    tokens = _tokens(text)
    if whole:
        for rule in rules:
            for word in (*rule.words, *rule.anywhere):
                if alone == squeezed(word):
                    return ReplyReading(OPTED_OUT, rule.rule_id, word)
        for rule in rules:
            for word in rule.anywhere:
                if _mentions(alone, tokens, word):
                    return ReplyReading(OPTED_OUT, rule.rule_id, word)
    for rule in rules:
        for word in (*rule.anywhere, *rule.words):
            if _mentions(alone, tokens, word):
                return ReplyReading(TO_READ, None, word)
    return ReplyReading(TO_READ)


def honour_by(came: date, days: int, calendar: BusinessCalendar) -> date:
    """The last day a request to stop that came on `came` is honoured by: the `days`-th
    business day after it (47 CFR 64.1200(a)(11): "not to exceed ten business days")."""
    day, counted = came, 0
    while counted < days:
        day += timedelta(days=1)
        counted += calendar.is_business_day(day)
    return day


def squeezed(text: str) -> str:
    """The text's letters and digits alone, case- and width-folded (NFKC)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def _tokens(text: str) -> tuple[str, ...]:
    """The text's words: runs of letters and digits, with apostrophes inside ("can't" and
    "can’t" are one word each)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # A Chinese character parts words as a space does ("不要再发了stop"): Chinese words are
    # found in the squeezed text instead.
    spaced = "".join(ch if (ch.isalnum() and not _unspaced(ch)) or ch in _APOSTROPHES else " "
                     for ch in folded)  # fmt: skip
    apostrophes = "".join(_APOSTROPHES)
    # An apostrophe inside a word keeps it whole; at its ends it is a quotation mark ('stop').
    return tuple(w for w in (t.strip(apostrophes) for t in spaced.split()) if w)


def _mentions(whole: str, tokens: tuple[str, ...], word: str) -> bool:
    """Whether the reply holds the word: a word of a script written without spaces (Chinese)
    anywhere, any other as whole words in a row ("end" is not in "spend")."""
    if any(_unspaced(ch) for ch in word):
        return squeezed(word) in whole
    wanted = _tokens(word)
    width = len(wanted)
    return any(tokens[i : i + width] == wanted for i in range(len(tokens) - width + 1))


def _unspaced(ch: str) -> bool:
    """A character of a script written without spaces between words (CJK, kana, Thai)."""
    name = unicodedata.name(ch, "")
    return name.startswith(("CJK", "HIRAGANA", "KATAKANA", "THAI"))
