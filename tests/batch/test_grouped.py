"""The grouped helpers against plain numpy."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from arrears.batch.grouped import distinct


@given(st.lists(st.integers(-(2**40), 2**40), max_size=200))
def test_distinct_is_numpys_unique(values: list[int]) -> None:
    array = np.array(values, dtype=np.int64)
    got = distinct(array)
    assert got.dtype == np.int64
    assert got.tolist() == np.unique(array).tolist()
