"""Message templates of the outbox's texts and e-mails, and a message rendered from one."""

from collections.abc import Iterable
from dataclasses import dataclass
from string import Formatter

from arrears.domain.content_lint import ContentPack, lint, missing
from arrears.domain.errors import DomainError

# What a template may name, each filled from the loan's state at the last run and the
# lender's settings: a placeholder outside this set is refused when the templates load.
PLACEHOLDERS = frozenset({
    "name",  # the borrower's name as on record
    "loan_id",
    "as_of",  # the day of the run the figures are of (截至 …)
    "dpd",  # days past due
    "overdue",  # what is past due: principal, interest, penalty and fees
    "outstanding",  # the principal outstanding
    "currency",
    "lender",  # the lender's name ([channels] lender)
    "service_phone",  # where the borrower reaches the lender ([channels] service_phone)
})  # fmt: skip
MESSAGE_CHANNELS = ("sms", "email")
# A text of more parts than this is costly and is cut by some handsets: 6 UCS-2 parts of 67
# UTF-16 units (the SMS standard's 140 octets less the concatenation header, GSM 03.40).
SMS_MOST = 6 * 67
SUBJECT_MOST = 200


class TemplateError(DomainError):
    """A message template that cannot be used: unknown placeholder, wrong channel, too long."""


@dataclass(frozen=True)
class MessageTemplate:
    """The text a treatment's template id sends on one channel (an e-mail has a subject)."""

    template_id: str
    channel: str
    body: str
    subject: str = ""

    def __post_init__(self) -> None:
        where = f"template {self.template_id!r}"
        if self.channel not in MESSAGE_CHANNELS:
            raise TemplateError(
                f"{where}: channel {self.channel!r} is not one a message is sent on "
                f"({', '.join(MESSAGE_CHANNELS)})"
            )
        if not self.body.strip():
            raise TemplateError(f"{where}: the body is empty")
        if self.channel == "email" and not self.subject.strip():
            raise TemplateError(f"{where}: an e-mail needs a subject")
        if self.channel == "sms" and self.subject:
            raise TemplateError(f"{where}: a text message has no subject")
        if len(self.subject) > SUBJECT_MOST or breaks_line(self.subject):
            raise TemplateError(f"{where}: a subject is one line of at most {SUBJECT_MOST}")
        for part in (self.subject, self.body):
            _check_fields(where, part)
        fixed = "".join(literal for literal, _, _, _ in Formatter().parse(self.body))
        if self.channel == "sms" and sms_length(fixed) > SMS_MOST:
            raise TemplateError(
                f"{where}: the text is {sms_length(fixed)} long before it is filled in, more "
                f"than {SMS_MOST} (six parts)"
            )

    @property
    def texts(self) -> str:
        """Everything the template says, for the content lint (subject and body)."""
        return f"{self.subject}\n{self.body}" if self.subject else self.body


@dataclass(frozen=True)
class KnownMessage:
    """A template's text and the jurisdiction whose content rules it was checked under."""

    jurisdiction: str
    template: MessageTemplate


@dataclass(frozen=True)
class Message:
    """A message as it will be sent: its channel, subject (e-mail) and body."""

    channel: str
    body: str
    subject: str = ""

    @property
    def texts(self) -> str:
        """Everything the message says, for the content lint (subject and body)."""
        return f"{self.subject}\n{self.body}" if self.subject else self.body


def breaks_line(text: str) -> bool:
    """Whether `text` breaks a line anywhere: at any of the breaks `str.splitlines` knows
    (U+2028, a form feed, \\x85 too), as an e-mail header refuses them all (helper-117: a
    name holding U+2028 failed the send after the contact was logged)."""
    return text.splitlines() not in ([], [text])


def render(template: MessageTemplate, facts: dict[str, str]) -> Message:
    """The template with its placeholders filled from `facts`; an SMS longer than SMS_MOST
    characters once filled is refused (a borrower's long name or a large amount can make
    it so)."""
    lacking = sorted((_fields(template.subject) | _fields(template.body)) - facts.keys())
    if lacking:
        raise TemplateError(f"template {template.template_id!r}: no value for {', '.join(lacking)}")
    message = Message(
        template.channel,
        template.body.format_map(facts),
        template.subject.format_map(facts) if template.subject else "",
    )
    if breaks_line(message.subject):
        raise TemplateError(
            f"template {template.template_id!r}: the subject holds a line break once filled in"
        )
    if message.channel == "sms" and sms_length(message.body) > SMS_MOST:
        raise TemplateError(
            f"template {template.template_id!r}: the text is {sms_length(message.body)} long "
            f"once filled, more than {SMS_MOST} (six parts)"
        )
    return message


def sms_length(text: str) -> int:
    """A text's length as a text message counts it in UCS-2: UTF-16 units (a character
    outside the basic plane, as some rare names hold, is two)."""
    return len(text.encode("utf-16-le")) // 2


def _fields(text: str) -> set[str]:
    """The placeholders a text names."""
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def _check_fields(where: str, text: str) -> None:
    """TemplateError unless every placeholder is a plain known name (no index, attribute,
    format or conversion: a template is data and must not reach into objects)."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as error:
        raise TemplateError(f"{where}: {error} (write a literal brace as {{{{ or }}}})") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            raise TemplateError(
                f"{where}: placeholder {{{name}}} is not one of "
                f"{', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
            )


def faults(texts: str, channel: str, packs: Iterable[ContentPack]) -> list[str]:
    """What keeps a message (or its template) from being sent under the packs: each phrase a
    content rule finds in it, and each statement a pack requires of the channel that it does
    not make; empty when it may go."""
    chosen = list(packs)
    found = [f"{f.rule_id} finds {f.matched!r} ({f.source})" for f in lint(texts, chosen)]
    lacking = [
        f"{r.rule_id}: it does not say one of {', '.join(repr(p) for p in r.phrases)} ({r.cited})"
        for pack in chosen
        for r in missing(texts, pack, channel)
    ]
    return found + lacking
