"""Domain errors: every one names what is wrong in words a user can act on."""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Words:
    """A text for a reader: its English template and values (a page shows it translated)."""

    template: str
    values: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template.format(**self.values)


@dataclass(frozen=True)
class Term:
    """A word of the domain in a message: its English (dispute) and its catalogue key
    (hold:dispute), so a page names it in the reader's language."""

    key: str
    text: str

    def __str__(self) -> str:
        return self.text


class DomainError(ValueError):
    """A rule of the domain refuses the input."""


class CalendarNotPublished(DomainError):
    """The business calendar has no published make-up working days for a year."""

    def __init__(self, year: int) -> None:
        super().__init__(
            f"the business calendar for {year} is not published (no 调休 make-up working days "
            f"known); add the year to the calendar override table once the State Council "
            f"publishes it"
        )
        self.year = year


class LprNotKnown(DomainError):
    """The one-year LPR in force on a date is not in the LPR table."""


class Refusal(DomainError):
    """A refusal worded by a template and its values, so a page can show it translated."""

    def __init__(self, template: str, **values: str | Words | Term) -> None:
        super().__init__(template.format(**{k: str(v) for k, v in values.items()}))
        self.template = template
        self.values = values  # a value in Words, or a Term, is translated too
