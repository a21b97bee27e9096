"""The columns of each feed kind (CONTRACT.md), how each cell is checked and its primary key."""

from collections.abc import Set
from dataclasses import dataclass
from typing import Literal

from arrears.adapters.feeds import cells
from arrears.adapters.phone_zones import DEFAULT_REGION, e164
from arrears.services.feed import FeedKind

# How a Parquet column may be typed for this cell: text always; exact numbers or dates per form.
Form = Literal["text", "money", "rate", "date", "integer"]

# Sizes of the store's columns (tables.py); a test keeps them in step.
ID_LENGTH = 64
RATE_LENGTH = 32
SEGMENT_LENGTH = 32


@dataclass(frozen=True)
class FeedColumn:
    """One column of a feed: its name, cell parser, Parquet form, and whether it is required."""

    name: str
    parse: cells.CellParser
    form: Form = "text"
    required: bool = True
    default: int | None = None  # stored when an optional cell is empty


@dataclass(frozen=True)
class FeedSpec:
    """A feed kind: its columns in the order of its table, and its key columns."""

    kind: FeedKind
    columns: tuple[FeedColumn, ...]
    key: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every column name, in table order."""
        return tuple(column.name for column in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """The columns every file must have."""
        return tuple(column.name for column in self.columns if column.required)


def _identifier(name: str) -> FeedColumn:
    """An id column (borrower_id, loan_id, ...)."""
    return FeedColumn(name, cells.text(ID_LENGTH))


def _phone(region: str) -> FeedColumn:
    """A phone number, stored in E.164 (one written without +country code is read as a number
    of `region`)."""
    return FeedColumn("phone", cells.per_value(lambda raw: e164(raw, region)))


def _optional(name: str, parse: cells.CellParser, form: Form = "text") -> FeedColumn:
    """A column a file may leave out or leave empty."""
    return FeedColumn(name, parse, form, required=False)


def feed_spec(
    kind: FeedKind, known_products: Set[str], phone_region: str = DEFAULT_REGION
) -> FeedSpec:
    """The spec of a feed kind; loans accept only the product codes given; a phone number
    written without +country code is read as a number of `phone_region` (ISO 3166)."""
    return _SPECS[kind](known_products, phone_region)


def _borrowers(_products: Set[str], region: str) -> FeedSpec:
    """Borrowers: who owes."""
    columns = (
        _identifier("borrower_id"),
        FeedColumn("name", cells.text(1000)),
        _phone(region),
        _optional("national_id", cells.text(32)),
        _optional("email", cells.pattern(r"^[^@\s]+@[^@\s]+$", "an e-mail address", 320)),
        _optional("address", cells.text(1000)),
        _optional("timezone", cells.per_value(cells.iana_zone)),
        _optional(
            "locale",
            cells.pattern(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$", "a locale (e.g. zh-CN)", 16),
        ),
    )
    return FeedSpec("borrowers", columns, ("borrower_id",))


def _contacts(_products: Set[str], region: str) -> FeedSpec:
    """Contacts a borrower registered for reaching them (never a phone book: PIPL Art. 6, 23)."""
    columns = (
        _identifier("contact_id"),
        _identifier("borrower_id"),
        FeedColumn("name", cells.text(1000)),
        _phone(region),
        FeedColumn("relation", cells.text(64)),
    )
    return FeedSpec("contacts", columns, ("contact_id",))


def _loans(products: Set[str], _region: str) -> FeedSpec:
    """Loans: the contract terms."""
    rate = cells.per_value(cells.exact_rate(RATE_LENGTH))
    columns = (
        _identifier("loan_id"),
        _identifier("borrower_id"),
        FeedColumn("product", cells.one_of(products, "product")),
        FeedColumn("currency", cells.per_value(cells.currency_code)),
        FeedColumn("principal", cells.money(positive=True), "money"),
        FeedColumn("annual_rate", rate, "rate"),
        _optional("penalty_rate", rate, "rate"),
        FeedColumn("contract_date", cells.iso_date, "date"),
        # What the strategy ladder's entry rules may read (`segments`, `score_min/max`).
        _optional("segment", cells.text(SEGMENT_LENGTH)),
        _optional("score", cells.score, "integer"),
    )
    return FeedSpec("loans", columns, ("loan_id",))


def _installments(_products: Set[str], _region: str) -> FeedSpec:
    """Instalments: each loan's schedule."""
    columns = (
        _identifier("loan_id"),
        FeedColumn("seq", cells.positive_int, "integer"),
        FeedColumn("due_date", cells.iso_date, "date"),
        FeedColumn("principal_due", cells.money(positive=False), "money"),
        FeedColumn("interest_due", cells.money(positive=False), "money"),
        FeedColumn("fee_due", cells.money(positive=False), "money", required=False, default=0),
    )
    return FeedSpec("installments", columns, ("loan_id", "seq"))


def _payments(_products: Set[str], _region: str) -> FeedSpec:
    """Payments received."""
    columns = (
        _identifier("payment_id"),
        _identifier("loan_id"),
        FeedColumn("amount", cells.money(positive=True), "money"),
        FeedColumn("paid_on", cells.iso_date, "date"),
        _optional("channel", cells.text(32)),
    )
    return FeedSpec("payments", columns, ("payment_id",))


_SPECS = {
    "borrowers": _borrowers,
    "contacts": _contacts,
    "loans": _loans,
    "installments": _installments,
    "payments": _payments,
}
