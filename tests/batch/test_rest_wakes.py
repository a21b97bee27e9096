"""A loan resting past due wakes on the first later day its days past due reach a value a
stage rule reads: the day after its grace or a bucket's edge when a rule reads buckets."""

import numpy as np
import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from arrears.batch.ageing import _NEVER, Watch, _rest_wakes
from arrears.domain.delinquency import BUCKET_EDGES

DAY = 20_000  # tonight, as a day number


def reference(oldest: list[int], grace: list[int], watch: Watch) -> list[int]:
    """Each loan's first later day its dpd (day − oldest) is one of the watched values."""
    wakes = []
    for first_due, days in zip(oldest, grace, strict=True):
        watched = [*watch.dpd]
        if watch.buckets:
            watched += [days + 1, *(edge + 1 for edge in BUCKET_EDGES)]
        later = [first_due + reached for reached in watched
                 if first_due != _NEVER and first_due + reached > DAY]  # fmt: skip
        wakes.append(min(later, default=_NEVER))
    return wakes


@given(
    st.lists(st.tuples(st.none() | st.integers(DAY - 100, DAY), st.integers(0, 10)), max_size=30),
    st.lists(st.integers(0, 100), max_size=6),
    st.booleans(),
)
def test_a_resting_loan_wakes_when_its_days_past_due_reach_a_watched_value(
    loans: list[tuple[int | None, int]], dpd: list[int], buckets: bool
) -> None:
    oldest = [_NEVER if first is None else first for first, _ in loans]
    grace = [days for _, days in loans]
    watch = Watch(dpd=tuple(sorted(set(dpd))), buckets=buckets)
    frame = pl.DataFrame({
        "grace_days": grace, "cap_num": [None] * len(loans), "cap_den": [None] * len(loans),
        "cap_total": [None] * len(loans), "day_count": [365] * len(loans),
        "charged": [0] * len(loans), "principal_days": [0] * len(loans),
    }, schema={"grace_days": pl.Int64, "cap_num": pl.Int64, "cap_den": pl.Int64,
               "cap_total": pl.Int64, "day_count": pl.Int64, "charged": pl.Int64,
               "principal_days": pl.Int64})  # fmt: skip
    none = np.zeros(len(loans), dtype=np.int64)
    woken = _rest_wakes(frame, np.array(oldest, dtype=np.int64), none, none, none, watch, DAY)
    assert woken.tolist() == reference(oldest, grace, watch)


def test_a_loan_whose_dpd_is_a_watched_value_today_wakes_at_the_next_one() -> None:
    frame = pl.DataFrame({"grace_days": [3], "cap_num": [None], "cap_den": [None],
                          "cap_total": [None], "day_count": [365], "charged": [0],
                          "principal_days": [0]},
                         schema_overrides=dict.fromkeys(("cap_num", "cap_den", "cap_total"),
                                                        pl.Int64))  # fmt: skip
    none = np.zeros(1, dtype=np.int64)
    woken = _rest_wakes(frame, np.array([DAY - 30]), none, none, none, Watch(dpd=(30, 60)), DAY)
    assert woken.tolist() == [DAY + 30]
