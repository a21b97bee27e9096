"""A day's penalty interest on unpaid principal: the one formula both compiled kernels use."""

from typing import TypeVar

from arrears.batch.grouped import Ints

Amount = TypeVar("Amount", int, Ints)


def penalty_for_day(unpaid: Amount, pen_num: Amount, divisor: Amount) -> Amount:
    """unpaid × the penalty rate ÷ the day count, half up to the fen, exactly: `divisor` is the
    rate's denominator times the day count, so floor((2·unpaid·num + divisor) / (2·divisor))."""
    return (2 * unpaid * pen_num + divisor) // (2 * divisor)
