"""Domain errors: every one names what is wrong in words a user can act on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Words:
    """A text for a reader: its English template and values (a page shows it translated,
    a value in Words, a Term, Terms or Clauses translated too)."""

    template: str
    values: Mapping[str, str | Words | Term | Terms | Clauses] = field(default_factory=dict)

    def __str__(self) -> str:
        # Made once (a guard's words are said for every candidate of the night's plan).
        said: str | None = self.__dict__.get("_said")
        if said is None:
            said = self.template.format(**{k: str(v) for k, v in self.values.items()})
            object.__setattr__(self, "_said", said)
        return said


@dataclass(frozen=True)
class Term:
    """A word of the domain in a message: its English (dispute) and its catalogue key
    (hold:dispute), so a page names it in the reader's language."""

    key: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Terms:
    """Words of the domain listed in a message (the legal steps that may come next): in
    English joined by commas, on a page each named in the reader's language and listed as
    the language lists (律师函、立案或结案); `joined`: as alternatives (or) or all (and)."""

    terms: tuple[Term, ...]
    joined: Literal["or", "and"] = "and"
    separator: str = ", "  # in English (call's outcomes: no_answer|busy)

    @classmethod
    def of(
        cls,
        prefix: str,
        names: Iterable[str],
        joined: Literal["or", "and"] = "and",
        separator: str = ", ",
    ) -> Terms:
        """The names as Terms under one catalogue prefix ("legal:")."""
        return cls(tuple(Term(f"{prefix}{name}", name) for name in names), joined, separator)

    def __str__(self) -> str:
        return self.separator.join(term.text for term in self.terms)


@dataclass(frozen=True)
class Clauses:
    """Words said one after another (the steps a guard finds missing, why a loan is in its
    stage): in English joined by `separator` ("; " or ", "), on a page each in the reader's
    language, joined as the language does (；or ，)."""

    clauses: tuple[Words, ...]
    separator: Literal["; ", ", ", ""] = "; "  # "": one right after another

    def __str__(self) -> str:
        return self.separator.join(str(clause) for clause in self.clauses)


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

    def __init__(self, template: str, **values: str | Words | Term | Terms | Clauses) -> None:
        super().__init__(template.format(**{k: str(v) for k, v in values.items()}))
        self.template = template
        self.values = values  # a value in Words, a Term, Terms or Clauses is translated too
