"""What a contact rule found, worded by one template each (a Detail): the checks say their
details with it (contact_rules.py, compliance.py), and a page reads a detail stored back into
its words (`detail_words`) to show it in the reader's language, as it does a stage's reason
(entry_rules.reason_words). The API and the stores keep the English text."""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from string import Formatter
from typing import Literal

from arrears.domain.errors import Clauses, Term, Terms, Words

Value = str | Words | Term | Terms | Clauses
_NAME = "[a-z_]+"  # a channel, an outcome, a hold's kind


@dataclass(frozen=True)
class Part:
    """How a value of a form reads back: what its text may look like (a regular expression
    without groups of its own), and its words from that text (None: not of its form)."""

    pattern: str
    read: Callable[[str], Value | None]


def _as_is_text(text: str) -> str:
    """A value shown as it is (a day, a number, a time zone's name)."""
    return text


_AS_IS = Part(".*?", _as_is_text)
# Values whose form is known, so that a text around them reads back one way only (a contact
# id "x refused on y" is not a refusal on "y ..."): by their names in every template.
_INSTANT = Part(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[+-]\d{2}:\d{2}|Z)?", _as_is_text)
_DAY = Part(r"\d{4}-\d{2}-\d{2}", _as_is_text)
_COUNT = Part(r"\d+", _as_is_text)
_CLOCK = Part(r"\d{2}:\d{2}", _as_is_text)
_BY_NAME = {"at": _INSTANT, "day": _DAY, "first": _DAY, "limit": _COUNT, "done": _COUNT,
            "days": _COUNT, "n": _COUNT, "theirs": _COUNT}  # fmt: skip


@dataclass(frozen=True)
class Detail:
    """A detail's English template ({name} placeholders) and how each value reads back (a
    value not named in `parts` is read by its name's form, _BY_NAME, else shown as it is)."""

    template: str
    parts: Mapping[str, Part] = field(default_factory=dict)

    def say(self, **values: object) -> str:
        """The detail in English."""
        return self.template.format(**{name: str(value) for name, value in values.items()})

    def read(self, text: str) -> Words | None:
        """The detail's words, or None when `text` is not of this form."""
        found = self._whole().fullmatch(text)
        if found is None:
            return None
        values: dict[str, Value] = {}
        for name, said in found.groupdict().items():
            value = self._part(name).read(said)
            if value is None:
                return None
            values[name] = value
        return Words(self.template, values)

    def _part(self, name: str) -> Part:
        """How the value `name` reads back."""
        return self.parts.get(name) or _BY_NAME.get(name, _AS_IS)

    def bare(self) -> str:
        """What the form says as a regular expression without groups (as a part of another)."""
        return self._pattern(named=False)

    def _whole(self) -> re.Pattern[str]:
        """What the form says, each value a named group."""
        cached = _WHOLE.get(self.template)
        if cached is None:
            cached = _WHOLE[self.template] = re.compile(self._pattern(named=True), re.DOTALL)
        return cached

    def _pattern(self, named: bool) -> str:
        """The template as a regular expression: its words as they are, its values as their
        parts allow."""
        out = []
        for literal, name, _spec, _conversion in Formatter().parse(self.template):
            out.append(re.escape(literal))
            if name is not None:
                allowed = self._part(name).pattern
                out.append(f"(?P<{name}>{allowed})" if named else f"(?:{allowed})")
        return "".join(out)


_WHOLE: dict[str, re.Pattern[str]] = {}


def _either(*forms: Detail) -> Part:
    """One of the forms, the first that reads it."""

    def read(text: str) -> Value | None:
        return next((w for form in forms if (w := form.read(text)) is not None), None)

    return Part("|".join(f"(?:{form.bare()})" for form in forms), read)


def _form_or_as_is(*forms: Detail) -> Part:
    """The first of the forms that reads it, else a value shown as it is."""
    return Part(".*?", lambda text: next(filter(None, (f.read(text) for f in forms)), text))


def _form_or(form: Detail, part: Part) -> Part:
    """The form (a fixed word: "none", "open"), or the part."""
    return Part(f"(?:{form.bare()})|(?:{part.pattern})",
                lambda text: form.read(text) or part.read(text))  # fmt: skip


