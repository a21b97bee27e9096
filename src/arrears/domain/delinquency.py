"""Days past due and delinquency buckets."""

from collections.abc import Iterable
from datetime import date

# Upper dpd bound of each bucket after M0 (30-day months, the industry's M1..M6 convention).
_BUCKET_BOUNDS = ((30, "M1"), (60, "M2"), (90, "M3"), (120, "M4"), (150, "M5"), (180, "M6"))
# The last dpd of M1..M6: a loan changes bucket the day after each (and after its grace).
BUCKET_EDGES = tuple(bound for bound, _ in _BUCKET_BOUNDS)
BUCKETS = ("M0", "M1", "M2", "M3", "M4", "M5", "M6", "M7+")
# The longest grace a product may give (product.Product): a loan is in M0 up to it.
MAX_GRACE_DAYS = 366


def bucket_days(bucket: str) -> tuple[int, int | None]:
    """The days past due a loan in `bucket` may be at, whatever its grace (None: no end)."""
    if bucket == "M0":
        return 0, MAX_GRACE_DAYS
    if bucket == BUCKETS[-1]:
        return BUCKET_EDGES[-1] + 1, None
    index = BUCKETS.index(bucket)
    return (1 if index == 1 else BUCKET_EDGES[index - 2] + 1), BUCKET_EDGES[index - 1]


def days_past_due(as_of: date, unpaid_effective_due_dates: Iterable[date]) -> int:
    """as_of − the effective due date of the oldest unpaid instalment; 0 when none is past due."""
    oldest = min(unpaid_effective_due_dates, default=None)
    if oldest is None:
        return 0
    return max(0, (as_of - oldest).days)


def bucket_for(dpd: int, grace_days: int) -> str:
    """The bucket of a loan: M0 inside grace, then M1..M6 by 30 days, M7+ beyond 180."""
    if dpd <= grace_days:
        return "M0"
    for bound, name in _BUCKET_BOUNDS:
        if dpd <= bound:
            return name
    return "M7+"
