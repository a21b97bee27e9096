"""Domain errors: every one names what is wrong in words a user can act on."""


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

    def __init__(self, template: str, **values: str) -> None:
        super().__init__(template.format(**values))
        self.template = template
        self.values = values