def _optional(form: Detail) -> Part:
    """Nothing, or the form."""
    return Part(f"(?:{form.bare()})?", lambda text: "" if text == "" else form.read(text))


def _term(prefix: str) -> Part:
    """A word of the domain, named in the catalogue under `prefix` (channel:sms)."""
    return Part(_NAME, lambda text: Term(f"{prefix}{text}", text))


def _terms(prefix: str, separator: str) -> Part:
    """Words of the domain joined by `separator` (connected/inbound)."""
    joined: Literal["or", "and"] = "or" if separator == "/" else "and"
    return Part(
        f"{_NAME}(?:{re.escape(separator)}{_NAME})*",
        lambda text: Terms.of(prefix, text.split(separator), joined, separator),
    )


def _listed(form: Detail, separator: Literal["; ", ", "]) -> Part:
    """One or more details of the form, joined by `separator`."""
    one = form.bare()

    def read(text: str) -> Clauses | None:
        said = [form.read(piece) for piece in text.split(separator)]
        words = [w for w in said if w is not None]
        return Clauses(tuple(words), separator) if len(words) == len(said) else None

    return Part(f"(?:{one})(?:{re.escape(separator)}(?:{one}))*", read)


def _repeated(form: Detail) -> Part:
    """None, one or more details of the form, one right after another."""
    one = re.compile(form.bare())

    def read(text: str) -> Value | None:
        pieces = [found.group(0) for found in one.finditer(text)]
        said = [form.read(piece) for piece in pieces]
        words = [w for w in said if w is not None]
        if "".join(pieces) != text or len(words) != len(said):
            return None
        return Clauses(tuple(words), "") if words else ""

    return Part(f"(?:{form.bare()})*", read)


# ── The quiet hours (a time of day in the borrower's zones) ─────────────────────────────
# Several zones: the number's, or a recorded zone and the number's (the us pack's); a detail
# stored before said "of the number" whichever it was.
SEVERAL_ZONES = Detail("{n} time zones the person may be in")
ZONES_OF_NUMBER = Detail("{n} time zones of the number")
ZONE_TIME = Detail("{time} in {zone}", {"time": _CLOCK})
MORE_ZONES = Detail(" and {n} more")
QUIET_HOURS = Detail(
    "no contact {start}-{end} local time ({where}); {status}: {times}{more}",
    {"start": _CLOCK, "end": _CLOCK, "where": _form_or_as_is(SEVERAL_ZONES, ZONES_OF_NUMBER),
     "status": _term("contact-time:"),
     "times": _listed(ZONE_TIME, ", "), "more": _optional(MORE_ZONES)},
)  # fmt: skip
NO_TIME_OF_DAY = Detail("no time of {day} is lawful under every pack of the borrower's loans")
# The night's words for a contact with no lawful time at all (batch/plan_windows.closed).
NO_TIME_IN_ZONES = Detail("no lawful time today in every zone")
NO_TIME_UNDER_PACKS = Detail("no time today is lawful under every pack of the borrower's loans")

# ── Counts of a day or of days ──────────────────────────────────────────────────────────
CONVERSATIONS = Detail(
    "at most {limit} {outcomes} calls with the borrower per local day; {done} already on {day} "
    "({zone})",
    {"outcomes": _terms("outcome:", "/")},
)
THE_NUMBER = Detail("the number")
OTHER_BORROWERS = Detail(" ({theirs} for other borrowers of the number)")
DIALS = Detail(
    "at most {limit} attempts per number per local day; {done} already to {number}{others} on "
    "{day} ({zone})",
    {"number": _form_or_as_is(THE_NUMBER), "others": _optional(OTHER_BORROWERS)},
)
IN_DAYS = Detail(
    "at most {limit} attempts in {days} consecutive local days; {done} already {first}..{day} "
    "({zone})"
)
NONE = Detail("none")
LAST_ON = Detail("last on {at}")
AFTER_CONVERSATION = Detail(
    "no call within {days} days of a conversation ({first}..{day}); {found}",
    {"found": _either(LAST_ON, NONE)},
)

# ── Third parties and the borrower's own number ─────────────────────────────────────────
NOT_A_THIRD_PARTY = Detail("contacts the borrower, not a third party")
_TRIES = {"outcomes": _terms("outcome:", "/"), "last_outcomes": _terms("outcome:", "/"),
          "seen": _form_or(NONE, _terms("outcome:", ", "))}  # fmt: skip
