"""A synthetic loan book with simple borrower behaviour, written as feed files (for the demo)."""

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from arrears.domain.money import format_amount

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
_MOBILE_PREFIXES = ("138", "139", "150", "151", "186", "187", "135", "177")
_RELATIONS = ("配偶", "父母", "兄弟姐妹", "朋友", "同事")
# Shares of borrower behaviours: pays on time, pays late, stops after a while, never pays.
_BEHAVIOURS = (("prompt", 0.60), ("late", 0.20), ("drifter", 0.12), ("never", 0.08))


@dataclass
class SyntheticBook:
    """Feed rows of a synthetic book, as the CSV files would hold them."""

    borrowers: list[dict[str, str]] = field(default_factory=list)
    contacts: list[dict[str, str]] = field(default_factory=list)
    loans: list[dict[str, str]] = field(default_factory=list)
    installments: list[dict[str, str]] = field(default_factory=list)
    payments: list[dict[str, str]] = field(default_factory=list)

    def write(self, kind: str, path: Path, rows: list[dict[str, str]] | None = None) -> Path:
        """Write one feed as CSV (UTF-8, header row)."""
        data = getattr(self, kind) if rows is None else rows
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(_COLUMNS[kind]))
            writer.writeheader()
            writer.writerows(data)
        return path


_COLUMNS = {
    "borrowers": ("borrower_id", "name", "phone", "national_id", "timezone", "locale"),
    "contacts": ("contact_id", "borrower_id", "name", "phone", "relation"),
    "loans": ("loan_id", "borrower_id", "product", "currency", "principal", "annual_rate",
              "contract_date"),
    "installments": ("loan_id", "seq", "due_date", "principal_due", "interest_due"),
    "payments": ("payment_id", "loan_id", "amount", "paid_on", "channel"),
}  # fmt: skip


def synthetic_book(loans: int, start: date, spread_days: int, seed: int = 7) -> SyntheticBook:
    """A book of `loans` loans signed over `spread_days` from `start`, with their payments."""
    rng = random.Random(seed)
    book = SyntheticBook()
    for n in range(1, loans + 1):
        borrower_id, loan_id = f"B{n:07d}", f"L{n:07d}"
        book.borrowers.append(_borrower(rng, borrower_id))
        for k in range(rng.choice((1, 1, 2))):
            book.contacts.append(_contact(rng, f"C{n:07d}{k}", borrower_id))
        signed = start + timedelta(days=rng.randrange(spread_days))
        private = rng.random() < 0.15
        rate = rng.choice(("0.10", "0.12")) if private else rng.choice(("0.18", "0.216", "0.24"))
        principal = rng.randrange(10, 500) * 10_000  # 1,000.00 .. 49,990.00
        book.loans.append({
            "loan_id": loan_id, "borrower_id": borrower_id,
            "product": "cn-private" if private else "cn-cash", "currency": "CNY",
            "principal": format_amount(principal), "annual_rate": rate,
            "contract_date": signed.isoformat(),
        })  # fmt: skip
        schedule = list(_schedule(principal, int(Decimal(rate) * 10_000), signed, rng))
        behaviour = _pick_behaviour(rng)
        for seq, (due, principal_due, interest_due) in enumerate(schedule, start=1):
            book.installments.append({
                "loan_id": loan_id, "seq": str(seq), "due_date": due.isoformat(),
                "principal_due": format_amount(principal_due),
                "interest_due": format_amount(interest_due),
            })  # fmt: skip
        book.payments.extend(_payments(rng, loan_id, schedule, behaviour))
    return book


def _borrower(rng: random.Random, borrower_id: str) -> dict[str, str]:
    return {
        "borrower_id": borrower_id,
        "name": rng.choice(_SURNAMES) + "".join(rng.choices(_GIVEN, k=rng.choice((1, 2)))),
        "phone": _mobile(rng),
        "national_id": f"1101{rng.randrange(10**13, 10**14)}",
        "timezone": "Asia/Shanghai",
        "locale": "zh-CN",
    }


def _contact(rng: random.Random, contact_id: str, borrower_id: str) -> dict[str, str]:
    return {
        "contact_id": contact_id,
        "borrower_id": borrower_id,
        "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN),
        "phone": _mobile(rng),
        "relation": rng.choice(_RELATIONS),
    }


def _mobile(rng: random.Random) -> str:
    return f"+86{rng.choice(_MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


def _schedule(
    principal: int, rate_bp: int, signed: date, rng: random.Random
) -> Iterator[tuple[date, int, int]]:
    """Equal-principal monthly instalments; interest on the declining balance, actual/360."""
    count = rng.choice((3, 6, 6, 12))
    part, balance, previous = principal // count, principal, signed
    for k in range(1, count + 1):
        month = signed.month - 1 + k
        due = date(signed.year + month // 12, month % 12 + 1, min(signed.day, 28))
        days = (due - previous).days
        # Floored, so a product priced at the cap never exceeds it by a rounding fen.
        interest = balance * rate_bp * days // (10_000 * 360)
        principal_due = part if k < count else balance
        yield due, principal_due, interest
        balance -= principal_due
        previous = due


def _pick_behaviour(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for name, share in _BEHAVIOURS:
        total += share
        if roll < total:
            return name
    return _BEHAVIOURS[-1][0]


def _payments(
    rng: random.Random, loan_id: str, schedule: list[tuple[date, int, int]], behaviour: str
) -> Iterator[dict[str, str]]:
    stop = rng.randrange(1, len(schedule) + 1) if behaviour == "drifter" else len(schedule)
    for seq, (due, principal_due, interest_due) in enumerate(schedule, start=1):
        if behaviour == "never" or seq > stop:
            return
        late = rng.randrange(1, 26) if behaviour == "late" else -rng.randrange(0, 3)
        amount = principal_due + interest_due
        if late > 0:  # roughly what a late payer adds for penalty; residuals stay unpaid
            amount += principal_due * 27 * late // 36_000
        yield {
            "payment_id": f"P{loan_id[1:]}{seq:02d}",
            "loan_id": loan_id,
            "amount": format_amount(amount),
            "paid_on": (due + timedelta(days=late)).isoformat(),
            "channel": rng.choice(("app", "bank_transfer", "alipay", "wechat")),
        }