UNREACHABLE = Detail(
    "a registered contact only when the borrower's last {limit} attempts all failed "
    "({outcomes}) or the last was {last_outcomes}; last attempts: {seen}",
    _TRIES,
)
# UNREACHABLE's words, and that the borrower was reached after all.
REACHED_SINCE = Detail(
    "a registered contact only when the borrower's last {limit} attempts all failed "
    "({outcomes}) or the last was {last_outcomes}; last attempts: {seen}; but reached since: "
    "{outcome} {channel}",
    {**_TRIES, "outcome": _term("outcome:"), "channel": _term("channel:")},
)
THROUGH = Detail(" (as contact {contact}, on the same number)")
REFUSED_ON = Detail("refused on {at}{through}", {"through": _optional(THROUGH)})
NOT_REFUSED = Detail("has not refused")
REFUSED = Detail(
    "never again after the contact refused; contact {contact} {found}",
    {"found": _either(REFUSED_ON, NOT_REFUSED)},
)
ONCE = Detail(
    "a third party at most {limit} time(s), to locate the borrower; {n} so far{through}",
    {"through": _repeated(THROUGH)},
)
NOT_ON_RECORD = Detail(
    "{number} is neither the borrower's number on record ({own}) nor a registered contact's "
    "(no phone books: record the borrower's new number first)"
)
OWN_NUMBER = Detail("contacts the borrower on their own number, not a third party")
NOT_REGISTERED = Detail("{contact} is not a contact the borrower registered (no phone books)")
NOT_THEIR_NUMBER = Detail("{number} is not the number registered for contact {contact}")
REGISTERED = Detail("{contact} is a contact the borrower registered")

# ── Holds and opt-outs ──────────────────────────────────────────────────────────────────
OPEN = Detail("open")
HOLD = Detail(
    "{kind} hold {start}..{end}",
    {"kind": _term("hold:"), "start": _DAY, "end": _form_or(OPEN, _DAY)},
)
HELD = Detail("collection paused: {holds}", {"holds": _listed(HOLD, "; ")})
NOT_HELD = Detail("no {kinds} hold on {day}", {"kinds": _terms("hold:", "/")})
OPTED_OUT = Detail("the borrower opted out of {channel} on {at}", {"channel": _term("channel:")})
NOT_OPTED_OUT = Detail("no opt-out of {channel}", {"channel": _term("channel:")})

# ── A call the person made, and an attempt recorded late ────────────────────────────────
NOT_JUDGED = Detail(
    "a call the person made to the collector (inbound): no contact placed, not judged; a "
    "conversation from then on"
)
THE_ATTEMPT = Detail("the {channel} of {at}", {"channel": _term("channel:")})
SHARED_ATTEMPT = Detail(
    "another borrower's {channel} of {at} to the number", {"channel": _term("channel:")}
)


def detail_words(detail: str) -> Words | None:
    """A rule's detail as a check said it, read back into its words; None for a text not
    worded so (one stored by an older release, or a pack's own: shown as it is)."""
    for form in FORMS:
        found = form.read(detail)
        if found is not None:
            return found
    return None


FLAGGED = Detail(
    "{what} on record after this one: {detail}",
    {"what": _either(THE_ATTEMPT, SHARED_ATTEMPT), "detail": Part(".*", detail_words)},
)
# Every form a whole detail may take, the more particular first (a reached-since detail
# before the unreachable one it extends).
FORMS = (
    FLAGGED, QUIET_HOURS, NO_TIME_OF_DAY, NO_TIME_IN_ZONES, NO_TIME_UNDER_PACKS, CONVERSATIONS,
    DIALS, IN_DAYS, AFTER_CONVERSATION, NOT_A_THIRD_PARTY, REACHED_SINCE, UNREACHABLE, REFUSED,
    ONCE, NOT_ON_RECORD, OWN_NUMBER, NOT_REGISTERED, NOT_THEIR_NUMBER, REGISTERED, HELD,
    NOT_HELD, OPTED_OUT, NOT_OPTED_OUT, NOT_JUDGED,
)  # fmt: skip
